/**
 * trustwire's sinks, as production runs them (bench/children/sink-worker.ts: ConnectorRunner,
 * built-in connectors, default settings, one worker process), each into a real receiver in a
 * process of its own:
 *
 * - syslog: CEF in RFC 5424 over TCP, octet-counted (the defaults) → rsyslog imtcp, counted by
 *   the lines it writes (the same receiver as the rsyslog relay's).
 * - hec: splunk-hec (gzip, the defaults) → the protocol-following HEC receiver, counted by
 *   events indexed.
 * - fanout: syslog + splunk-hec + http (JSON, → the webhook receiver) in one worker, done when
 *   all three have received every event.
 *
 * The clock runs from the worker's first fetch of the topic to the Nth event at the (last) far end.
 */
import { randomUUID } from 'node:crypto';
import { Child, stopAll } from '../procs.js';
import { LineCounter, startReceiver } from '../rsyslog.js';
import { deadlineMs, measured, type BenchContext, type Measurement, type Scenario } from '../scenario.js';

interface Clock {
  [key: string]: unknown;
  first: number;
  end: number;
}

/** A receiver with its count: where one sink delivers. */
interface FarEnd {
  sink: { name: string; type: string; options: Record<string, unknown> };
  reached: Promise<Clock>;
  count(): Promise<number>;
  peakRssMb(): number | undefined;
  stop(): Promise<void>;
}

async function syslogEnd(ctx: BenchContext): Promise<FarEnd> {
  const receiver = await startReceiver(ctx.scratch('syslog-receiver'));
  const counter = new LineCounter(receiver.file, ctx.events);
  return {
    sink: { name: 'bench-syslog', type: 'syslog', options: { host: '127.0.0.1', port: receiver.port } },
    reached: counter.reached.then((end) => ({ first: counter.first!, end })),
    count: async () => counter.count,
    peakRssMb: () => receiver.process.peakRssMb(),
    stop: async () => {
      counter.close();
      await receiver.process.stop(3000);
    },
  };
}

async function nodeEnd(ctx: BenchContext, module: string, args: object, sink: (url: string) => FarEnd['sink']): Promise<FarEnd> {
  const child = ctx.children.take(module, module);
  child.begin({ ...args, count: ctx.events });
  try {
    const { url } = await child.next<{ type: string; url: string }>('ready', 30_000);
    const reached = child.next<{ type: string } & Clock>('reached', 24 * 3600_000);
    reached.catch(() => {}); // awaited by the run, or dropped when the run failed before
    return {
      sink: sink(url),
      reached,
      count: async () => {
        child.send({ type: 'count' });
        return (await child.next<{ type: string; count: number }>('count', 5000)).count;
      },
      peakRssMb: () => child.peakRssMb(),
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

const hecEnd = (ctx: BenchContext) => {
  const token = randomUUID();
  return nodeEnd(ctx, 'hec-receiver', { token }, (url) => ({ name: 'bench-hec', type: 'splunk-hec', options: { urls: [url], token } }));
};
const webhookEnd = (ctx: BenchContext) => nodeEnd(ctx, 'webhook-receiver', {}, (url) => ({ name: 'bench-http', type: 'http', options: { url } }));

async function runSinks(ctx: BenchContext, what: string, makeEnds: Array<(ctx: BenchContext) => Promise<FarEnd>>): Promise<Measurement> {
  const groupPrefix = `trustwire-bench-${ctx.run}-${what}-${randomUUID().slice(0, 6)}`;
  const worker = ctx.children.take(`${what} worker`, 'sink-worker');
  const settled = await Promise.allSettled(makeEnds.map((make) => make(ctx)));
  const ends = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    for (const end of ends) ctx.groups.add(`${groupPrefix}-sink-${end.sink.name}`);
    worker.begin({ brokers: ctx.brokers, topic: ctx.topics.enriched, dlq: ctx.topics.dlq, groupPrefix, sinks: ends.map((end) => end.sink) });
    const { at: start } = await worker.next<{ type: string; at: number }>('fetching', 60_000);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        const counts = await Promise.all(ends.map(async (end) => `${end.sink.type} ${await end.count().catch(() => '?')}`));
        reject(new Error(`${what}: not all ${ctx.events} events arrived within ${deadlineMs(ctx) / 1000} s (${counts.join(', ')})`));
      }, deadlineMs(ctx));
    });
    const failure = worker.next('never', 24 * 3600_000);
    const clocks = await Promise.race([Promise.all(ends.map((end) => end.reached)), failure as Promise<never>, timeout]).finally(() => clearTimeout(timer));
    const end = Math.max(...clocks.map((clock) => clock.end));
    const first = Math.min(...clocks.map((clock) => clock.first));
    const perSink = Object.fromEntries(ends.map((e, i) => [e.sink.type, { seconds: (clocks[i]!.end - start) / 1000, receiverPeakRssMb: e.peakRssMb() }]));
    return measured(ctx.events, { start, first, end }, worker.peakRssMb(), { sinks: perSink });
  } finally {
    await stopAll([worker]);
    await Promise.all(ends.map((end) => end.stop().catch(() => {})));
  }
}

export const syslog: Scenario = {
  name: 'syslog',
  label: 'trustwire syslog (CEF, RFC 5424, TCP) → rsyslog imtcp',
  modules: ['sink-worker'],
  run: (ctx) => runSinks(ctx, 'syslog', [syslogEnd]),
};

export const hec: Scenario = {
  name: 'hec',
  label: 'trustwire splunk-hec → HEC receiver',
  modules: ['sink-worker', 'hec-receiver'],
  run: (ctx) => runSinks(ctx, 'hec', [hecEnd]),
};

export const fanout: Scenario = {
  name: 'fanout',
  label: 'trustwire fan-out: syslog + splunk-hec + http, one worker',
  modules: ['sink-worker', 'hec-receiver', 'webhook-receiver'],
  run: (ctx) => runSinks(ctx, 'fanout', [syslogEnd, hecEnd, webhookEnd]),
};
