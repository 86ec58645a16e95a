import type { KafkaMessage } from 'kafkajs';
import { createStoppableConsumer } from './stoppable.js';
import type { KafkaClient } from './client.js';
import type { IncomingRecord } from './reader.js';

export interface GroupBatch {
  topic: string;
  partition: number;
  records: IncomingRecord[];
  /** Moves the consumer's in-memory position past `offset`; committing is the caller's (in its transaction). */
  resolve(offset: string): void;
  heartbeat(): Promise<void>;
  /** True once a rebalance took the partition away: stop work on the batch (a stop drains instead). */
  isStale(): boolean;
  /** The partition's end offset when the batch was fetched, for lag. */
  highWatermark: string;
  /** Commits the group's offset for this partition (consumers that do not commit in a transaction). */
  commit(offset: string): Promise<void>;
}

export interface GroupConsumerOptions {
  groupId: string;
  topic: string;
  /** How long the group waits for a silent member (a killed worker) before moving its partitions. */
  sessionTimeoutMs?: number;
  /** How long a fetch waits for data before returning a smaller batch (the sinks' linger). */
  maxWaitTimeMs?: number;
  /** Called on every join with this member's partitions, before any batch of them. */
  onAssignment?(partitions: number[]): void;
  eachBatch(batch: GroupBatch): Promise<void>;
}

export interface GroupConsumer {
  stop(): Promise<void>;
}

/**
 * A consumer-group member that hands over one partition's fetched batch at a time and commits
 * nothing itself: the handler commits offsets in its own transaction.
 */
export async function startGroupConsumer(client: KafkaClient, options: GroupConsumerOptions): Promise<GroupConsumer> {
  const { consumer, stop } = createStoppableConsumer(client, {
    groupId: options.groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    ...(options.maxWaitTimeMs !== undefined && { maxWaitTimeInMs: options.maxWaitTimeMs }),
    ...(options.sessionTimeoutMs !== undefined && {
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
    }),
  });
  await consumer.connect();
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => options.onAssignment?.([...(payload.memberAssignment[options.topic] ?? [])].sort((a, b) => a - b)));
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
      await options.eachBatch({
        topic: batch.topic,
        partition: batch.partition,
        records: batch.messages.map((message) => toRecord(batch.topic, batch.partition, message)),
        resolve: resolveOffset,
        heartbeat,
        isStale,
        highWatermark: batch.highWatermark,
        commit: (offset) => consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]),
      });
    },
  });
  return { stop };
}

export function toRecord(topic: string, partition: number, message: KafkaMessage): IncomingRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    value: message.value,
    headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v ?? '')])),
    timestamp: Number(message.timestamp),
  };
}
