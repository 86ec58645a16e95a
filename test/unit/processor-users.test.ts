import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventAvroFieldErrors } from '../../src/model/avro.js';
import { CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { ProcessorRules, UserState } from '../../src/processor/state.js';
import { recordUserAttempt } from '../../src/processor/users.js';
import { eventFixture } from '../helpers/fixtures.js';

const T0 = Date.UTC(2026, 2, 14, 10, 0, 0);
const MIN = 60_000;
const RULES = ProcessorRules.parse({ deniedAttempts: { threshold: 3, windowMs: 10 * MIN }, spraying: { distinctHosts: 3, windowMs: 10 * MIN } });
let sequence = 0;

/** A denied (or failed) admin action of `user` on `hostId`, as the processor forwards it: enriched. */
function attempt(time: number, hostId: string, options: { user?: string; outcome?: 'denied' | 'failed'; id?: string } = {}): EventOf<'admin.action'> {
  const base = eventFixture('admin.action');
  const user = options.user ?? 'mallory';
  const id = options.id ?? `019ac1a2-0ccc-7000-8000-${String(++sequence).padStart(12, '0')}`;
  return CanonicalEvent.parse({ ...base, id, time, host: { ...base.host, id: hostId, name: `${hostId}.dc.example.net` }, payload: { ...base.payload, user: { id: user, name: user }, outcome: options.outcome ?? 'denied' } }) as EventOf<'admin.action'>;
}

function play(users: Map<string, UserState>, events: EventOf<'admin.action'>[]) {
  return events.map((event) => {
    const result = recordUserAttempt(event, users, RULES);
    for (const alert of result.alerts) assert.deepEqual(eventAvroFieldErrors(alert), [], `${alert.id} does not fit the Avro schema`);
    for (const user of users.values()) UserState.parse(user);
    return result;
  });
}
const rules = (result: { alerts: EventOf<'alert'>[] }) => result.alerts.map((alert) => alert.payload.rule);

test('one user denied on one host: repeated denials once, at the threshold, no spraying', () => {
  const users = new Map<string, UserState>();
  const events = [0, 1, 2, 3, 4].map((i) => attempt(T0 + i * MIN, 'esx-01', { outcome: i % 2 ? 'failed' : 'denied' }));
  const results = play(users, events);
  assert.deepEqual(results.map(rules), [[], [], ['admin.repeated-denials'], [], []]);
  const alert = results[2]!.alerts[0]!;
  assert.deepEqual(alert.payload.relatedEventIds, events.slice(0, 3).map((e) => e.id));
  assert.equal(alert.severity, 6);
  assert.equal(alert.host.id, 'esx-01', 'the alert names the host of the attempt that tipped it');
});

test('one user denied on hosts across the fleet is counted once, fleet-wide, and sprays once', () => {
  const users = new Map<string, UserState>();
  const results = play(users, ['esx-01', 'kvm-02', 'esx-03', 'kvm-04'].map((host, i) => attempt(T0 + i * MIN, host)));
  assert.deepEqual(results.map(rules), [[], [], ['admin.repeated-denials', 'admin.denial-spraying'], []]);
  const spray = results[2]!.alerts[1]!;
  assert.equal(spray.payload.details.hosts, 'esx-01, esx-03, kvm-02');
  assert.equal(spray.severity, 7);
});

test('the same attempts in another order raise the same alerts under the same ids (a replay raises nothing new)', () => {
  const events = ['esx-01', 'kvm-02', 'esx-03'].map((host, i) => attempt(T0 + i * MIN, host));
  const inOrder = play(new Map(), events).flatMap((r) => r.alerts.map((a) => a.id));
  const users = new Map<string, UserState>();
  const late = play(users, [events[1]!, events[2]!, events[0]!]).flatMap((r) => r.alerts.map((a) => a.id));
  assert.equal(inOrder.length, 2);
  assert.deepEqual(late.sort(), [...inOrder].sort());
  // Resent: the same ids change nothing and raise nothing.
  assert.deepEqual(play(users, events).map((r) => [r.changed, r.alerts.length]), [[false, 0], [false, 0], [false, 0]]);
});

test('attempts outside the window, or by another user, do not count', () => {
  const users = new Map<string, UserState>();
  play(users, [attempt(T0, 'esx-01')]);
  play(users, [attempt(T0 + 11 * MIN, 'esx-01')]); // the first has left the window
  assert.deepEqual(play(users, [attempt(T0 - MIN, 'esx-01')]).map((r) => r.changed), [false]); // late, already out of the window
  assert.deepEqual(users.get('mallory')!.attempts.map((a) => a.time), [T0 + 11 * MIN]);
  play(users, [attempt(T0 + 12 * MIN, 'esx-01', { user: 'asmith' })]);
  assert.deepEqual(play(users, [attempt(T0 + 13 * MIN, 'esx-01')]).map(rules), [[]]);
  assert.deepEqual(play(users, [attempt(T0 + 14 * MIN, 'esx-01')]).map(rules), [['admin.repeated-denials']]);
});
