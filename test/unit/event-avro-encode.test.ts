/**
 * encodeEvent writes the plain canonical event directly (model/wire/plain-types.ts's writers,
 * the payload's branch from `event.type`): these tests hold it to what encoding was before,
 * avsc's own writers over the event with its payload wrapped as `{branchName: payload}`,
 * byte for byte, and error for error for events that do not fit the schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import avro from 'avsc';
import type { Type, types } from 'avsc';
import { createRecordWriter, encoderOf, plainTypeHook, writeString, type WriteTap } from '../../src/model/wire/plain-types.js';
import { SINGLE_OBJECT_HEADER_LENGTH } from '../../src/model/wire/single-object.js';
import { decodeEvent, encodeEvent, EVENT_SCHEMA_FILE, EVENT_SCHEMA_FINGERPRINT, eventAvroFieldErrors } from '../../src/model/avro.js';
import { CanonicalEvent, EVENT_TYPES } from '../../src/model/events.js';
import { ValidationError } from '../../src/model/validation.js';
import { fleetEvent } from '../helpers/fleet-events.js';
import { eventFixture } from '../helpers/fixtures.js';

const SCHEMA = JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as avro.Schema;
/** avsc as it comes: its writers, no hook. */
const STOCK = avro.Type.forSchema(SCHEMA, { wrapUnions: 'auto' }) as types.RecordType;
const STOCK_PAYLOAD = STOCK.field('payload').type as types.WrappedUnionType;
const HEADER = Buffer.alloc(SINGLE_OBJECT_HEADER_LENGTH);
HEADER.writeUInt8(0xc3, 0);
HEADER.writeUInt8(0x01, 1);
HEADER.writeBigUInt64LE(EVENT_SCHEMA_FINGERPRINT, 2);

/** What encodeEvent did before it wrote plain events: avsc over the wrapped payload, the same errors. */
function encodeTheOldWay(event: CanonicalEvent): Buffer {
  const index = EVENT_TYPES.indexOf(event.type);
  if (index === -1) throw new ValidationError('event does not fit the Avro schema', [{ path: 'type', message: `unknown event type ${JSON.stringify(event.type)}` }]);
  const record = { ...event, payload: STOCK_PAYLOAD.types[index]!.wrap(event.payload) };
  try {
    return Buffer.concat([HEADER, STOCK.toBuffer(record)]);
  } catch (error) {
    const details = eventAvroFieldErrors(event);
    if (details.length === 0) details.push({ path: '(root)', message: (error as Error).message });
    throw new ValidationError('event does not fit the Avro schema', details);
  }
}

type Outcome = { bytes: Buffer } | { error: Error };
function outcome(encode: () => Buffer): Outcome {
  try {
    return { bytes: encode() };
  } catch (error) {
    return { error: error as Error };
  }
}

/** Both ways write the same bytes, or both throw the same error. */
function assertSameAsBefore(event: CanonicalEvent, label: string): Outcome {
  const before = outcome(() => encodeTheOldWay(event));
  const now = outcome(() => encodeEvent(event));
  if ('bytes' in before) {
    assert.ok('bytes' in now, `${label}: encodeEvent threw ${'error' in now ? now.error.message : ''}`);
    assert.ok(now.bytes.equals(before.bytes), `${label}: the bytes differ`);
  } else {
    assert.ok('error' in now, `${label}: encodeEvent wrote what avsc refused (${before.error.message})`);
    assert.ok(now.error instanceof ValidationError, `${label}: ${now.error.name} ${now.error.message}`);
    assert.equal(now.error.message, before.error.message, label);
    assert.deepEqual(now.error.details, (before.error as ValidationError).details, label);
  }
  return now;
}

// ---- generated events ---------------------------------------------------------------------

/** A small seeded generator (mulberry32): failures reproduce. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings at the edges of the writers' paths: empty, ASCII of 63/64/65 characters and longer, Latin-1, BMP, astral, lone surrogates, control characters. */
const STRINGS = [
  '',
  'a',
  'host-17.dc.example.net',
  '019ac1a2-0000-7000-8000-000000000042',
  'x'.repeat(63),
  'y'.repeat(64),
  'z'.repeat(65),
  'w'.repeat(127),
  'v'.repeat(128),
  'plain ascii, '.repeat(30),
  'Jana Müller',
  'é'.repeat(64),
  'ä'.repeat(40),
  '中文',
  '👍🇩🇪',
  'e\u0301',
  '\u0000\u007f\t\r\n',
  '\u0080',
  '\u00ff',
  '\ud800',
  'a\udc00b',
  '\ud83d',
  `${'q'.repeat(63)}ü`,
  `${'q'.repeat(70)}\ud800`,
];
const INTS = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2 ** 31 - 1, -(2 ** 31)];
const LONGS = [...INTS, 2 ** 40, -(2 ** 40), 1_780_000_000_000, 2 ** 52, -(2 ** 52)];
const DOUBLES = [0, -0, 1.5, -2.25, 96.5, 1e300, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

function generator(next: () => number) {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const count = (max: number) => Math.floor(next() * (max + 1));
  const value = (type: Type): unknown => {
    switch (type.typeName) {
      case 'null':
        return null;
      case 'boolean':
        return next() < 0.5;
      case 'int':
        return next() < 0.5 ? pick(INTS) : Math.floor(next() * 2000) - 1000;
      case 'long':
        return next() < 0.5 ? pick(LONGS) : Math.floor(next() * 2 ** 45);
      case 'float':
      case 'double':
        return next() < 0.5 ? pick(DOUBLES) : next() * 100;
      case 'string':
        return pick(STRINGS);
      case 'enum':
        return pick((type as types.EnumType).symbols);
      case 'array':
        return Array.from({ length: count(4) }, () => value((type as types.ArrayType).itemsType));
      case 'map':
        return Object.fromEntries(Array.from({ length: count(3) }, () => [pick(STRINGS), value((type as types.MapType).valuesType as Type)]));
      case 'union:unwrapped': {
        const branches = (type as types.UnwrappedUnionType).types;
        return value(pick(branches));
      }
      case 'record': {
        const out: Record<string, unknown> = {};
        for (const field of (type as types.RecordType).fields) {
          const nullable = field.type.typeName === 'union:unwrapped' && (field.type as types.UnwrappedUnionType).types.some((b) => b.typeName === 'null');
          const hasDefault = field.defaultValue() !== undefined;
          // An optional field: absent, null or a value; a field with a default: sometimes absent.
          if ((nullable || hasDefault) && next() < 0.3) continue;
          const inner = field.type.typeName === 'union:wrapped' ? undefined : value(field.type);
          if (inner !== undefined) out[field.name] = inner;
        }
        return out;
      }
      default:
        throw new Error(`no generator for ${type.typeName}`);
    }
  };
  return {
    pick,
    event(): CanonicalEvent {
      const index = Math.floor(next() * EVENT_TYPES.length);
      const event = value(STOCK) as Record<string, unknown>;
      event.type = EVENT_TYPES[index];
      event.payload = value(STOCK_PAYLOAD.types[index]!);
      return event as unknown as CanonicalEvent;
    },
  };
}

const fixtures = EVENT_TYPES.map((type) => CanonicalEvent.parse(eventFixture(type)));

test('every fixture encodes to the bytes it did before, and decodes back to itself', () => {
  for (const event of fixtures) {
    const now = assertSameAsBefore(event, event.type);
    assert.ok('bytes' in now);
    assert.deepEqual(decodeEvent(now.bytes), event);
    // Optional fields given as null instead of left out, or as undefined: the same bytes.
    const nulls = { ...event, tenant: event.tenant ?? null, enrichment: event.enrichment ?? null, host: { id: event.host.id, name: event.host.name ?? null } };
    const undefineds = { ...event, tenant: event.tenant ?? undefined, enrichment: event.enrichment ?? undefined, host: { id: event.host.id, name: event.host.name ?? undefined } };
    const bytes = assertSameAsBefore(nulls as unknown as CanonicalEvent, `${event.type} with nulls`);
    assert.ok('bytes' in bytes && bytes.bytes.equals(encodeTheOldWay(undefineds as unknown as CanonicalEvent)));
  }
});

test('the fleet stream, enriched or not, encodes to the bytes it did before', () => {
  for (let n = 0; n < 2000; n += 7) {
    const event = CanonicalEvent.parse({ ...fleetEvent(n, 50), ingestTime: 1_780_000_000_000 + n });
    assertSameAsBefore(event, `fleet ${n}`);
    assertSameAsBefore({ ...event, enrichment: fixtures[0]!.enrichment } as CanonicalEvent, `fleet ${n} enriched`);
  }
});

test('generated events (every field absent, null or some value at its edges) encode to the bytes they did before', () => {
  const generate = generator(random(20261201));
  for (let i = 0; i < 3000; i++) {
    const event = generate.event();
    const now = assertSameAsBefore(event, `generated event ${i}: ${JSON.stringify(event)}`);
    assert.ok('bytes' in now, 'error' in now ? now.error.message : '');
  }
});

/** Every path to a value inside `value`, objects and arrays included. */
function paths(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (value === null || typeof value !== 'object') return [path];
  const inner = Object.entries(value).flatMap(([key, v]) => paths(v, [...path, Array.isArray(value) ? Number(key) : key]));
  return path.length === 0 ? inner : [path, ...inner];
}

function withValueAt(event: CanonicalEvent, path: PropertyKey[], replacement: unknown): CanonicalEvent {
  const copy = structuredClone(event) as unknown as Record<PropertyKey, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<PropertyKey, unknown>;
  at[path.at(-1)!] = replacement;
  return copy as unknown as CanonicalEvent;
}

test('an event with a value of the wrong kind anywhere throws what it did before: a ValidationError naming the field', () => {
  const junk = [undefined, null, 0, 1.5, -1, 2 ** 53, Number.NaN, '', 'x', 'ü', true, {}, [], ['x'], { a: 1 }, Buffer.from('x')];
  const generate = generator(random(7));
  let refused = 0;
  const events = [...fixtures, ...Array.from({ length: 200 }, () => generate.event())];
  for (const [i, event] of events.entries()) {
    const all = paths(event).filter((path) => path[0] !== 'type');
    for (let k = 0; k < (i < fixtures.length ? all.length : 10); k++) {
      const path = i < fixtures.length ? all[k]! : generate.pick(all);
      for (const value of i < fixtures.length ? junk : [generate.pick(junk), generate.pick(junk)]) {
        const broken = withValueAt(event, path, value);
        const now = assertSameAsBefore(broken, `${event.type} with ${path.join('.')} = ${String(value)}`);
        if ('error' in now) refused++;
      }
    }
  }
  assert.ok(refused > 1000, `${refused} refused`);
});

test('the error names the field, as it did', () => {
  const event = fixtures[EVENT_TYPES.indexOf('compliance.assessment')]!;
  const broken = withValueAt(event, ['payload', 'results', 1, 'message'], 42);
  assert.throws(() => encodeEvent(broken), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(error.details, [{ path: 'payload.results[1].message', message: 'expected null | string, got 42' }]);
    return true;
  });
  assert.throws(() => encodeEvent({ ...event, host: { ...event.host, name: 7 } } as unknown as CanonicalEvent), /host\.name: expected null \| string, got 7/);
  assert.throws(() => encodeEvent({ ...event, payload: undefined } as unknown as CanonicalEvent), /payload: expected trustwire\.ComplianceAssessment, got nothing/);
  assert.throws(() => encodeEvent({ ...event, type: 'vm.escape' } as unknown as CanonicalEvent), /type: unknown event type "vm\.escape"/);
});

test('an event past the codec\'s 64 KiB scratch buffer, and the ones after it, encode as before', () => {
  const base = fixtures[EVENT_TYPES.indexOf('alert')]!;
  for (const size of [65_000, 65_526, 65_536, 70_000, 300_000]) {
    const title = { ...base, payload: { ...base.payload, title: 's'.repeat(size) } } as CanonicalEvent;
    assertSameAsBefore(title, `title of ${size}`);
    for (const event of fixtures) assertSameAsBefore(event, `${event.type} after ${size}`);
  }
  // Many short strings across the end of the buffer: the last ones written past it, then again.
  const tags = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`tag-${i}`, 'v'.repeat(i % 70)]));
  const tagged = { ...base, enrichment: { hostId: base.host.id, trust: { status: 'trusted', faultCount: 0 }, assetTags: tags } } as unknown as CanonicalEvent;
  assertSameAsBefore(tagged, 'many asset tags');
  assert.deepEqual(decodeEvent(encodeEvent(tagged)), tagged);
});

test('writeString writes what avsc\'s Tap#writeString does, in every string and at the end of the buffer', () => {
  const stringType = avro.Type.forSchema('string');
  const ours = encoderOf((tap, value) => writeString(tap, value as string));
  for (const s of [...STRINGS, ...STRINGS.map((s) => s.repeat(3))]) {
    const expected = stringType.toBuffer(s);
    for (const room of [expected.length + 8, expected.length, expected.length - 1, 1, 0]) {
      const a = Buffer.alloc(Math.max(0, room));
      const b = Buffer.alloc(Math.max(0, room));
      const endA = stringType.encode(s, a, 0);
      const endB = ours(s, b, 0);
      assert.equal(endB, endA, `${JSON.stringify(s)} in ${room}`);
      if (endA >= 0) assert.ok(b.equals(a), JSON.stringify(s));
    }
  }
});

test('a record writer writes what avsc\'s does for any record, its custom fields through their writers', () => {
  const schema = {
    type: 'record',
    name: 'R',
    fields: [
      { name: 's', type: 'string' },
      { name: 'o', type: ['null', 'string'], default: null },
      { name: 'late', type: ['string', 'null'], default: 'x' },
      { name: 'n', type: ['long', 'null'] },
      { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] }, default: 'B' },
      { name: 'm', type: { type: 'map', values: ['double', 'null'] }, default: { 'ü': 1.5 } },
      { name: 'r', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'i', type: 'int', default: 3 }] }], default: null },
      { name: 'b', type: ['null', 'bytes'], default: null },
      { name: 'long', type: 'string', default: 'a default longer than four bytes' },
    ],
  } as avro.Schema;
  const stock = avro.Type.forSchema(schema);
  const plain = avro.Type.forSchema(schema, { typeHook: plainTypeHook });
  const values: Record<string, unknown>[] = [
    { s: 'a', n: 1 },
    { s: 'é', o: 'p', late: null, n: null, e: 'A', m: {}, r: {}, b: Buffer.from('x'), long: 'ä' },
    { s: '', o: null, late: 'q', n: 2 ** 40, m: { a: null, 'ö': -0 }, r: { i: -7 }, b: null },
  ];
  for (const value of values) assert.ok(plain.toBuffer(value).equals(stock.toBuffer(value)), JSON.stringify(value));
  for (const invalid of [{ s: 1, n: 1 }, { s: 'a' }, { s: 'a', n: 'x' }, { s: 'a', n: 1, o: 5 }, { s: 'a', n: 1, r: [] }, { s: 'a', n: 1, b: 'x' }, { s: 'a', n: 1, e: 'C' }]) {
    assert.throws(() => stock.toBuffer(invalid));
    assert.throws(() => plain.toBuffer(invalid), (error: Error) => {
      const before = outcome(() => stock.toBuffer(invalid));
      assert.equal(error.message, 'error' in before ? before.error.message : '');
      return true;
    });
  }
  const fields = (plain as types.RecordType).fields;
  const seen: unknown[] = [];
  const write = createRecordWriter(fields, 'R', {
    s: (tap: WriteTap, value, record) => {
      seen.push([value, record]);
      writeString(tap, String(value).toUpperCase());
    },
  });
  const value = { s: 'abc', n: 1 };
  const buf = Buffer.alloc(100);
  const end = encoderOf(write)(value, buf, 0);
  assert.ok(buf.subarray(0, end).equals(stock.toBuffer({ ...value, s: 'ABC' })));
  assert.deepEqual(seen, [['abc', value]]);
});
