/**
 * Runs one connector instance: its own consumer group `trustwire-sink-<name>` on the enriched
 * topic, decode → route → batch → deliver (retries, timeouts) → dead-letter → commit.
 *
 * Pipelined: partitions side by side, and a window of sends in flight (`inFlight`: batches,
 * events, bytes), so batch n+1 is built and sent while batch n awaits its acknowledgment. An
 * offset is committed only once every record at or before it was delivered, skipped or
 * dead-lettered: batches of a partition commit in order as the head of the window completes.
 * When the window is full, fetching pauses and the backlog waits in Kafka. A worker that dies
 * redelivers at most the window's worth of what it held.
 */
import type { KafkaClient } from '../kafka/client.js';
import { chunkBySize } from '../kafka/chunks.js';
import { startGroupConsumer, type BatchOutcome, type GroupBatch, type GroupConsumer } from '../kafka/group-consumer.js';
import type { HealthSnapshot } from '../kafka/health.js';
import type { RecordProducer } from '../kafka/producer.js';
import type { IncomingRecord } from '../kafka/reader.js';
import { deadLetterRecord } from '../kafka/dead-letters.js';
import type { Logger } from '../log.js';
import { decodeValue } from '../model/avro.js';
import type { CanonicalEvent } from '../model/events.js';
import type { ConnectorDefinition, SinkConnector } from './contract.js';
import { deliver } from './deliver.js';
import type { ConnectorMetrics } from './metrics.js';
import { TrustwireError } from '../errors.js';
import { RetryLog } from './repeats.js';
import { compileRoute } from './route.js';
import { guardSecrets, Scrubber } from './scrub.js';
import type { ConnectorInstanceSettings } from './settings.js';

/** Records fetched and waiting for their partition's turn, over all partitions. */
const QUEUED_RECORDS = 10_000;

export interface ConnectorStatus {
  name: string;
  type: string;
  group: string;
  state: 'starting' | 'running' | 'stopping' | 'stopped' | 'refused' | 'failed';
  summary?: string;
  /** Why it was refused or failed: the connector's own words (which never carry secrets). */
  reason?: string;
  consumed: number;
  delivered: number;
  skipped: number;
  retries: number;
  deadLettered: number;
  inFlight: number;
  lag: number;
  lastError?: string;
  /** The health of its Kafka consumer. */
  health?: HealthSnapshot;
}

export interface RunnerDeps {
  client: KafkaClient;
  /** Writes dead letters, and serves connectors that produce to Kafka. */
  producer: RecordProducer;
  topics: { enriched: string; dlq: string };
  metrics: ConnectorMetrics;
  logger: Logger;
  sessionTimeoutMs?: number;
  /** Consumer groups are `<groupPrefix>-sink-<name>`; default `trustwire`. */
  groupPrefix?: string;
  /** The topic to consume, when not the enriched one (tests, replays). */
  sourceTopic?: string;
  /** How long Kafka may fail a connector's consumer before `onFatal`. */
  failureExitMs?: number;
  onFatal?(error: Error): void;
}

export class ConnectorRunner {
  readonly status: ConnectorStatus;
  readonly #settings: ConnectorInstanceSettings;
  readonly #definition: ConnectorDefinition;
  readonly #connector: SinkConnector;
  readonly #deps: RunnerDeps;
  readonly #log: Logger;
  readonly #route: (event: CanonicalEvent) => boolean;
  readonly #stop = new AbortController();
  readonly #lag = new Map<number, number>();
  /** The connector's credentials (from its parsed options), kept out of every log line, status and dead-letter header. */
  readonly #scrubber: Scrubber;
  /** A retry that fails the same way as the last is said once at warn, then at debug, until a send succeeds. */
  readonly #retries: RetryLog;
  #consumer: GroupConsumer | undefined;
  #lagTimer: NodeJS.Timeout | undefined;

  constructor(settings: ConnectorInstanceSettings, definition: ConnectorDefinition, options: unknown, deps: RunnerDeps) {
    this.#settings = settings;
    this.#definition = definition;
    this.#deps = deps;
    this.#scrubber = Scrubber.of(options);
    this.#connector = guardSecrets(definition.create(options), this.#scrubber);
    this.#route = compileRoute(settings.route);
    this.#log = this.#scrubber.logger(deps.logger.child({ connector: settings.name, type: definition.type }));
    this.#retries = new RetryLog(this.#log);
    this.status = { ...newStatus(settings.name, definition.type, 'starting', deps.groupPrefix), summary: definition.summary };
  }

  /** The health of the connector's Kafka consumer (absent before it started). */
  health(): HealthSnapshot | undefined {
    return this.#consumer?.health.snapshot();
  }

  async start(): Promise<void> {
    const { producer } = this.#deps;
    await this.#connector.start({
      name: this.#settings.name,
      logger: this.#log,
      kafka: { produce: async (topic, records) => void (await producer.send(topic, records)) },
    });
    const { inFlight } = this.#settings;
    const window = Math.min(inFlight.maxBatches, this.#definition.maxInFlight ?? Number.POSITIVE_INFINITY);
    this.#consumer = await startGroupConsumer(this.#deps.client, {
      groupId: this.status.group,
      component: `connector ${this.#settings.name}`,
      ...(this.#deps.failureExitMs !== undefined && { failureExitMs: this.#deps.failureExitMs }),
      ...(this.#deps.onFatal !== undefined && { onFatal: this.#deps.onFatal }),
      topic: this.#deps.sourceTopic ?? this.#deps.topics.enriched,
      ...(this.#deps.sessionTimeoutMs !== undefined && { sessionTimeoutMs: this.#deps.sessionTimeoutMs }),
      maxWaitTimeMs: this.#settings.batch.lingerMs,
      // A batch of at most `maxEvents` records is one send; the window bounds the sends in
      // flight, over all partitions and within one, and commits follow the partition's order.
      maxBatchRecords: this.#settings.batch.maxEvents,
      maxInFlightPerPartition: window,
      maxInFlightBatches: window,
      maxInFlightRecords: inFlight.maxEvents,
      maxInFlightBytes: inFlight.maxBytes,
      // Fetched and waiting: enough to build the next sends while the window is busy.
      maxQueuedRecords: Math.max(QUEUED_RECORDS, 2 * this.#settings.batch.maxEvents),
      eachBatch: (batch) => this.#eachBatch(batch),
    });
    this.status.state = 'running';
    this.#log.info({ group: this.status.group }, 'connector running');
  }

  /**
   * Drains: in-flight batches get `graceMs` to finish and commit; past it they are abandoned
   * uncommitted (redelivered to whoever takes the partition: at least once).
   */
  async stop(graceMs: number): Promise<void> {
    if (this.status.state === 'stopped') return;
    this.status.state = 'stopping';
    const abandon = setTimeout(() => this.#stop.abort(new Error('shutdown grace period over')), graceMs);
    try {
      await this.#consumer?.stop();
      await this.#connector.stop();
    } finally {
      clearTimeout(abandon);
      clearTimeout(this.#lagTimer);
      this.status.state = 'stopped';
    }
  }

  async #eachBatch(batch: GroupBatch): Promise<BatchOutcome> {
    const { metrics } = this.#deps;
    const name = this.#settings.name;
    if (batch.records.length === 0) return;
    metrics.consumed.inc({ connector: name }, batch.records.length);
    this.status.consumed += batch.records.length;

    // The consumer calls a batch stale once its partition was taken away, and also once it is
    // stopping. A shutdown is not a reason to give up: the batch gets the grace period to finish
    // and be committed (past it, #stop aborts it). A batch whose partition moved meanwhile is not
    // committed by `batch.commit()`, which checks that itself.
    const stale = () => batch.isStale() && this.status.state !== 'stopping';
    const taken: Array<{ event: CanonicalEvent; record: IncomingRecord }> = [];
    const deadLetters: Array<{ record: IncomingRecord; stage: string; error: Error; attempts: number }> = [];
    let skipped = 0;
    for (const record of batch.records) {
      let event: CanonicalEvent;
      try {
        event = decodeValue(record.value);
      } catch (error) {
        deadLetters.push({ record, stage: 'decode', error: error as Error, attempts: 0 });
        continue;
      }
      if (this.#route(event)) taken.push({ event, record });
      else skipped++;
    }
    if (skipped > 0) {
      this.status.skipped += skipped;
      metrics.skipped.inc({ connector: name }, skipped);
    }

    // Sends of at most maxEvents events and about maxBytes (the records' size).
    const sizeOf = (item: { record: IncomingRecord }) => item.record.value?.length ?? 0;
    for (const chunk of chunkBySize(taken, sizeOf, this.#settings.batch.maxBytes, this.#settings.batch.maxEvents)) {
      const events = chunk.map((item) => item.event);
      this.status.inFlight += events.length;
      metrics.inFlight.inc({ connector: name }, events.length);
      metrics.batchSize.observe({ connector: name }, events.length);
      const started = process.hrtime.bigint();
      let outcome;
      try {
        outcome = await deliver(this.#connector, events, {
          retry: this.#settings.retry,
          timeoutMs: this.#settings.timeoutMs,
          signal: this.#stop.signal,
          isStale: stale,
          onRetry: async ({ attempt, delayMs, error, pending }) => {
            this.status.retries++;
            const message = this.#scrubber.text(error.message);
            this.status.lastError = message;
            metrics.retried.inc({ connector: name });
            this.#retries.failed(error, message, { attempt, delayMs, pending });
          },
        });
      } finally {
        this.status.inFlight -= events.length;
        metrics.inFlight.dec({ connector: name }, events.length);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (outcome.kind === 'abandoned') {
        metrics.sendSeconds.observe({ connector: name, result: 'abandoned' }, seconds);
        this.#log.info({ partition: batch.partition }, 'batch abandoned (rebalance or shutdown); it will be delivered again');
        // Nothing of this partition past the last commit is committed: later batches in flight
        // are stale, and the partition is fetched again from its committed offset.
        return 'rewind';
      }
      metrics.sendSeconds.observe({ connector: name, result: outcome.deadLetters.length === 0 ? 'ok' : 'dead-lettered' }, seconds);
      for (const verdict of outcome.deadLetters) {
        deadLetters.push({ record: chunk[verdict.index]!.record, stage: 'send', error: verdict.error, attempts: verdict.attempts });
      }
      const delivered = events.length - outcome.deadLetters.length;
      if (delivered > 0) this.#retries.delivered(delivered);
      this.status.delivered += delivered;
      metrics.delivered.inc({ connector: name }, delivered);
    }

    await this.#deadLetter(deadLetters);
    // A partition taken away meanwhile is its new owner's to commit (it delivers the batch again).
    if (stale()) return;
    await batch.commit();
    this.#scheduleLag();
  }

  /** Lag is measured against the partitions' ends (data records only), at most once a second. */
  #scheduleLag(): void {
    if (this.#lagTimer !== undefined || this.#consumer === undefined) return;
    this.#lagTimer = setTimeout(() => {
      this.#lagTimer = undefined;
      void this.refreshLag().catch(() => {});
    }, 1000);
    this.#lagTimer.unref();
  }

  /** Measures the lag of every assigned partition now. */
  async refreshLag(): Promise<number> {
    const lags = (await this.#consumer?.lag()) ?? new Map<number, number>();
    const name = this.#settings.name;
    for (const [partition, lag] of lags) {
      this.#lag.set(partition, lag);
      this.#deps.metrics.lag.set({ connector: name, partition: String(partition) }, lag);
    }
    this.status.lag = [...this.#lag.values()].reduce((sum, n) => sum + n, 0);
    return this.status.lag;
  }

  async #deadLetter(letters: ReadonlyArray<{ record: IncomingRecord; stage: string; error: Error; attempts: number }>): Promise<void> {
    if (letters.length === 0) return;
    const name = this.#settings.name;
    await this.#deps.producer.send(
      this.#deps.topics.dlq,
      letters.map(({ record, stage, error, attempts }) => ({
        ...deadLetterRecord(record, { component: name, stage, error: this.#scrubber.error(error), attempts }),
        value: record.value ?? Buffer.alloc(0),
      })),
    );
    for (const { error } of letters) if (error instanceof TrustwireError) error.within({ component: name });
    for (const { stage, error, record } of letters) {
      this.#deps.metrics.deadLettered.inc({ connector: name, stage });
      this.#log.warn({ partition: record.partition, offset: record.offset, stage, error: error.message }, 'event dead-lettered');
    }
    this.status.deadLettered += letters.length;
  }
}

/** A connector instance's consumer group. */
export function sinkGroup(name: string, groupPrefix = 'trustwire'): string {
  return `${groupPrefix}-sink-${name}`;
}

/** A status with every count at zero. */
export function newStatus(name: string, type: string, state: ConnectorStatus['state'], groupPrefix = 'trustwire'): ConnectorStatus {
  return { name, type, group: sinkGroup(name, groupPrefix), state, consumed: 0, delivered: 0, skipped: 0, retries: 0, deadLettered: 0, inFlight: 0, lag: 0 };
}

