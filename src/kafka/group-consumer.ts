/**
 * A consumer-group member that hands each partition's fetched records to a handler, partitions
 * side by side, and commits only what the handler says.
 *
 * A window bounds the batches in hand: `maxInFlightPerPartition` (1 by default: a handler whose
 * state follows the partition's order, like the processor, sees one batch at a time) and, over
 * all partitions, `maxInFlightBatches` / `maxInFlightRecords` / `maxInFlightBytes`. A handler that
 * allows several batches of a partition in flight (a sink: batch n+1 is sent while batch n awaits
 * its acknowledgment) still commits in order: `batch.commit()` waits for the partition's previous
 * batch, and commits nothing when that one did not commit (it was abandoned: the partition is
 * fetched again from the committed offset).
 *
 * Heartbeats run on the client's own timer, apart from the handlers: a handler that waits out a
 * sink outage of any length keeps the membership. Records wait in Kafka while handlers are busy:
 * reading from the client's stream stops once `maxQueuedRecords` are queued here, and the client
 * stops fetching once its own buffer is full.
 *
 * The member is supervised: a failure the client does not recover from (the stream ends with an
 * error, the group cannot be rejoined) closes it and starts a new one after a backoff; the health
 * says so meanwhile, and past `failureExitMs` `onFatal` is called so that the process can exit.
 */
import {
  Consumer,
  FetchIsolationLevels,
  ListOffsetTimestamps,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import { closeWithin, describeKafkaError, FETCH_MAX_BYTES, FETCH_PARTITION_MAX_BYTES, within, type KafkaClient } from './client.js';
import { ComponentHealth } from './health.js';
import { ReadCommittedConsumer } from './read-committed.js';
import { toRecord, type IncomingRecord } from './records.js';
import { CONSUMER_OF, MESSAGE_OF, type SourcedRecord } from './transactional.js';
import { TrustwireError } from '../errors.js';

type BufferConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;
type BufferStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface GroupBatch {
  topic: string;
  partition: number;
  records: IncomingRecord[];
  /**
   * The offset to commit once the batch is done: past its last record and past any transaction
   * markers that follow it, so that a consumer that is done shows a lag of 0.
   */
  nextOffset: string;
  /** True once a rebalance took the partition away: stop work on the batch and commit nothing. */
  isStale(): boolean;
  /**
   * Commits `nextOffset` for this partition (consumers that do not commit in a transaction),
   * once the partition's previous batch is done; nothing when that one was given up.
   */
  commit(): Promise<void>;
}

/**
 * What a handler did with its batch: `rewind` fetches the partition again from its committed
 * offset (a batch given up returns it, so that no later batch commits past it); `rejoin` does that for every partition after rejoining the group (the handler's offset
 * commit was refused for a stale membership).
 */
export type BatchOutcome = void | 'rewind' | 'rejoin';

/** Asks the supervisor for a new stream after a rejoin; not a failure. */
class RejoinRequested extends TrustwireError {}

export interface GroupConsumerOptions {
  groupId: string;
  topic: string;
  /** Who this member is in logs and health (`processor`, `sink splunk`). */
  component: string;
  /** How long the group waits for a silent member (a killed worker) before moving its partitions. */
  sessionTimeoutMs?: number;
  /** How long a fetch waits for data before returning a smaller batch (the sinks' linger). */
  maxWaitTimeMs?: number;
  /** Records a batch holds at most. */
  maxBatchRecords?: number;
  /** Records queued here across partitions before reading pauses. */
  maxQueuedRecords?: number;
  /** Batches of one partition in the handler at once; default 1. */
  maxInFlightPerPartition?: number;
  /** Over all partitions: batches, records and bytes (record values) in the handler at once. */
  maxInFlightBatches?: number;
  maxInFlightRecords?: number;
  maxInFlightBytes?: number;
  /** How long the member may fail without recovering before `onFatal`; default 5 minutes. */
  failureExitMs?: number;
  /** Called on every join with this member's partitions, before any batch of them. */
  onAssignment?(partitions: number[]): void;
  /** The member could not recover within `failureExitMs`. */
  onFatal?(error: Error): void;
  eachBatch(batch: GroupBatch): Promise<BatchOutcome>;
}

export interface GroupConsumer {
  readonly health: ComponentHealth;
  /** Records behind the end of each assigned partition (data records only), as last measured. */
  lag(): Promise<Map<number, number>>;
  stop(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 5000;
/** How long opening a stream (joining the group) may take before the member is replaced. */
const OPEN_TIMEOUT_MS = 120_000;
/** Failures in a row, without a join or a fetch between them, before the member is replaced. */
const MEMBER_FAILURES = 3;

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;

export async function startGroupConsumer(client: KafkaClient, options: GroupConsumerOptions): Promise<GroupConsumer> {
  const { topic, groupId } = options;
  const maxBatch = options.maxBatchRecords ?? 5000;
  const maxQueued = options.maxQueuedRecords ?? maxBatch * 2;
  const perPartition = options.maxInFlightPerPartition ?? 1;
  const window = {
    batches: options.maxInFlightBatches ?? Number.POSITIVE_INFINITY,
    records: options.maxInFlightRecords ?? Number.POSITIVE_INFINITY,
    bytes: options.maxInFlightBytes ?? Number.POSITIVE_INFINITY,
  };
  const inFlight = { batches: 0, records: 0, bytes: 0 };
  const failureExitMs = options.failureExitMs ?? 5 * 60_000;
  const log = client.logger.child({ component: options.component, groupId });
  const health = new ComponentHealth(options.component, log);

  const partitions = new Map<number, PartitionLane>();
  let assigned: number[] = [];
  let consumer: BufferConsumer | undefined;
  let stream: BufferStream | undefined;
  let stopped = false;
  let queued = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const committed = new Map<number, bigint>();
  let lastFetchAt = Date.now();
  let attempt = 0;
  let failingSince: number | undefined;
  let failuresOnMember = 0;
  let recovered = () => {};
  // A watchdog: a stream with partitions, room for records and nothing in hand must fetch at
  // least every maxWaitTime. One that stops (a fetch whose answer never came after a broker
  // restart keeps its node "in flight" for two minutes in the client) is replaced.
  const stallMs = Math.max(30_000, 3 * (options.maxWaitTimeMs ?? 5000));
  const watchdog = setInterval(() => {
    const source = stream;
    if (source === undefined || stopped || failure || assigned.length === 0) return;
    const idleHere = queued === 0 && source.readableLength === 0 && inFlight.batches === 0;
    if (!idleHere) {
      lastFetchAt = Date.now();
      return;
    }
    if (Date.now() - lastFetchAt > stallMs) fail(new Error(`the consumer stream of ${topic} has not fetched for ${Math.round((Date.now() - lastFetchAt) / 1000)} s`));
  }, 5000);
  watchdog.unref();
  const idle = new Set<Promise<void>>();

  /**
   * The member's partitions, as the client holds them now. A rejoin can happen on the client's
   * own (its heartbeat told it to) at any moment, so this is read, never remembered.
   */
  function liveAssignment(): number[] {
    return [...(consumer?.assignments?.find((a) => a.topic === topic)?.partitions ?? [])];
  }

  function isAssigned(partition: number): boolean {
    return liveAssignment().includes(partition);
  }

  function lane(partition: number): PartitionLane {
    let entry = partitions.get(partition);
    if (!entry) {
      entry = { queue: [], inFlight: 0, tail: Promise.resolve(true), epoch: 0, position: undefined, endOffset: undefined };
      partitions.set(partition, entry);
    }
    return entry;
  }

  function onJoin(payload: { assignments?: Array<{ topic: string; partitions: number[] }> }): void {
    const next = [...(payload.assignments?.find((a) => a.topic === topic)?.partitions ?? [])].sort((a, b) => a - b);
    for (const partition of assigned) {
      if (next.includes(partition)) continue;
      // Revoked: whatever is queued or in flight for it is someone else's now.
      const entry = lane(partition);
      newEpoch(entry);
      queued -= entry.queue.length;
      entry.queue = [];
      entry.position = undefined;
      committed.delete(partition);
    }
    assigned = next;
    recovered();
    log.debug({ partitions: next }, 'assigned');
    options.onAssignment?.(next);
    schedule();
  }

  /** Moves records from the client's stream into the partitions' queues, then starts handlers. */
  function drain(): void {
    if (stream === undefined || stopped) return;
    const source = stream;
    // Only a read that returned null says the buffer is empty; a drain that stopped at
    // maxQueued has not read what is still in it.
    let emptied = false;
    while (queued < maxQueued) {
      const message = source.read() as BufferMessage | null;
      if (message === null) {
        emptied = true;
        break;
      }
      const entry = lane(message.partition);
      const offset = message.offset;
      // A rejoin makes the client fetch again from the committed offset: drop what was handed over.
      if (entry.position !== undefined && offset < entry.position) continue;
      if (!isAssigned(message.partition)) continue;
      entry.queue.push(toSourcedRecord(message, consumer!));
      entry.position = offset + 1n;
      queued++;
    }
    // The buffer is empty: the client's position covers every record read, markers included.
    if (emptied) {
      for (const partition of assigned) {
        const position = source.offsetsToFetch.get(`${topic}:${partition}`);
        const entry = lane(partition);
        if (position !== undefined && (entry.position === undefined || position >= entry.position)) entry.endOffset = position;
      }
    }
    schedule();
  }

  /**
   * A transaction's marker can come in a fetch of its own, after its records were handed over:
   * a partition whose work is all committed then commits the position past the marker, or its
   * lag would stay at 1. Only for members that commit through `batch.commit()`.
   */
  function advancePastMarkers(source: BufferStream): void {
    if (stopped || failure || source.readableLength > 0) return;
    for (const partition of assigned) {
      const entry = lane(partition);
      const done = committed.get(partition);
      if (entry.inFlight > 0 || entry.queue.length > 0 || done === undefined || done !== entry.position) continue;
      const position = source.offsetsToFetch.get(`${topic}:${partition}`);
      if (position === undefined || position <= done) continue;
      entry.position = position;
      committed.set(partition, position);
      consumer!.commit({ offsets: [{ topic, partition, offset: position, leaderEpoch: -1 }] }).catch(() => {
        if (committed.get(partition) === position) committed.set(partition, done);
      });
    }
  }

  /** Whether the window has room for one more batch (one always goes when none is in flight). */
  function windowHasRoom(): boolean {
    if (inFlight.batches === 0) return true;
    return inFlight.batches < window.batches && inFlight.records < window.records && inFlight.bytes < window.bytes;
  }

  /** Hands out batches while the window has room, taking partitions in turn. */
  function schedule(): void {
    if (stopped || failure) return;
    let started = true;
    while (started && windowHasRoom()) {
      started = false;
      for (const partition of assigned) {
        const entry = lane(partition);
        if (entry.inFlight >= perPartition || entry.queue.length === 0 || !windowHasRoom()) continue;
        startBatch(partition, entry);
        started = true;
      }
    }
  }

  function startBatch(partition: number, entry: PartitionLane): void {
    const records = entry.queue.splice(0, maxBatch);
    queued -= records.length;
    const bytes = records.reduce((sum, record) => sum + (record.value?.length ?? 0), 0);
    const last = BigInt(records[records.length - 1]!.offset);
    const nextOffset = entry.queue.length === 0 && entry.endOffset !== undefined && entry.endOffset > last ? entry.endOffset : last + 1n;
    const epoch = entry.epoch;
    // The batch before this one of the partition: true once it is done (or there was none).
    const previous = entry.tail;
    let done = false;
    let finished!: (committed: boolean) => void;
    entry.tail = new Promise<boolean>((resolve) => (finished = resolve));
    entry.inFlight++;
    inFlight.batches++;
    inFlight.records += records.length;
    inFlight.bytes += bytes;
    const batch: GroupBatch = {
      topic,
      partition,
      records,
      nextOffset: nextOffset.toString(),
      isStale: () => stopped || entry.epoch !== epoch,
      commit: async () => {
        const previousCommitted = await previous;
        if (entry.epoch !== epoch) return;
        if (!previousCommitted) {
          // An earlier batch was given up: committing past it would skip its records.
          rewind(partition);
          return;
        }
        await consumer!.commit({ offsets: [{ topic, partition, offset: nextOffset, leaderEpoch: -1 }] });
        committed.set(partition, nextOffset);
        if (entry.position !== undefined && nextOffset > entry.position) entry.position = nextOffset;
      },
    };
    const run = options
      .eachBatch(batch)
      .then((outcome) => {
        done = outcome === undefined;
        if (outcome === 'rewind' && entry.epoch === epoch) rewind(partition);
        else if (outcome === 'rejoin') fail(new RejoinRequested(`the group refused an offset commit of partition ${partition}: rejoining`));
      })
      .catch((error: unknown) => {
        fail(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        entry.inFlight--;
        inFlight.batches--;
        inFlight.records -= records.length;
        inFlight.bytes -= bytes;
        // Done when the handler returned normally in the same epoch; a batch given up returns
        // 'rewind', which makes the partition's later batches stale.
        finished(done && entry.epoch === epoch);
        idle.delete(run);
        if (!stopped && !failure) drain();
      });
    idle.add(run);
  }

  /** Fetches a partition again from its committed offset: a new stream on the same member (no rejoin). */
  function rewind(partition: number): void {
    log.debug({ partition }, 'rewinding the partition to its committed offset');
    const entry = lane(partition);
    // Batches of the partition still in flight are stale: they must not commit past the rewind.
    newEpoch(entry);
    entry.position = undefined;
    entry.endOffset = undefined;
    // The new stream fetches every partition again from its committed offset: what was queued
    // and not yet handed over is fetched again, what was handed over is dropped as a duplicate.
    for (const [other, entry] of partitions) {
      if (other !== partition && entry.queue.length > 0) entry.position = BigInt(entry.queue[0]!.offset);
      queued -= entry.queue.length;
      entry.queue = [];
    }
    wake?.();
  }

  function fail(error: Error): void {
    failure ??= error;
    wake?.();
  }

  async function openStream(member: BufferConsumer): Promise<BufferStream> {
    const next = (await member.consume({
      topics: [topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      highWaterMark: maxBatch,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
      ...(options.maxWaitTimeMs !== undefined && { maxWaitTime: options.maxWaitTimeMs }),
      ...(options.sessionTimeoutMs !== undefined && {
        sessionTimeout: options.sessionTimeoutMs,
        heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
        rebalanceTimeout: Math.max(options.sessionTimeoutMs, 30_000),
      }),
    })) as BufferStream;
    next.on('readable', drain);
    next.on('fetch', () => {
      lastFetchAt = Date.now();
      if (next === stream) recovered();
      setImmediate(() => next === stream && advancePastMarkers(next));
    });
    next.on('error', (error: Error) => {
      if (next === stream) fail(error);
    });
    next.on('close', () => {
      if (next === stream && !stopped) fail(new Error(`the consumer stream of ${topic} closed`));
    });
    return next;
  }

  function newMember(): BufferConsumer {
    const member = new ReadCommittedConsumer({
      ...client.options(`${options.component.replace(/\s+/g, '-')}`, { retries: 5, retryDelay: 500 }),
      groupId,
      autocommit: false,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      ...(options.sessionTimeoutMs !== undefined && {
        sessionTimeout: options.sessionTimeoutMs,
        heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
        rebalanceTimeout: Math.max(options.sessionTimeoutMs, 30_000),
      }),
    });
    member.on('consumer:group:join', onJoin);
    member.on('error', (error: Error) => {
      if (member === consumer) fail(error);
    });
    member.on('consumer:heartbeat:error', ({ error }: { error: Error }) => {
      if (member === consumer) health.degraded(`heartbeat failed: ${describeKafkaError(error)}`);
    });
    member.on('consumer:heartbeat:end', () => {
      if (member === consumer && !failure) health.running();
    });
    return member;
  }

  async function closeQuietly(target: BufferStream | BufferConsumer | undefined): Promise<void> {
    if (target === undefined) return;
    // A consumer is closed with force (its streams with it); a stream's close takes no force.
    await closeWithin(() => (target instanceof Consumer ? target.close(true) : target.close()), CLOSE_TIMEOUT_MS);
  }

  async function waitHandlers(): Promise<void> {
    while (idle.size > 0) await Promise.allSettled([...idle]);
  }

  /** The supervisor: keeps one healthy member with one stream, for as long as it is not stopped. */
  async function supervise(): Promise<void> {
    let closingPrevious: Promise<void> = Promise.resolve();
    // Failures since the member last worked (joined, or fetched): a stream that opens and fails
    // at once does not count as recovered.
    recovered = () => {
      attempt = 0;
      failingSince = undefined;
      failuresOnMember = 0;
    };
    while (!stopped) {
      try {
        if (consumer === undefined) consumer = newMember();
        const previous = stream;
        // A join whose answer never comes (the broker restarted under it) would hold the member
        // here for good: past the bound the member is replaced.
        stream = await within(openStream(consumer), OPEN_TIMEOUT_MS, `joining the group ${groupId}`).catch((error: unknown) => {
          const stuck = consumer;
          consumer = undefined;
          void closeQuietly(stuck);
          throw error;
        });
        lastFetchAt = Date.now();
        log.debug({ rewound: previous !== undefined }, 'stream opened');
        // The new stream tracks the topic before the old one lets go of it: no rejoin.
        if (previous !== undefined) closingPrevious = closeQuietly(previous);
        // Running once the member is in its group; the next heartbeat says so otherwise.
        if (consumer.isActive()) health.running();
        // Until something asks for a new stream (a rewind, a failure, stop).
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (stopped || failure !== undefined) resolve();
          else drain();
        });
        if (stopped) break;
        wake = undefined;
        if (failure === undefined) continue; // a rewind
        throw failure;
      } catch (error) {
        if (stopped) break;
        const cause = error instanceof Error ? error : new Error(String(error));
        const rejoin = cause instanceof RejoinRequested;
        if (rejoin) log.info(cause.message);
        else {
          failingSince ??= Date.now();
          failuresOnMember++;
          health.failing(describeKafkaError(cause));
          log.debug({ attempt, failuresOnMember, error: describeKafkaError(cause) }, 'consumer failed');
        }
        // In-flight handlers finish (or give up) before their stream is closed.
        await waitHandlers();
        const brokenStream = stream;
        stream = undefined;
        // The member is kept: a new stream on it rejoins the group with the same member id. A new
        // member would wait, in its first join, for the old one's session to time out (a minute),
        // since a member lost while the broker was away never left the group.
        // A member that keeps failing is replaced, though: its client can be left in a state it
        // does not leave (seen after a broker restart: every stream failing at once, for minutes).
        if (consumer !== undefined && (isClosedClientError(cause) || failuresOnMember >= MEMBER_FAILURES)) {
          log.info({ failures: failuresOnMember, error: describeKafkaError(cause) }, 'replacing the consumer after repeated failures');
          void closeQuietly(consumer);
          consumer = undefined;
          failuresOnMember = 0;
        }
        failure = undefined;
        for (const entry of partitions.values()) {
          newEpoch(entry);
          entry.queue = [];
          entry.position = undefined;
          entry.endOffset = undefined;
        }
        queued = 0;
        committed.clear();
        // Once no stream tracks the topic, the next consume() rejoins the group.
        await closingPrevious;
        await closeQuietly(brokenStream);
        if (rejoin) continue; // closing the stream untracked the topic: the next consume rejoins
        if (failingSince !== undefined && Date.now() - failingSince > failureExitMs) {
          health.fatal(describeKafkaError(cause));
          options.onFatal?.(cause);
          return;
        }
        attempt++;
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
        await sleep(delay, () => stopped);
      }
    }
  }

  const supervising = supervise();

  return {
    health,
    async lag() {
      const member = consumer;
      const result = new Map<number, number>();
      if (member === undefined || assigned.length === 0) return result;
      const ends = await member.listOffsets({
        topics: [topic],
        timestamp: ListOffsetTimestamps.LATEST,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
      const endOffsets = ends.get(topic) ?? [];
      for (const partition of assigned) {
        const end = endOffsets[partition];
        const done = committed.get(partition) ?? stream?.offsetsCommitted.get(`${topic}:${partition}`);
        if (end === undefined || done === undefined) continue;
        result.set(partition, Math.max(0, Number(end - done)));
      }
      return result;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(watchdog);
      wake?.();
      await waitHandlers();
      await supervising.catch(() => {});
      await closeQuietly(stream);
      await closeQuietly(consumer);
      health.stopped();
    },
  };
}

function isClosedClientError(error: Error): boolean {
  return /client is closed/i.test(describeKafkaError(error));
}

interface PartitionLane {
  queue: IncomingRecord[];
  /** Batches of the partition in the handler. */
  inFlight: number;
  /** Settles when the partition's latest batch is done: true if it committed. */
  tail: Promise<boolean>;
  /** Bumped when the partition is revoked: batches of an older epoch are stale. */
  epoch: number;
  /** The offset after the last record queued or handed over; earlier ones are duplicates. */
  position: bigint | undefined;
  /** The client's fetch position when its buffer was last read empty (past markers). */
  endOffset: bigint | undefined;
}

/** Makes the lane's batches in hand stale; the next batch follows no earlier one. */
function newEpoch(entry: PartitionLane): void {
  entry.epoch++;
  entry.tail = Promise.resolve(true);
}

function toSourcedRecord(message: BufferMessage, consumer: BufferConsumer): SourcedRecord {
  return { ...toRecord(message), [CONSUMER_OF]: consumer, [MESSAGE_OF]: message };
}

/** Waits `ms`, or less once `cancelled()` says so (checked every 100 ms). */
export async function sleep(ms: number, cancelled: () => boolean = () => false): Promise<void> {
  const until = Date.now() + ms;
  while (!cancelled() && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(100, until - Date.now()))));
  }
}
