import { encodeEvent } from '../model/avro.js';
import type { CanonicalEvent } from '../model/events.js';
import type { RecordProducer } from '../kafka/producer.js';

/** Header naming the event kind, so tools can route or count without decoding the Avro. */
export const TYPE_HEADER = 'trustwire-type';

/**
 * Writes canonical events to the events topic: Avro single-object encoded, keyed by host id so
 * that one host's events keep their order in one partition.
 */
export class EventWriter {
  constructor(
    private readonly producer: RecordProducer,
    readonly topic: string,
  ) {}

  async write(events: readonly CanonicalEvent[]): Promise<void> {
    await this.producer.send(
      this.topic,
      events.map((event) => ({ key: event.host.id, value: encodeEvent(event), headers: { [TYPE_HEADER]: event.type } })),
    );
  }
}
