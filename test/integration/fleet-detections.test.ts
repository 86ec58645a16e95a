/**
 * Detections that see the whole fleet, on the real broker with six partitions: one user denied
 * on hosts that live in five different partitions is counted once, by the by-user stage, and
 * raises each of its alerts exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiToken, SCOPES } from '../../src/api/auth.js';
import { Secret } from '../../src/config/secret.js';
import { partitionOfKey } from '../../src/kafka/producer.js';
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

/** Host ids whose events land on `count` different partitions of the events topic, one each. */
function hostsInDistinctPartitions(count: number): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < count; i++) {
    const host = `esx-fleet-${i}`;
    const partition = partitionOfKey(host, config.kafka.partitions);
    if (!byPartition.has(partition)) byPartition.set(partition, host);
  }
  return [...byPartition.values()];
}

async function enriched(): Promise<CanonicalEvent[]> {
  return (await readAll(config.kafka.topics.enriched, 1)).map((record) => decodeEvent(record.value!));
}
const alertsOf = (events: CanonicalEvent[]) => events.filter((event): event is EventOf<'alert'> => event.type === 'alert');

test('one user denied 5 times on 5 hosts in 5 partitions raises repeated denials and spraying, each exactly once', async () => {
  const hosts = hostsInDistinctPartitions(5);
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
