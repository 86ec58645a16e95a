/**
 * `npm run bench`: trustwire's stages side by side with the raw Kafka client, kcat and rsyslog,
 * on the same topics, in one run. Every round runs each throughput scenario once (the order
 * rotated per round, so that none always follows the same neighbour), each in a child process of
 * its own (fresh memory, its peak RSS from /proc/<pid>/status), with a fresh consumer group
 * reading the whole topic from its beginning until all N events are counted at the far end.
 * Ratios are computed within a round, then their median taken. After the rounds the whole
 * service is fed over HTTP at a fixed rate for latency and a sink outage.
 *
 * Scenario groups, one module each: scenarios/baseline.ts (raw client, kcat), relay.ts (rsyslog),
 * sinks.ts (trustwire's syslog, Splunk HEC, fan-out), processor.ts, service.ts (latency, outage);
 * what runs in the child processes is under children/. Results (summary.ts): the table on
 * stdout, bench/results/latest.json. See README, "Benchmarks".
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalKafka } from '../scripts/kafka/broker.js';
import { createKafkaClient, describeKafkaError, withAdmin } from '../src/kafka/client.js';
import { deleteTopics, ensureTopics } from '../src/kafka/topics.js';
import { silentLogger } from '../src/log.js';
import { benchEvent } from './data.js';
import { fillTopic, type FilledTopic } from './fill.js';
import { parseOptions, ROUND_SCENARIOS } from './options.js';
import type { Rounds } from './report.js';
import { ChildPool, isInterrupted, onInterrupt } from './procs.js';
import { scratchDir, type BenchContext, type Measurement, type Scenario } from './scenario.js';
import { kcat, raw, rawEvents } from './scenarios/baseline.js';
import { processor } from './scenarios/processor.js';
import { rsyslog } from './scenarios/relay.js';
import { runService, type ServiceResult } from './scenarios/service.js';
import { fanout, hec, syslog } from './scenarios/sinks.js';
import { reportRun } from './summary.js';
import { ensureTools } from './tools.js';

const SCENARIOS: Record<(typeof ROUND_SCENARIOS)[number], Scenario> = { raw, 'raw-events': rawEvents, kcat, rsyslog, syslog, hec, fanout, processor };
const NEEDS_ENRICHED = ['raw', 'kcat', 'rsyslog', 'syslog', 'hec', 'fanout'];
const NEEDS_EVENTS = ['raw-events', 'processor'];
const RESULTS = new URL('./results/latest.json', import.meta.url);

const options = parseOptions(process.argv.slice(2));
const log = (line: string) => console.error(line);
const wallStart = Date.now();
const elapsed = () => `${((Date.now() - wallStart) / 1000).toFixed(1)} s`;

const tools = ensureTools(log, { rsyslog: ['rsyslog', 'syslog', 'fanout'].some((name) => options.only.has(name)), kcat: options.only.has('kcat') });
const broker = await startLocalKafka({ onProgress: log });
const client = createKafkaClient({ brokers: broker.brokers, clientId: 'trustwire-bench' }, silentLogger);
const run = randomBytes(4).toString('hex');
const tmp = mkdtempSync(join(tmpdir(), `trustwire-bench-${run}-`));
const ctx: BenchContext = {
  options,
  brokers: broker.brokers,
  client,
  run,
  events: options.events,
  topics: { enriched: `bench.${run}.enriched`, events: `bench.${run}.events`, dlq: `bench.${run}.dlq` },
  tools,
  children: new ChildPool(),
  groups: new Set(),
  extraTopics: new Set(),
  log,
  scratch: (name) => scratchDir(tmp, name),
};

const selected = ROUND_SCENARIOS.filter((name) => options.only.has(name));
if (options.rounds < 3 && selected.length > 0) log(`bench: ${options.rounds} round(s): fewer than 3, the medians and spreads say little (development only)`);
const failures = new Map<string, string>();
const skipped = new Map<string, string>();
const rounds: Rounds = [];
let filled: FilledTopic[] = [];
let service: ServiceResult | undefined;
let cleaned = false;

onInterrupt(cleanup);
try {
  filled = await prepareTopics();
  for (let round = 0; selected.length > 0 && round < options.rounds; round++) {
    const order = selected.map((_, i) => selected[(i + round) % selected.length]!);
    const results = new Map<string, Measurement>();
    rounds.push(results);
    log(`round ${round + 1}/${options.rounds}: ${order.join(', ')}  (${elapsed()})`);
    await ctx.children.warm(order.filter((name) => !failures.has(name) && !skipped.has(name)).flatMap((name) => SCENARIOS[name].modules ?? []));
    for (const name of order) {
      const scenario = SCENARIOS[name];
      if (isInterrupted()) break;
      if (failures.has(name) || skipped.has(name)) continue;
      const why = scenario.unavailable?.(ctx);
      if (why !== undefined) {
        skipped.set(name, why);
        log(`  ${name}: skipped: ${why}`);
        continue;
      }
      const began = Date.now();
      try {
        const result = await scenario.run(ctx, round);
        results.set(name, result);
        log(
          `  ${name.padEnd(10)} ${Math.round(result.eventsPerSecond).toLocaleString('en-US').padStart(9)} events/s  ${result.seconds.toFixed(2)} s` +
            `  peak RSS ${result.peakRssMb?.toFixed(0) ?? '?'} MB  (run ${((Date.now() - began) / 1000).toFixed(1)} s)`,
        );
      } catch (error) {
        failures.set(name, (error as Error).message);
        log(`  ${name}: FAILED: ${(error as Error).message}`);
      }
    }
    await ctx.children.clear();
  }
  if (!isInterrupted() && (options.only.has('latency') || options.only.has('outage'))) {
    log(`service: latency ${options.only.has('latency') ? 'yes' : 'no'}, outage ${options.only.has('outage') ? 'yes' : 'no'}  (${elapsed()})`);
    try {
      service = await runService(ctx, { latency: options.only.has('latency'), outage: options.only.has('outage') });
      for (const problem of service.problems) failures.set(problem.scenario, [failures.get(problem.scenario), problem.message].filter(Boolean).join('; '));
    } catch (error) {
      for (const name of ['latency', 'outage']) if (options.only.has(name)) failures.set(name, (error as Error).message);
      log(`  service: FAILED: ${(error as Error).message}`);
    }
  }
  if (!isInterrupted()) {
    const labels = Object.fromEntries(selected.map((name) => [name, SCENARIOS[name].label]));
    reportRun({ options, labels, rounds, failures, skipped, filled, service, wallSeconds: (Date.now() - wallStart) / 1000 }, RESULTS);
  }
} finally {
  await cleanup();
}
if (broker.started) log('bench: the local Kafka broker was started for this run and is left running (npm run kafka -- stop)');
log(`bench: done in ${elapsed()}`);
if (failures.size > 0) {
  console.error(`bench: ${failures.size} scenario(s) failed: ${[...failures.keys()].join(', ')}`);
  process.exitCode = 1;
}

async function prepareTopics(): Promise<FilledTopic[]> {
  const wanted = [
    ...(selected.some((name) => NEEDS_ENRICHED.includes(name)) ? [{ topic: ctx.topics.enriched, enriched: true, stream: 0 }] : []),
    ...(selected.some((name) => NEEDS_EVENTS.includes(name)) ? [{ topic: ctx.topics.events, enriched: false, stream: 1 }] : []),
  ];
  await ensureTopics(client, [...wanted.map(({ topic }) => ({ topic, partitions: 6, replicationFactor: 1 })), { topic: ctx.topics.dlq, partitions: 6, replicationFactor: 1 }], silentLogger);
  const started = Date.now();
  const result = await Promise.all(wanted.map(({ topic, enriched, stream }) => fillTopic(client, topic, options.events, (n) => benchEvent(n, { run, stream, enriched }))));
  for (const topicFill of result) {
    log(`${topicFill.topic}: ${topicFill.events.toLocaleString('en-US')} events, ${topicFill.averageBytes} B average, 6 partitions`);
  }
  log(`topics filled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}


async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  const topics = [ctx.topics.enriched, ctx.topics.events, ctx.topics.dlq, ...ctx.extraTopics];
  try {
    const existing = new Set(await withAdmin(client, (admin) => admin.listTopics()));
    const ours = topics.filter((topic) => existing.has(topic));
    if (ours.length > 0) await deleteTopics(client, ours);
  } catch (error) {
    log(`bench: could not delete topics ${topics.join(', ')}: ${describeKafkaError(error)}`);
  }
  const left: string[] = [];
  await withAdmin(client, async (admin) => {
    for (const group of ctx.groups) {
      try {
        await admin.deleteGroups({ groups: [group] });
      } catch (error) {
        const why = describeKafkaError(error);
        // Never joined or committed nothing: the broker has already forgotten it.
        if (/GROUP_ID_NOT_FOUND/.test(why)) continue;
        // A member killed (interrupt, timeout) is still in it until its session times out.
        if (/NON_EMPTY_GROUP/.test(why)) {
          const retried = await admin
            .removeMembersFromConsumerGroup({ groupId: group })
            .then(() => admin.deleteGroups({ groups: [group] }))
            .then(
              () => undefined,
              (again: unknown) => describeKafkaError(again),
            );
          if (retried === undefined) continue;
          left.push(`${group} (${retried})`);
        } else left.push(`${group} (${why})`);
      }
    }
  }).catch((error: unknown) => left.push(describeKafkaError(error)));
  if (left.length > 0) log(`bench: consumer groups not deleted: ${left.join('; ')}`);
  rmSync(tmp, { recursive: true, force: true });
}
