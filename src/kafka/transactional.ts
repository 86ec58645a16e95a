import { compatibilityPartitioner, ProduceAcks, Producer, type Consumer, type Message } from '@platformatic/kafka';
import { chunkBySize } from './chunks.js';
import { closeWithin, kafkaErrorCodes, type KafkaClient } from './client.js';
import type { IncomingRecord } from './records.js';
import { recordSize, toMessage } from './producer.js';

export interface TransactionalRecord {
  topic: string;
  /** Set to pin the record to a partition (changelogs follow their input partition). */
  partition?: number;
  key: string;
  value: Buffer | null;
  headers?: Record<string, string>;
}

/**
 * The consumed position committed with a transaction: the last record processed, as the group
 * consumer handed it over. Its group metadata (generation, member id) goes with the offset
 * (KIP-447), so a member that lost the partition in a rebalance cannot commit it.
 */
export interface ConsumedOffset {
  record: IncomingRecord;
}

export interface TransactionalProducer {
  /**
   * Writes the records and commits the consumed offset in one transaction: both become visible
   * to read_committed readers together, or neither does. The records go out in requests under
   * the broker's message size limit, as many as they need.
   */
  commit(records: readonly TransactionalRecord[], consumed?: ConsumedOffset): Promise<void>;
  disconnect(): Promise<void>;
}

const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);
const STALE_MEMBER = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'REBALANCE_IN_PROGRESS']);

/** The error Kafka answers once another producer took over the transactional id. */
export function isFenced(error: unknown): boolean {
  return kafkaErrorCodes(error).some((code) => FENCED.has(code));
}

/**
 * The offset commit was refused because the consumer's group membership is stale (the group
 * moved to a new generation without it): fetching again does not help, rejoining does.
 */
export function needsRejoin(error: unknown): boolean {
  return kafkaErrorCodes(error).some((code) => STALE_MEMBER.has(code));
}

/** The group consumer behind a record, for the transaction's offset commit. */
export const CONSUMER_OF = Symbol('trustwire.consumer');
export const MESSAGE_OF = Symbol('trustwire.message');
export interface SourcedRecord extends IncomingRecord {
  [CONSUMER_OF]?: Consumer<Buffer, Buffer, Buffer, Buffer>;
  [MESSAGE_OF]?: Message<Buffer, Buffer, Buffer, Buffer>;
}

/**
 * A producer with a transactional id. Its first transaction fences every earlier producer with
 * the same id: their open transaction is aborted and their later commits fail (`isFenced`).
 */
export async function createTransactionalProducer(client: KafkaClient, transactionalId: string): Promise<TransactionalProducer> {
  const producer = new Producer({
    ...client.options('tx', { retries: 5, retryDelay: 250 }),
    idempotent: true,
    transactionalId,
    // A fresh InitProducerId sends no producer id (-1/-1, KIP-360). The client's default of 0/0
    // reads to the broker as an old producer of that id and is answered PRODUCER_FENCED when
    // another producer already holds the transactional id: the take-over would never fence.
    producerId: -1n,
    producerEpoch: -1,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
  });
  return {
    async commit(records, consumed) {
      const transaction = await producer.beginTransaction();
      try {
        // One request after the other: sent together, a request's partitions can be verified by
        // the broker while another request's AddPartitionsToTxn is still pending, and the
        // transaction fails TRANSACTION_ABORTABLE (seen with Produce v11 on Kafka 4.1).
        for (const chunk of chunkBySize(records, recordSize)) {
          await transaction.send({ messages: chunk.map((record) => toMessage(record.topic, record)) });
        }
        if (consumed !== undefined) {
          const source = consumed.record as SourcedRecord;
          const consumer = source[CONSUMER_OF];
          const message = source[MESSAGE_OF];
          if (consumer === undefined || message === undefined) throw new Error('the consumed record did not come from a group consumer');
          await transaction.addConsumer(consumer);
          await transaction.addOffset(message);
        }
        await transaction.commit();
      } catch (error) {
        if (!transaction.completed) await transaction.abort().catch(() => transaction.cancel().catch(() => {}));
        throw error;
      }
    },
    disconnect: () => closeWithin(() => producer.close(true)),
  };
}
