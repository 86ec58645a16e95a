/**
 * The bench's event ids: UUIDv7-shaped, `<run>-<stream>-7000-8000-<n in hex>`, unique per run
 * and stream, and the event's number can be read back from the id at the far end (latency).
 */

/** A UUIDv7-shaped id: `run` (8 hex digits), `stream` (4), and the event's number. */
export function eventId(run: string, stream: number, n: number): string {
  return `${run}-${stream.toString(16).padStart(4, '0')}-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** The event number an id of `eventId` carries, or -1 when it is not of `run` and `stream`. */
export function eventNumber(id: string, run: string, stream: number): number {
  if (!id.startsWith(`${run}-${stream.toString(16).padStart(4, '0')}-`)) return -1;
  return Number.parseInt(id.slice(24), 16);
}
