/**
 * Baselines: how fast the topic can be read at all.
 *
 * - raw: the Kafka client trustwire uses, counting records (bench/children/raw-consumer.ts). Its
 *   clock starts at the first fetch request, so the first fetch (up to 50 MB) is counted too.
 * - raw-events: the same, on the raw-events topic: the processor's baseline.
 * - kcat: librdkafka's command-line consumer from the beginning (`-o beginning -e -c N`), printing
 *   one offset line per message into a pipe the bench counts. Timed from its start to the Nth
 *   line: its output is buffered (the first line comes out with thousands of others), and it
 *   starts fetching within milliseconds of its start (no group to join).
 */
import { Child } from '../procs.js';
import { deadlineMs, freshGroup, measured, type BenchContext, type Measurement, type Scenario } from '../scenario.js';

async function rawConsume(ctx: BenchContext, topic: string): Promise<Measurement> {
  const group = freshGroup(ctx, 'raw');
  const child = ctx.children.take('raw consumer', 'raw-consumer');
  child.begin({ brokers: ctx.brokers, topic, group, count: ctx.events });
  try {
    const clock = await child.next<{ type: string; start: number; first: number; end: number }>('reached', deadlineMs(ctx));
    return measured(ctx.events, clock, child.peakRssMb());
  } finally {
    await child.stop();
  }
}

export const raw: Scenario = {
  name: 'raw',
  label: 'raw Kafka client (enriched topic)',
  modules: ['raw-consumer'],
  run: (ctx) => rawConsume(ctx, ctx.topics.enriched),
};

export const rawEvents: Scenario = {
  name: 'raw-events',
  label: 'raw Kafka client (raw-events topic)',
  modules: ['raw-consumer'],
  run: (ctx) => rawConsume(ctx, ctx.topics.events),
};

export const kcat: Scenario = {
  name: 'kcat',
  label: 'kcat (librdkafka)',
  unavailable: (ctx) => ctx.tools.kcatMissing,
  async run(ctx) {
    // -c N: done at the Nth message, not after noticing the end of every partition.
    const args = ['-C', '-b', ctx.brokers.join(','), '-t', ctx.topics.enriched, '-o', 'beginning', '-e', '-c', String(ctx.events), '-q', '-f', '%o\\n'];
    const spawned = performance.timeOrigin + performance.now();
    const child = Child.program('kcat', 'kcat', args);
    const ended = new Promise<void>((resolve) => child.process.stdout!.once('end', resolve));
    let lines = 0;
    let first: number | undefined;
    let end: number | undefined;
    let peak: number | undefined;
    const reached = new Promise<void>((resolve) => {
      child.process.stdout!.on('data', (chunk: Buffer) => {
        const at = performance.timeOrigin + performance.now();
        first ??= at;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
        if (end === undefined && lines >= ctx.events) {
          end = at;
          peak = child.peakRssMb() ?? peak;
          resolve();
        }
      });
    });
    // kcat exits at the Nth message: its peak is sampled while it runs.
    const sampler = setInterval(() => (peak = child.peakRssMb() ?? peak), 10);
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        reached,
        ended,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`kcat: ${lines} of ${ctx.events} messages after ${deadlineMs(ctx) / 1000} s`)), deadlineMs(ctx)))),
      ]).finally(() => clearTimeout(timer));
      await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 500))]);
      if (end === undefined) throw new Error(`kcat exited after ${lines} of ${ctx.events} messages`);
      return measured(ctx.events, { start: spawned, first, end }, peak, { messages: lines });
    } finally {
      clearInterval(sampler);
      await child.stop(1000);
    }
  },
};
