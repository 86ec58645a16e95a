/** Writing a stream of bench events to a topic, keyed by host id, as ingest and the processor do. */
import type { KafkaClient } from '../src/kafka/client.js';
import { createRecordProducer, type OutgoingRecord } from '../src/kafka/producer.js';
import { encodeEvent } from '../src/model/avro.js';
import type { CanonicalEvent } from '../src/model/events.js';
import { TYPE_HEADER, VALIDATED_HEADER } from '../src/kafka/event-headers.js';

export interface FilledTopic {
  topic: string;
  events: number;
  bytes: number;
  averageBytes: number;
  types: Record<string, number>;
}

/** Writes events 0 .. count-1 of a stream to `topic`. */
export async function fillTopic(client: KafkaClient, topic: string, count: number, make: (n: number) => CanonicalEvent): Promise<FilledTopic> {
  const producer = await createRecordProducer(client, { ackTimeoutMs: 60_000 });
  let bytes = 0;
  const types: Record<string, number> = {};
  try {
    const chunk = 2000;
    const inFlight = new Set<Promise<unknown>>();
    for (let from = 0; from < count; from += chunk) {
      const records: OutgoingRecord[] = [];
      for (let n = from; n < Math.min(count, from + chunk); n++) {
        const event = make(n);
        const value = encodeEvent(event);
        bytes += value.length;
        types[event.type] = (types[event.type] ?? 0) + 1;
        // The headers ingest writes: the events are valid, as ingest's are once checked at the door.
        records.push({ key: event.host.id, value, headers: { [TYPE_HEADER]: event.type, [VALIDATED_HEADER]: '1' } });
      }
      const sending = producer.send(topic, records).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return { topic, events: count, bytes, averageBytes: Math.round(bytes / count), types };
}
