/**
 * Detections that see the whole fleet, on the real broker with six partitions: one user denied
 * on hosts that live in five different partitions is counted once, by the by-user stage, and
 * raises each of its alerts exactly once; a VM migrated between hosts of two partitions is
 * judged where it runs, by the by-workload stage, whichever partition is faster.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiToken, SCOPES } from '../../src/api/auth.js';
import { Secret } from '../../src/config/secret.js';
import { partitionOfKey } from '../../src/kafka/producer.js';
import { hostsInDistinctPartitions } from '../helpers/fleet-events.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import { startService, type RunningService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, readAll, testConfig } from '../helpers/kafka.js';

const TOKEN = 'fleet-detections-token';
const config = testConfig();
config.kafka.partitions = 6;
let service: RunningService;

before(async () => {
  service = await startService(config, { logger: silentLogger, tokens: [apiToken('collector', SCOPES, { token: new Secret(TOKEN, 'inline') })] });
});
after(async () => {
  await service.close();
  await dropTopics(config);
});


async function post(events: readonly Record<string, unknown>[]): Promise<string[]> {
  const response = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(events.length === 1 ? events[0] : events),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { ids: string[] }).ids;
}

async function hostApi(id: string): Promise<{ workloads: Array<{ id: string }> }> {
  const response = await fetch(`${service.url}/v1/hosts/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { workloads: Array<{ id: string }> };
}

async function enriched(): Promise<CanonicalEvent[]> {
  return (await readAll(config.kafka.topics.enriched, 1)).map((record) => decodeEvent(record.value!));
}
const alertsOf = (events: CanonicalEvent[]) => events.filter((event): event is EventOf<'alert'> => event.type === 'alert');

test('one user denied 5 times on 5 hosts in 5 partitions raises repeated denials and spraying, each exactly once', async () => {
  const hosts = hostsInDistinctPartitions('esx-fleet', 5, config.kafka.partitions);
  assert.equal(new Set(hosts.map((host) => partitionOfKey(host, config.kafka.partitions))).size, 5);
  const base = ingestFixture('admin.action') as { payload: Record<string, unknown> } & Record<string, unknown>;
  const { error: _error, ...payload } = base.payload;
  const t0 = Date.now() - 60_000;
  const ids: string[] = [];
  for (const [i, host] of hosts.entries()) {
    // One request each, as five gateways in front of five hosts would report them.
    const response = await fetch(`${service.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...base, host: { id: host, name: `${host}.dc.example.net` }, time: t0 + i * 1000, payload: { ...payload, user: { id: 'mallory', name: 'mallory' }, outcome: 'denied', target: { type: 'host', id: host } } }),
    });
    assert.equal(response.status, 202, await response.clone().text());
    ids.push(...((await response.json()) as { ids: string[] }).ids);
  }
  const rules = (found: EventOf<'alert'>[]) => found.map((alert) => alert.payload.rule).sort();
  await eventually(async () => rules(alertsOf(await enriched())).length >= 2, 'the fleet-wide alerts', 60_000, 500);
  // Read once more after the pipeline is idle: nothing more comes, nothing twice.
  const all = await enriched();
  // Every posted attempt reached trustwire.enriched exactly once: 5 sent, 5 acknowledged, 5 there, none lost or doubled.
  assert.equal(ids.length, 5);
  assert.deepEqual(all.filter((event) => ids.includes(event.id)).map((event) => event.id).sort(), [...ids].sort());
  const found = alertsOf(all);
  assert.deepEqual(rules(found), ['admin.denial-spraying', 'admin.repeated-denials']);
  for (const alert of found) {
    assert.deepEqual([...alert.payload.relatedEventIds].sort(), [...ids].sort(), `${alert.payload.rule} relates the five attempts`);
    assert.equal(alert.payload.details.user, 'mallory');
  }
  assert.equal(found.find((alert) => alert.payload.rule === 'admin.denial-spraying')!.payload.details.hosts, [...hosts].sort().join(', '));
});

test('a VM migrated between hosts of two partitions: its source turning untrusted raises nothing about it, its target one alert', async () => {
  const [source, target] = hostsInDistinctPartitions('esx-fleet', 6, config.kafka.partitions).slice(-2) as [string, string];
  const vm = { type: 'vm', id: 'vm-fleet-ledger', name: 'fin-ledger-fleet', labels: ['sensitive', 'pci'], requiredTags: {} };
  const decision = ingestFixture('policy.decision') as { payload: Record<string, unknown> } & Record<string, unknown>;
  const trust = ingestFixture('trust.change') as { payload: Record<string, unknown> & { flavors: Array<Record<string, unknown>> } } & Record<string, unknown>;
  const { previousStatus: _previous, ...report } = trust.payload;
  const attest = (host: string, status: 'trusted' | 'untrusted') => ({
    ...trust,
    host: { id: host, pool: 'tcp-gold-fleet' },
    payload: { ...report, status, flavors: status === 'trusted' ? report.flavors.map((flavor) => ({ ...flavor, trusted: true, faults: [] })) : report.flavors },
  });
  const move = (host: string, from?: string) => ({
    ...decision,
    host: { id: host, pool: 'tcp-gold-fleet' },
    payload: {
      ...decision.payload,
      decisionId: `dec-${host}-${from ?? 'new'}`,
      action: from === undefined ? 'vm.place' : 'vm.migrate',
      resource: vm,
      targetHost: { id: host },
      ...(from !== undefined && { sourceHost: { id: from } }),
    },
  });
  // Each step is acknowledged before the next is sent, as the attestation service and the policy proxy would see them happen.
  const ids: string[] = [];
  // The source turns untrusted right after the migration: nothing waits for the target's partition to be processed first.
  for (const step of [attest(source, 'trusted'), attest(target, 'trusted'), move(source), move(target, source), attest(source, 'untrusted')]) ids.push(...(await post([step])));
  await eventually(async () => (await hostApi(target)).workloads.some((w) => w.id === vm.id), 'the VM on its target in /v1/hosts', 60_000, 250);
  assert.deepEqual((await hostApi(source)).workloads, [], 'the source no longer lists the VM');
  const [targetUntrusted] = await post([attest(target, 'untrusted')]);
  ids.push(targetUntrusted!);

  const aboutVm = (events: CanonicalEvent[]) => alertsOf(events).filter((alert) => alert.payload.details.workloads === vm.id || alert.payload.details.workload === vm.id);
  await eventually(async () => aboutVm(await enriched()).length >= 1, 'the alert about the VM on its untrusted target', 60_000, 500);
  const all = await enriched();
  assert.deepEqual(all.filter((event) => ids.includes(event.id)).map((event) => event.id).sort(), [...ids].sort(), 'every posted event once in trustwire.enriched');
  const found = aboutVm(all);
  assert.deepEqual(
    found.map((alert) => [alert.payload.rule, alert.host.id]),
    [['trust.sensitive-workload-on-untrusted-host', target]],
  );
  assert.deepEqual(found[0]!.payload.relatedEventIds[0], targetUntrusted);
  assert.equal(new Set(alertsOf(all).map((alert) => alert.id)).size, alertsOf(all).length, 'no alert twice');
});
