import { randomUUID } from 'node:crypto';
import type { KafkaClient } from './client.js';
import { toRecord } from './group-consumer.js';
import { createStoppableConsumer } from './stoppable.js';

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
  const { consumer, stop } = createStoppableConsumer(client, { groupId: `trustwire-reader-${randomUUID()}`, readUncommitted: !readCommitted, allowAutoTopicCreation: false });
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
            records.push(toRecord(from, partition, message));
            if (records.length >= limit) finish();
            else armIdle();
          },
        })
        .catch(reject);
    });
  } finally {
    await stop();
  }
  return records;
}

/**
 * Reads `partitions` of a topic from the beginning (read_committed) until `done` says so for
 * every one of them; the other partitions are paused. For restoring a changelog up to a marker.
 */
export async function readPartitionsUntil(
  client: KafkaClient,
  options: { topic: string; partitions: readonly number[]; timeoutMs?: number },
  onRecord: (record: IncomingRecord) => boolean,
): Promise<void> {
  const { topic, timeoutMs = 60_000 } = options;
  const pending = new Set(options.partitions);
  if (pending.size === 0) return;
  const { consumer, stop } = createStoppableConsumer(client, { groupId: `trustwire-restore-${randomUUID()}`, readUncommitted: false, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic} partitions ${[...pending].join(',')} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (!pending.has(batch.partition)) {
              consumer.pause([{ topic, partitions: [batch.partition] }]);
              return;
            }
            for (const message of batch.messages) {
              if (onRecord(toRecord(topic, batch.partition, message))) {
                pending.delete(batch.partition);
                consumer.pause([{ topic, partitions: [batch.partition] }]);
                break;
              }
            }
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await stop();
  }
}

/** Follows a topic from the beginning for as long as it runs (read_committed, no commits). */
export async function followTopic(
  client: KafkaClient,
  topic: string,
  onRecord: (record: IncomingRecord) => void,
): Promise<{ stop(): Promise<void> }> {
  const { consumer, stop } = createStoppableConsumer(client, { groupId: `trustwire-view-${randomUUID()}`, readUncommitted: false, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => onRecord(toRecord(topic, partition, message)) });
  return { stop };
}

/**
 * Consumes a topic in a consumer group until it has been idle for `idleMs`, handing each
 * fetched batch to `handle` and committing the group's offset after it: what was handled once
 * is not handed over again on the next run.
 */
export async function consumeUntilIdle(
  client: KafkaClient,
  options: { topic: string; groupId: string; idleMs?: number; timeoutMs?: number },
  handle: (records: IncomingRecord[]) => Promise<void>,
): Promise<void> {
  const { topic, groupId, idleMs = 3000, timeoutMs = 10 * 60_000 } = options;
  const { consumer, stop } = createStoppableConsumer(client, { groupId, readUncommitted: false, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`${topic} was not consumed to its end within ${timeoutMs} ms`)), timeoutMs);
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => (clearTimeout(deadline), resolve()), idleMs);
      };
      consumer.on(consumer.events.GROUP_JOIN, arm);
      consumer.on(consumer.events.CRASH, ({ payload }) => (clearTimeout(deadline), clearTimeout(idle), reject(payload.error)));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            clearTimeout(idle);
            if (batch.messages.length > 0) {
              await handle(batch.messages.map((message) => toRecord(topic, batch.partition, message)));
              const last = batch.messages[batch.messages.length - 1]!.offset;
              resolveOffset(last);
              await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
            }
            arm();
          },
        })
        .catch(reject);
    });
  } finally {
    await stop();
  }
}
