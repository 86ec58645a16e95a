import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import avro from 'avsc';
import { decodeFrom, plainTypeHook } from '../../src/model/wire/plain-types.js';
import { createEventCodec, decodeEvent, encodeEvent, EVENT_AVRO_TYPE, EVENT_SCHEMA_FILE, eventAvroType } from '../../src/model/avro.js';
import { CanonicalEvent, EVENT_TYPES, type EventOf } from '../../src/model/events.js';

const fixture = (type: string) => CanonicalEvent.parse(JSON.parse(readFileSync(new URL(`../../src/kit/events/${type}.json`, import.meta.url), 'utf8')));

/** Every object inside `value` (itself included) whose prototype is not Object.prototype or Array.prototype, by path. */
function classInstances(value: unknown, path = '(root)'): string[] {
  if (value === null || typeof value !== 'object') return [];
  const proto = Object.getPrototypeOf(value);
  const own = proto === Object.prototype || proto === Array.prototype ? [] : [path];
  return [...own, ...Object.entries(value).flatMap(([key, inner]) => classInstances(inner, `${path}.${key}`))];
}

/** Paths of keys present with null or undefined as their value. */
function emptyKeys(value: unknown, path = '(root)'): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => (inner === null || inner === undefined ? [`${path}.${key}`] : emptyKeys(inner, `${path}.${key}`)));
}

test('decoded events are plain objects all the way down, with no null or undefined keys', () => {
  for (const type of EVENT_TYPES) {
    const decoded = decodeEvent(encodeEvent(fixture(type)));
    assert.deepEqual(classInstances(decoded), [], type);
    assert.deepEqual(emptyKeys(decoded), [], type);
  }
});

test('strings decode the same whether ASCII or not, map keys included', () => {
  const base = fixture('admin.action') as EventOf<'admin.action'>;
  const texts = ['', 'a', 'plain ascii of some length, past the thirteen of a sliced string', 'Jana Müller', 'ä中👍🇩🇪', 'e\u0301', '\u0000\u007f\t\r\n', 'x'.repeat(5000)];
  for (const text of texts) {
    // A Name is 1-256 characters without control characters; a Text may hold them.
    const name = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, 256) || undefined;
    const event = CanonicalEvent.parse({
      ...base,
      ...(name !== undefined && { tenant: name }),
      payload: { ...base.payload, user: { id: base.payload.user.id, ...(name !== undefined && { name }) }, error: text.slice(0, 4096) },
      enrichment: { hostId: base.host.id, trust: { status: 'trusted' }, assetTags: { [name ?? 'empty']: text.slice(0, 1024), ascii: 'tag' } },
    });
    const decoded = decodeEvent(encodeEvent(event));
    assert.deepEqual(decoded, event, JSON.stringify(text));
    assert.equal(JSON.stringify(decoded), JSON.stringify(event));
  }
});

test('decoded strings do not change when the bytes they came from are reused', () => {
  const original = fixture('trust.change');
  const bytes = encodeEvent(original);
  const decoded = decodeEvent(bytes);
  bytes.fill(0x41, 10);
  assert.deepEqual(decoded, original);
});

test('the ASCII fast path applies inside decodeFrom only; outside it avsc reads as it always did', () => {
  const type = avro.Type.forSchema(
    { type: 'record', name: 'R', fields: [{ name: 's', type: 'string' }, { name: 'm', type: { type: 'map', values: 'string' } }, { name: 'o', type: ['null', 'string'], default: null }] },
    { typeHook: plainTypeHook },
  );
  const value = { s: 'hello, Müller', m: { country: 'DE', 'straße': 'x' } };
  const buffer = type.toBuffer(value);
  assert.deepEqual(type.fromBuffer(buffer), value);
  assert.deepEqual(decodeFrom(type, buffer, 0).value, value);
  assert.deepEqual(decodeFrom(type, buffer, 0).offset, buffer.length);
  // Cut short: avsc's answer (an offset of -1), not a partial string.
  assert.deepEqual(decodeFrom(type, buffer.subarray(0, 5), 0).offset, -1);
});

test('resolving an older writer into the reader still yields plain objects, with the reader\'s defaults', () => {
  const current = JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as { fields: Record<string, unknown>[] };
  const withTags = structuredClone(current);
  withTags.fields.push({ name: 'labels', type: { type: 'map', values: 'string' }, default: { 'zoné': 'a', b: 'c' } });
  const reader = eventAvroType(withTags);
  const event = fixture('policy.decision');
  const decoded = createEventCodec(reader, [EVENT_AVRO_TYPE]).decode(encodeEvent(event));
  assert.deepEqual(decoded, { ...event, labels: { 'zoné': 'a', b: 'c' } });
  assert.deepEqual(classInstances(decoded), []);
});

test('a codec refuses a reader type that would decode into avsc\'s record classes', () => {
  const plain = avro.Type.forSchema(JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as avro.Schema, { wrapUnions: 'auto' });
  assert.throws(() => createEventCodec(plain), /must come from eventAvroType/);
});

test('a reader schema with a wrapped union below the payload is refused when its codec is made', () => {
  const current = JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as { fields: Record<string, unknown>[] };
  const ambiguous = structuredClone(current);
  const record = (name: string) => ({ type: 'record', name, fields: [{ name: 'x', type: 'string' }] });
  ambiguous.fields.push({ name: 'either', type: ['null', record('A'), record('B')], default: null });
  assert.throws(() => createEventCodec(eventAvroType(ambiguous)), /unsupported wrapped union .*only the payload's union may be wrapped/);
});
