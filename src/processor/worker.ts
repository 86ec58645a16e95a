/**
 * The processor worker: consumes `trustwire.events` in the group `trustwire-processor`, keeps
 * each host's state, and writes enriched events, derived alerts, state changes and dead letters
 * in one Kafka transaction per fetched batch, together with the batch's input offset. A crash
 * anywhere leaves either all of a batch's effects or none of them.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { deadLetterHeaders } from '../dlq/headers.js';
import { describeKafkaError, within, type KafkaClient } from '../kafka/client.js';
import { startGroupConsumer, type BatchOutcome, type GroupBatch, type GroupConsumer } from '../kafka/group-consumer.js';
import type { ComponentHealth } from '../kafka/health.js';
import { committedOffsets } from '../kafka/topics.js';
import type { IncomingRecord } from '../kafka/reader.js';
import { readPartitionsUntil } from '../kafka/reader.js';
import { createTransactionalProducer, isFenced, needsRejoin, type TransactionalProducer, type TransactionalRecord } from '../kafka/transactional.js';
import { TYPE_HEADER, VALIDATED_HEADER } from '../ingest/writer.js';
import type { Logger } from '../log.js';
import { decodeEvent, encodeEvent } from '../model/avro.js';
import { CanonicalEvent } from '../model/events.js';
import { fieldErrors, ValidationError } from '../model/validation.js';
import { decodeChangelog, encodeState, hostKey, RESTORE_MARKER_KEY, SEEN_KEY_PREFIX, seenKey, USER_KEY_PREFIX, userKey } from './changelog.js';
import { emptyPartitionState, processEvent, type ComplianceSettings, type LocateWorkload, type PartitionState } from './logic.js';
import type { ProcessorRules } from './state.js';

/** The processor's consumer group for a group prefix (`kafka.groupPrefix`, default `trustwire`). */
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

export function processorGroup(prefix = 'trustwire'): string {
  return `${prefix}-processor`;
}

export interface ProcessorOptions {
  client: KafkaClient;
  topics: Config['kafka']['topics'];
  rules: ProcessorRules;
  logger: Logger;
  groupId?: string;
  /** Where a VM runs when its host is in another partition (the fleet-wide view). */
  locate?: LocateWorkload;
  /** Hardening templates and waivers config snapshots are scored with; absent: no scoring. */
  compliance?: ComplianceSettings;
  /** How long Kafka may fail the processor before `onFatal`. */
  failureExitMs?: number;
  onFatal?(error: Error): void;
}

export interface ProcessorStats {
  consumed: number;
  produced: number;
  deadLettered: number;
  /** Events dropped as resends of an id the host's state had seen. */
  duplicates: number;
  transactions: number;
  assigned: number[];
}

export interface RunningProcessor {
  stats: ProcessorStats;
  health: ComponentHealth;
  stop(): Promise<void>;
}

interface OwnedPartition {
  state: PartitionState;
  producer: TransactionalProducer;
  /** The group's committed offset once the partition was fenced: records before it are done. */
  startOffset: bigint;
}

export async function startProcessor(options: ProcessorOptions): Promise<RunningProcessor> {
  const { client, topics, rules, logger } = options;
  const groupId = options.groupId ?? processorGroup();
  const log = logger.child({ component: 'processor', groupId });
  const stats: ProcessorStats = { consumed: 0, produced: 0, deadLettered: 0, duplicates: 0, transactions: 0, assigned: [] };
  const owned = new Map<number, OwnedPartition>();
  let stopping = false;
  let restoring: Promise<void> = Promise.resolve();

  /**
   * Takes partitions over: a producer per partition with a transactional id of its own fences
   * whoever held the partition before (their open transaction is aborted, their later commits
   * fail), then the changelog is read up to a marker written after the fencing, so the state is
   * exactly what the last committed transaction left.
   */
  async function takeOver(partitions: number[]): Promise<void> {
    const nonces = new Map<number, string>();
    const taken = new Map<number, OwnedPartition>();
    const abandoned = { value: false };
    try {
      await within(fenceAndRestore(partitions, nonces, taken, abandoned), TAKE_OVER_TIMEOUT_MS, `the take-over of partitions ${partitions.join(', ')}`);
    } catch (error) {
      // Producers of a take-over that did not finish must not linger (nor hold the process open);
      // one made after it was given up closes itself.
      abandoned.value = true;
      await Promise.all([...taken.values()].map((entry) => entry.producer.disconnect().catch(() => {})));
      throw error;
    }
    // Read after the fencing: a transaction of the previous owner is settled by then, so this
    // is where its work ends (the fetched records may start earlier, from a stale position).
    const offsets = await committedOffsets(client, groupId, topics.events);
    for (const [partition, entry] of taken) owned.set(partition, { ...entry, startOffset: offsets.get(partition) ?? 0n });
    log.info({ partitions, hosts: [...taken.values()].reduce((n, e) => n + e.state.hosts.size, 0) }, 'partitions taken over, state restored');
  }

  async function fenceAndRestore(
    partitions: number[],
    nonces: Map<number, string>,
    taken: Map<number, OwnedPartition>,
    abandoned: { value: boolean },
  ): Promise<void> {
    // The partitions are fenced side by side: each is a round of requests to the coordinator.
    // All settle before a failure is thrown, so that every producer made is in `taken` to close.
    const fenced = await Promise.allSettled(
      partitions.map(async (partition) => {
        if (stopping) throw new Error('processor stopping');
        const producer = await createTransactionalProducer(client, `${groupId}.${topics.events}.${partition}`);
        if (abandoned.value) {
          await producer.disconnect().catch(() => {});
          throw new Error('take-over given up');
        }
        taken.set(partition, { producer, state: emptyPartitionState(), startOffset: 0n });
        const nonce = randomUUID();
        nonces.set(partition, nonce);
        await producer.commit([{ topic: topics.hostState, partition, key: RESTORE_MARKER_KEY, value: Buffer.from(nonce) }]);
      }),
    );
    const failed = fenced.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await readPartitionsUntil(client, { topic: topics.hostState, partitions }, (record) => {
      const entry = decodeChangelog(record.key ?? '', record.value);
      const state = taken.get(record.partition)!.state;
      if (entry?.kind === 'marker') return record.value?.toString() === nonces.get(record.partition);
      if (entry === null) {
        const key = record.key ?? '';
        if (key.startsWith(USER_KEY_PREFIX)) state.users.delete(key.slice(USER_KEY_PREFIX.length));
        else if (key.startsWith(SEEN_KEY_PREFIX)) state.seen.delete(key.slice(SEEN_KEY_PREFIX.length));
        else state.hosts.delete(key.slice(key.indexOf(':') + 1));
      } else if (entry.kind === 'host') state.hosts.set(entry.state.hostId, entry.state);
      else if (entry.kind === 'seen') state.seen.set(entry.hostId, entry.ids);
      else state.users.set(entry.state.userId, entry.state);
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
    const out: TransactionalRecord[] = [];
    const changed = new Set<string>();
    for (let i = 0; i < records.length; i++) {
      // A fetched batch is thousands of records: the event loop gets a turn every slice, so that
      // ingest in the same process answers meanwhile (one transaction per batch all the same).
      if (i > 0 && i % YIELD_EVERY_RECORDS === 0) await yieldToEventLoop();
      stats.consumed++;
      processRecord(records[i]!, entry.state, out, changed);
    }
    for (const key of changed) out.push(stateRecord(key, entry.state, batch.partition));
    const last = records[records.length - 1]!;
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

  function processRecord(record: IncomingRecord, state: PartitionState, out: TransactionalRecord[], changed: Set<string>): void {
    const event = decodeRecord(record, out);
    if (event === undefined) return;
    let result;
    try {
      result = processEvent(event, state, rules, options.locate, options.compliance);
    } catch (error) {
      deadLetter(record, 'process', error as Error, out);
      return;
    }
    if (result.duplicate) {
      stats.duplicates++;
      log.debug({ partition: record.partition, offset: record.offset, eventId: event.id }, 'resent event dropped');
      return;
    }
    // All of an event's outputs, or none: an alert without the event it is about would mislead.
    let encoded: TransactionalRecord[];
    try {
      encoded = result.outputs.map((output) => ({
        topic: topics.enriched,
        key: output.host.id,
        value: encodeEvent(output),
        headers: { [TYPE_HEADER]: output.type },
      }));
    } catch (error) {
      deadLetter(record, 'encode', error as Error, out);
      encoded = [];
    }
    out.push(...encoded);
    for (const key of result.changed) changed.add(key);
    changed.add(seenKey(event.host.id));
  }

  /** Decodes and holds the record to the contract; what fails goes to the DLQ with the reason. */
  function decodeRecord(record: IncomingRecord, out: TransactionalRecord[]): CanonicalEvent | undefined {
    if (record.value === null) {
      deadLetter(record, 'decode', new Error('record has no value'), out);
      return undefined;
    }
    let decoded: CanonicalEvent;
    try {
      decoded = decodeEvent(record.value);
    } catch (error) {
      deadLetter(record, 'decode', error as Error, out);
      return undefined;
    }
    // Avro holds the structure; the contract's finer rules (ranges, formats) are zod's, checked
    // at the door by ingest (the header says so) and here for what another producer wrote. A
    // writer that can forge the header can as well write to the enriched topic itself: Kafka's
    // ACLs, not this check, keep it out.
    if (record.headers[VALIDATED_HEADER] === '1') return decoded;
    const checked = CanonicalEvent.safeParse(decoded);
    if (!checked.success) {
      deadLetter(record, 'validate', new ValidationError('event breaks the contract', fieldErrors(checked.error)), out);
      return undefined;
    }
    return checked.data;
  }

  function deadLetter(record: IncomingRecord, stage: string, error: Error, out: TransactionalRecord[]): void {
    stats.deadLettered++;
    log.warn({ partition: record.partition, offset: record.offset, stage, error: error.message }, 'event dead-lettered');
    out.push({
      topic: topics.dlq,
      key: record.key ?? '',
      value: record.value,
      headers: deadLetterHeaders({
        original: { topic: record.topic, partition: record.partition, offset: record.offset },
        component: 'processor',
        stage,
        error,
        attempts: 1,
      }),
    });
  }

  function stateRecord(key: string, state: PartitionState, partition: number): TransactionalRecord {
    if (key.startsWith(SEEN_KEY_PREFIX)) {
      const ids = state.seen.get(key.slice(SEEN_KEY_PREFIX.length));
      return { topic: topics.hostState, partition, key, value: ids ? encodeState(ids) : null };
    }
    if (key.startsWith(USER_KEY_PREFIX)) {
      const user = state.users.get(key.slice(USER_KEY_PREFIX.length));
      return { topic: topics.hostState, partition, key: userKey(key.slice(USER_KEY_PREFIX.length)), value: user ? encodeState(user) : null };
    }
    const host = state.hosts.get(key);
    return { topic: topics.hostState, partition, key: hostKey(key), value: host ? encodeState(host) : null };
  }

  const consumer: GroupConsumer = await startGroupConsumer(client, {
    groupId,
    topic: topics.events,
    component: 'processor',
    sessionTimeoutMs: rules.sessionTimeoutMs,
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
