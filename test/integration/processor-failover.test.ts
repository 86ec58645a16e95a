/**
 * Fail-over under a running stream: two `trustwire processor` processes share the events
 * topic's six partitions; each in turn is SIGKILLed and started again, five kills in all, while
 * events of many hosts keep coming. trustwire.enriched, read with read_committed as the sinks
 * read it, must hold every input event exactly once. The fleet-wide detections run in the same
 * killed processes: a migration, its source and then its target turning untrusted, and one user
 * denied on five hosts, each step sent while a processor is down, raise exactly their alerts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createProducer } from '../../src/ingest/producer.js';
import { hostsInDistinctPartitions } from '../helpers/fleet-events.js';
import { decodeEvent } from '../../src/model/avro.js';
import type { EventOf } from '../../src/model/events.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { FailoverRig } from '../helpers/processor-workers.js';
import { readAll, testClient, testConfig } from '../helpers/kafka.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { trustwireTopics } from '../../src/service.js';

const KILLS = 5;
const config = testConfig();
config.kafka.partitions = 6;
const rig = new FailoverRig(config);

after(() => rig.close());


const TRUST = ingestFixture('trust.change') as { payload: Record<string, unknown> & { flavors: Array<Record<string, unknown>> } } & Record<string, unknown>;
const DECISION = ingestFixture('policy.decision') as { payload: Record<string, unknown> } & Record<string, unknown>;
const ADMIN = ingestFixture('admin.action') as { payload: Record<string, unknown> } & Record<string, unknown>;
const SCENARIO_VM = { type: 'vm', id: 'vm-failover-ledger', name: 'fin-ledger-failover', labels: ['sensitive'], requiredTags: {} };

function attest(host: string, status: 'trusted' | 'untrusted') {
  const { previousStatus: _previous, ...report } = TRUST.payload;
  return { ...TRUST, host: { id: host }, payload: { ...report, status, flavors: status === 'trusted' ? report.flavors.map((flavor) => ({ ...flavor, trusted: true, faults: [] })) : report.flavors } };
}
function move(host: string, from?: string) {
  return {
    ...DECISION,
    host: { id: host },
    payload: { ...DECISION.payload, decisionId: `dec-failover-${host}`, action: from === undefined ? 'vm.place' : 'vm.migrate', resource: SCENARIO_VM, targetHost: { id: host }, ...(from !== undefined && { sourceHost: { id: from } }) },
  };
}
function denied(host: string) {
  const { error: _error, ...payload } = ADMIN.payload;
  return { ...ADMIN, host: { id: host }, payload: { ...payload, user: { id: 'mallory-failover' }, outcome: 'denied', target: { type: 'host', id: host } } };
}

test('two processors SIGKILLed alternately five times: none lost, none duplicated in trustwire.enriched', { timeout: 10 * 60_000 }, async (t) => {
  const [source, target] = hostsInDistinctPartitions('failover-esx', 2, config.kafka.partitions) as [string, string];
  const gateways = hostsInDistinctPartitions('failover-gw', 5, config.kafka.partitions);
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  const producer = await createProducer({ brokers: config.kafka.brokers, topic: config.kafka.topics.events });
  const sent: Record<string, string[]> = {};
  // One event per send, each acknowledged before the next, as separate reporters would see them happen.
  const step = async (name: string, events: Record<string, unknown>[]) => {
    sent[name] = [];
    for (const event of events) sent[name]!.push(...(await producer.send([event] as never)).ids);
  };
  await step('setup', [attest(source, 'trusted'), attest(target, 'trusted'), move(source)]);
  const steps = [
    () => step('migration, then its source untrusted', [move(target, source), attest(source, 'untrusted')]),
    () => step('target untrusted', [attest(target, 'untrusted')]),
    () => step('denials', gateways.map(denied)),
  ];
  const report = await rig
    .run({ kills: KILLS, hosts: 60, perRound: 20, paceMs: 100, say: (line) => t.diagnostic(line), afterKill: async (k) => steps[k]?.(), alsoSent: () => Object.values(sent).flat() })
    .finally(() => producer.close());
  t.diagnostic(`stream of ${(report.streamMs / 1000).toFixed(0)} s`);
  FailoverRig.assertExactlyOnce(report, KILLS);

  // The by-user stage ran in the same killed processes: its fleet-wide alerts came, none twice,
  // and no denied attempt was counted in two alerts of one rule.
  const alerts = (await readAll(config.kafka.topics.enriched, 1))
    .map((record) => decodeEvent(record.value!))
    .filter((event): event is EventOf<'alert'> => event.type === 'alert');
  const ids = alerts.map((alert) => alert.id);
  assert.equal(new Set(ids).size, ids.length, 'no alert twice');
  for (const rule of ['admin.repeated-denials', 'admin.denial-spraying']) {
    const raised = alerts.filter((alert) => alert.payload.rule === rule);
    assert.ok(raised.length > 0, `${rule} raised across the fleet`);
    const counted = raised.flatMap((alert) => alert.payload.relatedEventIds);
    assert.equal(new Set(counted).size, counted.length, `no attempt in two ${rule} alerts`);
    t.diagnostic(`${rule}: ${raised.length} alerts over ${counted.length} attempts`);
  }
  const sensitive = alerts.filter((alert) => alert.payload.rule === 'trust.sensitive-workload-on-untrusted-host');
  assert.ok(sensitive.some((alert) => alert.host.id.startsWith('host-')), 'the stream\'s migrated VMs raised sensitive-workload alerts too');

  // The scenario, each step sent while a processor was down: every event once, exactly its alerts.
  const scenarioIds = Object.values(sent).flat();
  const enriched = (await readAll(config.kafka.topics.enriched, 1)).map((record) => decodeEvent(record.value!));
  assert.deepEqual(enriched.filter((event) => scenarioIds.includes(event.id)).map((event) => event.id).sort(), [...scenarioIds].sort(), 'every scenario event once in trustwire.enriched');
  const aboutVm = alerts.filter((alert) => alert.payload.details.workloads === SCENARIO_VM.id || alert.payload.details.workload === SCENARIO_VM.id);
  assert.deepEqual(aboutVm.map((alert) => [alert.payload.rule, alert.host.id]), [['trust.sensitive-workload-on-untrusted-host', target]], 'no alert for the source the VM had left, one for its target');
  assert.equal(aboutVm[0]!.payload.relatedEventIds[0], sent['target untrusted']![0]);
  const mallory = alerts.filter((alert) => alert.payload.details.user === 'mallory-failover');
  assert.deepEqual(mallory.map((alert) => alert.payload.rule).sort(), ['admin.denial-spraying', 'admin.repeated-denials']);
  for (const alert of mallory) assert.deepEqual([...alert.payload.relatedEventIds].sort(), [...sent.denials!].sort());
});
