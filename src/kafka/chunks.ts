/**
 * Under the broker's default `max.message.bytes` (1 MiB) with room to spare: a produce request's
 * records for one partition form one record batch, and a batch over the limit is refused as
 * MESSAGE_TOO_LARGE, which no retry cures.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/**
 * Splits records into consecutive runs of at most `maxBytes` and `maxCount` records each (a
 * lone larger record alone).
 */
export function* chunkBySize<T>(records: readonly T[], sizeOf: (record: T) => number, maxBytes = MAX_REQUEST_BYTES, maxCount = Infinity): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sizeOf(record);
    if (chunk.length > 0 && (chunk.length >= maxCount || bytes + size > maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
