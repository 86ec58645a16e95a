import { Consumer, FetchIsolationLevels, MessagesStreamFallbackModes, MessagesStreamModes, type Message } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import { closeWithin, FETCH_MAX_BYTES, FETCH_PARTITION_MAX_BYTES, type KafkaClient } from './client.js';
import { startGroupConsumer, type GroupConsumer } from './group-consumer.js';
import type { ComponentHealth } from './health.js';
import { ReadCommittedConsumer } from './read-committed.js';
import { toRecord, type IncomingRecord } from './records.js';
import { OffsetReader } from './offsets.js';

export type { IncomingRecord } from './records.js';

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

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** How far a reader has fetched: the next offset of a partition, whether every fetched record was handed out. */
interface FetchProgress {
  position(partition: number): bigint;
  handedOut(): boolean;
  onFetch(listener: () => void): void;
}


/**
 * A throwaway group member that reads a whole topic from its beginning and commits nothing, until
 * `onMessage` says it is done, an error ends it, or it is closed.
 */
async function readFromBeginning(
  client: KafkaClient,
  prefix: string,
  topic: string,
  readCommitted: boolean,
  onMessage: (message: BufferMessage) => void,
  maxWaitTime = 500,
): Promise<{ done: Promise<void>; close(): Promise<void>; joined: Promise<void>; progress: FetchProgress }> {
  const isolationLevel = readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED;
  const consumer = new ReadCommittedConsumer({
    ...client.options(prefix, { retries: 5, retryDelay: 500 }),
    groupId: `trustwire-${prefix}-${randomUUID()}`,
    autocommit: false,
    isolationLevel,
    maxWaitTime,
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
  });
  let resolveJoined!: () => void;
  const joined = new Promise<void>((resolve) => (resolveJoined = resolve));
  consumer.on('consumer:group:join', () => resolveJoined());
  let failed: (error: Error) => void = () => {};
  const done = new Promise<void>((_, reject) => (failed = reject));
  done.catch(() => {});
  consumer.on('error', (error: Error) => failed(error));
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    autocommit: false,
    isolationLevel,
    maxWaitTime,
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
  });
  stream.on('data', onMessage);
  stream.on('error', (error: Error) => failed(error));
  const progress: FetchProgress = {
    position: (partition) => stream.offsetsToFetch.get(`${topic}:${partition}`) ?? 0n,
    handedOut: () => stream.readableLength === 0,
    onFetch: (listener) => void stream.on('fetch', listener),
  };
  return {
    done,
    joined,
    progress,
    async close() {
      await closeWithin(async () => {
        await stream.close().catch(() => {});
        await consumer.close(true);
      });
    },
  };
}

/**
 * Reads a topic from its beginning in a throwaway consumer group that commits nothing: for
 * `trustwire tail` and for tests that check what reached a topic.
 */
export async function readRecords(client: KafkaClient, options: ReadOptions): Promise<IncomingRecord[]> {
  const { topic, limit, idleMs = 3000, timeoutMs = 30_000, readCommitted = true } = options;
  const records: IncomingRecord[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(finish, idleMs);
  };
  const deadline = setTimeout(finish, timeoutMs);
  const reader = await readFromBeginning(client, 'reader', topic, readCommitted, (message) => {
    if (records.length >= limit) return;
    records.push(toRecord(message));
    if (records.length >= limit) finish();
    else armIdle();
  });
  void reader.joined.then(armIdle);
  try {
    await Promise.race([finished, reader.done]);
  } finally {
    clearTimeout(idle);
    clearTimeout(deadline);
    await reader.close();
  }
  return records;
}

/**
 * Reads `partitions` of a topic from the beginning (read_committed) until `onRecord` says so for
 * every one of them; the other partitions' records are passed over. For restoring a changelog up
 * to a marker.
 */
export async function readPartitionsUntil(
  client: KafkaClient,
  options: { topic: string; partitions: readonly number[]; timeoutMs?: number },
  onRecord: (record: IncomingRecord) => boolean,
): Promise<void> {
  const { topic, timeoutMs = 60_000 } = options;
  const pending = new Set(options.partitions);
  if (pending.size === 0) return;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const reader = await readFromBeginning(client, 'restore', topic, true, (message) => {
    if (!pending.has(message.partition)) return;
    if (onRecord(toRecord(message))) {
      pending.delete(message.partition);
      if (pending.size === 0) finish();
    }
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      finished,
      reader.done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`reading ${topic} partitions ${[...pending].join(',')} did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await reader.close();
  }
}

/**
 * Follows a topic from the beginning for as long as it runs (read_committed, no commits), as a
 * supervised member of a group of its own: after a failure it reads the topic again from the start.
 */
export async function followTopic(
  client: KafkaClient,
  topic: string,
  onRecord: (record: IncomingRecord) => void,
  options: { component?: string; onFatal?(error: Error): void } = {},
): Promise<{ health: ComponentHealth; stop(): Promise<void> }> {
  const consumer: GroupConsumer = await startGroupConsumer(client, {
    groupId: `trustwire-view-${randomUUID()}`,
    topic,
    component: options.component ?? `view ${topic}`,
    maxWaitTimeMs: 500,
    ...(options.onFatal !== undefined && { onFatal: options.onFatal }),
    eachBatch: async (batch) => {
      for (const record of batch.records) onRecord(record);
    },
  });
  return { health: consumer.health, stop: () => consumer.stop() };
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
  let finish!: () => void;
  let failed!: (error: Error) => void;
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (failed = reject)));
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(finish, idleMs);
  };
  const deadline = setTimeout(() => failed(new Error(`${topic} was not consumed to its end within ${timeoutMs} ms`)), timeoutMs);
  const consumer = await startGroupConsumer(client, {
    groupId,
    topic,
    component: `replay ${topic}`,
    maxWaitTimeMs: 500,
    failureExitMs: 30_000,
    onAssignment: arm,
    onFatal: failed,
    eachBatch: async (batch) => {
      clearTimeout(idle);
      try {
        await handle(batch.records);
        await batch.commit();
      } catch (error) {
        failed(error as Error);
        throw error;
      }
      arm();
    },
  });
  try {
    await finished;
  } finally {
    clearTimeout(idle);
    clearTimeout(deadline);
    await consumer.stop();
  }
}

/**
 * Every record of a topic below each partition's end offset as it was when called, read with
 * read_committed: what was there, not what came before a quiet spell. Fails naming the
 * partitions it could not read to their end within `timeoutMs` (a transaction left open).
 */
export async function readTopicToEnd(client: KafkaClient, topic: string, timeoutMs = 30_000): Promise<IncomingRecord[]> {
  const offsets = new OffsetReader(client);
  let ends: bigint[];
  try {
    ends = await offsets.endOffsets(topic);
  } finally {
    await offsets.close();
  }
  if (ends.every((end) => end === 0n)) return [];
  const records: IncomingRecord[] = [];
  let check = () => {};
  const reader = await readFromBeginning(
    client,
    'read-to-end',
    topic,
    true,
    (message) => {
      if (message.offset < (ends[message.partition] ?? 0n)) records.push(toRecord(message));
      setImmediate(check);
    },
    200,
  );
  const { position } = reader.progress;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      reader.done,
      new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => {
          const short = ends.flatMap((end, partition) => (position(partition) < end ? [`${partition} at ${position(partition)} of ${end}`] : []));
          reject(new Error(`timed out after ${timeoutMs} ms reading ${topic} to its high watermark (partitions ${short.join(', ')})`));
        }, timeoutMs);
        // The position moves past a fetched batch before its records are handed out: wait for them too.
        check = () => {
          if (ends.every((end, partition) => position(partition) >= end) && reader.progress.handedOut()) resolve();
        };
        reader.progress.onFetch(() => setImmediate(check));
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await reader.close();
  }
  return records;
}
