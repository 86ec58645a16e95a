/**
 * A trusted-compute pool's day, played through the whole service on the real broker: events
 * posted to POST /v1/events, processed, and checked on trustwire.enriched event by event.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret } from '../../src/config/secret.js';
import { followTopic } from '../../src/kafka/reader.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import { startService, type RunningService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, pipelineAtEnd, readToEnd, testClient, testConfig } from '../helpers/kafka.js';
import { apiToken, SCOPES } from '../../src/api/auth.js';

const TOKEN = 'scenario-token';
const READER = { headers: { authorization: `Bearer ${TOKEN}` } };
const config = testConfig();
config.processor.deniedAttempts = { threshold: 3, windowMs: 10 * 60_000 };
let service: RunningService;
let stopFollowing: () => Promise<void>;
const enriched: CanonicalEvent[] = [];
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
let clock = T0;

before(async () => {
  service = await startService(config, { logger: silentLogger, tokens: [apiToken('scenario', SCOPES, { token: new Secret(TOKEN, 'inline') })] });
  const following = await followTopic(testClient(), config.kafka.topics.enriched, (record) => enriched.push(decodeEvent(record.value!)));
  stopFollowing = following.stop;
});
after(async () => {
  await stopFollowing();
  await service.close();
  await dropTopics(config);
});

/** Posts one event and waits until the processor wrote it (and what it raised) to trustwire.enriched. */
async function play(event: Record<string, unknown>): Promise<{ event: CanonicalEvent; alerts: EventOf<'alert'>[] }> {
  clock += 60_000;
  const response = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...event, time: clock }),
  });
  assert.equal(response.status, 202, await response.clone().text());
  const [id] = ((await response.json()) as { ids: string[] }).ids;
  await eventually(() => enriched.some((e) => e.id === id), `event ${id} on ${config.kafka.topics.enriched}`);
  // The processor writes an event and the alerts it raised in one transaction: once the event is
  // read (read_committed), everything up to the topic's end is decided. Read to that end.
  const written = (await readToEnd(config.kafka.topics.enriched)).map((record) => decodeEvent(record.value!));
  const out = written.find((e) => e.id === id)!;
  const alerts = written.filter((e): e is EventOf<'alert'> => e.type === 'alert' && e.payload.relatedEventIds.includes(id!));
  return { event: out, alerts };
}

async function host(id: string): Promise<Record<string, any>> {
  const response = await fetch(`${service.url}/v1/hosts/${id}`, READER);
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, any>;
}

const attestation = (hostId: string, status: 'trusted' | 'untrusted', country: string, faults: object[] = []) => {
  const base = ingestFixture('trust.change') as any;
  return {
    ...base,
    host: { id: hostId, pool: 'tcp-gold-fra1' },
    payload: {
      ...base.payload,
      previousStatus: undefined,
      status,
      assetTags: { country, site: `${country}-1` },
      flavors: [{ kind: 'PLATFORM', trusted: faults.length === 0, faults }],
    },
  };
};
const placement = (hostId: string, vm: { id: string; labels?: string[]; requiredTags?: Record<string, string> }, action = 'vm.place', sourceHost?: string) => {
  const base = ingestFixture('policy.decision') as any;
  return {
    ...base,
    host: { id: hostId },
    payload: {
      ...base.payload,
      decisionId: `dec-${vm.id}-${action}`,
      action,
      decision: 'permit',
      resource: { type: 'vm', id: vm.id, name: vm.id, labels: vm.labels ?? [], requiredTags: vm.requiredTags ?? {} },
      targetHost: { id: hostId },
      ...(sourceHost && { sourceHost: { id: sourceHost } }),
    },
  };
};
const admin = (hostId: string, user: string, outcome: string, target = { type: 'host', id: hostId }) => {
  const base = ingestFixture('admin.action') as any;
  return { ...base, host: { id: hostId }, payload: { ...base.payload, user: { id: user }, target, outcome } };
};

const PCR0 = { name: 'PcrValueMismatchSHA256', pcrIndex: 0, pcrBank: 'SHA256', expected: 'a'.repeat(64), actual: 'b'.repeat(64) };
const LEDGER = { id: 'vm-ledger', labels: ['sensitive'], requiredTags: { country: 'DE' } };

test('a pool day: enrichment right at every step, exactly the expected alerts, nothing twice', async () => {
  // Morning: three hosts attest trusted.
  for (const [id, country] of [
    ['esx-01', 'DE'],
    ['esx-02', 'DE'],
    ['esx-03', 'FR'],
  ] as const) {
    const { event, alerts } = await play(attestation(id, 'trusted', country));
    assert.deepEqual(event.enrichment?.trust, { status: 'trusted', since: event.time, attestationService: 'intel-secl-hvs', faultCount: 0 });
    assert.equal(event.enrichment?.geolocation?.country, country);
    assert.deepEqual(alerts, []);
  }

  // VMs are placed; one moves to another host.
  let step = await play(placement('esx-01', LEDGER));
  assert.equal(step.event.enrichment?.hostId, 'esx-01');
  assert.equal(step.event.enrichment?.trust.status, 'trusted');
  assert.deepEqual(step.alerts, []);
  assert.deepEqual((await play(placement('esx-01', { id: 'vm-web' }))).alerts, []);
  step = await play(placement('esx-02', { id: 'vm-web' }, 'vm.migrate', 'esx-01'));
  assert.equal(step.event.enrichment?.hostId, 'esx-02');
  // The fleet-wide view trails the processor by a fetch; wait for it before a cross-partition step.
  await eventually(async () => (await host('esx-02')).workloads.some((w: { id: string }) => w.id === 'vm-web'), 'vm-web on esx-02 in /v1/hosts/esx-02', 15_000);

  // esx-01's PCR 0 stops matching: one alert, naming the sensitive VM that still runs there.
  step = await play(attestation('esx-01', 'untrusted', 'DE', [PCR0]));
  assert.equal(step.event.enrichment?.trust.status, 'untrusted');
  assert.equal(step.event.enrichment?.trust.faultCount, 1);
  assert.deepEqual(
    step.alerts.map((a) => [a.payload.rule, a.payload.details.workloads]),
    [['trust.sensitive-workload-on-untrusted-host', 'vm-ledger']],
  );
  assert.equal(step.alerts[0]!.enrichment?.trust.status, 'untrusted');

  // Placements the policy should not have permitted.
  step = await play(placement('esx-01', { id: 'vm-batch' }));
  assert.deepEqual(
    step.alerts.map((a) => a.payload.rule),
    ['placement.onto-untrusted-host'],
  );
  step = await play(placement('esx-03', { id: 'vm-hr', labels: ['sensitive'], requiredTags: { country: 'DE' } }));
  assert.deepEqual(
    step.alerts.map((a) => a.payload.rule),
    ['placement.asset-tag-mismatch'],
  );
  assert.equal(step.event.enrichment?.trust.status, 'trusted');

  // Admin actions on the untrusted host, directly and through a VM it runs.
  step = await play(admin('esx-01', 'ops-anna', 'success'));
  assert.deepEqual(
    step.alerts.map((a) => a.payload.rule),
    ['admin.success-on-untrusted-host'],
  );
  step = await play(admin('esx-02', 'ops-anna', 'success', { type: 'vm', id: 'vm-ledger' }));
  assert.equal(step.event.enrichment?.hostId, 'esx-01', "a VM event is enriched with the state of the VM's host");
  assert.equal(step.event.enrichment?.trust.status, 'untrusted');
  assert.deepEqual(
    step.alerts.map((a) => a.payload.rule),
    ['admin.success-on-untrusted-host'],
  );

  // A user hammering denied requests: one alert, at the third, from the by-user stage (fleet-wide).
  const denials = [];
  for (let i = 0; i < 4; i++) denials.push(await play(admin('esx-02', 'mallory', 'denied')));
  await eventually(() => enriched.some((e) => e.type === 'alert' && e.payload.rule === 'admin.repeated-denials'), 'the repeated-denials alert');
  const repeated = enriched.filter((e): e is EventOf<'alert'> => e.type === 'alert' && e.payload.rule === 'admin.repeated-denials');
  assert.deepEqual(
    repeated.map((alert) => alert.payload.relatedEventIds),
    [denials.slice(0, 3).map((d) => d.event.id)],
  );

  // Nothing twice, nothing more: once every stage has consumed all it was given, the whole topic to its high watermark.
  await eventually(() => pipelineAtEnd(config), 'the processor and its stages at the end of their input topics');
  const written = (await readToEnd(config.kafka.topics.enriched)).map((record) => decodeEvent(record.value!));
  const ids = written.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'no event or alert written twice');
  assert.deepEqual(
    written
      .filter((e) => e.type === 'alert')
      .map((e) => (e as EventOf<'alert'>).payload.rule)
      .sort(),
    [
      'admin.repeated-denials',
      'admin.success-on-untrusted-host',
      'admin.success-on-untrusted-host',
      'placement.asset-tag-mismatch',
      'placement.onto-untrusted-host',
      'trust.sensitive-workload-on-untrusted-host',
    ],
  );
  assert.equal(written.length, 15 + 6, '15 inputs, 6 alerts');
});

test('GET /v1/hosts and /v1/hosts/:id serve trust, faults, tags, workloads', async () => {
  const list = (await (await fetch(`${service.url}/v1/hosts?trust=untrusted`, READER)).json()) as { hosts: Array<Record<string, any>> };
  assert.deepEqual(
    list.hosts.map((h) => [h.hostId, h.trust.status, h.trust.faultCount]),
    [['esx-01', 'untrusted', 1]],
  );
  const esx01 = await host('esx-01');
  assert.equal(esx01.trust.faults[0].pcrIndex, 0);
  assert.equal(esx01.trust.faults[0].flavor, 'PLATFORM');
  assert.deepEqual(esx01.assetTags, { country: 'DE', site: 'DE-1' });
  assert.deepEqual(esx01.workloads.map((w: { id: string }) => w.id).sort(), ['vm-batch', 'vm-ledger']);
  const all = (await (await fetch(`${service.url}/v1/hosts`, READER)).json()) as { hosts: unknown[] };
  assert.equal(all.hosts.length, 3);
  assert.equal((await fetch(`${service.url}/v1/hosts/esx-99`, READER)).status, 404);
});
