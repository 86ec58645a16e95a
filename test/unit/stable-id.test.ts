import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableEventId } from '../../src/model/stable-id.js';
import { EventId } from '../../src/model/primitives.js';

test('the same document at the same time gets the same id; another document another id', () => {
  const time = Date.UTC(2026, 10, 26, 17, 11, 20);
  assert.equal(stableEventId(time, '{"msg":"a"}'), stableEventId(time, '{"msg":"a"}'));
  assert.notEqual(stableEventId(time, '{"msg":"a"}'), stableEventId(time, '{"msg":"b"}'));
});

test('the id is a valid UUIDv7 carrying the event time, so ids sort by time', () => {
  const time = Date.UTC(2026, 10, 26, 17, 11, 20, 123);
  const id = stableEventId(time, 'seed');
  assert.ok(EventId.safeParse(id).success, id);
  assert.equal(parseInt(id.replaceAll('-', '').slice(0, 12), 16), time);
  assert.ok(stableEventId(time, 'zzz') < stableEventId(time + 1, 'aaa'));
});
