import { createHash } from 'node:crypto';

/**
 * A UUIDv7 whose time part is the event's time and whose random part is a hash of `seed`.
 * Keylime resends a webhook it got no answer for, and HVS reports are fetched again: the same
 * upstream document then gets the same id, so a SIEM de-duplicates the resend.
 */
export function stableEventId(timeMs: number, seed: string): string {
  const bytes = createHash('sha256').update(seed).digest().subarray(0, 16);
  bytes.writeUIntBE(Math.max(0, Math.trunc(timeMs)) % 2 ** 48, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
