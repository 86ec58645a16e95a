/**
 * The by-workload stage's logic: each VM's placement kept by VM id, trust changes judged once
 * every processor partition has passed their cut, whatever order the partitions deliver in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableEventId } from '../../src/model/stable-id.js';
import { eventAvroFieldErrors } from '../../src/model/avro.js';
import { CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { ProcessorRules } from '../../src/processor/state.js';
import {
  applyPlacement,
  applyProgress,
  applyUntrusted,
  applyWorkloadRecord,
  emptyWorkloadPartition,
  placementRecord,
  progressRecords,
  restoreWorkloadState,
  untrustedRecords,
  waitingFor,
  workloadStateRecord,
  type Outcome,
  type WorkloadPartition,
} from '../../src/processor/workloads.js';
import { eventFixture } from '../helpers/fixtures.js';

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const RULES = ProcessorRules.parse({});
const LEDGER = { type: 'vm', id: 'vm-ledger', name: 'fin-ledger-db-02', labels: ['sensitive', 'pci'], requiredTags: {} };
const WEB = { type: 'vm', id: 'vm-web', name: 'shop-web-01', labels: [], requiredTags: {} };

function canonical<T extends CanonicalEvent['type']>(event: Record<string, unknown> & { type: T; time: number; payload: unknown }, ingestTime: number): EventOf<T> {
  const { enrichment: _, ...rest } = event;
  const id = stableEventId(event.time, JSON.stringify([event.type, event.host, event.payload, ingestTime]));
  return CanonicalEvent.parse(JSON.parse(JSON.stringify({ ...rest, id, ingestTime }))) as EventOf<T>;
}

interface Move {
  action?: string;
  source?: string;
  pool?: string;
  trust?: 'trusted' | 'any';
  vm?: typeof LEDGER;
}

function decision(hostId: string, ingestTime: number, move: Move = {}): EventOf<'policy.decision'> {
  const base = eventFixture('policy.decision');
  return canonical(
    {
      ...base,
      host: { id: hostId, pool: move.pool ?? 'tcp-gold-fra1' },
      time: base.time,
      payload: {
        ...base.payload,
        decisionId: `dec-${hostId}-${ingestTime}`,
        action: move.action ?? (move.source === undefined ? 'vm.place' : 'vm.migrate'),
        decision: 'permit',
        resource: move.vm ?? LEDGER,
        sourceHost: move.source === undefined ? undefined : { id: move.source },
        targetHost: { id: hostId },
        trustRequirement: move.trust ?? 'trusted',
      },
    },
    ingestTime,
  );
}

function untrusted(hostId: string, ingestTime: number): EventOf<'trust.change'> {
  const base = eventFixture('trust.change');
  // The fixture's time is earlier than the decisions': order is what reached trustwire first, not the reporters' clocks.
  return canonical({ ...base, host: { id: hostId, pool: 'tcp-gold-fra1' }, payload: { ...base.payload, status: 'untrusted' } }, ingestTime);
}

function alerts(...outcomes: Outcome[]): EventOf<'alert'>[] {
  const found = outcomes.flatMap((outcome) => outcome.alerts);
  for (const alert of found) {
    assert.deepEqual(CanonicalEvent.parse(alert), alert);
    assert.deepEqual(eventAvroFieldErrors(alert), []);
  }
  return found;
}

const SIX = [0n, 0n, 0n, 0n, 0n, 0n];
/** A cut with the given end offsets of the six processor partitions. */
const cutOf = (ends: Record<number, bigint>) => SIX.map((zero, partition) => ends[partition] ?? zero);
const from = (partition: number, offset: number) => ({ partition, offset: offset.toString() });

/** Every processor partition has got to `ends` (absent: to 0). */
function progressTo(state: WorkloadPartition, ends: Record<number, bigint>): Outcome[] {
  return SIX.map((_, partition) => applyProgress(state, partition, ends[partition] ?? 0n));
}

test('a VM migrated between partitions, then its source turns untrusted: no alert naming it, even when the trust change comes first', () => {
  const state = emptyWorkloadPartition();
  // Placed on esx-a (partition 1), migrated to esx-b (partition 2); then esx-a turns untrusted (partition 1).
  alerts(applyPlacement(state, decision('esx-a', T0), from(1, 10), RULES));
  const migration = decision('esx-b', T0 + 50, { source: 'esx-a' });
  const change = untrusted('esx-a', T0 + 100);
  // The trust change reaches this partition before the migration does: it waits for partition 2.
  const early = applyUntrusted(state, { event: change, from: { partition: 1, offset: 11n }, cut: cutOf({ 1: 12n, 2: 21n }), previous: 'trusted' });
  assert.deepEqual(alerts(early), []);
  assert.equal(state.pending.size, 1);
  assert.deepEqual(alerts(...progressTo(state, { 1: 12n, 2: 20n })), [], 'partition 2 has not passed the cut: still waiting');
  assert.deepEqual(waitingFor(state, state.pending.get(change.id)!), [2], 'the stage can say what it waits for');
  assert.deepEqual(alerts(applyPlacement(state, migration, from(2, 20), RULES)), []);
  assert.deepEqual(alerts(applyProgress(state, 2, 21n)), [], 'judged: the VM had left esx-a');
  assert.equal(state.pending.size, 0);
  assert.equal(state.vms.get(LEDGER.id)!.placements.at(-1)!.hostId, 'esx-b');

  // The target turning untrusted raises one alert naming the VM.
  const target = untrusted('esx-b', T0 + 200);
  const raised = alerts(applyUntrusted(state, { event: target, from: { partition: 2, offset: 21n }, cut: cutOf({ 1: 12n, 2: 22n }), previous: 'trusted' }), applyProgress(state, 2, 22n));
  assert.equal(raised.length, 1);
  const [alert] = raised;
  assert.equal(alert!.payload.rule, 'trust.sensitive-workload-on-untrusted-host');
  assert.equal(alert!.payload.details.workloads, LEDGER.id);
  assert.equal(alert!.host.id, 'esx-b');
  assert.deepEqual(alert!.payload.relatedEventIds, [target.id, migration.id]);
  assert.equal(alert!.severity, 9);
});

test('a placement the processor read after the cut does not count: the VM was not there when the host turned untrusted', () => {
  const state = emptyWorkloadPartition();
  applyPlacement(state, decision('esx-a', T0), from(1, 10), RULES);
  const change = untrusted('esx-b', T0 + 100);
  applyUntrusted(state, { event: change, from: { partition: 2, offset: 5n }, cut: cutOf({ 1: 11n, 2: 6n }), previous: 'trusted' });
  // The migration onto esx-b came after the trust change in esx-b's partition (the processor's placement alert is for that).
  applyPlacement(state, decision('esx-b', T0 + 150, { source: 'esx-a' }), from(2, 7), RULES);
  assert.deepEqual(alerts(...progressTo(state, { 1: 11n, 2: 8n })), []);
  // Had the trust change been of esx-a, the VM would have been there at its cut.
  const other = emptyWorkloadPartition();
  applyPlacement(other, decision('esx-a', T0), from(1, 10), RULES);
  applyUntrusted(other, { event: untrusted('esx-a', T0 + 100), from: { partition: 1, offset: 11n }, cut: cutOf({ 1: 12n, 2: 6n }), previous: 'trusted' });
  applyPlacement(other, decision('esx-b', T0 + 150, { source: 'esx-a' }), from(2, 7), RULES);
  assert.deepEqual(alerts(...progressTo(other, { 1: 12n, 2: 8n })).map((alert) => alert.payload.details.workloads), [LEDGER.id]);
});

test('a host without sensitive workloads, or one staying untrusted, raises nothing', () => {
  const state = emptyWorkloadPartition();
  applyPlacement(state, decision('esx-a', T0, { vm: WEB }), from(0, 1), RULES);
  applyPlacement(state, decision('esx-b', T0, { vm: LEDGER }), from(0, 2), RULES);
  const outcomes = [
    applyUntrusted(state, { event: untrusted('esx-a', T0 + 10), from: { partition: 0, offset: 3n }, cut: cutOf({ 0: 4n }), previous: 'trusted' }),
    applyUntrusted(state, { event: untrusted('esx-b', T0 + 20), from: { partition: 0, offset: 4n }, cut: cutOf({ 0: 5n }), previous: 'untrusted' }),
    ...progressTo(state, { 0: 5n }),
  ];
  assert.deepEqual(alerts(...outcomes), []);
});

test('placements of one VM from two partitions are ordered by ingest time; in the same millisecond a migration away is the later', () => {
  const state = emptyWorkloadPartition();
  // The migration to esx-b arrives first, then the older placement on esx-a: the VM stays on esx-b.
  applyPlacement(state, decision('esx-b', T0 + 5, { source: 'esx-a' }), from(2, 1), RULES);
  applyPlacement(state, decision('esx-a', T0), from(1, 1), RULES);
  assert.deepEqual(state.vms.get(LEDGER.id)!.placements.map((p) => p.hostId), ['esx-a', 'esx-b']);
  const tie = emptyWorkloadPartition();
  applyPlacement(tie, decision('esx-b', T0, { source: 'esx-a' }), from(2, 1), RULES);
  applyPlacement(tie, decision('esx-a', T0), from(1, 1), RULES);
  assert.equal(tie.vms.get(LEDGER.id)!.placements.at(-1)!.hostId, 'esx-b');
  // A resent decision (same event id) changes nothing.
  assert.deepEqual(applyPlacement(tie, decision('esx-a', T0), from(1, 2), RULES).changed, []);
});

test('a sensitive workload that carries a trusted pool\'s requirement, moved to another pool, raises placement.outside-trusted-pool', () => {
  const state = emptyWorkloadPartition();
  assert.deepEqual(alerts(applyPlacement(state, decision('esx-a', T0), from(0, 1), RULES)), [], 'a first placement has no pool to leave');
  assert.deepEqual(alerts(applyPlacement(state, decision('esx-b', T0 + 10, { source: 'esx-a' }), from(0, 2), RULES)), [], 'same pool');
  // The next decision no longer demands trust: the VM still carries the requirement it was placed with.
  const away = decision('esx-c', T0 + 20, { source: 'esx-b', pool: 'general-purpose', trust: 'any' });
  const [alert, ...rest] = alerts(applyPlacement(state, away, from(0, 3), RULES));
  assert.deepEqual(rest, []);
  assert.equal(alert!.payload.rule, 'placement.outside-trusted-pool');
  assert.equal(alert!.severity, 8);
  assert.equal(alert!.host.id, 'esx-c');
  assert.deepEqual(alert!.payload.relatedEventIds, [away.id]);
  assert.equal(alert!.payload.details.previousPool, 'tcp-gold-fra1');
  assert.equal(alert!.payload.details.pool, 'general-purpose');
  // A workload that is not sensitive may go anywhere.
  applyPlacement(state, decision('esx-a', T0, { vm: WEB }), from(0, 4), RULES);
  assert.deepEqual(alerts(applyPlacement(state, decision('esx-c', T0 + 30, { vm: WEB, source: 'esx-a', pool: 'general-purpose' }), from(0, 5), RULES)), []);
});

test('with processor.trustedPools set, a first placement outside them raises the pool alert', () => {
  const rules = ProcessorRules.parse({ trustedPools: ['tcp-gold-fra1', 'tcp-gold-ber2'] });
  const state = emptyWorkloadPartition();
  assert.deepEqual(alerts(applyPlacement(state, decision('esx-a', T0, { pool: 'tcp-gold-ber2' }), from(0, 1), rules)), []);
  const [alert] = alerts(applyPlacement(emptyWorkloadPartition(), decision('esx-x', T0, { pool: 'lab' }), from(0, 1), rules));
  assert.equal(alert!.payload.details.allowedPools, 'tcp-gold-fra1,tcp-gold-ber2');
});

test('the state and a pending trust change survive the changelog: restored, it is judged the same, under the same alert id', () => {
  const run = (restoreFirst: boolean) => {
    let state = emptyWorkloadPartition();
    const changed = new Set<string>();
    const note = (outcome: Outcome) => {
      for (const key of outcome.changed) changed.add(key);
      return outcome;
    };
    note(applyPlacement(state, decision('esx-a', T0), from(0, 1), RULES));
    note(applyUntrusted(state, { event: untrusted('esx-a', T0 + 10), from: { partition: 0, offset: 2n }, cut: cutOf({ 0: 3n, 4: 9n }), previous: 'trusted' }));
    note(applyProgress(state, 0, 3n));
    if (restoreFirst) {
      const restored = emptyWorkloadPartition();
      for (const key of changed) {
        const record = workloadStateRecord(key, state);
        restoreWorkloadState(restored, record.key, record.value);
      }
      assert.equal(restored.pending.size, 1);
      state = restored;
    }
    return alerts(applyProgress(state, 4, 9n)).map((alert) => alert.id);
  };
  const direct = run(false);
  assert.equal(direct.length, 1);
  assert.deepEqual(run(true), direct);
});

test('records as the processor writes them: placements keyed by VM, an untrusted host and the progress to every partition', () => {
  const decisionEvent = decision('esx-a', T0);
  const change = untrusted('esx-a', T0 + 10);
  const placed = placementRecord('by-workload', decisionEvent, Buffer.from(JSON.stringify(decisionEvent)), from(3, 7));
  assert.equal(placed.key, LEDGER.id);
  assert.equal(placed.partition, undefined, 'partitioned by its key, the VM id');
  const broadcast = untrustedRecords('by-workload', 6, change, Buffer.alloc(0), from(3, 8), [1n, 2n, 3n, 9n, 5n, 6n], 'trusted');
  assert.deepEqual(broadcast.map((record) => record.partition), [0, 1, 2, 3, 4, 5]);
  assert.equal(broadcast[0]!.headers!['trustwire-cut'], '1,2,3,9,5,6');
  const progress = progressRecords('by-workload', 6, 3, 9n);
  assert.deepEqual(progress.map((record) => [record.partition, record.value!.toString()]), [0, 1, 2, 3, 4, 5].map((p) => [p, '3:9']));
  // A record the stage cannot read is an error naming what is wrong, for the dead-letter topic.
  assert.throws(
    () => applyWorkloadRecord(emptyWorkloadPartition(), { topic: 't', partition: 0, offset: '1', key: 'vm-x', value: Buffer.from('nope'), headers: {}, timestamp: '0' } as never, RULES),
    /./,
  );
});
