import { createKafkaClient, type KafkaConnection } from '../kafka/client.js';
import { createRecordProducer } from '../kafka/producer.js';
import { silentLogger, type Logger } from '../log.js';
import type { IngestEventInput } from '../model/events.js';
import { prepareEvents } from './prepare.js';
import { EventWriter } from './writer.js';

export interface ProducerOptions {
  brokers: string[];
  clientId?: string;
  /** Default `trustwire.events`. */
  topic?: string;
  ssl?: KafkaConnection['ssl'];
  sasl?: KafkaConnection['sasl'];
  logger?: Logger;
}

export interface TrustwireProducer {
  /**
   * Validates and produces events; resolves with their ids once Kafka acknowledged all of them.
   * Throws ValidationError (nothing produced) when any event is invalid. Give events an `id` of
   * your own to make a retry after a failure de-duplicable downstream.
   */
  send(events: IngestEventInput | readonly IngestEventInput[]): Promise<{ ids: string[] }>;
  close(): Promise<void>;
}

/** The TypeScript producer API: what a collector embeds to send events to trustwire. */
export async function createProducer(options: ProducerOptions): Promise<TrustwireProducer> {
  const logger = options.logger ?? silentLogger;
  const client = createKafkaClient(
    { brokers: options.brokers, clientId: options.clientId ?? 'trustwire-producer', ssl: options.ssl, sasl: options.sasl },
    logger,
  );
  const records = await createRecordProducer(client);
  const writer = new EventWriter(records, options.topic ?? 'trustwire.events', logger);
  return {
    async send(input) {
      const list = Array.isArray(input) ? input : [input];
      const events = prepareEvents(list.map((value) => ({ value })));
      await writer.write(events);
      return { ids: events.map((event) => event.id) };
    },
    close: () => records.disconnect(),
  };
}
