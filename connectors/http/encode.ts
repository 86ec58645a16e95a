import { formatJson, formatNdjson } from '../../src/formats/json.js';
import type { CanonicalEvent } from '../../src/model/events.js';

export interface EncodedBody {
  body: Buffer;
  contentType: string;
}

/** One request body for a batch: a JSON array, or NDJSON (one event a line, each line ending in \n). */
export function encodeBody(batch: readonly CanonicalEvent[], format: 'json' | 'ndjson'): EncodedBody {
  if (format === 'ndjson') return { body: Buffer.from(formatNdjson(batch), 'utf8'), contentType: 'application/x-ndjson' };
  let text = '[';
  for (let i = 0; i < batch.length; i++) text += (i === 0 ? '' : ',') + formatJson(batch[i]!);
  return { body: Buffer.from(`${text}]`, 'utf8'), contentType: 'application/json' };
}
