import type { Producer } from 'kafkajs';
import type { KafkaClient } from './client.js';

export interface TransactionalRecord {
  topic: string;
  /** Set to pin the record to a partition (changelogs follow their input partition). */
  partition?: number;
  key: string;
  value: Buffer | null;
  headers?: Record<string, string>;
}

export interface ConsumedOffset {
  groupId: string;
  topic: string;
  partition: number;
  /** The next offset to consume: the last processed offset + 1. */
  offset: string;
}

export interface TransactionalProducer {
  /**
   * Writes the records and commits the consumed offset in one transaction: both become visible
   * to read_committed readers together, or neither does.
   */
  commit(records: readonly TransactionalRecord[], consumed?: ConsumedOffset): Promise<void>;
  disconnect(): Promise<void>;
}

/** The error Kafka answers a producer with once another one took over its transactional id. */
export function isFenced(error: unknown): boolean {
  const type = (error as { type?: string } | undefined)?.type;
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED';
}

/**
 * A producer with a transactional id. Connecting it fences every earlier producer with the
 * same id: their open transaction is aborted and their later commits fail (`isFenced`).
 */
export async function createTransactionalProducer(client: KafkaClient, transactionalId: string): Promise<TransactionalProducer> {
  const producer: Producer = client.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async commit(records, consumed) {
      const transaction = await producer.transaction();
      try {
        const byTopic = new Map<string, TransactionalRecord[]>();
        for (const record of records) {
          const list = byTopic.get(record.topic);
          if (list) list.push(record);
          else byTopic.set(record.topic, [record]);
        }
        if (byTopic.size > 0) {
          await transaction.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, list]) => ({
              topic,
              messages: list.map(({ partition, key, value, headers }) => ({
                key,
                value,
                ...(partition !== undefined && { partition }),
                ...(headers !== undefined && { headers }),
              })),
            })),
          });
        }
        if (consumed !== undefined) {
          await transaction.sendOffsets({
            consumerGroupId: consumed.groupId,
            topics: [{ topic: consumed.topic, partitions: [{ partition: consumed.partition, offset: consumed.offset }] }],
          });
        }
        await transaction.commit();
      } catch (error) {
        if (transaction.isActive()) await transaction.abort().catch(() => {});
        throw error;
      }
    },
    disconnect: () => producer.disconnect(),
  };
}
