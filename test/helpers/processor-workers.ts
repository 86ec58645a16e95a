/**
 * Processor fault tests against the real broker: `trustwire processor` child processes in one
 * consumer group, a stream of fleet events produced meanwhile, workers SIGKILLed one after the
 * other, and every input id counted in the enriched topic at the end. Shared by the integration
 * test (a few kills) and the soak test (many kills, a longer stream).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/config/schema.js';
import { createProducer, type TrustwireProducer } from '../../src/ingest/producer.js';
import { withAdmin } from '../../src/kafka/client.js';
import { committedOffsets, ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { ProcessorRules } from '../../src/processor/state.js';
import { processorGroup } from '../../src/processor/worker.js';
import { trustwireTopics } from '../../src/service.js';
import { countEnriched, describeCount, EnrichedFollower, locateIds, type EnrichedCount } from './enriched.js';
import { eventually } from './eventually.js';
import { FLEET_EVENT_KINDS, fleetEvents } from './fleet-events.js';
import { dropTopics, testClient } from './kafka.js';

/** The shortest session timeout the configuration accepts: the group notices a dead worker soonest. */
export const MIN_SESSION_TIMEOUT_MS: number = ProcessorRules.shape.sessionTimeoutMs.unwrap().minValue!;

interface Takeover {
  at: number;
  partitions: number[];
}

/** One `trustwire processor` process, started again under the same name after each kill. */
export class ProcessorWorker {
  readonly name: string;
  readonly #configFile: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';
  #killing = false;
  /** Every "partitions taken over" line of every run of this worker, with when it came. */
  readonly takeovers: Takeover[] = [];
  /** Set when the process ended without being killed by the test. */
  unexpectedExit: string | undefined;

  /** `name` is the worker's Kafka client id, so the group's description tells whose partitions are whose. */
  constructor(name: string, configFile: string) {
    this.name = name;
    this.#configFile = configFile;
  }

  start(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'processor', '--config', this.#configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#killing = false;
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.#output += text;
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.#onLine(line);
    };
    this.#output += `--- ${this.name} started ${new Date().toISOString()} (pid ${child.pid})\n`;
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.#child === child && !this.#killing) this.unexpectedExit ??= `${this.name} exited (${code ?? signal}) without being killed:\n${this.outputTail()}`;
        resolve();
      }),
    );
  }

  #onLine(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as { msg?: string; partitions?: number[] };
      if (entry.msg?.startsWith('partitions taken over') === true) this.takeovers.push({ at: Date.now(), partitions: entry.partitions ?? [] });
    } catch {
      // not a log line of ours
    }
  }

  /** SIGKILL, no chance to close anything; resolves with the time of the kill once the process is gone. */
  async kill(): Promise<number> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} is not running`);
    this.#killing = true;
    const at = Date.now();
    child.kill('SIGKILL');
    await this.#exited;
    return at;
  }

  /** The first take-over of at least one partition since `since`. */
  async tookPartitionsSince(since: number, timeoutMs = 90_000): Promise<Takeover> {
    let found: Takeover | undefined;
    await eventually(
      () => {
        if (this.unexpectedExit !== undefined) throw new Error(this.unexpectedExit);
        found = this.takeovers.find((takeover) => takeover.at >= since && takeover.partitions.length > 0);
        return found !== undefined;
      },
      `${this.name} to take partitions over`,
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.outputTail()}`);
    });
    return found!;
  }

  outputTail(lines = 30): string {
    return this.#output.split('\n').slice(-lines).join('\n');
  }

  /** Everything the worker printed, every run of it. */
  get output(): string {
    return this.#output;
  }

  /** Ends the process if it still runs (after hooks). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.#killing = true;
    child.kill('SIGKILL');
    await this.#exited;
  }
}

/** Produces fleet events round after round until stopped; records each id and when its send began. */
export class EventStream {
  readonly sent: string[] = [];
  readonly sentAt = new Map<string, number>();
  #stopped = false;
  #running: Promise<void> = Promise.resolve();
  #error: Error | undefined;
  #producer: TrustwireProducer | undefined;

  static async start(config: Config, options: { hosts: number; perRound: number; paceMs: number }): Promise<EventStream> {
    const stream = new EventStream();
    stream.#producer = await createProducer({ brokers: config.kafka.brokers, topic: config.kafka.topics.events });
    stream.#running = stream.#run(stream.#producer, options);
    return stream;
  }

  async #run(producer: TrustwireProducer, { hosts, perRound, paceMs }: { hosts: number; perRound: number; paceMs: number }): Promise<void> {
    let n = 0;
    try {
      while (!this.#stopped) {
        const events = fleetEvents(n, perRound, hosts);
        n += perRound;
        const at = Date.now();
        for (const event of events) this.sentAt.set(event.id, at);
        const { ids } = await producer.send(events as never);
        this.sent.push(...ids);
        await sleep(paceMs); // pacing the stream, not waiting for a condition
      }
    } catch (error) {
      this.#error = error as Error;
    }
  }

  /** Stops producing; throws when a send failed (its events' fate is unknown, the count would be wrong). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await this.#producer?.close();
    this.#producer = undefined;
    if (this.#error) throw new Error(`producing the stream failed after ${this.sent.length} events: ${this.#error.message}`, { cause: this.#error });
  }
}

/** The processor group's members by client id, with the partitions of the events topic each holds. */
export async function processorAssignment(config: Config): Promise<Map<string, number[]>> {
  const groupId = processorGroup(config.kafka.groupPrefix);
  const groups = await withAdmin(testClient(), (admin) => admin.describeGroups({ groups: [groupId] }));
  const result = new Map<string, number[]>();
  for (const member of groups.get(groupId)?.members.values() ?? []) {
    const partitions = member.assignments?.get(config.kafka.topics.events)?.partitions ?? [];
    result.set(member.clientId, [...(result.get(member.clientId) ?? []), ...partitions].sort((a, b) => a - b));
  }
  return result;
}

/** Per partition of the events topic: records the processor group has not committed yet. */
export async function processorLag(config: Config): Promise<Map<number, number>> {
  const topic = config.kafka.topics.events;
  const done = await committedOffsets(testClient(), processorGroup(config.kafka.groupPrefix), topic);
  const ends = await withAdmin(testClient(), (admin) =>
    admin.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: config.kafka.partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] }),
  );
  const lag = new Map<number, number>();
  for (const partition of ends.flatMap((entry) => entry.partitions)) lag.set(partition.partitionIndex, Number(partition.offset - (done.get(partition.partitionIndex) ?? 0n)));
  return new Map([...lag].sort(([a], [b]) => a - b));
}

export interface FailoverOptions {
  kills: number;
  /** Hosts the stream's events are spread over. */
  hosts: number;
  /** Events per round of the stream, and the pause after each round. */
  perRound: number;
  paceMs: number;
  /** A line of progress (t.diagnostic). */
  say(line: string): void;
  /** Runs right after kill `k` (0-based), while the victim is down: a scenario's next step. */
  afterKill?(k: number): Promise<void>;
  /** Ids the test sent besides the stream (its scenario's): counted like the stream's. */
  alsoSent?(): readonly string[];
}

export interface KillReport {
  victim: string;
  /** The partitions the victim held when it was killed. */
  held: number[];
  /** Started again at once (a process manager), or only once the survivor had taken its partitions. */
  restart: 'at once' | 'after fail-over';
  /** From the kill until every partition brought out events sent after the kill. */
  recoveredMs: number;
  /** From the kill (or the restart, when it came later) until the restarted worker took partitions. */
  retakenMs: number;
}

export interface FailoverReport {
  count: EnrichedCount;
  kills: KillReport[];
  streamMs: number;
  unexpectedExits: string[];
}

/**
 * Two processor processes in one group on the config's topics (partition count as configured);
 * a stream of events throughout; the workers SIGKILLed alternately, `kills` times, each started
 * again (at once, or after the survivor took over, in turns of two) and waited for until it
 * holds partitions again; then the stream stops and every id is counted in the enriched topic.
 */
export class FailoverRig {
  readonly #config: Config;
  readonly #dir = mkdtempSync(join(tmpdir(), 'trustwire-failover-'));
  readonly #workers: ProcessorWorker[] = [];
  #stream: EventStream | undefined;
  #follower: EnrichedFollower | undefined;

  constructor(config: Config) {
    this.#config = config;
  }

  #worker(name: string): ProcessorWorker {
    const { kafka } = this.#config;
    const file = join(this.#dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `kafka:`,
        `  brokers: [${kafka.brokers.join(', ')}]`,
        `  clientId: ${name}`,
        `  partitions: ${kafka.partitions}`,
        `  topics: { ${Object.entries(kafka.topics).map(([k, v]) => `${k}: ${v}`).join(', ')} }`,
        `  groupPrefix: ${kafka.groupPrefix}`,
        `processor:`,
        `  sessionTimeoutMs: ${MIN_SESSION_TIMEOUT_MS}`,
        `log:`,
        `  level: info`,
        '',
      ].join('\n'),
    );
    const worker = new ProcessorWorker(name, file);
    this.#workers.push(worker);
    return worker;
  }

  async run(options: FailoverOptions): Promise<FailoverReport> {
    const config = this.#config;
    const partitions = config.kafka.partitions;
    const { say } = options;
    await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
    const workers = [this.#worker('worker-a'), this.#worker('worker-b')];
    const started = Date.now();
    for (const worker of workers) worker.start();
    await Promise.all(workers.map((worker) => worker.tookPartitionsSince(started)));

    const stream = await EventStream.start(config, options);
    this.#stream = stream;
    this.#follower = await EnrichedFollower.start(config.kafka.topics.enriched, { kinds: FLEET_EVENT_KINDS, sentAt: (id) => stream.sentAt.get(id) });
    const follower = this.#follower;
    const flowingSince = async (time: number, what: string) => {
      await eventually(() => follower.flowingSince(time, partitions), `every partition to bring out events sent ${what}`, 90_000);
      return Date.now();
    };
    await flowingSince(Date.now(), 'once both workers run');

    const kills: KillReport[] = [];
    for (let k = 0; k < options.kills; k++) {
      const victim = workers[k % 2]!;
      const survivor = workers[(k + 1) % 2]!;
      const restart = Math.floor(k / 2) % 2 === 0 ? 'at once' : 'after fail-over';
      // Mid-stream: the victim holds partitions of a group that has settled, and works on them.
      let held: number[] = [];
      await eventually(
        async () => {
          const assignment = await processorAssignment(config);
          held = assignment.get(`${victim.name}-processor`) ?? [];
          const all = [...assignment.values()].flat();
          return held.length > 0 && all.length === partitions && (assignment.get(`${survivor.name}-processor`) ?? []).length > 0;
        },
        `${victim.name} and ${survivor.name} to share the ${partitions} partitions`,
        90_000,
        250,
      );
      const killedAt = await victim.kill();
      await options.afterKill?.(k);
      let retakenMs: number;
      let recoveredAt: number;
      if (restart === 'at once') {
        victim.start();
        const takeover = await victim.tookPartitionsSince(killedAt);
        retakenMs = takeover.at - killedAt;
        recoveredAt = await flowingSince(killedAt, `after the kill of ${victim.name}`);
        await flowingSince(takeover.at, `after ${victim.name} came back`);
      } else {
        recoveredAt = await flowingSince(killedAt, `after the kill of ${victim.name}`);
        const restartedAt = Date.now();
        victim.start();
        const takeover = await victim.tookPartitionsSince(restartedAt);
        retakenMs = takeover.at - restartedAt;
        await flowingSince(takeover.at, `after ${victim.name} came back`);
      }
      const report: KillReport = { victim: victim.name, held, restart, recoveredMs: recoveredAt - killedAt, retakenMs };
      kills.push(report);
      say(
        `kill ${k + 1}/${options.kills} at ${new Date(killedAt).toISOString()}: ${victim.name} held [${held.join(',')}]; all partitions enriching again ${(report.recoveredMs / 1000).toFixed(1)} s after the kill; ` +
          `restarted ${restart}, took partitions ${(retakenMs / 1000).toFixed(1)} s after ${restart === 'at once' ? 'the kill' : 'its restart'}; ${stream.sent.length} sent so far`,
      );
    }
    await stream.stop();
    const streamMs = Date.now() - started;
    // The pipeline goes idle: every sent event comes out (the follower sees it first, cheaply).
    const sent = [...stream.sent, ...(options.alsoSent?.() ?? [])];
    // A wait that runs out is said, not thrown: the count below names what is missing, and assertExactlyOnce fails on it.
    await eventually(() => follower.countOf(sent) >= sent.length, 'the follower to see every sent id', 90_000, 250).catch((error: Error) => say(`${error.message}; counting what is there`));
    const count = await countEnriched(config.kafka.topics.enriched, sent, { kinds: FLEET_EVENT_KINDS });
    say(describeCount(count));
    const lag = await processorLag(config);
    say(`processor group behind the events topic at the end: ${[...lag].map(([partition, n]) => `p${partition} ${n}`).join(', ')}; the follower saw ${follower.countOf(sent)} of ${sent.length}`);
    const odd = [...count.lost.slice(0, 10), ...count.duplicated.slice(0, 10)];
    if (odd.length > 0) for (const line of await locateIds(config.kafka.topics, odd)) say(line);
    const recovered = kills.map((kill) => kill.recoveredMs / 1000);
    if (recovered.length > 0) {
      say(`recovery after a kill: min ${Math.min(...recovered).toFixed(1)} s, max ${Math.max(...recovered).toFixed(1)} s, mean ${(recovered.reduce((a, b) => a + b, 0) / recovered.length).toFixed(1)} s (session timeout ${MIN_SESSION_TIMEOUT_MS} ms)`);
    }
    return { count, kills, streamMs, unexpectedExits: workers.flatMap((worker) => (worker.unexpectedExit === undefined ? [] : [worker.unexpectedExit])) };
  }

  /** Asserts what a SOC relies on: every event came out of the pipeline once, no more, no less. */
  static assertExactlyOnce(report: FailoverReport, kills: number): void {
    assert.deepEqual(report.unexpectedExits, [], 'no worker exited but the ones the test killed');
    assert.ok(report.kills.length === kills, `${kills} kills made (${report.kills.length})`);
    for (const kill of report.kills) assert.ok(kill.held.length > 0, `${kill.victim} held partitions when it was killed`);
    assert.ok(report.count.sent > 0, 'events were sent');
    assert.deepEqual(report.count.lost.slice(0, 20), [], `no event lost (${report.count.lost.length} of ${report.count.sent} missing)`);
    assert.deepEqual(report.count.duplicated.slice(0, 20), [], `no event enriched twice (${report.count.duplicated.length} duplicated)`);
    assert.deepEqual(report.count.unexpected.slice(0, 20), [], 'no input event that was not sent');
    assert.equal(report.count.inEnriched, report.count.sent);
  }

  /** Kills every worker process, stops the stream and the follower, drops the topics. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.stop()));
    await this.#stream?.stop().catch(() => {});
    await this.#follower?.stop();
    await dropTopics(this.#config);
    // For a failure's post-mortem: TRUSTWIRE_TEST_LOG_DIR keeps every worker's output.
    const logDir = process.env.TRUSTWIRE_TEST_LOG_DIR;
    if (logDir !== undefined) for (const worker of this.#workers) writeFileSync(join(logDir, `${this.#config.kafka.groupPrefix}-${worker.name}.log`), worker.output);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
