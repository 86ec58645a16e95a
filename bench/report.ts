/**
 * The statistics and the output: median, spread, percentiles, ratios computed within each round
 * (so both sides saw the same moment of the machine) and then their median, the table, the file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Measurement } from './scenario.js';

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** (max − min) / median, in %. */
export function spreadPct(summary: Summary): number {
  return ((summary.max - summary.min) / summary.median) * 100;
}

/** The p-th percentile (0..100) of already sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Per round, per scenario: what the run measured. */
export type Rounds = Array<Map<string, Measurement>>;

/** The median over rounds of `a / b` within each round where both ran; undefined when none did. */
export function roundRatio(rounds: Rounds, a: string, b: string): { median: number; perRound: number[] } | undefined {
  const perRound = rounds.flatMap((round) => {
    const x = round.get(a);
    const y = round.get(b);
    return x && y ? [x.eventsPerSecond / y.eventsPerSecond] : [];
  });
  return perRound.length === 0 ? undefined : { median: median(perRound), perRound };
}

export interface TableRow {
  scenario: string;
  label: string;
  summary?: Summary;
  vsRaw?: number;
  vsRsyslog?: number;
  peakRssMb?: number;
  note?: string;
}

const fmt = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

export function printTable(rows: readonly TableRow[], out: (line: string) => void): void {
  const header = ['scenario', 'events/s median', 'min', 'max', 'spread', 'vs raw', 'vs rsyslog', 'peak RSS MB'];
  const cells = rows.map((row) =>
    row.summary === undefined
      ? [row.scenario, row.note ?? '', '', '', '', '', '', '']
      : [
          row.scenario,
          fmt(row.summary.median),
          fmt(row.summary.min),
          fmt(row.summary.max),
          `${fmt(spreadPct(row.summary))} %`,
          fmt(row.vsRaw, 2),
          fmt(row.vsRsyslog, 2),
          fmt(row.peakRssMb),
        ],
  );
  const widths = header.map((title, i) => Math.max(title.length, ...cells.filter((c) => c[2] !== '').map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((value, i) => (i === 0 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!))).join('  ');
  out(line(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const values of cells) out(values[2] === '' ? `${values[0]!.padEnd(widths[0]!)}  ${values[1]}` : line(values));
}

export function writeResults(file: URL, results: object): void {
  mkdirSync(new URL('.', file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, (_key, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value), 2)}\n`);
}
