import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatJson, formatNdjson } from '../../src/formats/json.js';
import { decodeEvent, encodeEvent } from '../../src/model/avro.js';
import { CanonicalEvent, EVENT_TYPES } from '../../src/model/events.js';
import { eventFixture, readFixture } from '../helpers/fixtures.js';

/** The same value with every object's keys in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).reverse().map((key) => [key, reversedKeys((value as Record<string, unknown>)[key])]));
}

// Checked by eye when written: one line, valid JSON (JSON.parse gives the fixture back), the
// envelope in the order of schemas/trustwire.Event.avsc (id, time, ingestTime, source, host,
// severity, tenant, type, payload, enrichment), record fields in schema order, map keys
// (settings, assetTags, details) sorted, no field the fixture lacks.
for (const type of EVENT_TYPES) {
  test(`the ${type} fixture renders as its golden JSON line`, () => {
    assert.equal(`${formatJson(eventFixture(type))}\n`, readFixture(`formats/json/${type}.json`));
  });
}

test('the JSON reads back as the event', () => {
  for (const type of EVENT_TYPES) assert.deepEqual(JSON.parse(formatJson(eventFixture(type))), eventFixture(type));
});

test('key order does not depend on how the event was built', () => {
  for (const type of EVENT_TYPES) {
    const event = eventFixture(type);
    assert.equal(formatJson(reversedKeys(event) as CanonicalEvent), formatJson(event), type);
  }
});

test('an event decoded from Avro and one parsed by zod give the same bytes', () => {
  for (const type of EVENT_TYPES) {
    const event = eventFixture(type);
    assert.equal(formatJson(decodeEvent(encodeEvent(event))), formatJson(event), type);
    assert.equal(formatJson(CanonicalEvent.parse(event)), formatJson(event), type);
  }
});

test('map keys are sorted; record fields keep the contract\'s order', () => {
  const event = eventFixture('alert');
  event.payload.details = { zeta: '1', alpha: '2', Mid: '3' };
  const json = formatJson(event);
  assert.ok(json.includes('"details":{"Mid":"3","alpha":"2","zeta":"1"}'), json);
  assert.ok(json.startsWith('{"id":"01959419-a31d-7e57-bd49-3a8f1c6e2b90","time":'), json);
  assert.ok(json.indexOf('"payload":') < json.indexOf('"enrichment":'));
});

test('absent and null optional fields are left out; unknown keys are not written', () => {
  const event = eventFixture('admin.action') as unknown as Record<string, unknown>;
  event.tenant = null;
  event.smuggled = 'x';
  const json = formatJson(event as unknown as CanonicalEvent);
  assert.ok(!json.includes('"tenant"'));
  assert.ok(!json.includes('smuggled'));
  assert.ok(!json.includes('"enrichment"'));
});

test('line breaks, U+2028 and control characters inside values keep the event on one line', () => {
  const event = eventFixture('admin.action');
  event.payload.error = 'one\ntwo\r\nthree\u2028four\u0000five "quoted" \\ back';
  const json = formatJson(event);
  assert.ok(!/[\r\n]/.test(json));
  assert.equal((JSON.parse(json) as typeof event).payload.error, event.payload.error);
});

test('non-ASCII stays as UTF-8 text, a lone surrogate is escaped', () => {
  const event = eventFixture('admin.action');
  event.payload.user.name = 'Jana Müller 中文 👍🏽 \ud800';
  const json = formatJson(event);
  assert.ok(json.includes('"name":"Jana Müller 中文 👍🏽 \\ud800"'), json);
});

test('NDJSON holds one event a line, each line ended by a line feed', () => {
  const events = EVENT_TYPES.map((type) => eventFixture(type));
  const ndjson = formatNdjson(events);
  assert.ok(ndjson.endsWith('\n'));
  const lines = ndjson.split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines, events.map(formatJson));
  assert.equal(formatNdjson([]), '');
});
