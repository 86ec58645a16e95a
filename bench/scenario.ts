/** What the scenarios share: the run's context, what one run of a scenario measures, and how. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaClient } from '../src/kafka/client.js';
import type { BenchOptions } from './options.js';
import type { ChildPool } from './procs.js';
import type { Tools } from './tools.js';

export interface BenchContext {
  options: BenchOptions;
  brokers: string[];
  client: KafkaClient;
  /** 8 hex digits naming this run: in topic, group and event ids. */
  run: string;
  /** Events in each topic (N). */
  events: number;
  topics: {
    /** Enriched events, what the sinks consume. */
    enriched: string;
    /** Raw events, what ingest writes and the processor consumes. */
    events: string;
    /** The sinks' dead-letter topic (stays empty). */
    dlq: string;
  };
  tools: Tools;
  /** Node children loaded ahead of their runs: `ctx.children.take(name, module)`, then `begin`. */
  children: ChildPool;
  /** Consumer groups and topics made along the way, deleted at the end. */
  groups: Set<string>;
  extraTopics: Set<string>;
  log(line: string): void;
  /** A fresh directory under the run's temporary directory. */
  scratch(name: string): string;
}

/** One run of one scenario. */
export interface Measurement {
  eventsPerSecond: number;
  /** From the clock's start (see each scenario) to the Nth event counted at the far end. */
  seconds: number;
  /** VmHWM of the measured process (the worker, rsyslog, kcat), MB. */
  peakRssMb?: number;
  /** From the clock's start to the first event at the far end. */
  firstDeliveryMs?: number;
  detail?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  label: string;
  /** The bench/children modules a run takes (loaded ahead, before the round). */
  modules?: readonly string[];
  /** Why it cannot run on this machine (it is then reported as skipped, with the reason). */
  unavailable?(ctx: BenchContext): string | undefined;
  run(ctx: BenchContext, round: number): Promise<Measurement>;
}

/** Events/s from the clock's start to the Nth event, with first delivery and peak RSS. */
export function measured(events: number, clock: { start: number; first?: number | undefined; end: number }, peakRssMb: number | undefined, detail?: Record<string, unknown>): Measurement {
  const seconds = (clock.end - clock.start) / 1000;
  if (!(seconds > 0)) throw new Error(`no elapsed time measured (start ${clock.start}, end ${clock.end})`);
  return {
    eventsPerSecond: events / seconds,
    seconds,
    ...(peakRssMb !== undefined && { peakRssMb }),
    ...(clock.first !== undefined && { firstDeliveryMs: clock.first - clock.start }),
    ...(detail !== undefined && { detail }),
  };
}

/** How long one run may take: generous, at least 1,000 events/s after a 30 s start. */
export function deadlineMs(ctx: BenchContext): number {
  return 30_000 + ctx.events;
}

let serial = 0;
export function scratchDir(root: string, name: string): string {
  const dir = join(root, `${String(++serial).padStart(3, '0')}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A fresh consumer group name, remembered for deletion. */
export function freshGroup(ctx: BenchContext, what: string): string {
  const group = `trustwire-bench-${ctx.run}-${what}-${Math.random().toString(16).slice(2, 8)}`;
  ctx.groups.add(group);
  return group;
}
