import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret } from '../../src/config/secret.js';
import { TYPE_HEADER, VALIDATED_HEADER } from '../../src/kafka/event-headers.js';
import { decodeEvent } from '../../src/model/avro.js';
import { INGESTIBLE_TYPES, IngestEvent } from '../../src/model/events.js';
import { silentLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { ingestFixture, readFixture } from '../helpers/fixtures.js';
import { eventually } from '../helpers/eventually.js';
import { dropTopics, readAll, testConfig } from '../helpers/kafka.js';
import { apiToken, SCOPES } from '../../src/api/auth.js';

const TOKEN = 'test-token-9f2c';
const config = testConfig();
config.http.bodyLimitBytes = 64 * 1024;
config.http.maxEventsPerRequest = 50;
let service: RunningService;
const produced: string[] = [];
const adapted: string[] = [];

function post(body: string, headers: Record<string, string> = {}) {
  return fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

before(async () => {
  service = await startService(config, { logger: silentLogger, tokens: [apiToken('collector', SCOPES, { token: new Secret(TOKEN, 'inline') })] });
});
after(async () => {
  await service.close();
  await dropTopics(config);
});

describe('POST /v1/events accepts', () => {
  test('one event, answered 202 with its id once Kafka has it', async () => {
    const response = await post(JSON.stringify(ingestFixture('trust.change')));
    assert.equal(response.status, 202);
    const body = (await response.json()) as { accepted: number; ids: string[] };
    assert.equal(body.accepted, 1);
    assert.match(body.ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    produced.push(...body.ids);
  });

  test('a JSON array of every ingestible kind', async () => {
    const response = await post(JSON.stringify(INGESTIBLE_TYPES.map(ingestFixture)));
    assert.equal(response.status, 202);
    const body = (await response.json()) as { ids: string[] };
    assert.equal(body.ids.length, INGESTIBLE_TYPES.length);
    produced.push(...body.ids);
  });

  test('NDJSON, blank lines ignored, keeping an id the reporter chose', async () => {
    const own = { ...ingestFixture('admin.action'), id: '01JDQ9Z1X6V5T0R3N8M2K4H7G9' };
    const ndjson = `${JSON.stringify(own)}\n\n${JSON.stringify(ingestFixture('policy.decision'))}\n`;
    const response = await post(ndjson, { 'content-type': 'application/x-ndjson' });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { ids: string[] };
    assert.equal(body.ids.length, 2);
    assert.equal(body.ids[0], own.id);
    produced.push(...body.ids);
  });
});

describe('POST /v1/adapters/:name takes attestation services\' own documents', () => {
  const postAdapter = (name: string, body: string) =>
    fetch(`${service.url}/v1/adapters/${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    });

  test('a Keylime revocation webhook: 202, and a resend of the same notification keeps its id', async () => {
    const body = readFixture('adapters/keylime-pcr-mismatch.json');
    const first = (await (await postAdapter('keylime', body)).json()) as { ids: string[] };
    const again = (await (await postAdapter('keylime', body)).json()) as { ids: string[] };
    assert.equal(first.ids.length, 1);
    assert.deepEqual(again.ids, first.ids, 'the SIEM can de-duplicate the resend');
    produced.push(...first.ids, ...again.ids);
    adapted.push(first.ids[0]!);
  });

  test('Intel SecL HVS reports, one or several', async () => {
    const one = await postAdapter('intel-secl-hvs', readFixture('adapters/hvs-report-untrusted-platform-pcr0.json'));
    assert.equal(one.status, 202);
    const two = await postAdapter(
      'intel-secl-hvs',
      `[${readFixture('adapters/hvs-report-trusted-asset-tags.json')}, ${readFixture('adapters/hvs-report-v3-untrusted-os-pcr17.json')}]`,
    );
    assert.equal(two.status, 202);
    const ids = [...((await one.json()) as { ids: string[] }).ids, ...((await two.json()) as { ids: string[] }).ids];
    assert.equal(ids.length, 3);
    produced.push(...ids);
  });

  test('a broken report is refused with the path in the document that was sent', async () => {
    const report = JSON.parse(readFixture('adapters/hvs-report-trusted-asset-tags.json'));
    delete report.trust_information.OVERALL;
    const response = await postAdapter('intel-secl-hvs', JSON.stringify([JSON.parse(readFixture('adapters/hvs-report-untrusted-platform-pcr0.json')), report]));
    assert.equal(response.status, 400);
    const answer = (await response.json()) as { details: Array<{ path: string }> };
    assert.deepEqual(
      answer.details.map((d) => d.path),
      ['[1].trust_information.OVERALL'],
    );
  });

  test('an unknown adapter: 404 naming the ones there are', async () => {
    const response = await postAdapter('tpm-magic', '{}');
    assert.equal(response.status, 404);
    assert.match(((await response.json()) as { error: string }).error, /keylime, intel-secl-hvs/);
  });
});

describe('POST /v1/events refuses, naming the field and the reason', () => {
  const cases: Array<[string, () => string, string, RegExp]> = [
    ['a wrong type', () => JSON.stringify({ ...ingestFixture('admin.action'), severity: 'high' }), 'severity', /expected number/],
    ['a missing field', () => JSON.stringify(without(ingestFixture('trust.change'), 'host')), 'host', /expected object/],
    [
      'a bad enum',
      () => JSON.stringify(withPayload(ingestFixture('admin.action'), { outcome: 'maybe' })),
      'payload.outcome',
      /expected one of "success"\|"denied"\|"failed"/,
    ],
    ['a bad timestamp', () => JSON.stringify({ ...ingestFixture('trust.change'), time: '26/11/2026 10:00' }), 'time', /RFC 3339/],
    ['an unknown kind', () => JSON.stringify({ ...ingestFixture('trust.change'), type: 'trust.maybe' }), 'type', /unknown event type "trust.maybe"/],
    ['a derived kind', () => JSON.stringify({ ...ingestFixture('trust.change'), type: 'alert' }), 'type', /derived by trustwire/],
    ['an unknown field', () => JSON.stringify({ ...ingestFixture('trust.change'), sevrity: 3 }), 'sevrity', /unknown field/],
    ['not JSON', () => '{"type": "trust.change",', '(body)', /not JSON/],
    ['an empty body', () => '', '(body)', /body is empty/],
  ];
  for (const [name, body, path, message] of cases) {
    test(name, async () => {
      const response = await post(body());
      assert.equal(response.status, 400);
      const answer = (await response.json()) as { error: string; details: Array<{ path: string; message: string }> };
      const detail = answer.details.find((d) => d.path === path);
      assert.ok(detail, `no detail for ${path} in ${JSON.stringify(answer.details)}`);
      assert.match(detail.message, message);
    });
  }

  test('a batch with one bad event: every error listed with its item and line, nothing produced', async () => {
    const good = JSON.stringify(ingestFixture('trust.change'));
    const bad = JSON.stringify({ ...ingestFixture('admin.action'), severity: 42 });
    const syntax = await post(`${good}\n${bad}\n${good}\n{oops\n`, { 'content-type': 'application/x-ndjson' });
    assert.equal(syntax.status, 400);
    const syntaxAnswer = (await syntax.json()) as { details: Array<{ path: string; line?: number }> };
    assert.deepEqual(
      syntaxAnswer.details.map((d) => d.line),
      [4],
    );
    const response = await post(`${good}\n${bad}\n`, { 'content-type': 'application/x-ndjson' });
    const answer = (await response.json()) as { error: string; details: unknown[] };
    assert.equal(response.status, 400);
    assert.match(answer.error, /nothing was ingested/);
    assert.deepEqual(answer.details, [{ path: 'severity', message: 'Too big: expected number to be <=10', index: 1, line: 2 }]);
  });

  test('no bearer token: 401', async () => {
    const response = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="trustwire"');
  });

  test('a wrong bearer token: 401, and the token is not echoed', async () => {
    const response = await post(JSON.stringify(ingestFixture('trust.change')), { authorization: 'Bearer not-the-token' });
    assert.equal(response.status, 401);
    assert.doesNotMatch(await response.text(), /not-the-token/);
  });

  test('a body over the size limit: 413', async () => {
    const response = await post(JSON.stringify({ pad: 'x'.repeat(70 * 1024) }));
    assert.equal(response.status, 413);
    assert.match(((await response.json()) as { error: string }).error, /larger than 65536 bytes/);
  });

  test('more events than a request may carry: 413', async () => {
    const response = await post(JSON.stringify(Array.from({ length: 51 }, () => ingestFixture('admin.action'))));
    assert.equal(response.status, 413);
  });

  test('a content type other than JSON or NDJSON: 415', async () => {
    const response = await post(JSON.stringify(ingestFixture('trust.change')), { 'content-type': 'text/plain' });
    assert.equal(response.status, 415);
  });
});

test('the events topic holds exactly the accepted events, keyed by host id, decodable', async () => {
  const records = await readAll(config.kafka.topics.events, produced.length);
  const events = records.map((record) => ({ record, event: decodeEvent(record.value!) }));
  assert.deepEqual(events.map(({ event }) => event.id).sort(), [...produced].sort(), 'refused requests produced nothing');
  assert.equal(events.length, produced.length);
  for (const { record, event } of events) {
    assert.equal(record.key, event.host.id);
    assert.equal(record.headers[TYPE_HEADER], event.type);
    assert.equal(record.headers[VALIDATED_HEADER], '1', 'ingest says the event passed the contract, so the processor does not check it again');
  }
  const first = events.find(({ event }) => event.id === produced[0])!.event;
  const { id: _id, ingestTime, ...rest } = first;
  assert.ok(Math.abs(ingestTime - Date.now()) < 120_000, 'ingestTime is when trustwire took the event');
  assert.deepEqual(rest, IngestEvent.parse(ingestFixture('trust.change')));

  const keylime = events.find(({ event }) => event.id === adapted[0])!.event;
  assert.equal(keylime.type, 'trust.change');
  assert.equal(keylime.type === 'trust.change' && keylime.payload.status, 'untrusted');
  assert.equal(keylime.type === 'trust.change' && keylime.payload.attestationService, 'keylime');
});

test('health and readiness: every component listed, each doing its work', async () => {
  assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  let body: { status: string; components: Array<{ component: string; state: string; ready: boolean }> } = { status: '', components: [] };
  await eventually(async () => {
    const response = await fetch(`${service.url}/readyz`);
    body = (await response.json()) as typeof body;
    return response.status === 200;
  }, 'readyz to answer 200');
  assert.equal(body.status, 'ready');
  assert.deepEqual(
    body.components.map((c) => c.component).sort(),
    ['activity view', 'by-user stage', 'by-workload stage', 'compliance view', 'host-state view', 'ingest', 'kafka', 'processor', 'workload-state view'],
  );
  assert.ok(body.components.every((c) => c.ready && c.state === 'running'), JSON.stringify(body.components));
});

function without(event: Record<string, unknown>, key: string) {
  const { [key]: _drop, ...rest } = event;
  return rest;
}
function withPayload(event: Record<string, unknown>, patch: Record<string, unknown>) {
  return { ...event, payload: { ...(event.payload as object), ...patch } };
}

test('Kafka not acknowledging (the events topic is gone): 503 with Retry-After, and the reason', async () => {
  const lonely = testConfig();
  lonely.processor.enabled = false; // this is about ingest; a processor would only wait for its topics
  const other = await startService(lonely, { logger: silentLogger, tokens: [apiToken('collector', SCOPES, { token: new Secret(TOKEN, 'inline') })] });
  try {
    await dropTopics(lonely);
    const response = await fetch(`${other.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(ingestFixture('trust.change')),
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.match(((await response.json()) as { error: string }).error, /Kafka did not acknowledge the events: .*; retry later/);
  } finally {
    await other.close();
  }
});
