import { compatibilityPartitioner, ProduceAcks, Producer, type MessageToProduce } from '@platformatic/kafka';
import type { KafkaClient } from './client.js';
import { closeWithin, describeKafkaError } from './client.js';
import { KafkaUnavailable } from './errors.js';
import { chunkBySize } from './chunks.js';

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
  /**
   * Resolves once every in-sync replica has the records (acks=all); one entry per partition
   * written. Throws KafkaUnavailable when Kafka did not acknowledge them within the bound.
   */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordMetadata[]>;
  /** Resolves when the producer reaches the cluster and every partition of `topic` has a leader. */
  check(topic: string): Promise<void>;
  disconnect(): Promise<void>;
}

export interface RecordProducerOptions {
  /** How long a send may wait for Kafka's acknowledgement before it fails (ingest answers 503). */
  ackTimeoutMs?: number;
  /** Bytes handed to the client and not yet acknowledged, past which a send fails at once. */
  maxPendingBytes?: number;
}

/** Default bound on one send: ingest answers 503 with Retry-After past it. */
export const DEFAULT_ACK_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/**
 * An idempotent producer: the broker de-duplicates retried batches, so a retry after a lost
 * acknowledgement never writes an event twice; acks=all waits for every in-sync replica.
 * Large sends are split under the broker's message size limit, one request after another so
 * that per-partition order holds.
 */
export async function createRecordProducer(client: KafkaClient, options: RecordProducerOptions = {}): Promise<RecordProducer> {
  const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  // Under idempotence the client retries forever (a retry keeps its sequence numbers, so the
  // broker de-duplicates it); the bound a caller waits is ours (ackTimeoutMs).
  const producer = new Producer({ ...client.options('producer', { retryDelay: 250 }), idempotent: true, acks: ProduceAcks.ALL });
  const send = async (topic: string, records: readonly OutgoingRecord[]): Promise<RecordMetadata[]> => {
    const results: RecordMetadata[] = [];
    for (const chunk of chunkBySize(records, recordSize)) {
      const { offsets = [] } = await producer.send({
        acks: ProduceAcks.ALL,
        idempotent: true,
        // Java's murmur2 partitioner: a host id lands on the same partition whichever client wrote it.
        partitioner: compatibilityPartitioner,
        messages: chunk.map((record) => toMessage(topic, record)),
      });
      for (const entry of offsets) results.push({ topic: entry.topic, partition: entry.partition, offset: String(entry.offset) });
    }
    return results;
  };
  const maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  // What was handed to the client and is not yet acknowledged, given up on or not: a write past
  // ackTimeoutMs is still retried by the client, so without a bound a Kafka that cannot keep up
  // would pile every refused request's events up in memory.
  let pendingBytes = 0;
  return {
    async send(topic, records) {
      if (records.length === 0) return [];
      const bytes = records.reduce((sum, record) => sum + recordSize(record), 0);
      if (pendingBytes > 0 && pendingBytes + bytes > maxPendingBytes) {
        throw new KafkaUnavailable(`${(pendingBytes / 1048576).toFixed(1)} MiB of earlier writes to Kafka still wait for its acknowledgment`);
      }
      pendingBytes += bytes;
      const sending = send(topic, records).finally(() => (pendingBytes -= bytes));
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          sending,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new KafkaUnavailable(`Kafka did not acknowledge the write to ${topic} within ${ackTimeoutMs} ms`)), ackTimeoutMs);
          }),
        ]);
      } catch (error) {
        if (error instanceof KafkaUnavailable) throw error;
        throw new KafkaUnavailable(`writing to ${topic} failed: ${describeKafkaError(error)}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
    async check(topic) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          (async () => {
            const metadata = await producer.metadata({ topics: [topic], forceUpdate: true });
            if (metadata.topics.get(topic)?.partitions.some((partition) => partition.leader < 0) !== false) throw new Error(`${topic} has partitions without a leader`);
          })(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new KafkaUnavailable(`no answer within ${ackTimeoutMs} ms`)), ackTimeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    disconnect: () => closeWithin(() => producer.close(true)),
  };
}

export function toMessage(topic: string, record: { key: string; value: Buffer | null; headers?: Record<string, string> | undefined; partition?: number | undefined }): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const message: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = { topic, key: Buffer.from(record.key), value: record.value as Buffer };
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.headers !== undefined) {
    message.headers = new Map(Object.entries(record.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
  }
  return message;
}

/** What a record weighs in a produce request, near enough: key, value, headers and overhead. */
export function recordSize(record: { key: string; value: Buffer | null; headers?: Record<string, string> | undefined }): number {
  let size = 64 + record.key.length + (record.value?.length ?? 0);
  if (record.headers !== undefined) for (const [k, v] of Object.entries(record.headers)) size += k.length + v.length + 8;
  return size;
}

/** The partition a key lands on among `partitions`, as every trustwire producer (and Java's default partitioner) places it. */
export function partitionOfKey(key: string, partitions: number): number {
  return compatibilityPartitioner(undefined as never, Buffer.from(key)) % partitions;
}
