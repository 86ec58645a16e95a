import { randomUUID } from 'node:crypto';
import type { KafkaClient } from './client.js';

export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

export interface ReadOptions {
  topic: string;
  /** Stop after this many records. */
  limit: number;
  /** Stop when no record arrived for this long (after the consumer joined). */
  idleMs?: number;
  /** Give up after this long in all. */
  timeoutMs?: number;
  /** Only records of committed transactions (the default, as every trustwire consumer reads). */
  readCommitted?: boolean;
}

/**
 * Reads a topic from its beginning in a throwaway consumer group that commits nothing: for
 * `trustwire tail` and for tests that check what reached a topic.
 */
export async function readRecords(client: KafkaClient, options: ReadOptions): Promise<IncomingRecord[]> {
  const { topic, limit, idleMs = 3000, timeoutMs = 30_000, readCommitted = true } = options;
  const consumer = client.consumer({ groupId: `trustwire-reader-${randomUUID()}`, readUncommitted: !readCommitted, allowAutoTopicCreation: false });
  const records: IncomingRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(resolve, timeoutMs);
      let idle: NodeJS.Timeout | undefined;
      const finish = () => (clearTimeout(deadline), clearTimeout(idle), resolve());
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(finish, idleMs);
      };
      consumer.on(consumer.events.GROUP_JOIN, armIdle);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic: from, partition, message }) => {
            if (records.length >= limit) return;
            records.push({
              topic: from,
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value,
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v ?? '')])),
              timestamp: Number(message.timestamp),
            });
            if (records.length >= limit) finish();
            else armIdle();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
