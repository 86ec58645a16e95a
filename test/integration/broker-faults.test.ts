/**
 * The broker going away under a running service, on a broker of the test's own: readiness says
 * so within seconds, ingest answers 503 within its bound, and under steady ingest with client
 * retries across three SIGKILLs every id answered 202 reaches trustwire.events and, once only,
 * trustwire.enriched.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Secret } from '../../src/config/secret.js';
import { createKafkaClient } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { adminActionIds, steadyIngest, tally } from '../helpers/ingest-load.js';
import { testConfig } from '../helpers/kafka.js';
import { startOwnBroker, type OwnBroker } from '../helpers/own-broker.js';
import { apiToken, SCOPES } from '../../src/api/auth.js';

const TOKEN = 'broker-faults-token-0123456789';
let broker: OwnBroker;
let service: RunningService;
const config = testConfig();

before(async () => {
  // Below the ephemeral port range, which outgoing connections of the tests beside draw from.
  broker = await startOwnBroker(28492);
  config.kafka.brokers = broker.brokers;
  config.kafka.partitions = 3;
  config.processor.sessionTimeoutMs = 6000;
  config.runtime.sessionTimeoutMs = 6000;
  service = await startService(config, { logger: process.env.FAULT_LOG ? pino({ level: 'debug' }, pino.destination(process.env.FAULT_LOG)) : silentLogger, tokens: [apiToken('collector', SCOPES, { token: new Secret(TOKEN, 'inline') })] });
});

after(async () => {
  await service?.close();
  await broker?.destroy();
});

async function readyz(): Promise<{ status: number; body: { components: Array<{ component: string; ready: boolean; cause?: string }> } }> {
  const response = await fetch(`${service.url}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

let sequence = 0;
function events(count: number): Array<Record<string, unknown>> {
  return Array.from({ length: count }, () => {
    const n = sequence++;
    return { ...ingestFixture('admin.action'), id: `019ac1a2-0bf0-7000-8000-${String(n).padStart(12, '0')}`, host: { id: `esx-${n % 30}` } };
  });
}

async function post(batch: Array<Record<string, unknown>>): Promise<Response> {
  return fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(batch),
    signal: AbortSignal.timeout(30_000),
  });
}

test('readiness turns 503 within 10 s of the broker going away, ingest answers 503 within its bound, and 200 comes back within 10 s of its return', async (t) => {
  await eventually(async () => (await readyz()).status === 200, 'ready before the fault');

  await broker.kill();
  const killed = Date.now();
  await eventually(async () => (await readyz()).status === 503, 'readyz 503 after the broker died', 10_000, 200);
  const notReadyAfter = Date.now() - killed;
  const { body } = await readyz();
  assert.ok(body.components.some((c) => c.component === 'kafka' && !c.ready && /unreachable/.test(c.cause ?? '')), JSON.stringify(body.components));

  const started = Date.now();
  const refused = await post(events(5));
  const answeredIn = Date.now() - started;
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.ok(answeredIn < config.http.ackTimeoutMs + 1500, `ingest answered in ${answeredIn} ms, past its ${config.http.ackTimeoutMs} ms bound`);

  await broker.restart();
  const back = Date.now();
  let last = '';
  await eventually(async () => {
    const answer = await readyz();
    last = JSON.stringify(answer.body.components.filter((c) => !c.ready));
    return answer.status === 200;
  }, 'readyz 200 after the broker came back', 10_000, 200).catch((error: Error) => {
    throw new Error(`${error.message}; not ready: ${last}`);
  });
  t.diagnostic(`not ready ${notReadyAfter} ms after the kill; ingest 503 in ${answeredIn} ms; ready ${Date.now() - back} ms after the restart`);
});

test('steady ingest with client retries across three broker SIGKILLs: every id answered 202 is on trustwire.events and once on trustwire.enriched', async (t) => {
  const load = steadyIngest(service.url, TOKEN, { prefix: '0bf1' });
  const recoveries: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = load.acknowledged.size;
    await eventually(() => load.acknowledged.size >= before + 200, `ingest flowing before kill ${round + 1}`, 30_000);
    await broker.kill();
    await new Promise((resolve) => setTimeout(resolve, 2000)); // the outage, held for a set time
    await broker.restart();
    const back = Date.now();
    const after = load.acknowledged.size;
    await eventually(() => load.acknowledged.size >= after + 100, `ingest acknowledged again after restart ${round + 1}`, 60_000);
    recoveries.push(Date.now() - back);
  }
  await load.stop();

  const client = createKafkaClient({ brokers: broker.brokers, clientId: 'broker-faults-check' }, silentLogger);
  const acknowledged = load.acknowledged;
  const raw = tally(acknowledged, await adminActionIds(client, config.kafka.topics.events, acknowledged.size));
  const enriched = tally(acknowledged, await adminActionIds(client, config.kafka.topics.enriched, acknowledged.size));
  t.diagnostic(
    `acknowledged ${acknowledged.size}, client retries ${load.retries()}, on events ${raw.distinct}, on enriched ${enriched.distinct}, lost ${enriched.lost.length}, duplicated ${enriched.duplicated}, recovery after restart (ms) ${recoveries.join(', ')}`,
  );
  assert.deepEqual(raw.lost, [], 'every id answered 202 is on trustwire.events');
  assert.deepEqual(enriched.lost, [], 'every id answered 202 is on trustwire.enriched');
  assert.equal(enriched.duplicated, 0, 'no id twice on trustwire.enriched (read_committed)');
});
