/**
 * The whole service (bench/children/service.ts: startService with one syslog connector) fed
 * over HTTP at a fixed rate (bench/children/ingest-load.ts, 5,000 events/s, NDJSON), into a
 * receiver that notes when each event arrived (bench/children/timestamp-receiver.ts), each in a
 * process of its own:
 *
 *   warm-up   (not counted)
 *   latency   send → receipt per event id: p50, p99
 *   outage    the receiver is down while events keep arriving: the service's RSS, sampled
 *             every 250 ms, must stay flat; afterwards every event must arrive (recovery time)
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child, stopAll } from '../procs.js';
import { median, percentile } from '../report.js';
import type { BenchContext } from '../scenario.js';

const STREAM = 2;

export interface LatencyResult {
  events: number;
  missing: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  achievedRate: number;
  seconds: number;
  /** p50 of the events sent in each second of the window: a rising line is a backlog growing. */
  p50BySecondMs: number[];
  /** The service process's CPU over the window, % of one core. */
  serviceCpuPct: number | undefined;
}

export interface OutageResult {
  seconds: number;
  events: number;
  rssAtStartMb: number;
  rssAtEndMb: number;
  rssMaxMb: number;
  growthMb: number;
  /** The same over the latency window before it (receiver up): growth there is not the outage's. */
  growthBeforeMb: number | undefined;
  flat: boolean;
  /** From the receiver's return until every event sent during the outage had arrived. */
  recoveredMs: number | undefined;
  missing: number;
  duplicates: number;
  /** The service's RSS once a second over the outage, MB. */
  rssSamplesMb: number[];
}

export interface ServiceResult {
  latency?: LatencyResult;
  outage?: OutageResult;
  peakRssMb: number | undefined;
  problems: Array<{ scenario: string; message: string }>;
}

export async function runService(ctx: BenchContext, want: { latency: boolean; outage: boolean }): Promise<ServiceResult> {
  const { options } = ctx;
  const prefix = `bench.${ctx.run}.service`;
  const topics = { events: `${prefix}.events`, enriched: `${prefix}.enriched`, hostState: `${prefix}.host-state`, dlq: `${prefix}.dlq`, byUser: `${prefix}.by-user`, userState: `${prefix}.user-state`, byWorkload: `${prefix}.by-workload`, workloadState: `${prefix}.workload-state` };
  for (const topic of Object.values(topics)) ctx.extraTopics.add(topic);
  const groupPrefix = `trustwire-bench-${ctx.run}-service`;
  ctx.groups.add(`${groupPrefix}-processor`).add(`${groupPrefix}-sink-bench-syslog`);
  const token = randomBytes(24).toString('base64url');
  const problems: ServiceResult['problems'] = [];
  const began = Date.now();
  const say = (line: string) => ctx.log(`  [${((Date.now() - began) / 1000).toFixed(1)} s] ${line}`);

  let receiver: Child | undefined;
  let service: Child | undefined;
  let loader: Child | undefined;
  const samples: Array<{ at: number; rss: number }> = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    await ctx.children.warm(['timestamp-receiver', 'service', 'ingest-load']);
    receiver = ctx.children.take('timestamp receiver', 'timestamp-receiver');
    receiver.begin({ run: ctx.run, stream: STREAM });
    const { port } = await receiver.next<{ type: string; port: number }>('ready', 30_000);
    service = ctx.children.take('service', 'service');
    service.begin({ brokers: ctx.brokers, topics, groupPrefix, token, receiverPort: port });
    const { url } = await service.next<{ type: string; url: string }>('ready', 90_000);
    await waitReady(url, service);
    const serviceChild = service;
    sampler = setInterval(() => {
      const rss = serviceChild.rssMb();
      if (rss !== undefined) samples.push({ at: performance.timeOrigin + performance.now(), rss });
    }, 250);

    loader = ctx.children.take('ingest load', 'ingest-load');
    const load = loader;
    const rx = receiver;
    /** The number of the next event the loader sends: phases are ranges of event numbers. */
    const mark = async () => {
      load.send({ type: 'mark' });
      return (await load.next<{ type: string; next: number }>('mark', 10_000)).next;
    };
    const arrivedOf = async (ranges: Array<[number, number]>) => {
      rx.send({ type: 'count', ranges });
      return (await rx.next<{ type: string; count: number }>('count', 10_000)).count;
    };
    loader.begin({ url, token, rate: options.ratePerSecond, run: ctx.run, stream: STREAM, answerWaitMs: options.quick ? 2000 : 6000 });
    const { at: t0 } = await loader.next<{ type: string; at: number }>('going', 30_000);
    say(`service ready at ${url}; ${options.ratePerSecond} events/s: warm-up ${options.warmupSeconds} s${want.latency ? `, latency ${options.latencySeconds} s` : ''}${want.outage ? `, outage ${options.outageSeconds} s` : ''}`);
    await sleepUntil(t0 + options.warmupSeconds * 1000);

    let latencyRange: [number, number] | undefined;
    let serviceCpuPct: number | undefined;
    const loadStartedAt = performance.timeOrigin + performance.now();
    if (want.latency) {
      const from = await mark();
      const cpuFrom = service.cpuSeconds();
      await sleep(options.latencySeconds * 1000);
      const cpuTo = service.cpuSeconds();
      latencyRange = [from, await mark()];
      if (cpuFrom !== undefined && cpuTo !== undefined) serviceCpuPct = ((cpuTo - cpuFrom) / options.latencySeconds) * 100;
      // The window's last events are still on their way: the outage waits for them (load goes on).
      const settleUntil = Date.now() + (options.quick ? 3000 : 30_000);
      while (Date.now() < settleUntil && (await arrivedOf([latencyRange])) < latencyRange[1] - latencyRange[0]) await sleep(200);
    }

    let outageRange: [number, number] | undefined;
    let down: number | undefined;
    let up: number | undefined;
    if (want.outage) {
      receiver.send({ type: 'down' });
      down = (await receiver.next<{ type: string; at: number }>('down', 10_000)).at;
      const from = await mark();
      await sleepUntil(down + options.outageSeconds * 1000);
      outageRange = [from, await mark()];
      receiver.send({ type: 'up' });
      up = (await receiver.next<{ type: string; at: number }>('up', 10_000)).at;
      await sleep(2000); // events keep coming a little after the receiver is back
    }
    loader.send({ type: 'halt' });
    const sent = await loader.next<{ type: string; sentAt: number[]; acked: boolean[]; failures: string[]; failedRequests: number; achievedRate: number }>('halted', 60_000);
    const expected = sent.acked.filter(Boolean).length;
    say(`sent ${sent.acked.length} events (${sent.achievedRate.toFixed(0)}/s), ${expected} acknowledged, ${sent.failedRequests} request(s) failed${sent.failures.length > 0 ? `: ${sent.failures.slice(0, 2).join('; ')}` : ''}`);
    if (sent.failedRequests > 0) problems.push({ scenario: want.latency ? 'latency' : 'outage', message: `${sent.failedRequests} ingest request(s) failed: ${sent.failures.slice(0, 2).join('; ')}` });

    // Everything acknowledged must arrive; after an outage the sink's backoff decides when.
    const drainMs = options.quick ? 8000 : want.outage ? Math.max(60_000, options.outageSeconds * 2000) : 30_000;
    const drainUntil = Date.now() + drainMs;
    const ackedRanges = rangesOf(sent.acked);
    let count = 0;
    while (Date.now() < drainUntil) {
      count = await arrivedOf(ackedRanges);
      if (count >= expected) break;
      await sleep(250);
    }
    receiver.send({ type: 'arrivals' });
    const { arrivals, duplicates } = await receiver.next<{ type: string; arrivals: Array<number | null>; duplicates: number }>('arrivals', 30_000);
    say(`${count} of ${expected} acknowledged events arrived`);

    const result: ServiceResult = { peakRssMb: service.peakRssMb(), problems };
    const acked = ([from, to]: [number, number]) => Array.from({ length: to - from }, (_, i) => from + i).filter((n) => sent.acked[n]);
    if (latencyRange) {
      const ids = acked(latencyRange);
      const latencyFrom = sent.sentAt[latencyRange[0]] ?? 0;
      const latencies = ids.flatMap((n) => (arrivals[n] != null ? [arrivals[n]! - sent.sentAt[n]!] : [])).sort((a, b) => a - b);
      const missing = ids.length - latencies.length;
      const bySecond: number[][] = [];
      for (const n of ids) if (arrivals[n] != null) (bySecond[Math.floor((sent.sentAt[n]! - latencyFrom) / 1000)] ??= []).push(arrivals[n]! - sent.sentAt[n]!);
      result.latency = {
        events: ids.length,
        missing,
        p50Ms: percentile(latencies, 50),
        p90Ms: percentile(latencies, 90),
        p99Ms: percentile(latencies, 99),
        maxMs: latencies[latencies.length - 1] ?? Number.NaN,
        achievedRate: sent.achievedRate,
        seconds: options.latencySeconds,
        serviceCpuPct,
        p50BySecondMs: Array.from(bySecond, (values) => (values === undefined ? Number.NaN : Math.round(median(values)))),
      };
      if (missing > 0) problems.push({ scenario: 'latency', message: `${missing} of ${ids.length} events had not reached the receiver ${drainMs / 1000} s after the load stopped` });
      if (ids.length === 0) problems.push({ scenario: 'latency', message: 'no event was acknowledged in the latency window' });
    }
    if (outageRange && down !== undefined && up !== undefined) {
      const ids = acked(outageRange);
      const arrived = ids.flatMap((n) => (arrivals[n] != null ? [arrivals[n]!] : []));
      const missing = ids.length - arrived.length;
      // The first 2 s let the in-flight work settle; from there to the end of the outage, RSS must stay flat.
      const window = samples.filter((sample) => sample.at >= down + 2000 && sample.at <= up);
      const head = window.slice(0, 4).map((s) => s.rss);
      const tail = window.slice(-4).map((s) => s.rss);
      const start = median(head.length > 0 ? head : [Number.NaN]);
      const end = median(tail.length > 0 ? tail : [Number.NaN]);
      const growth = end - start;
      const before = samples.filter((sample) => sample.at >= loadStartedAt && sample.at < down).map((s) => s.rss);
      const growthBeforeMb = before.length >= 8 ? median(before.slice(-4)) - median(before.slice(0, 4)) : undefined;
      const flat = growth <= Math.max(20, 0.1 * start);
      result.outage = {
        seconds: options.outageSeconds,
        events: ids.length,
        rssAtStartMb: start,
        rssAtEndMb: end,
        rssMaxMb: Math.max(...window.map((s) => s.rss)),
        growthMb: growth,
        growthBeforeMb,
        flat,
        recoveredMs: missing === 0 && arrived.length > 0 ? Math.max(...arrived) - up : undefined,
        missing,
        duplicates,
        rssSamplesMb: window.filter((_, i) => i % 4 === 0).map((s) => Math.round(s.rss)),
      };
      if (!flat) problems.push({ scenario: 'outage', message: `the service's RSS grew by ${growth.toFixed(0)} MB (${start.toFixed(0)} → ${end.toFixed(0)} MB) while the sink was down` });
      if (missing > 0) problems.push({ scenario: 'outage', message: `${missing} of ${ids.length} events sent during the outage had not arrived ${drainMs / 1000} s after the load stopped` });
      if (ids.length === 0) problems.push({ scenario: 'outage', message: 'ingest acknowledged no event during the outage: nothing backed up behind the sink' });
    }
    return result;
  } finally {
    clearInterval(sampler);
    await stopAll([loader, service, receiver], 3000);
    await ctx.children.clear();
  }
}

async function waitReady(url: string, service: Child): Promise<void> {
  const until = Date.now() + 60_000;
  let last = '';
  while (Date.now() < until) {
    if (!service.alive) await service.next('never', 1000);
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      last = `${response.status} ${await response.text()}`;
      if (response.ok) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`the service was not ready within 60 s: ${last.slice(0, 400)}`);
}

/** The runs of true in `flags`, as [from, to) ranges. */
function rangesOf(flags: readonly boolean[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let n = 0; n < flags.length; n++) {
    if (!flags[n]) continue;
    const from = n;
    while (n < flags.length && flags[n]) n++;
    ranges.push([from, n]);
  }
  return ranges;
}

async function sleepUntil(at: number): Promise<void> {
  const left = at - (performance.timeOrigin + performance.now());
  if (left > 0) await sleep(left);
}

