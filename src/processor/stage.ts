/**
 * A stateful stage, exactly once: consumes an input topic in a consumer group, keeps a state per
 * input partition, and writes its outputs, its state changes (to a compacted changelog
 * partitioned like the input) and the batch's input offset in one Kafka transaction per fetched
 * batch. A crash anywhere leaves either all of a batch's effects or none of them.
 *
 * The stage owns partition ownership: fencing, restoring the state from the changelog, giving
 * partitions back. What a record does to the state, and what it produces, is the `logic`'s.
 */
import { randomUUID } from 'node:crypto';
import { describeKafkaError, within, type KafkaClient } from '../kafka/client.js';
import { startGroupConsumer, type BatchOutcome, type GroupBatch, type GroupConsumer } from '../kafka/group-consumer.js';
import type { ComponentHealth } from '../kafka/health.js';
import type { IncomingRecord } from '../kafka/reader.js';
import { readPartitionsUntil } from '../kafka/reader.js';
import { committedOffsets } from '../kafka/topics.js';
import { createTransactionalProducer, isFenced, needsRejoin, type TransactionalProducer, type TransactionalRecord } from '../kafka/transactional.js';
import type { Logger } from '../log.js';

/**
 * How long a take-over (fencing, restoring the state) and one transaction may take: past it the
 * work is given up (its producer closed, so it cannot commit later) and tried again, instead of
 * waiting on a request the client may never see answered.
 */
const TAKE_OVER_TIMEOUT_MS = 60_000;
const COMMIT_TIMEOUT_MS = 30_000;
/** Records processed between two turns of the event loop. */
const YIELD_EVERY_RECORDS = 200;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What a stage does; the stage runs it exactly once per input record. */
export interface StageLogic<S> {
  /** The state of one input partition before anything is restored. */
  empty(): S;
  /** Applies one changelog record while restoring: a value, or `null` (a tombstone). */
  restore(state: S, key: string, value: Buffer | null): void;
  /** Processes one input record: its outputs (and dead letters) go to `out`, the state keys it changed to `changed`. */
  process(record: IncomingRecord, state: S, out: TransactionalRecord[], changed: Set<string>): void;
  /** The changelog record of a changed state key (a `null` value deletes it). */
  stateRecord(key: string, state: S): { key: string; value: Buffer | null };
  /** Entries in a partition's state, for the take-over's log line. */
  size(state: S): number;
  /** Asynchronous work a batch needs before its records are processed (Kafka lookups). */
  prepare?(records: readonly IncomingRecord[]): Promise<void>;
  /**
   * Records that say how far the input partition is done (the next offset to process), written
   * in every batch's transaction after its outputs, and once when the partition is taken over:
   * a downstream stage that merges many upstream partitions learns from them what it has seen.
   */
  progress?(partition: number, nextOffset: bigint): TransactionalRecord[];
}

export interface StageOptions<S> {
  client: KafkaClient;
  groupId: string;
  /** The input topic; the changelog has as many partitions, and partition p's state is in its partition p. */
  input: string;
  changelog: string;
  /** The component name in health, logs and the take-over marker's log. */
  component: string;
  logger: Logger;
  sessionTimeoutMs: number;
  failureExitMs?: number;
  onFatal?(error: Error): void;
  logic: StageLogic<S>;
}

export interface StageStats {
  consumed: number;
  /** Records written, outputs and state changes. */
  produced: number;
  transactions: number;
  assigned: number[];
}

export interface RunningStage {
  stats: StageStats;
  health: ComponentHealth;
  stop(): Promise<void>;
}

/** The changelog key of the marker a take-over writes after fencing: the state ends where it is read. */
export const RESTORE_MARKER_KEY = '\u0000trustwire.restore-marker';

interface OwnedPartition<S> {
  state: S;
  producer: TransactionalProducer;
  /** The group's committed offset once the partition was fenced: records before it are done. */
  startOffset: bigint;
}

export async function startStage<S>(options: StageOptions<S>): Promise<RunningStage> {
  const { client, groupId, input, changelog, logic } = options;
  const log = options.logger.child({ component: options.component, groupId });
  const stats: StageStats = { consumed: 0, produced: 0, transactions: 0, assigned: [] };
  const owned = new Map<number, OwnedPartition<S>>();
  let stopping = false;
  let restoring: Promise<void> = Promise.resolve();

  /**
   * Takes partitions over: a producer per partition with a transactional id of its own fences
   * whoever held the partition before (their open transaction is aborted, their later commits
   * fail), then the changelog is read up to a marker written after the fencing, so the state is
   * exactly what the last committed transaction left. (With one id per worker, a killed worker's
   * open transaction would hold back every read_committed reader of its partitions until
   * transaction.timeout.ms.)
   */
  async function takeOver(partitions: number[]): Promise<void> {
    const nonces = new Map<number, string>();
    const taken = new Map<number, OwnedPartition<S>>();
    const abandoned = { value: false };
    let offsets: Map<number, bigint>;
    try {
      await within(fenceAndRestore(partitions, nonces, taken, abandoned), TAKE_OVER_TIMEOUT_MS, `the take-over of partitions ${partitions.join(', ')}`);
      // Read after the fencing: a transaction of the previous owner is settled by then, so this
      // is where its work ends (the fetched records may start earlier, from a stale position).
      offsets = await committedOffsets(client, groupId, input);
      // A partition with nothing to process would otherwise never say where it stands.
      if (logic.progress !== undefined) {
        await Promise.all(
          [...taken.entries()].map(([partition, entry]) =>
            within(entry.producer.commit(logic.progress!(partition, offsets.get(partition) ?? 0n)), COMMIT_TIMEOUT_MS, `the progress of partition ${partition}`),
          ),
        );
      }
    } catch (error) {
      // Producers of a take-over that did not finish must not linger (nor hold the process open);
      // one made after it was given up closes itself.
      abandoned.value = true;
      await Promise.all([...taken.values()].map((entry) => entry.producer.disconnect().catch(() => {})));
      throw error;
    }
    for (const [partition, entry] of taken) owned.set(partition, { ...entry, startOffset: offsets.get(partition) ?? 0n });
    log.info({ partitions, entries: [...taken.values()].reduce((n, e) => n + logic.size(e.state), 0) }, 'partitions taken over, state restored');
  }

  async function fenceAndRestore(partitions: number[], nonces: Map<number, string>, taken: Map<number, OwnedPartition<S>>, abandoned: { value: boolean }): Promise<void> {
    // The partitions are fenced side by side: each is a round of requests to the coordinator.
    // All settle before a failure is thrown, so that every producer made is in `taken` to close.
    const fenced = await Promise.allSettled(
      partitions.map(async (partition) => {
        if (stopping) throw new Error(`${options.component} stopping`);
        const producer = await createTransactionalProducer(client, `${groupId}.${input}.${partition}`);
        if (abandoned.value) {
          await producer.disconnect().catch(() => {});
          throw new Error('take-over given up');
        }
        taken.set(partition, { producer, state: logic.empty(), startOffset: 0n });
        const nonce = randomUUID();
        nonces.set(partition, nonce);
        await producer.commit([{ topic: changelog, partition, key: RESTORE_MARKER_KEY, value: Buffer.from(nonce) }]);
      }),
    );
    const failed = fenced.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await readPartitionsUntil(client, { topic: changelog, partitions }, (record) => {
      const key = record.key ?? '';
      if (key === RESTORE_MARKER_KEY) return record.value?.toString() === nonces.get(record.partition);
      logic.restore(taken.get(record.partition)!.state, key, record.value);
      return false;
    });
  }

  async function release(partition: number): Promise<void> {
    const entry = owned.get(partition);
    owned.delete(partition);
    await entry?.producer.disconnect().catch(() => {});
  }

  function onAssignment(partitions: number[]): void {
    stats.assigned = partitions;
    // Chain on the previous step, so releases and take-overs never interleave.
    restoring = restoring
      .catch(() => {})
      .then(async () => {
        for (const partition of [...owned.keys()]) if (!partitions.includes(partition)) await release(partition);
        // A partition kept across a rebalance was processed by no one else meanwhile: its state stands.
        await takeOver(partitions.filter((partition) => !owned.has(partition)));
      });
    // Handled here (a take-over that fails with Kafka away must not be an unhandled rejection);
    // the next batch awaits `restoring` again and fails, and the consumer's supervisor retries.
    restoring.catch((error: unknown) => log.info({ partitions, error: describeKafkaError(error) }, 'take-over did not finish; retrying'));
  }

  async function eachBatch(batch: GroupBatch): Promise<BatchOutcome> {
    await restoring;
    if (!stats.assigned.includes(batch.partition) || batch.records.length === 0 || batch.isStale()) return;
    if (!owned.has(batch.partition)) await takeOver([batch.partition]); // after a failed batch
    const entry = owned.get(batch.partition)!;
    const records = batch.records.filter((record) => BigInt(record.offset) >= entry.startOffset);
    if (records.length === 0) return;
    if (logic.prepare !== undefined) {
      try {
        await within(logic.prepare(records), COMMIT_TIMEOUT_MS, `the preparation of a batch of partition ${batch.partition}`);
      } catch (error) {
        // Nothing of the batch is processed yet: fetch it again.
        log.warn({ partition: batch.partition, error: describeKafkaError(error) }, 'preparing a batch failed; fetching the partition again');
        return 'rewind';
      }
    }
    const out: TransactionalRecord[] = [];
    const changed = new Set<string>();
    for (let i = 0; i < records.length; i++) {
      // A fetched batch is thousands of records: the event loop gets a turn every slice, so that
      // ingest in the same process answers meanwhile (one transaction per batch all the same).
      if (i > 0 && i % YIELD_EVERY_RECORDS === 0) await yieldToEventLoop();
      stats.consumed++;
      logic.process(records[i]!, entry.state, out, changed);
    }
    for (const key of changed) out.push({ topic: changelog, partition: batch.partition, ...logic.stateRecord(key, entry.state) });
    const last = records[records.length - 1]!;
    if (logic.progress !== undefined) out.push(...logic.progress(batch.partition, BigInt(batch.nextOffset)));
    try {
      await within(entry.producer.commit(out, { record: last }), COMMIT_TIMEOUT_MS, `the transaction of partition ${batch.partition}`);
    } catch (error) {
      // The in-memory state already holds this batch's changes: drop it; the batch is fetched
      // again from the committed offset and the state restored from the changelog.
      await release(batch.partition);
      if (needsRejoin(error)) {
        log.info({ partition: batch.partition, error: describeKafkaError(error) }, 'offset commit refused for a stale group membership; rejoining');
        return 'rejoin';
      }
      if (isFenced(error)) log.info({ partition: batch.partition }, 'another worker took the partition over; fetching it again');
      else log.warn({ partition: batch.partition, error: describeKafkaError(error) }, 'transaction failed; fetching the partition again');
      return 'rewind';
    }
    entry.startOffset = BigInt(last.offset) + 1n;
    stats.transactions++;
    stats.produced += out.length;
  }

  const consumer: GroupConsumer = await startGroupConsumer(client, {
    groupId,
    topic: input,
    component: options.component,
    sessionTimeoutMs: options.sessionTimeoutMs,
    ...(options.failureExitMs !== undefined && { failureExitMs: options.failureExitMs }),
    ...(options.onFatal !== undefined && { onFatal: options.onFatal }),
    onAssignment,
    eachBatch,
  });
  return {
    stats,
    health: consumer.health,
    async stop() {
      stopping = true;
      await consumer.stop();
      await restoring.catch(() => {});
      for (const partition of [...owned.keys()]) await release(partition);
    },
  };
}
