/**
 * The run's summary: per scenario the median, min and max events/s, their spread, and ratios
 * computed within each round ("vs raw": the raw client on the topic the scenario reads; "vs
 * rsyslog": the rsyslog relay), then their median; the machine's noise; latency, the outage and
 * peak RSS. Printed as a table on stdout and written to bench/results/latest.json.
 */
import { cpus, totalmem } from 'node:os';
import type { FilledTopic } from './fill.js';
import type { BenchOptions } from './options.js';
import { printTable, roundRatio, spreadPct, summarize, writeResults, type Rounds, type TableRow } from './report.js';
import type { ServiceResult } from './scenarios/service.js';

/** Each scenario's baseline for "vs raw": the raw client on the topic the scenario reads. */
const RAW_OF: Record<string, string> = { processor: 'raw-events', 'raw-events': 'raw-events' };

export interface RunOutcome {
  options: BenchOptions;
  /** The throughput scenarios selected, in table order, with their labels. */
  labels: Record<string, string>;
  rounds: Rounds;
  failures: ReadonlyMap<string, string>;
  skipped: ReadonlyMap<string, string>;
  filled: readonly FilledTopic[];
  service: ServiceResult | undefined;
  wallSeconds: number;
}

/** Prints the run's table and notes on stdout, and writes them to `file`. */
export function reportRun(run: RunOutcome, file: URL): void {
  const { options, labels, rounds, failures, skipped, filled, service } = run;
  const rawName = (name: string) => RAW_OF[name] ?? 'raw';
  const rows: TableRow[] = [];
  const scenarios: Record<string, object> = {};
  for (const [name, label] of Object.entries(labels)) {
    const runs = rounds.flatMap((round, i) => (round.has(name) ? [{ round: i + 1, ...round.get(name)! }] : []));
    if (failures.has(name) || skipped.has(name) || runs.length === 0) {
      const note = failures.has(name) ? `FAILED: ${failures.get(name)!.split('\n')[0]}` : `skipped: ${skipped.get(name) ?? 'no run'}`;
      rows.push({ scenario: name, label: label, note });
      scenarios[name] = { label: label, ...(failures.has(name) ? { failed: failures.get(name) } : { skipped: skipped.get(name) }) };
      continue;
    }
    const summary = summarize(runs.map((r) => r.eventsPerSecond));
    const vsRaw = name === rawName(name) ? undefined : roundRatio(rounds, name, rawName(name));
    const vsRsyslog = name === 'rsyslog' ? undefined : roundRatio(rounds, name, 'rsyslog');
    const peaks = runs.flatMap((r) => (r.peakRssMb !== undefined ? [r.peakRssMb] : []));
    const peakRssMb = peaks.length > 0 ? Math.max(...peaks) : undefined;
    rows.push({ scenario: name, label: label, summary, vsRaw: vsRaw?.median, vsRsyslog: vsRsyslog?.median, peakRssMb });
    scenarios[name] = {
      label: label,
      eventsPerSecond: summary,
      spreadPct: spreadPct(summary),
      ...(vsRaw && { ratioVsRaw: vsRaw.median, ratioVsRawBaseline: rawName(name) }),
      ...(vsRsyslog && { ratioVsRsyslog: vsRsyslog.median }),
      peakRssMb,
      runs,
    };
  }
  const ratios = {
    syslogVsRsyslog: roundRatio(rounds, 'syslog', 'rsyslog')?.median ?? null,
    syslogVsRaw: roundRatio(rounds, 'syslog', 'raw')?.median ?? null,
    fanoutVsRsyslog: roundRatio(rounds, 'fanout', 'rsyslog')?.median ?? null,
    processorVsRaw: roundRatio(rounds, 'processor', 'raw-events')?.median ?? null,
  };
  const rawRates = rounds.flatMap((round) => (round.has('raw') ? [round.get('raw')!.eventsPerSecond] : []));
  const noisePct = rawRates.length > 1 ? spreadPct(summarize(rawRates)) : undefined;
  const peakByScenario: Record<string, number> = {};
  for (const [name, entry] of Object.entries(scenarios) as Array<[string, { peakRssMb?: number }]>) if (entry.peakRssMb !== undefined) peakByScenario[name] = entry.peakRssMb;
  if (service?.peakRssMb !== undefined) peakByScenario.service = service.peakRssMb;
  const peakValues = Object.values(peakByScenario);

  const out = (line: string) => console.log(line);
  out('');
  out(`trustwire bench: ${options.events.toLocaleString('en-US')} events per topic (${filled.map((f) => `${f.topic.split('.').pop()} ${f.averageBytes} B avg`).join(', ')}), 6 partitions, ${options.rounds} round(s)${options.quick ? ', quick' : ''}`);
  out('');
  printTable(rows, out);
  out('');
  out(`vs raw: the median of per-round ratios against the raw client on the same topic (processor: the raw-events topic); vs rsyslog: against the rsyslog relay`);
  out(`machine noise: the raw baseline's spread across rounds: ${noisePct === undefined ? '— (needs raw in 2+ rounds)' : `${noisePct.toFixed(0)} % (${rawRates.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')} events/s)`}`);
  out(`ratios (median of per-round): ${Object.entries(ratios).map(([k, v]) => `${k} ${v === null ? '—' : v.toFixed(2)}`).join(', ')}`);
  if (service?.latency) {
    const l = service.latency;
    out(`latency, whole service at ${l.achievedRate.toFixed(0)} events/s over HTTP → syslog receiver: p50 ${l.p50Ms.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms, max ${l.maxMs.toFixed(0)} ms (${l.events.toLocaleString('en-US')} events, ${l.missing} missing; service CPU ${l.serviceCpuPct?.toFixed(0) ?? '?'} % of a core)`);
  }
  if (service?.outage) {
    const o = service.outage;
    out(
      `sink outage ${o.seconds} s: service RSS ${o.rssAtStartMb.toFixed(0)} → ${o.rssAtEndMb.toFixed(0)} MB (max ${o.rssMaxMb.toFixed(0)}, ${o.growthMb >= 0 ? '+' : ''}${o.growthMb.toFixed(0)} MB; before it ${o.growthBeforeMb === undefined ? '?' : `${o.growthBeforeMb >= 0 ? '+' : ''}${o.growthBeforeMb.toFixed(0)}`} MB) ${o.flat ? 'flat' : 'NOT FLAT'}; ` +
        (o.events === 0
          ? 'no event acknowledged meanwhile'
          : `${o.events.toLocaleString('en-US')} events acknowledged meanwhile, ${o.recoveredMs === undefined ? `${o.missing} NOT delivered within the wait` : `all delivered ${(o.recoveredMs / 1000).toFixed(1)} s after the receiver came back`}`),
    );
  }
  if (peakValues.length > 0) out(`peak RSS: ${Math.max(...peakValues).toFixed(0)} MB at most (${Object.entries(peakByScenario).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})`);
  for (const [name, why] of failures) out(`FAILED ${name}: ${why}`);
  for (const [name, why] of skipped) out(`skipped ${name}: ${why}`);

  writeResults(file, {
    meta: {
      date: new Date().toISOString(),
      events: options.events,
      rounds: options.rounds,
      quick: options.quick,
      only: [...options.only],
      partitions: 6,
      topics: filled.map(({ topic, ...rest }) => ({ topic: topic.split('.').pop(), ...rest })),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      memoryMb: Math.round(totalmem() / 1024 / 1024),
      wallSeconds: run.wallSeconds,
    },
    noise: { rawSpreadPct: noisePct ?? null, rawEventsPerSecond: rawRates },
    ratios,
    latencyP50Ms: service?.latency?.p50Ms ?? null,
    latencyP99Ms: service?.latency?.p99Ms ?? null,
    peakRssMb: { max: peakValues.length > 0 ? Math.max(...peakValues) : null, byScenario: peakByScenario },
    scenarios,
    latency: service?.latency ?? null,
    outage: service?.outage ?? null,
    failures: Object.fromEntries(failures),
    skipped: Object.fromEntries(skipped),
  });
  out(`results: ${file.pathname}`);
}
