/**
 * Dev-only profile of the syslog sink's per-event CPU work, stage by stage, without Kafka
 * (issue 10): Avro decode, CEF, LEEF, JSON, the RFC 5424 header with octet-counted framing,
 * and the whole syslog path (decode + CEF + header + framing), both through the one-string API
 * (`formatEventRfc5424` + `frameOctetCounting`) and, where the tree has it, through the parts
 * API into one Buffer per batch of 1000 (what a connector can do). Prints the CPU time per
 * event (median of the timed repetitions, this thread's), the wall time, and the GC time and
 * count seen during them. Not a test: nothing is asserted.
 *
 *   node_modules/.bin/node --expose-gc --import tsx bench/profile-formats.ts [--src DIR] [--events N] [--reps N] [--only STAGE,...]
 *
 * Also Avro encode (all the events, then each kind apart: `encode <type>`, the fixture of that
 * kind under fresh ids and times) and the syslog connector's own path (`connectors/syslog/encode.ts`
 * next to `--src`: decode, the connector's message encoder, `frameBatch` per batch of 1000), with
 * octet counting (tcp) and LF framing.
 *
 * `--src` points at another copy of `src/` (e.g. the tree before a change, with `schemas/`
 * and `package.json` next to it) so before and after run on the same machine minutes apart.
 * `--cpu-prof` on the node command line gives a profile of the same work.
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CanonicalEvent } from '../src/model/events.js';
import { eventFixture } from '../test/helpers/fixtures.js';
import { fleetEvent } from '../test/helpers/fleet-events.js';

const { values: args } = parseArgs({
  options: {
    src: { type: 'string', default: new URL('../src/', import.meta.url).pathname },
    events: { type: 'string', default: '20000' },
    reps: { type: 'string', default: '9' },
    only: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const REPS = Number(args.reps);
const src = pathToFileURL(`${resolve(args.src)}/`);
const load = <T>(path: string): Promise<T> => import(new URL(path, src).href) as Promise<T>;

type Event = CanonicalEvent;
const avro = await load<{ encodeEvent(e: Event): Buffer; decodeEvent(b: Buffer): Event }>('model/avro.ts');
const cef = await load<{ formatCef(e: Event): string }>('formats/cef.ts');
const leef = await load<{ formatLeef(e: Event): string }>('formats/leef.ts');
const json = await load<{ formatJson(e: Event): string }>('formats/json.ts');
interface Parts {
  head: string;
  bom: boolean;
  msg: string;
}
const syslog = await load<{
  formatEventRfc5424(e: Event, msg: string, o?: object): string;
  frameOctetCounting(m: string): Buffer;
  // Since issue 10: the message in parts, for one Buffer per batch.
  formatEventRfc5424Parts?(e: Event, msg: string, o?: object): Parts;
  rfc5424PartsLength?(parts: Parts): number;
  writeRfc5424Parts?(target: Buffer, offset: number, parts: Parts): number;
}>('formats/syslog.ts');

// ---- the events: the fleet stream as the processor enriches it, other kinds mixed in ------

const fixtures = {
  trust: eventFixture('trust.change'),
  others: (['policy.decision', 'config.snapshot', 'compliance.assessment', 'alert'] as const).map((type) => eventFixture(type)),
};

/** Event `n`: mostly admin actions and trust changes over 500 hosts (test/helpers/fleet-events.ts), enriched; every 25th another kind. */
function realisticEvent(n: number): Event {
  const id = `019ac1a2-0000-7000-8000-${String(n).padStart(12, '0')}`;
  if (n % 25 === 24) {
    const other = fixtures.others[(n / 25) % fixtures.others.length | 0]!;
    return CanonicalEvent.parse({ ...other, id, time: other.time + n });
  }
  const fleet = fleetEvent(n, 500);
  const hostId = (fleet.host as { id: string }).id;
  const untrusted = Math.floor(n / 500 / 10) % 2 === 0;
  const enrichment = {
    ...fixtures.trust.enrichment!,
    hostId,
    trust: { ...fixtures.trust.enrichment!.trust, status: untrusted ? 'untrusted' : 'trusted', faultCount: untrusted ? 2 : 0 },
  };
  return CanonicalEvent.parse({
    ...fleet,
    id,
    ingestTime: (fleet.time as number) + 3,
    host: { id: hostId, name: `${hostId}.dc.example.net`, ip: `10.40.${(n % 500) >> 8}.${n % 256}`, pool: 'tcp-gold-fra1' },
    enrichment,
  });
}

const events = Array.from({ length: EVENTS }, (_, n) => realisticEvent(n));
const bytes = events.map((event) => avro.encodeEvent(event));
const decoded = bytes.map((b) => avro.decodeEvent(b));
const cefTexts = decoded.map((event) => cef.formatCef(event));
const syslogOptions = { facility: 13, hostname: 'sink-01.example.net', appName: 'trustwire' };

/** Each kind's fixture under fresh ids and times, for `encode <type>`. */
const PER_TYPE = Math.min(EVENTS, 5000);
const eventsByType = Object.fromEntries(
  (['trust.change', 'policy.decision', 'admin.action', 'config.snapshot', 'compliance.assessment', 'alert'] as const).map((type) => {
    const fixture = eventFixture(type);
    const list = Array.from({ length: PER_TYPE }, (_, n) => CanonicalEvent.parse({ ...fixture, id: `019ac1a2-0000-7000-8000-${String(n).padStart(12, '0')}`, time: fixture.time + n }));
    return [type, list];
  }),
);

// The syslog connector's encoder and batch framing, when the tree has them (connectors/ beside src/).
type MessageEncoder = (e: Event) => object;
const connector = await load<{
  createMessageEncoder(options: object): MessageEncoder;
  frameBatch(messages: readonly object[], framing: string): Buffer;
}>('../connectors/syslog/encode.ts').catch(() => undefined);
const connectorConfig = connector && (await load<{ SyslogOptions: { parse(o: object): object } }>('../connectors/syslog/config.ts')).SyslogOptions;
const connectorEncoders = connector && {
  tcp: connector.createMessageEncoder(connectorConfig!.parse({ host: 'h', transport: 'tcp', hostname: 'sink-01.example.net' })),
  lf: connector.createMessageEncoder(connectorConfig!.parse({ host: 'h', transport: 'tcp', framing: 'lf', hostname: 'sink-01.example.net' })),
};

// ---- timing -------------------------------------------------------------------------------

const gcEntries: PerformanceEntry[] = [];
const observer = new PerformanceObserver((list) => gcEntries.push(...list.getEntries()));
observer.observe({ entryTypes: ['gc'] });
// GC entries are delivered on a later turn of the event loop, not the next one.
const settle = () => new Promise((done) => setTimeout(done, 50));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

let sink = 0; // results feed this so the work cannot be optimised away
const use = (value: string | Buffer | Event) => {
  sink += typeof value === 'string' || Buffer.isBuffer(value) ? value.length : value.severity;
};

const stages: Record<string, () => void> = {
  encode: () => {
    for (const e of events) use(avro.encodeEvent(e));
  },
  // The processor's case: events decoded from Avro (their strings cut from the bytes) written again.
  'encode (decoded events)': () => {
    for (const e of decoded) use(avro.encodeEvent(e));
  },
  ...Object.fromEntries(
    Object.entries(eventsByType).map(([type, list]) => [
      `encode ${type}`,
      () => {
        // Scaled to EVENTS so the per-event figure below holds.
        for (let k = 0; k < EVENTS; k += list.length) for (const e of list) use(avro.encodeEvent(e));
      },
    ]),
  ),
  decode: () => {
    for (const b of bytes) use(avro.decodeEvent(b));
  },
  cef: () => {
    for (const e of decoded) use(cef.formatCef(e));
  },
  // The same events as zod parsed them: the formatter's cost apart from how decoding made the strings.
  'cef (zod events)': () => {
    for (const e of events) use(cef.formatCef(e));
  },
  leef: () => {
    for (const e of decoded) use(leef.formatLeef(e));
  },
  json: () => {
    for (const e of decoded) use(json.formatJson(e));
  },
  'rfc5424+frame': () => {
    for (let i = 0; i < decoded.length; i++) use(syslog.frameOctetCounting(syslog.formatEventRfc5424(decoded[i]!, cefTexts[i]!, syslogOptions)));
  },
  ...(syslog.formatEventRfc5424Parts && {
    // What a connector does with the parts API: measure each message once, one Buffer per batch of 1000.
    'rfc5424 parts+batch': () => {
      for (let from = 0; from < decoded.length; from += 1000) use(frameBatch(decoded.slice(from, from + 1000), (_, i) => cefTexts[from + i]!));
    },
    // Decode a batch, then format and frame it: the runner's and the connector's shares.
    'syslog path (parts)': () => {
      for (let from = 0; from < bytes.length; from += 1000) {
        const batch = bytes.slice(from, from + 1000).map((b) => avro.decodeEvent(b));
        use(frameBatch(batch, (e) => cef.formatCef(e)));
      }
    },
  }),
  ...(connector && {
    // The connector's path (connectors/syslog): decode a batch, encode each message, frame the batch in one Buffer.
    'syslog connector tcp': () => connectorPath(connectorEncoders!.tcp, 'octet-counting'),
    'syslog connector lf': () => connectorPath(connectorEncoders!.lf, 'lf'),
    'connector encode+frame': () => {
      for (let from = 0; from < decoded.length; from += 1000) {
        const batch = decoded.slice(from, from + 1000);
        use(connector.frameBatch(batch.map((e) => connectorEncoders!.tcp(e)), 'octet-counting'));
      }
    },
  }),
  'syslog path': () => {
    for (const b of bytes) {
      const e = avro.decodeEvent(b);
      use(syslog.frameOctetCounting(syslog.formatEventRfc5424(e, cef.formatCef(e), syslogOptions)));
    }
  },
};

function connectorPath(encode: MessageEncoder, framing: string): void {
  for (let from = 0; from < bytes.length; from += 1000) {
    const batch = bytes.slice(from, from + 1000).map((b) => avro.decodeEvent(b));
    use(connector!.frameBatch(batch.map((e) => encode(e)), framing));
  }
}

/** Octet-counted frames of a batch in one Buffer, through the parts API, each message measured as it is made (as connectors/syslog does). */
function frameBatch(batch: readonly Event[], body: (e: Event, i: number) => string): Buffer {
  const parts: Parts[] = [];
  const lengths: number[] = [];
  let total = 0;
  for (let i = 0; i < batch.length; i++) {
    const message = syslog.formatEventRfc5424Parts!(batch[i]!, body(batch[i]!, i), syslogOptions);
    const length = syslog.rfc5424PartsLength!(message);
    parts.push(message);
    lengths.push(length);
    total += String(length).length + 1 + length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    at += out.write(`${lengths[i]} `, at, 'latin1');
    at = syslog.writeRfc5424Parts!(out, at, parts[i]!);
  }
  return out;
}

const only = args.only?.split(',');
console.log(`${EVENTS} events (${(bytes.reduce((sum, b) => sum + b.length, 0) / EVENTS).toFixed(0)} Avro bytes, ${(cefTexts.reduce((sum, t) => sum + t.length, 0) / EVENTS).toFixed(0)} CEF chars on average), ${REPS} reps, src ${src.pathname}`);
// CPU time of this thread is the figure to read: the machine is shared, and wall time counts
// the moments another process had the core. Wall time is shown beside it.
console.log('stage                          CPU µs/event: median (min–max)   wall µs/event   GC ms/rep   GCs/rep');
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
for (const [name, run] of Object.entries(stages)) {
  if (only !== undefined && !only.includes(name)) continue;
  for (let i = 0; i < 3; i++) run(); // warm up: let the JIT settle
  (globalThis as { gc?: () => void }).gc?.();
  await settle();
  const cpu: number[] = [];
  const wall: number[] = [];
  const gcMs: number[] = [];
  const gcCounts: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const from = gcEntries.length;
    const cpuStart = process.threadCpuUsage();
    const start = performance.now();
    run();
    const end = performance.now();
    const cpuUsed = process.threadCpuUsage(cpuStart);
    await settle();
    const during = gcEntries.slice(from).filter((entry) => entry.startTime >= start && entry.startTime <= end);
    cpu.push((cpuUsed.user + cpuUsed.system) / EVENTS);
    wall.push(((end - start) * 1000) / EVENTS);
    gcMs.push(during.reduce((sum, entry) => sum + entry.duration, 0));
    gcCounts.push(during.length);
  }
  const spread = `${Math.min(...cpu).toFixed(2)}–${Math.max(...cpu).toFixed(2)}`;
  console.log(
    `${name.padEnd(30)} ${median(cpu).toFixed(2).padStart(6)}  (${spread.padEnd(11)})            ${median(wall).toFixed(2).padStart(6)}      ${mean(gcMs).toFixed(1).padStart(6)}     ${mean(gcCounts).toFixed(1).padStart(4)}`,
  );
}
observer.disconnect();
if (sink === -1) console.log(sink);
