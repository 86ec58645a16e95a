/**
 * The dashboard's API on the real broker, through the whole service: a host with a sensitive VM
 * turns untrusted, and the overview, the activity feed, the host's history and the live stream
 * each tell it (docs/dashboard-api.md).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiToken } from '../../src/api/auth.js';
import { Secret } from '../../src/config/secret.js';
import { silentLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, testConfig } from '../helpers/kafka.js';

const READER = 'dashboard-reader-5e1d';
const COLLECTOR = 'dashboard-collector-2b9a';
const config = testConfig();
let service: RunningService;

const HOST = 'esx-dash-01';
const OTHER = 'esx-dash-02';
const GOLD = 'tcp-gold-fra1';
const VM = { type: 'vm', id: 'vm-fin-03', name: 'fin-api-03', labels: ['sensitive'], requiredTags: {} };
const PCR17 = { name: 'PcrValueMismatchSHA256', pcrIndex: 17, pcrBank: 'SHA256', expected: 'c4'.repeat(32), actual: '86'.repeat(32) };
const T0 = Date.now() - 10 * 60_000;
const ROUTES = ['/v1/overview', '/v1/activity', '/v1/alerts', `/v1/hosts/${HOST}/history`, '/v1/stream'];

before(async () => {
  service = await startService(config, {
    logger: silentLogger,
    tokens: [apiToken('reader', ['read', 'ingest'], { token: new Secret(READER, 'inline') }), apiToken('collector', ['ingest'], { token: new Secret(COLLECTOR, 'inline') })],
  });
});
// The stream left open below must not hold the close: the service ends every stream first.
after(async () => {
  await service.close();
  await dropTopics(config);
}, { timeout: 30_000 });

/** A GET with the reader's token, another one, or none (null). */
const get = (path: string, token: string | null = READER, signal?: AbortSignal) =>
  fetch(`${service.url}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` }, ...(signal !== undefined && { signal }) });

async function getJson(path: string): Promise<any> {
  const response = await get(path);
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return response.json();
}

/** Posts one event; answers its id. */
async function post(event: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${READER}`, 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { ids: string[] }).ids[0]!;
}

const attestation = (hostId: string, pool: string, status: 'trusted' | 'untrusted', time: number, faults: object[] = []) => {
  const base = ingestFixture('trust.change') as any;
  const { previousStatus: _claimed, ...payload } = base.payload;
  return { ...base, time, host: { id: hostId, name: `${hostId}.dc.example.net`, pool }, payload: { ...payload, status, flavors: [{ kind: 'OS', trusted: faults.length === 0, faults }] } };
};
const placement = (time: number) => {
  const base = ingestFixture('policy.decision') as any;
  return {
    ...base,
    time,
    host: { id: HOST, name: `${HOST}.dc.example.net`, pool: GOLD },
    payload: { ...base.payload, decisionId: 'dec-dash-1', action: 'vm.place', decision: 'permit', resource: VM, targetHost: { id: HOST } },
  };
};
const deniedAction = (time: number) => {
  const base = ingestFixture('admin.action') as any;
  return {
    ...base,
    time,
    host: { id: HOST, name: `${HOST}.dc.example.net`, pool: GOLD },
    payload: { ...base.payload, user: { id: 'u-42', name: 'mallory' }, operation: 'host.enterMaintenanceMode', target: { type: 'host', id: HOST, name: `${HOST}.dc.example.net` }, outcome: 'denied' },
  };
};

interface StreamMessage {
  id?: string;
  event?: string;
  data: any;
}

/** Reads a server-sent event stream the way the page does (fetch and a stream reader, the token in a header). */
async function openStream(signal: AbortSignal): Promise<{ headers: Headers; messages: StreamMessage[]; comments: string[] }> {
  const response = await get('/v1/stream', READER, signal);
  assert.equal(response.status, 200);
  const messages: StreamMessage[] = [];
  const comments: string[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: Partial<StreamMessage> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          else if (line.startsWith('id: ')) message.id = line.slice(4);
          else if (line.startsWith('event: ')) message.event = line.slice(7);
          else if (line.startsWith('data: ')) message.data = JSON.parse(line.slice(6));
        }
        if (message.data !== undefined) messages.push(message as StreamMessage);
      }
    }
  })();
  return { headers: response.headers, messages, comments };
}

test('without a token the routes answer 401; with an ingest-only token 403', async () => {
  for (const route of ROUTES) {
    const anonymous = await get(route, null);
    assert.equal(anonymous.status, 401, route);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'missing bearer token');
    const collector = await get(route, COLLECTOR);
    assert.equal(collector.status, 403, route);
    assert.match(((await collector.json()) as { error: string }).error, /lacks the read scope/);
  }
});

test('a bad filter answers 400 naming the parameter; an unknown host 404', async () => {
  const response = await get('/v1/activity?outcome=maybe&limit=5000&colour=red');
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: string; details: Array<{ path: string; message: string }> };
  assert.equal(body.error, 'invalid query');
  assert.deepEqual(body.details.map((d) => d.path).sort(), ['colour', 'limit', 'outcome']);
  const alerts = await get('/v1/alerts?since=yesterday');
  assert.equal(alerts.status, 400);
  assert.equal(((await alerts.json()) as { details: Array<{ path: string }> }).details[0]!.path, 'since');
  assert.equal((await get('/v1/hosts/no-such-host/history')).status, 404);
});

test('a host with a sensitive VM turns untrusted: overview, activity, history and the stream tell it', async () => {
  assert.ok(service.readiness().components.some((c) => c.component === 'activity view'), 'the activity view is in readiness');
  await post(attestation(HOST, GOLD, 'trusted', T0));
  await post(attestation(OTHER, 'tcp-silver-ams1', 'trusted', T0 + 1000));
  const placementId = await post(placement(T0 + 2000));
  const deniedId = await post(deniedAction(T0 + 3000));
  // Both views the dashboard reads have caught up before the change it watches for.
  await eventually(async () => (await getJson('/v1/overview')).sensitiveWorkloads.length === 1, 'the sensitive VM in the overview');
  await eventually(async () => (await getJson('/v1/activity')).items.length === 2, 'the decision and the admin action in the feed');

  const watching = new AbortController();
  const stream = await openStream(watching.signal);
  const lingering = new AbortController();
  await openStream(lingering.signal); // left open: closing the service must end it
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(stream.headers.get('cache-control'), 'no-cache');
  assert.equal(stream.headers.get('x-accel-buffering'), 'no');
  await eventually(() => stream.messages.some((m) => m.event === 'overview'), 'the overview on connect', 10_000);
  assert.equal(stream.messages[0]!.data.alerts.open, 0);

  const untrustedId = await post(attestation(HOST, GOLD, 'untrusted', T0 + 4000, [PCR17]));
  const events = () => stream.messages.filter((m) => m.event !== 'overview');
  await eventually(() => events().some((m) => m.event === 'alert'), 'the alert on the stream', 30_000);
  const alert = events().find((m) => m.event === 'alert')!.data;
  assert.equal(alert.rule, 'trust.sensitive-workload-on-untrusted-host');
  assert.equal(alert.open, true);
  // The trust change, then the placement that put the VM there.
  assert.deepEqual(alert.relatedEventIds, [untrustedId, placementId]);
  // The change and its alert, each once, each under its event's id; nothing else came.
  assert.deepEqual(
    events().map((m) => [m.event, m.id]),
    [
      ['trust', untrustedId],
      ['alert', alert.id],
    ],
  );
  const trust = events()[0]!.data;
  assert.deepEqual([trust.hostId, trust.pool, trust.previous, trust.current], [HOST, GOLD, 'trusted', 'untrusted']);
  assert.deepEqual(trust.faults, [{ flavor: 'OS', name: PCR17.name, pcr: { index: 17, bank: 'SHA256' }, expected: PCR17.expected, actual: PCR17.actual }]);
  await eventually(() => stream.messages.some((m) => m.event === 'overview' && m.data.alerts.open === 1), 'an overview with the open alert on the stream', 15_000);
  assert.ok(stream.messages.every((m) => m.id !== undefined && m.id !== ''), 'every message has an id');
  const ids = stream.messages.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'no id twice');
  watching.abort();

  await eventually(async () => (await getJson('/v1/overview')).sensitiveWorkloads[0]?.hostTrust === 'untrusted', 'the overview with the host untrusted');
  const overview = await getJson('/v1/overview');
  assert.deepEqual(overview.hosts, {
    total: 2,
    byTrust: { trusted: 1, untrusted: 1, unknown: 0 },
    byPool: [
      { pool: 'tcp-gold-fra1', total: 1, trusted: 0, untrusted: 1, unknown: 0 },
      { pool: 'tcp-silver-ams1', total: 1, trusted: 1, untrusted: 0, unknown: 0 },
    ],
  });
  assert.deepEqual(overview.sensitiveWorkloads, [{ id: VM.id, name: VM.name, labels: ['sensitive'], hostId: HOST, hostName: `${HOST}.dc.example.net`, pool: GOLD, hostTrust: 'untrusted' }]);
  assert.equal(overview.alerts.open, 1);
  assert.deepEqual(
    overview.alerts.recent.map((a: { id: string; open: boolean }) => [a.id, a.open]),
    [[alert.id, true]],
  );
  assert.ok(Array.isArray(overview.compliance) && Array.isArray(overview.connectors));

  const denied = await getJson('/v1/activity?outcome=denied');
  assert.deepEqual(
    denied.items.map((i: any) => [i.id, i.type, i.user.name, i.operation, i.target, i.highlight]),
    [[deniedId, 'admin.action', 'mallory', 'host.enterMaintenanceMode', `${HOST}.dc.example.net`, true]],
  );
  assert.equal((await getJson(`/v1/activity?q=fin-api&type=policy.decision`)).items[0].outcome, 'permit');

  const history = await getJson(`/v1/hosts/${HOST}/history`);
  assert.equal(history.hostId, HOST);
  assert.deepEqual(
    history.trust.map((t: any) => [t.previous, t.current]),
    [
      ['unknown', 'trusted'],
      ['trusted', 'untrusted'],
    ],
  );
  assert.deepEqual(history.trust[1].faults[0].pcr, { index: 17, bank: 'SHA256' });
  assert.deepEqual([history.trust[1].faults[0].expected, history.trust[1].faults[0].actual], [PCR17.expected, PCR17.actual]);
  assert.deepEqual(
    history.alerts.map((a: any) => [a.rule, a.open]),
    [['trust.sensitive-workload-on-untrusted-host', true]],
  );
  assert.deepEqual(
    history.activity.map((i: any) => i.outcome),
    ['denied', 'permit'],
  );
  assert.deepEqual(history.scores, []);

  const open = await getJson(`/v1/alerts?state=open&host=${HOST}.dc.example.net`);
  assert.deepEqual(
    open.items.map((a: any) => a.id),
    [alert.id],
  );
});
