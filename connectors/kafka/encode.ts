import { formatJson } from '../../src/formats/json.js';
import { encodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent } from '../../src/model/events.js';

/** Header naming the event kind, as on trustwire.events: consumers route without decoding. */
export const TYPE_HEADER = 'trustwire-type';

export interface KafkaRecord {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** One record per event, keyed by host id so that one host's events stay in order in one partition. */
export function encodeRecords(batch: readonly CanonicalEvent[], format: 'avro' | 'json'): KafkaRecord[] {
  return batch.map((event) => ({
    key: event.host.id,
    value: format === 'avro' ? encodeEvent(event) : Buffer.from(formatJson(event), 'utf8'),
    headers: { [TYPE_HEADER]: event.type },
  }));
}
