/**
 * Seeded, bounded fuzzing: a small PRNG, structural mutations of JSON documents, byte-level
 * mutations of their text, and a loop that names the seed of the input that failed.
 *
 * `TRUSTWIRE_FUZZ_RUNS` inputs per fuzzer (default 10,000; `npm run fuzz` runs 10^6);
 * `TRUSTWIRE_FUZZ_SEED` the base seed (default fixed, so `npm test` is deterministic). A
 * failure names its run's seed: `TRUSTWIRE_FUZZ_REPLAY=<seed>` runs that input alone.
 */
import assert from 'node:assert/strict';

export const FUZZ_RUNS = Number(process.env.TRUSTWIRE_FUZZ_RUNS ?? 10_000);
/** A fuzz test's timeout: generous per input (a slow machine, a loaded one), bounded all the same. */
export const FUZZ_TIMEOUT_MS = Math.max(10 * 60_000, FUZZ_RUNS * 10);
const BASE_SEED = Number(process.env.TRUSTWIRE_FUZZ_SEED ?? 0x7457_1e5d) >>> 0;
/** `TRUSTWIRE_FUZZ_PROFILE=1`: say where the time went, and which inputs took longest. */
const PROFILE = process.env.TRUSTWIRE_FUZZ_PROFILE === '1';
const REPLAY = process.env.TRUSTWIRE_FUZZ_REPLAY === undefined ? undefined : Number(process.env.TRUSTWIRE_FUZZ_REPLAY) >>> 0;

/** mulberry32: 32 bits of state, good enough to pick mutations, and the same on every machine. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** In [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** The seed of run `i`: spread so that neighbouring runs share nothing. */
function runSeed(i: number): number {
  return (Math.imul(BASE_SEED ^ i, 0x9e3779b1) + i) >>> 0;
}

/**
 * Runs `check` on FUZZ_RUNS inputs (or the replayed one), each from its own seed; the
 * first failure is rethrown naming the seed, the run, and the start of the input.
 */
export async function fuzz<T>(
  name: string,
  generate: (random: Random) => T,
  check: (input: T, random: Random) => void | Promise<void>,
  describe: (input: T) => string = (input) => String(input),
): Promise<void> {
  const seeds = REPLAY !== undefined ? [REPLAY] : Array.from({ length: FUZZ_RUNS }, (_, i) => runSeed(i));
  const slowest: { ms: number; seed: number; input: string }[] = [];
  let generating = 0;
  let checking = 0;
  for (let i = 0; i < seeds.length; i++) {
    const seed = seeds[i]!;
    const random = new Random(seed);
    const generated = performance.now();
    const input = generate(random);
    const started = performance.now();
    generating += started - generated;
    try {
      await check(input, random);
      const ms = performance.now() - started;
      checking += ms;
      if (PROFILE && (slowest.length < 10 || ms > slowest[slowest.length - 1]!.ms)) {
        slowest.push({ ms, seed, input: describe(input).slice(0, 160) });
        slowest.sort((a, b) => b.ms - a.ms).splice(10);
      }
    } catch (error) {
      const shown = describe(input);
      const preview = shown.length > 400 ? `${shown.slice(0, 400)}… (${shown.length} characters)` : shown;
      assert.fail(`${name}: run ${i} failed; replay it with TRUSTWIRE_FUZZ_REPLAY=${seed}\n  input: ${preview}\n  ${(error as Error).stack ?? String(error)}`);
    }
  }
  if (PROFILE) {
    process.stderr.write(`${name}: generating ${Math.round(generating)} ms, checking ${Math.round(checking)} ms; slowest:\n`);
    for (const run of slowest) process.stderr.write(`  ${run.ms.toFixed(1)} ms  seed ${run.seed}  ${run.input}\n`);
  }
}

// ---- documents ----------------------------------------------------------------------------

/** JSON text put in verbatim: deep nesting, escapes and numbers JSON.stringify would not write. */
export class Raw {
  constructor(readonly text: string) {}
}
/** An object as a list of entries, so that a key may come twice. */
export class Entries {
  constructor(readonly entries: [string, Node][]) {}
}
export type Node = null | boolean | number | string | Raw | Entries | Node[];

/** A parsed JSON value as a Node tree. */
export function toNode(value: unknown): Node {
  if (Array.isArray(value)) return value.map(toNode);
  if (typeof value === 'object' && value !== null) return new Entries(Object.entries(value).map(([key, inner]) => [key, toNode(inner)]));
  return value as Node;
}

/** The Node tree as JSON text (its depth is the fixture's plus a few: Raw carries the deep parts). */
export function serialize(node: Node): string {
  if (node instanceof Raw) return node.text;
  if (node instanceof Entries) return `{${node.entries.map(([key, value]) => `${JSON.stringify(key)}:${serialize(value)}`).join(',')}}`;
  if (Array.isArray(node)) return `[${node.map(serialize).join(',')}]`;
  return JSON.stringify(node) ?? 'null';
}

/** Strings that probe the edges: control characters, odd Unicode, dates that do not exist, lengths. */
const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'host\u0000',
  'a\u0007b',
  '\u007f',
  '\u0085',
  '\u009b31m',
  'line\nbreak',
  '\r\n',
  '\t',
  '\u202eevil',
  '\ufeff',
  '\uffff',
  'e\u0301',
  'ä中👍🇩🇪',
  '2024-02-30T00:00:00Z',
  '2023-02-29T12:00:00Z',
  '2024-02-29T24:00:00Z',
  '2024-13-01T00:00:00Z',
  '2024-01-01T00:00:60Z',
  '2024-01-01T00:00:00+24:00',
  '9999-12-31T23:59:59.999Z',
  '0000-01-01T00:00:00Z',
  '2024-01-01T00:00:00',
  '1741946399871',
  'pcr_99',
  'pcr_-1',
  'trust.change',
  'alert',
  '__proto__',
  'null',
  '{}',
  '01959418-ad00-7a1c-9e4b-2f6d8a0c31b5',
  'Thu Feb 30 17:11:20 2026',
  'Thu Nov 26 17:11:20 2026',
];
/** JSON text for values JSON.stringify cannot write: lone surrogates, huge and odd numbers, escapes. */
const ODD_RAW = ['"\\ud800"', '"\\udc00x"', '"\\u0000"', '"a\\u0085b"', '1e999', '-1e999', '-0', '1e-400', '123456789012345678901234567890', '0.1e1', '"\\/"'];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', '', '\u0000', 'a\u001fb', '\u0085', 'x'.repeat(300), '👍', 'hasOwnProperty', 'toString', 'valueOf', '[0]', 'a.b'];

function oddValue(random: Random, depth = 0): Node {
  // Big values (long strings, deep nesting, many keys or items) one time in 32: enough to
  // probe every limit thousands of times a run, few enough to keep a run quick.
  if (random.chance(1 / 32)) return bigValue(random);
  switch (random.int(10)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, 24, 23, 11, 10, 256, 4096]);
    case 3:
    case 4:
      return random.pick(ODD_STRINGS);
    case 5:
      return new Raw(random.pick(ODD_RAW));
    case 6:
      return depth > 2 ? [] : Array.from({ length: random.int(4) }, () => oddValue(random, depth + 1));
    case 7:
      return depth > 2 ? new Entries([]) : new Entries(Array.from({ length: random.int(4) }, () => [random.pick(ODD_KEYS), oddValue(random, depth + 1)] as [string, Node]));
    case 8:
      return random.pick(ODD_STRINGS) + random.pick(ODD_STRINGS);
    default:
      return random.pick(['x'.repeat(257), 'x'.repeat(1025), 'é'.repeat(4097), '[]', new Entries([])]);
  }
}

const bigValues = new Map<string, Node>();
/** The same few big values again and again: built once each. */
function big(key: string, build: () => Node): Node {
  let value = bigValues.get(key);
  if (value === undefined) bigValues.set(key, (value = build()));
  return value;
}

function bigValue(random: Random): Node {
  switch (random.int(4)) {
    case 0: {
      const length = random.pick([65_536, 65_537, 100_000]);
      const unit = random.pick(['x', 'é', '👍', '\u0000']);
      return big(`string ${unit} ${length}`, () => unit.repeat(length).slice(0, length));
    }
    case 1: {
      const depth = random.pick([32, 33, 100, 10_000, 100_000]);
      const arrays = random.chance(0.5);
      return big(`deep ${arrays} ${depth}`, () => new Raw(arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));
    }
    case 2: {
      const count = random.pick([1_001, 10_000, 10_001]);
      return big(`keys ${count}`, () => new Raw(`{${Array.from({ length: count }, (_, i) => `"k${i}":"v"`).join(',')}}`));
    }
    default: {
      const count = random.pick([257, 2_000, 20_000]);
      return big(`items ${count}`, () => new Raw(`[${Array.from({ length: count }, () => '"x"').join(',')}]`));
    }
  }
}

/** Every container in the tree, with a way to replace one of its children. */
function containers(node: Node, out: (Entries | Node[])[] = []): (Entries | Node[])[] {
  if (node instanceof Entries) {
    out.push(node);
    for (const [, value] of node.entries) containers(value, out);
  } else if (Array.isArray(node)) {
    out.push(node);
    for (const item of node) containers(item, out);
  }
  return out;
}

/** One structural change somewhere in the tree (in place). */
export function mutateTree(root: Node, random: Random): void {
  const all = containers(root);
  if (all.length === 0) return;
  const container = random.pick(all);
  const entries = container instanceof Entries ? container.entries : undefined;
  const size = entries ? entries.length : (container as Node[]).length;
  const at = size === 0 ? 0 : random.int(size);
  const set = (value: Node) => {
    if (entries) {
      if (entries.length === 0) entries.push([random.pick(ODD_KEYS), value]);
      else entries[at]![1] = value;
    } else (container as Node[])[at] = value;
  };
  const get = (): Node | undefined => (entries ? entries[at]?.[1] : (container as Node[])[at]);
  switch (random.int(9)) {
    case 0:
    case 1:
    case 2:
      set(oddValue(random));
      return;
    case 3: // a key that is refused, odd, or there already
      if (entries) entries.splice(random.int(entries.length + 1), 0, [random.chance(0.3) && entries.length > 0 ? random.pick(entries)[0] : random.pick(ODD_KEYS), oddValue(random)]);
      else (container as Node[]).push(oddValue(random));
      return;
    case 4: // drop one
      if (entries) entries.splice(at, 1);
      else (container as Node[]).splice(at, 1);
      return;
    case 5: // a duplicate key, the second value differing
      if (entries && entries.length > 0) entries.push([entries[at]![0], oddValue(random)]);
      return;
    case 6: // the value in another type
      {
        const value = get();
        set(typeof value === 'string' ? Number(value) || value.length : typeof value === 'number' ? String(value) : value === null ? new Entries([]) : null);
      }
      return;
    case 7: // wrapped
      {
        const value = get() ?? null;
        set(random.chance(0.5) ? [value] : new Entries([['value', value]]));
      }
      return;
    default: // many copies of one small item (a long list; a big batch at the top)
      if (!entries && size > 0 && serialize((container as Node[])[at]!).length < 4096) {
        const copies = random.pick([10, 257, 1_001]);
        const item = (container as Node[])[at]!;
        // Copies, not the same node: a later mutation of one must not grow them all.
        for (let i = 0; i < copies; i++) (container as Node[]).push(cloneNode(item));
      } else set(oddValue(random));
  }
}

/** A copy of the tree's containers (leaves and Raw text are immutable, so shared). */
function cloneNode(node: Node): Node {
  if (node instanceof Entries) return new Entries(node.entries.map(([key, value]) => [key, cloneNode(value)]));
  if (Array.isArray(node)) return node.map(cloneNode);
  return node;
}

const trees = new WeakMap<object, Node>();

/** `document` after 0-4 structural mutations (and `more`), as JSON text. */
export function mutatedJson(document: unknown, random: Random, more = 0): string {
  let seed = typeof document === 'object' && document !== null ? trees.get(document) : undefined;
  if (seed === undefined) {
    seed = toNode(document);
    if (typeof document === 'object' && document !== null) trees.set(document, seed);
  }
  const tree = cloneNode(seed);
  const count = random.pick([0, 1, 1, 1, 2, 2, 3, 4]) + more;
  for (let i = 0; i < count; i++) mutateTree(tree, random);
  return serialize(tree);
}

// ---- bytes --------------------------------------------------------------------------------

const BAD_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3]];

/** `bytes` with 1-3 byte-level changes: flips, cuts, invalid UTF-8, random bytes, spliced copies. */
export function mutateBytes(bytes: Buffer, random: Random): Buffer {
  let out = Buffer.from(bytes);
  const changes = 1 + random.int(3);
  for (let c = 0; c < changes; c++) {
    const at = out.length === 0 ? 0 : random.int(out.length);
    switch (random.int(6)) {
      case 0:
        if (out.length > 0) out[at] = out[at]! ^ (1 << random.int(8));
        break;
      case 1:
        out = out.subarray(0, at);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), Buffer.from(random.pick(BAD_UTF8)), out.subarray(at)]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + random.int(8) }, () => random.int(256))), out.subarray(at)]);
        break;
      case 4: {
        const from = random.int(out.length + 1);
        out = Buffer.concat([out.subarray(0, at), out.subarray(from, from + random.int(64)), out.subarray(at)]);
        break;
      }
      default:
        if (out.length > 0) out[at] = random.int(256);
    }
  }
  return out;
}

/** A bounded description of bytes for a failure message. */
export function describeBytes(bytes: Buffer): string {
  return `${bytes.length} bytes, hex ${bytes.subarray(0, 200).toString('hex')}`;
}

// ---- HTTP requests ------------------------------------------------------------------------

/** Content types a caller may send: mostly right, some wrong in case, charset or kind. */
const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset="UTF-8"',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'application/json; charset=',
  'application/json; charset=utf-8; charset=utf-16',
  'application/x-ndjson',
  'application/x-ndjson; charset=utf8',
  'Application/X-NDJSON',
  'application/jsonl',
  'application/ndjson; charset=latin1',
  'text/plain',
  'application/json-seq',
];

export function contentType(random: Random, ndjson: boolean): string {
  if (random.chance(0.75)) return ndjson ? 'application/x-ndjson' : 'application/json';
  return random.pick(CONTENT_TYPES);
}

export interface FuzzRequest {
  body: Buffer;
  contentType: string;
}

/** A body from JSON text: as it is, or (a quarter of the time) with byte-level damage. */
export function requestOf(text: string, random: Random, ndjson = false): FuzzRequest {
  const bytes = Buffer.from(text, 'utf8');
  return { body: random.chance(0.25) ? mutateBytes(bytes, random) : bytes, contentType: contentType(random, ndjson) };
}

export function describeRequest(request: FuzzRequest): string {
  return `content-type ${JSON.stringify(request.contentType)}, ${describeBytes(request.body)}`;
}
