/**
 * `trustwire connect` workers as operators run them, for fault tests: child processes started,
 * stopped and killed (SIGKILL is real), and watched for exits and log lines; their configuration;
 * numbered events produced at a set pace; and the tally of every id sent against every id a sink
 * recorded. The sink outage scenario is here too, shared by the integration test (20 s outage)
 * and the soak (ten minutes).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config/schema.js';
import { PROJECT_ROOT } from '../../src/embedded/paths.js';
import { createRecordProducer, type RecordProducer } from '../../src/kafka/producer.js';
import { committedOffsets, ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { encodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { sinkGroup } from '../../src/runtime/runner.js';
import { RetrySettings, RuntimeSettings } from '../../src/runtime/settings.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from './eventually.js';
import { eventFixture } from './fixtures.js';
import { dropTopics, testClient, testConfig } from './kafka.js';
import { WebhookReceiver } from './webhook-receiver.js';

/** The operator's own connector that appends each delivered id to a file (fsynced before it answers ok). */
export const APPEND_IDS = fileURLToPath(new URL('../fixtures/connectors/append-ids.ts', import.meta.url));
/** The same, slow: each send takes `options.delayMs`. */
export const SLOW_APPEND_IDS = fileURLToPath(new URL('../fixtures/connectors/slow-append-ids.ts', import.meta.url));

/** Log lines that mean a worker gave up: a component failed for good, or the process is on its way out. */
const GAVE_UP = /failed for good|cannot recover|exiting/;

/** One connector entry of a worker's configuration, as an operator writes it. */
export interface ConnectorEntry {
  name: string;
  type?: string;
  module?: string;
  options: Record<string, unknown>;
  batch?: { maxEvents?: number; maxBytes?: number; lingerMs?: number };
  retry?: Record<string, number>;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** One `trustwire connect` process. */
export class ConnectWorker {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The JSON log lines (stdout) and the status lines (stderr), as printed. */
  stdout = '';
  stderr = '';
  exit: WorkerExit | undefined;
  /** Settles when the process has exited, however. */
  readonly exited: Promise<WorkerExit>;
  /** Resolves once it says the connector is running; rejects if it exits first. */
  readonly running: Promise<void>;

  constructor(configFile: string, connector: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'connect', '--config', configFile], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error('trustwire connect did not start');
    this.pid = this.child.pid;
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve(this.exit);
      });
    });
    const said = new RegExp(`^${connector} \\(.*\\): running$`, 'm');
    this.running = new Promise<void>((resolve, reject) => {
      this.child.stderr!.on('data', (chunk: Buffer) => {
        this.stderr += chunk.toString();
        if (said.test(this.stderr)) resolve();
      });
      void this.exited.then((exit) => reject(new Error(`trustwire connect (pid ${this.pid}) exited (${exit.code ?? exit.signal}) before ${connector} ran:\n${this.stderr}\n${this.stdout}`)));
    });
    this.running.catch(() => {}); // awaited by the tests; an exit after start is not an unhandled rejection
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Its JSON log lines. */
  logs(): Array<{ level: number; msg: string; [key: string]: unknown }> {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
  }

  /** Log lines (both streams) saying that it gave up or is exiting. */
  gaveUp(): string[] {
    return `${this.stdout}\n${this.stderr}`.split('\n').filter((line) => GAVE_UP.test(line));
  }

  /** Its warnings and errors, but for the retries of a sink that is down (those are expected). */
  complaints(): string[] {
    return this.logs()
      .filter((line) => line.level >= 40 && line.msg !== 'send failed; retrying')
      .map((line) => JSON.stringify(line));
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<WorkerExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pid ${this.pid} did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Numbered events with ids of this run, keyed by host so that they spread over the partitions. */
export class NumberedEvents {
  /** Ids Kafka acknowledged, in order. */
  readonly sent: string[] = [];
  readonly #producer: RecordProducer;
  readonly #topic: string;
  readonly #tag = randomBytes(2).toString('hex');
  #next = 0;

  constructor(producer: RecordProducer, topic: string) {
    this.#producer = producer;
    this.#topic = topic;
  }

  async send(count: number): Promise<string[]> {
    const events: CanonicalEvent[] = Array.from({ length: count }, () => {
      const n = this.#next++;
      return { ...eventFixture('admin.action'), id: `019ac1a2-${this.#tag}-7000-8000-${String(n).padStart(12, '0')}`, host: { id: `esx-${n % 16}` } };
    });
    await this.#producer.send(this.#topic, events.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
    const ids = events.map((event) => event.id);
    this.sent.push(...ids);
    return ids;
  }

  /** Sends `size` events every `everyMs` (the pace of a steady producer) until stopped. */
  flow(size: number, everyMs: number): { stop(): Promise<void> } {
    let stopping = false;
    const running = (async () => {
      while (!stopping) {
        await this.send(size);
        await sleep(everyMs);
      }
    })();
    return {
      async stop() {
        stopping = true;
        await running;
      },
    };
  }
}

export interface Tally {
  sent: number;
  /** Deliveries recorded, each resend counted. */
  deliveries: number;
  /** Distinct ids delivered. */
  delivered: number;
  /** Sent and never delivered. */
  lost: string[];
  /** Deliveries beyond the first of an id. */
  duplicates: number;
  /** Delivered and never sent. */
  unexpected: string[];
}

export function tally(sent: readonly string[], deliveries: readonly string[]): Tally {
  const unique = new Set(deliveries);
  const sentSet = new Set(sent);
  return {
    sent: sent.length,
    deliveries: deliveries.length,
    delivered: unique.size,
    lost: sent.filter((id) => !unique.has(id)),
    duplicates: deliveries.length - unique.size,
    unexpected: [...unique].filter((id) => !sentSet.has(id)),
  };
}

export function describeTally(t: Tally): string {
  return `sent ${t.sent}, deliveries ${t.deliveries}, distinct ${t.delivered}, lost ${t.lost.length}, duplicates ${t.duplicates}, unexpected ${t.unexpected.length}`;
}

/** Every id the append-ids files hold, one a line. */
export function readIds(...files: string[]): string[] {
  return files.flatMap((file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []));
}

/** True once every id of `ids` is among `delivered`. */
export function allDelivered(ids: readonly string[], delivered: readonly string[]): boolean {
  const have = new Set(delivered);
  return ids.every((id) => have.has(id));
}

/**
 * What a fault test holds: topics, workers, producers, receivers, a scratch directory. `cleanup`
 * (the `after` hook) kills every worker still alive and removes everything, whatever happened.
 */
export class FaultRig {
  readonly dir = mkdtempSync(join(tmpdir(), 'trustwire-faults-'));
  readonly workers: ConnectWorker[] = [];
  readonly #configs: Config[] = [];
  readonly #closers: Array<() => Promise<void>> = [];

  /** A configuration with topics of its own, created (3 partitions). */
  async config(): Promise<Config> {
    const config = testConfig();
    this.#configs.push(config);
    await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
    return config;
  }

  async events(config: Config): Promise<NumberedEvents> {
    const producer = await createRecordProducer(testClient());
    this.#closers.push(() => producer.disconnect());
    return new NumberedEvents(producer, config.kafka.topics.enriched);
  }

  async receiver(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.start();
    this.#closers.push(() => receiver.stop());
    return receiver;
  }

  /**
   * Writes a worker's configuration file (JSON, which is YAML) with one connector; `runtime`
   * holds only what the test sets, the rest is the defaults.
   */
  writeConfig(config: Config, name: string, connector: ConnectorEntry, runtime: Record<string, number> = {}): string {
    const file = join(this.dir, `${name}.yaml`);
    const { kafka } = config;
    const document = {
      kafka: { brokers: kafka.brokers, topics: kafka.topics, groupPrefix: kafka.groupPrefix, partitions: kafka.partitions, replicationFactor: 1 },
      ...(Object.keys(runtime).length > 0 && { runtime }),
      connectors: [connector],
      log: { level: 'info' },
    };
    writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
    return file;
  }

  /**
   * A worker whose connector (append-ids, or another fixture taking `path`) appends to its own ids
   * file `<dir>/<name>.ids`; workers given the same connector name share its group.
   */
  appendIdsWorker(
    config: Config,
    name: string,
    connector: Omit<ConnectorEntry, 'module' | 'options'>,
    runtime?: Record<string, number>,
    fixture: { module: string; options?: Record<string, unknown> } = { module: APPEND_IDS },
  ): { worker: ConnectWorker; ids: string } {
    const ids = join(this.dir, `${name}.ids`);
    const file = this.writeConfig(config, name, { ...connector, module: fixture.module, options: { ...fixture.options, path: ids } }, runtime);
    return { worker: this.start(file, connector.name), ids };
  }

  start(configFile: string, connector: string): ConnectWorker {
    const worker = new ConnectWorker(configFile, connector);
    this.workers.push(worker);
    return worker;
  }

  /** How many records of the enriched topic the connector's group has committed, over all partitions. */
  async committed(config: Config, connector: string): Promise<number> {
    const offsets = await committedOffsets(testClient(), sinkGroup(connector, config.kafka.groupPrefix), config.kafka.topics.enriched);
    return [...offsets.values()].reduce((sum, offset) => sum + Number(offset), 0);
  }

  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        errors.push(error);
      }
    };
    for (const worker of this.workers) await attempt(() => worker.stop('SIGKILL', 10_000));
    const keep = process.env.TRUSTWIRE_FAULT_LOGS; // a directory to keep each worker's output in, for a post-mortem
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const worker of this.workers) writeFileSync(join(keep, `worker-${worker.pid}.log`), `${worker.stderr}\n${worker.stdout}`);
      cpSync(this.dir, join(keep, 'files'), { recursive: true });
    }
    for (const close of this.#closers) await attempt(close);
    for (const config of this.#configs) await attempt(() => dropTopics(config));
    rmSync(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'fault test cleanup failed');
  }
}

export interface OutageOptions {
  /** How long the sink answers 503. */
  outageMs: number;
  /** How many events are produced while it is down. */
  events: number;
  /** `runtime.sessionTimeoutMs`; absent: the default (30 s). */
  sessionTimeoutMs?: number;
  /** t.diagnostic. */
  say(line: string): void;
}

export interface OutageReport {
  worker: ConnectWorker;
  workersStarted: number;
  tally: Tally;
  /** Requests the sink refused while it was down. */
  refused: number;
  /** Refused requests that came after the session timeout had passed since the outage began. */
  refusedPastSessionTimeout: number;
  /** From the sink coming back until every event was delivered. */
  recoverMs: number;
}

/**
 * A webhook sink (the built-in `http` connector, default retry and batch settings) that answers
 * 503 for `outageMs` while events are produced, then comes back: one worker, never restarted.
 */
export async function sinkOutage(rig: FaultRig, options: OutageOptions): Promise<OutageReport> {
  const workersBefore = rig.workers.length;
  const config = await rig.config();
  const receiver = await rig.receiver();
  receiver.behave({ kind: 'transient' }); // 503 "busy, try again" to every request until it behaves again
  const connector = 'webhook';
  const file = rig.writeConfig(
    config,
    'outage',
    { name: connector, type: 'http', options: { url: receiver.url, format: 'ndjson' } },
    options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs },
  );
  const worker = rig.start(file, connector);
  await worker.running;
  const events = await rig.events(config);

  const downSince = Date.now();
  while (events.sent.length < options.events) {
    await events.send(Math.min(50, options.events - events.sent.length));
    await sleep(100); // pacing the stream, not waiting for a condition
  }
  await eventually(() => receiver.requests.length > 0, 'the worker trying the sink while it is down');
  // The outage lasts its set time; how many requests came once the session timeout had passed
  // shows that the worker kept retrying the same batches past it, with its membership intact.
  const sessionTimeoutMs = options.sessionTimeoutMs ?? RuntimeSettings.parse({}).sessionTimeoutMs;
  const holdUntil = async (at: number) => sleep(Math.max(0, at - Date.now())); // the fault's set duration, not a condition
  await holdUntil(Math.min(downSince + sessionTimeoutMs, downSince + options.outageMs));
  const refusedWithinSessionTimeout = receiver.requests.length;
  await holdUntil(downSince + options.outageMs);
  assert.ok(worker.alive, `the worker exited during the outage (${JSON.stringify(worker.exit)}):\n${worker.stderr}`);
  assert.deepEqual(await receiver.received(), [], 'nothing was accepted while the sink was down');
  const refused = receiver.requests.length;
  const refusedPastSessionTimeout = refused - refusedWithinSessionTimeout;

  const upAt = Date.now();
  receiver.behave({ kind: 'ok' });
  // The longest a batch can wait for its next attempt: the backoff cap, plus its jitter.
  const retry = RetrySettings.parse({});
  const nextAttemptMs = retry.maxMs * (1 + retry.jitter);
  await eventually(async () => allDelivered(events.sent, await receiver.received()), 'every event delivered once the sink is back', nextAttemptMs + 60_000, 200);
  const recoverMs = Date.now() - upAt;
  // Every delivery is committed: a restart now would not send anything again.
  await eventually(async () => (await rig.committed(config, connector)) === events.sent.length, "the group's offsets at the end of the topic", 30_000, 250);
  const report = {
    worker,
    workersStarted: rig.workers.length - workersBefore,
    tally: tally(events.sent, await receiver.received()),
    refused,
    refusedPastSessionTimeout,
    recoverMs,
  };
  options.say(
    `outage ${Math.round(options.outageMs / 1000)} s (session timeout ${sessionTimeoutMs} ms): ${describeTally(report.tally)}; ` +
      `${refused} requests refused while down, ${refusedPastSessionTimeout} of them past the session timeout; all delivered ${(recoverMs / 1000).toFixed(1)} s after the sink came back`,
  );
  for (const line of worker.complaints()) options.say(`worker log: ${line}`);
  return report;
}

/** What a user checks after an outage: everything arrived, from the same worker, which never gave up. */
export function assertOutageSurvived(report: OutageReport): void {
  const { worker, tally: t } = report;
  assert.deepEqual(t.lost, [], 'every event delivered once the sink is back');
  assert.deepEqual(t.unexpected, [], 'nothing delivered that was not sent');
  assert.ok(report.refusedPastSessionTimeout >= 1, `the sink was still retried once the session timeout had passed (${report.refused} requests in all)`);
  assert.equal(report.workersStarted, 1, 'one worker, never restarted');
  assert.ok(worker.alive, `the worker is still the same process, pid ${worker.pid} (${JSON.stringify(worker.exit)})`);
  assert.deepEqual(worker.gaveUp(), [], 'the worker never gave up nor exited');
}
