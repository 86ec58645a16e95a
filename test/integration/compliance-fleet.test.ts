/**
 * Compliance on the real broker: config snapshots of a small fleet posted to the service yield
 * the expected assessments in trustwire.enriched, and the compliance API and reports (JSON,
 * CSV, HTML) agree with them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Secret } from '../../src/config/secret.js';
import { followTopic } from '../../src/kafka/reader.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import { startService, type RunningService } from '../../src/service.js';
import { dropTopics, testClient, testConfig } from '../helpers/kafka.js';

const TOKEN = 'fleet-token';
const config = testConfig();
config.compliance.waivers = [
  {
    ruleId: 'esxi-8.password-history',
    scope: { hostId: 'esx-03' },
    justification: 'vendor appliance, tracked in CHG-4411',
    expiresAt: Date.UTC(2099, 0, 1),
    approvedBy: 'ciso@example.net',
  },
];
let service: RunningService;
let stopFollowing: () => Promise<void>;
const enriched: CanonicalEvent[] = [];

before(async () => {
  service = await startService(config, { logger: silentLogger, tokens: [{ name: 'fleet', token: new Secret(TOKEN, 'inline') }] });
  stopFollowing = (await followTopic(testClient(), config.kafka.topics.enriched, (record) => enriched.push(decodeEvent(record.value!)))).stop;
});
after(async () => {
  await stopFollowing();
  await service.close();
  await dropTopics(config);
});

function fixture(name: string, hostId: string, time: number): Record<string, unknown> {
  const { id: _id, ingestTime: _t, enrichment: _e, ...event } = JSON.parse(readFileSync(new URL(`../fixtures/compliance/${name}.json`, import.meta.url), 'utf8'));
  return { ...event, time, host: { id: hostId, name: `${hostId}.dc.example.net`, pool: 'tcp-gold-fra1' } };
}

async function post(events: Record<string, unknown>[]): Promise<string[]> {
  const response = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { ids: string[] }).ids;
}

const assessments = () => enriched.filter((e): e is EventOf<'compliance.assessment'> => e.type === 'compliance.assessment');

test('snapshots of a small fleet yield the expected assessments in trustwire.enriched', async () => {
  const t0 = Date.UTC(2026, 10, 26, 6, 0, 0);
  const untrusted = JSON.parse(readFileSync(new URL('../fixtures/events/trust.change.json', import.meta.url), 'utf8'));
  const { id: _i, ingestTime: _t, enrichment: _e, ...attestation } = untrusted;
  await post([{ ...attestation, host: { id: 'esx-04' }, time: t0 }]);
  const snapshots = await post([
    fixture('esxi-8-hardened', 'esx-01', t0 + 1000),
    fixture('esxi-8-default-install', 'esx-02', t0 + 2000),
    fixture('esxi-8-default-install', 'esx-03', t0 + 3000),
    fixture('esxi-8-hardened', 'esx-04', t0 + 4000),
    fixture('linux-kvm', 'kvm-01', t0 + 5000),
  ]);
  for (let waited = 0; assessments().length < 5 && waited < 30_000; waited += 100) await sleep(100);
  await sleep(500);

  const byHost = new Map(assessments().map((a) => [a.host.id, a]));
  assert.equal(assessments().length, 5, 'one assessment per snapshot, nothing twice');
  assert.deepEqual(
    [...byHost.values()].map((a) => a.payload.snapshotEventId).sort(),
    [...snapshots].sort(),
  );
  assert.equal(byHost.get('esx-01')!.payload.compliant, true);
  assert.equal(byHost.get('esx-01')!.payload.score, 100);
  assert.equal(byHost.get('esx-02')!.payload.compliant, false);
  assert.equal(byHost.get('esx-02')!.payload.score, 46.9);
  assert.equal(byHost.get('esx-03')!.payload.counts.waived, 1, 'the waiver for esx-03 applied');
  assert.ok(byHost.get('esx-03')!.payload.score > byHost.get('esx-02')!.payload.score);
  assert.equal(byHost.get('esx-03')!.payload.scoreWithoutWaivers, byHost.get('esx-02')!.payload.score);
  assert.deepEqual(byHost.get('esx-04')!.payload.trustGate, { applied: true, trustStatus: 'untrusted' });
  assert.equal(byHost.get('esx-04')!.payload.compliant, false, 'untrusted: never compliant');
  assert.equal(byHost.get('kvm-01')!.payload.templateId, 'linux-kvm-cis');
  const thresholdAlerts = enriched.filter((e) => e.type === 'alert' && e.payload.rule === 'compliance.below-threshold').map((e) => e.host.id);
  assert.deepEqual(thresholdAlerts.sort(), ['esx-02', 'esx-03', 'esx-04']);
});
