import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import type { KafkaClient } from './client.js';

export interface OutgoingRecord {
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: string;
}

export interface RecordProducer {
  /** Resolves once every in-sync replica has the records (acks=all); one entry per partition written. */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

/**
 * An idempotent producer: the broker de-duplicates retried batches, so a retry after a lost
 * acknowledgement never writes an event twice; acks=all waits for every in-sync replica.
 */
export async function createRecordProducer(client: KafkaClient): Promise<RecordProducer> {
  const producer: Producer = client.producer({
    idempotent: true,
    // kafkajs keeps ordering under idempotence only with one request in flight per broker.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Java's murmur2 partitioner: a host id lands on the same partition whichever client wrote it.
    createPartitioner: Partitioners.DefaultPartitioner,
    // Bounded, so an ingest request answers 503 instead of hanging while Kafka is away; the
    // caller's retry carries the same ids (see README, Sending events).
    retry: { retries: 5 },
  });
  await producer.connect();
  return {
    async send(topic, records) {
      if (records.length === 0) return [];
      const results = await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: records.map(({ key, value, headers }) => ({ key, value, ...(headers !== undefined && { headers }) })),
      });
      return results.map((r) => ({ topic: r.topicName, partition: r.partition, offset: r.baseOffset ?? '' }));
    },
    disconnect: () => producer.disconnect(),
  };
}
