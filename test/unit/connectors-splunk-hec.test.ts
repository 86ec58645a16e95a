import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { answerOf } from '../../connectors/splunk-hec/client.js';
import { createEncoder, DEFAULT_SOURCETYPES, epochSeconds } from '../../connectors/splunk-hec/encode.js';
import splunkHec from '../../connectors/splunk-hec/index.js';
import { formatJson } from '../../src/formats/json.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { SinkRefused, type SendResult, type SinkConnector } from '../../src/runtime/contract.js';
import { backoffDelay, deliver } from '../../src/runtime/deliver.js';
import { loadConnector } from '../../src/runtime/registry.js';
import { RetryLog } from '../../src/runtime/repeats.js';
import { ConnectorInstanceSettings } from '../../src/runtime/settings.js';
import { captureLogger, conformanceSuite, recording, sampleBatch, type CapturedLogger } from '../../src/kit/index.js';
import { HecReceiver, parseConcatenated } from '../helpers/hec-receiver.js';

const TOKEN = '7c1e9f42-3b8d-4a6e-b5f0-2d94c8a1e763';
const SECRETS = [TOKEN, `Splunk ${TOKEN}`];
const never = new AbortController().signal;
const FAST_RETRY = { initialMs: 10, maxMs: 100, multiplier: 2, jitter: 0, maxAttempts: 0 };

const plain = new HecReceiver({ token: TOKEN });
conformanceSuite({
  definition: splunkHec,
  label: 'gzip, no acknowledgment',
  options: () => ({ urls: [plain.url], token: TOKEN, benchMs: 20 }),
  harness: plain,
  secrets: SECRETS,
});

const acknowledging = new HecReceiver({ token: TOKEN, ack: true, ackDelayMs: 30 });
conformanceSuite({
  definition: splunkHec,
  label: 'indexer acknowledgment, uncompressed',
  options: () => ({ urls: [acknowledging.url], token: TOKEN, ack: true, ackPollMs: 20, ackTimeoutMs: 3000, compression: 'none', benchMs: 20 }),
  harness: acknowledging,
  secrets: SECRETS,
});

/** The wall clock, moved on by the test where a bench would otherwise be waited out. */
class TestClock {
  #ahead = 0;
  readonly now = () => Date.now() + this.#ahead;
  advance(ms: number): void {
    this.#ahead += ms;
  }
}

async function started(options: Record<string, unknown>, log: CapturedLogger = captureLogger(), clock = new TestClock()): Promise<{ connector: SinkConnector; log: CapturedLogger; clock: TestClock }> {
  const connector = splunkHec.create(splunkHec.configSchema.parse({ token: TOKEN, ...options }));
  await connector.start({ name: 'test', logger: log.logger, kafka: { produce: async () => {} }, now: clock.now });
  return { connector, log, clock };
}

function deliverFast(connector: SinkConnector, batch: readonly CanonicalEvent[]) {
  return deliver(connector, batch, { retry: FAST_RETRY, timeoutMs: 5000, signal: never, isStale: () => false });
}

const idsOf = (batch: readonly CanonicalEvent[], indexes?: number[]) => (indexes ?? batch.map((_, i) => i)).map((i) => batch[i]!.id);

test('HEC answers are sorted by its published status codes', () => {
  const hec = (status: number, body: object | string, retryAfter: string | null = null) =>
    answerOf({ status, statusText: '', retryAfter, body: typeof body === 'string' ? body : JSON.stringify(body) });
  assert.deepEqual(hec(200, { text: 'Success', code: 0 }), { kind: 'accepted' });
  assert.deepEqual(hec(200, { text: 'Success', code: 0, ackId: 0 }), { kind: 'accepted', ackId: 0 });
  for (const [status, code] of [[403, 1], [401, 2], [401, 3], [403, 4], [400, 16]] as const) assert.equal(hec(status, { text: 't', code }).kind, 'token', `code ${code}`);
  for (const code of [10, 11, 14]) assert.equal(hec(400, { text: 't', code }).kind, 'setup', `code ${code}`);
  for (const code of [5, 6, 7, 12, 13, 15]) assert.equal(hec(400, { text: 't', code }).kind, 'rejected', `code ${code}`);
  assert.deepEqual(hec(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 3 }), { kind: 'invalid-event', at: 3, code: 6, reason: '400: Invalid data format (code 6)' });
  assert.equal(hec(500, { text: 'Internal server error', code: 8 }).kind, 'server');
  assert.equal(hec(502, '<html>bad gateway</html>').kind, 'server');
  assert.deepEqual(hec(503, { text: 'Server is busy', code: 9 }, '7'), { kind: 'busy', reason: '503: Server is busy (code 9)', retryAfterMs: 7000 });
  assert.deepEqual(hec(429, 'Too Many Requests', '2'), { kind: 'busy', reason: '429: Too Many Requests', retryAfterMs: 2000 });
  assert.equal(hec(413, 'Content-Length of 9 too large').kind, 'too-large');
  assert.equal(hec(404, 'Not Found').kind, 'setup');
  assert.equal(hec(301, '').kind, 'setup');
});

test('the options take base URLs (or /services/collector/event ones) and refuse credentials, queries and repeats', () => {
  const parse = (options: object) => splunkHec.configSchema.safeParse({ token: TOKEN, ...options });
  assert.equal(parse({ urls: ['https://hec.example.net:8088/services/collector/event'] }).success, true);
  assert.match(JSON.stringify(parse({ urls: ['https://admin:pw@hec.example.net:8088'] }).error?.issues), /has credentials in it/);
  assert.match(JSON.stringify(parse({ urls: ['https://hec.example.net:8088/?token=abc'] }).error?.issues), /no query/);
  assert.match(JSON.stringify(parse({ urls: ['https://hec.example.net:8088', 'https://hec.example.net:8088/services/collector'] }).error?.issues), /one endpoint twice/);
  assert.equal(parse({ urls: [] }).success, false);
  assert.equal(parse({ urls: ['https://hec.example.net'], index: 'Main' }).success, false);
  assert.equal(parse({ urls: ['https://hec.example.net'], kinds: { 'no.such.kind': { index: 'x' } } }).success, false);
});

test("an ack wait not below the instance's timeoutMs is refused at its option, since the attempt would end first", async () => {
  const load = (options: object, timeoutMs: number) =>
    loadConnector(ConnectorInstanceSettings.parse({ name: 'hec', type: 'splunk-hec', timeoutMs, options: { urls: ['https://hec.example.net:8088'], token: TOKEN, ...options } }), 'connectors[0]', process.cwd());
  await assert.rejects(load({ ack: true, ackTimeoutMs: 10_000 }, 10_000), /connectors\[0\]\.options\.ackTimeoutMs: 10000 ms must be below the instance's timeoutMs \(10000 ms\)/);
  assert.equal((await load({ ack: true, ackTimeoutMs: 9_999 }, 10_000)).definition.type, 'splunk-hec');
  assert.equal((await load({ ack: false, ackTimeoutMs: 20_000 }, 10_000)).definition.type, 'splunk-hec', 'without ack there is no wait');
});

describe('the HEC receiver follows the protocol', () => {
  const receiver = new HecReceiver({ token: TOKEN, ack: true });
  before(() => receiver.start());
  after(() => receiver.stop());
  const channel = '0f9a6a4e-8d55-4c3b-9a43-5e1f2b7c8d90';
  const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${receiver.url}${path}`, { method: 'POST', headers: { authorization: `Splunk ${TOKEN}`, 'x-splunk-request-channel': channel, ...headers }, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('it answers tokens, channels and bad events with the codes and statuses of the published table', async () => {
    receiver.reset();
    const event = '{"event":{"id":"e0"}}';
    assert.deepEqual(await post('/services/collector/event', event, { authorization: '' }), { status: 401, body: { text: 'Token is required', code: 2 } });
    assert.deepEqual(await post('/services/collector/event', event, { authorization: `Bearer ${TOKEN}` }), { status: 401, body: { text: 'Invalid authorization', code: 3 } });
    assert.deepEqual(await post('/services/collector/event', event, { authorization: 'Splunk not-the-token' }), { status: 403, body: { text: 'Invalid token', code: 4 } });
    receiver.tokenDisabled = true;
    assert.deepEqual(await post('/services/collector/event', event), { status: 403, body: { text: 'Token disabled', code: 1 } });
    receiver.tokenDisabled = false;
    assert.deepEqual(await post(`/services/collector/event?token=${TOKEN}`, event), { status: 400, body: { text: 'Query string authorization is not enabled', code: 16 } });
    assert.deepEqual(await post('/services/collector/event', event, { 'x-splunk-request-channel': '' }), { status: 400, body: { text: 'Data channel is missing', code: 10 } });
    assert.deepEqual(await post('/services/collector/event', event, { 'x-splunk-request-channel': 'not-a-guid' }), { status: 400, body: { text: 'Invalid data channel', code: 11 } });
    assert.deepEqual(await post('/services/collector/event', '  '), { status: 400, body: { text: 'No data', code: 5 } });
    assert.deepEqual(await post('/services/collector/event', `${event}{"time":1,"host":"h"}`), { status: 400, body: { text: 'Event field is required', code: 12, 'invalid-event-number': 1 } });
    assert.deepEqual(await post('/services/collector/event', `${event}\n${event}{"event":""}`), { status: 400, body: { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 2 } });
    assert.deepEqual(await post('/services/collector/event', `${event}{"event":"x","fields":{"n":7}}`), { status: 400, body: { text: 'Error in handling indexed fields', code: 15, 'invalid-event-number': 1 } });
    assert.deepEqual(await post('/services/collector/event', `${event}{"event":"x"`), { status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 } });
    assert.deepEqual(await post('/services/collector/event', event), { status: 200, body: { text: 'Success', code: 0, ackId: 0 } });
    assert.deepEqual(await receiver.received(), ['e0', 'e0', 'e0', 'e0', 'e0', 'e0'], 'the events before each bad one were indexed');
    const health = await fetch(`${receiver.url}/services/collector/health`);
    assert.deepEqual([health.status, await health.json()], [200, { text: 'HEC is healthy', code: 17 }]);
    receiver.ack = false;
    assert.deepEqual(await post('/services/collector/ack', '{"acks":[0]}'), { status: 400, body: { text: 'ACK is disabled', code: 14 } });
    assert.deepEqual(parseConcatenated('{"a":"}{"} \n{"b":[1,{"c":2}]}'), { objects: [{ a: '}{' }, { b: [1, { c: 2 }] }] });
  });

  test('it answers an ack true once, then false, as HEC forgets what it answered', async () => {
    receiver.reset();
    assert.deepEqual(await post('/services/collector/event', '{"event":"a"}'), { status: 200, body: { text: 'Success', code: 0, ackId: 0 } });
    assert.deepEqual(await post('/services/collector/event', '{"event":"b"}'), { status: 200, body: { text: 'Success', code: 0, ackId: 1 } });
    assert.deepEqual(await post('/services/collector/ack', '{"acks":[0,1,7]}'), { status: 200, body: { acks: { 0: true, 1: true, 7: false } } });
    assert.deepEqual(await post('/services/collector/ack', '{"acks":[0,1]}'), { status: 200, body: { acks: { 0: false, 1: false } } });
    assert.equal(receiver.rereads, 2);
  });
});

describe('splunk-hec connector on the wire', () => {
  const receiver = new HecReceiver({ token: TOKEN });
  const acking = new HecReceiver({ token: TOKEN, ack: true });
  const second = new HecReceiver({ token: TOKEN });
  before(() => Promise.all([receiver.start(), acking.start(), second.start()]));
  after(() => Promise.all([receiver.stop(), acking.stop(), second.stop()]));

  test('a body is HEC event objects one after another, not an array, each with time in seconds and milliseconds', async () => {
    receiver.reset();
    const { connector } = await started({ urls: [receiver.url], compression: 'none', kinds: { alert: { index: 'soc_alerts', sourcetype: 'trustwire:alert:v2' } } });
    const batch = sampleBatch(6);
    batch[0]!.time = 1_732_640_480_123;
    batch[1]!.time = 1_732_640_480_007;
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    await connector.stop();
    const [request] = receiver.eventRequests;
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.match(request!.text, /^\{"time":1732640480\.123,"host":"kvm-fra1-12\.dc\.example\.net",/);
    assert.match(request!.text, /\}\{"time":1732640480\.007,/);
    assert.deepEqual(
      [...request!.text.matchAll(/(?:^|\})\{"time":(\d+\.\d{3}),/g)].map((match) => match[1]),
      batch.map((event) => epochSeconds(event.time)),
    );
    assert.equal(request!.events.length, 6);
    request!.events.forEach((sent, i) => {
      const event = batch[i]!;
      assert.deepEqual(sent.event, JSON.parse(formatJson(event)), `event ${i} is the canonical event`);
      assert.equal(sent.host, event.host.name ?? event.host.id);
      assert.equal(sent.source, `trustwire:${event.source.system}`);
      assert.equal(sent.sourcetype, event.type === 'alert' ? 'trustwire:alert:v2' : DEFAULT_SOURCETYPES[event.type]);
      assert.equal(sent.index, event.type === 'alert' ? 'soc_alerts' : undefined);
    });
    assert.deepEqual(await receiver.received(), idsOf(batch));
  });

  test('indexed fields are strings or lists of strings, the ones a SOC searches on', async () => {
    receiver.reset();
    const { connector } = await started({ urls: [receiver.url] });
    const batch = sampleBatch(6);
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    await connector.stop();
    const { events } = receiver.eventRequests[0]!;
    for (const { fields } of events) {
      for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
        assert.ok(typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string')), `${name} is ${JSON.stringify(value)}`);
      }
    }
    assert.deepEqual(events[0]!.fields, {
      tw_type: 'trust.change',
      tw_host_id: 'kvm-fra1-12',
      tw_trust_status: 'untrusted',
      tw_severity: '8',
      tw_tenant: 'payments',
      tw_pool: 'tcp-gold-fra1',
      tw_asset_tag: ['classification=pci', 'country=DE', 'region=HE', 'site=FRA1'],
    });
    const none = createEncoder(splunkHec.configSchema.parse({ urls: [receiver.url], token: TOKEN, indexedFields: [] }))(batch[0]!);
    assert.doesNotMatch(none.bytes.toString(), /"fields"/);
  });

  test('bodies are gzipped with Content-Encoding: gzip by default', async () => {
    receiver.reset();
    const { connector } = await started({ urls: [receiver.url] });
    const batch = sampleBatch(6);
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    await connector.stop();
    const [request] = receiver.eventRequests;
    assert.equal(request!.headers['content-encoding'], 'gzip');
    assert.deepEqual([...request!.raw.subarray(0, 2)], [0x1f, 0x8b]);
    assert.equal(gunzipSync(request!.raw).toString('utf8'), request!.text);
    assert.ok(request!.raw.length < Buffer.byteLength(request!.text) / 2);
    assert.deepEqual(await receiver.received(), idsOf(batch));
  });

  test('with ack, send answers ok only once HEC says the batch was indexed', async () => {
    acking.reset();
    acking.ackDelayMs = 300;
    const { connector } = await started({ urls: [acking.url], ack: true, ackPollMs: 40 });
    const startedAt = performance.now();
    assert.deepEqual(await connector.send(sampleBatch(4), never), { kind: 'ok' });
    const elapsed = performance.now() - startedAt;
    assert.deepEqual(await connector.send(sampleBatch(4, 1), never), { kind: 'ok' });
    await connector.stop();
    assert.ok(elapsed >= 290, `ok came ${Math.round(elapsed)} ms after the POST; the ack turned true after 300`);
    const [first, second] = acking.eventRequests;
    assert.match(String(first!.headers['x-splunk-request-channel']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(second!.headers['x-splunk-request-channel'], first!.headers['x-splunk-request-channel'], 'one channel per connector instance');
    assert.deepEqual([first!.answer, second!.answer], [{ text: 'Success', code: 0, ackId: 0 }, { text: 'Success', code: 0, ackId: 1 }]);
    const forFirst = acking.ackQueries.filter((query) => query.ackIds.includes(0));
    assert.ok(forFirst.length >= 2, 'polled while the ack was still false');
    assert.deepEqual(forFirst.map((query) => query.acks['0']).slice(-2), [false, true]);
  });

  test('with ack, a batch whose ack never turns true is sent again', async () => {
    acking.reset();
    acking.loseAcks = 1;
    const { connector } = await started({ urls: [acking.url], ack: true, ackPollMs: 20, ackTimeoutMs: 250 });
    const spy = recording(connector);
    const batch = sampleBatch(4);
    const outcome = await deliverFast(spy.connector, batch);
    await connector.stop();
    assert.deepEqual(outcome, { kind: 'done', deadLetters: [], attempts: 2 });
    const first = spy.answers[0]!;
    assert.equal(first.kind, 'retry');
    assert.match((first as { error: Error }).error.message, /did not acknowledge indexing of ackId 0 \(4 events\) within 250 ms; sending them again/);
    assert.deepEqual(await acking.received(), [...idsOf(batch), ...idsOf(batch)]);
  });

  test('acks are read once: a true that arrives after the time ran out, from a query asked in time, is still used', async () => {
    acking.reset();
    acking.ackAnswerDelayMs = 250; // asked at ~100 ms, answered true at ~350 ms; the send's time runs out at 200 ms
    const { connector } = await started({ urls: [acking.url], ack: true, ackPollMs: 100, ackTimeoutMs: 200 });
    const answer = await connector.send(sampleBatch(4), never);
    await connector.stop();
    assert.deepEqual(answer, { kind: 'ok' });
    assert.deepEqual(acking.ackQueries.map((query) => query.acks), [{ 0: true }]);
    assert.equal(acking.eventRequests.length, 1, 'nothing was resent');
  });

  test('acks are read once: concurrent sends share one query per poll and never ask again for an ack already read', async () => {
    acking.reset();
    acking.ackDelayMs = 100;
    const { connector } = await started({ urls: [acking.url], ack: true, ackPollMs: 30 });
    const batches = [0, 1, 2, 3].map((seed) => sampleBatch(4, seed));
    const answers = await Promise.all(batches.map((batch) => connector.send(batch, never)));
    await connector.stop();
    assert.deepEqual(answers, batches.map(() => ({ kind: 'ok' })));
    assert.equal(acking.rereads, 0, 'no ackId was asked for after it was answered true');
    const trues = acking.ackQueries.flatMap((query) => Object.entries(query.acks).filter(([, indexed]) => indexed).map(([id]) => Number(id)));
    assert.deepEqual(trues.sort(), [0, 1, 2, 3]);
    assert.ok(acking.ackQueries.some((query) => query.ackIds.length > 1), 'one query asked for several pending ackIds');
    // Requests in flight side by side on the channel: one query waited for all four ackIds.
    assert.ok(acking.ackQueries.some((query) => query.ackIds.length === 4), 'four requests awaited their acknowledgment at once');
  });

  test('an invalid event: those before it are indexed once, it is dead-lettered, and only those after it are resent', async () => {
    receiver.reset();
    const batch = sampleBatch(6);
    receiver.behave({ kind: 'reject', ids: [batch[2]!.id] });
    // HEC is busy when the rest of the batch comes, so it must go back to the runtime as retriable.
    receiver.intercept = (_request, number) => (number === 1 ? { status: 503, body: { text: 'Server is busy', code: 9 } } : undefined);
    const { connector } = await started({ urls: [receiver.url], benchMs: 10 });
    const spy = recording(connector);
    const outcome = await deliverFast(spy.connector, batch);
    await connector.stop();
    const first = spy.answers[0]!;
    assert.equal(first.kind, 'partial');
    const failed = (first as Extract<SendResult, { kind: 'partial' }>).failed;
    assert.deepEqual([...failed].map(([index, error]) => [index, error.retriable]), [[2, false], [3, true], [4, true], [5, true]]);
    assert.match(failed.get(2)!.message, /HEC refused the event: 400 Bad Request: Invalid data format \(code 6\)/);
    assert.equal(outcome.kind, 'done');
    assert.deepEqual(outcome.kind === 'done' && outcome.deadLetters.map((verdict) => verdict.index), [2]);
    assert.deepEqual(await receiver.received(), idsOf(batch, [0, 1, 3, 4, 5]));
    assert.deepEqual(receiver.eventRequests.map((request) => request.events.length), [6, 3, 3]);
  });

  test('after an invalid event, the rest of the batch goes on in the same send', async () => {
    receiver.reset();
    const batch = sampleBatch(6);
    receiver.behave({ kind: 'reject', ids: [batch[1]!.id, batch[3]!.id] });
    const { connector } = await started({ urls: [receiver.url] });
    const answer = await connector.send(batch, never);
    await connector.stop();
    assert.equal(answer.kind, 'partial');
    assert.deepEqual([...(answer as Extract<SendResult, { kind: 'partial' }>).failed].map(([index, error]) => [index, error.retriable]), [[1, false], [3, false]]);
    assert.deepEqual(receiver.eventRequests.map((request) => request.events.length), [6, 4, 2]);
    assert.deepEqual(await receiver.received(), idsOf(batch, [0, 2, 4, 5]));
  });

  test('an index the token may not write to (code 7): every event naming it is dead-lettered, the others delivered', async () => {
    receiver.reset();
    receiver.allowedIndexes = ['trustwire'];
    const { connector } = await started({ urls: [receiver.url], index: 'trustwire', kinds: { alert: { index: 'soc_alerts' } } });
    const batch = sampleBatch(12); // alerts at 5 and 11
    const answer = await connector.send(batch, never);
    await connector.stop();
    assert.equal(answer.kind, 'partial');
    const failed = (answer as Extract<SendResult, { kind: 'partial' }>).failed;
    assert.deepEqual([...failed.keys()], [5, 11]);
    assert.match(failed.get(5)!.message, /HEC refused index "soc_alerts": 400 Bad Request: Incorrect index \(code 7\)/);
    assert.deepEqual(receiver.eventRequests.map((request) => request.events.length), [12, 5]);
    assert.deepEqual(await receiver.received(), idsOf(batch, [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]));
  });

  test('413: a body over max_content_length is sent again in halves, within the same send', async () => {
    receiver.reset();
    const options = { urls: [receiver.url], compression: 'none' };
    const batch = sampleBatch(8);
    const sizes = batch.map((event) => createEncoder(splunkHec.configSchema.parse({ token: TOKEN, ...options }))(event).bytes.length);
    receiver.maxContentLength = 2 * Math.max(...sizes);
    const { connector } = await started(options);
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    await connector.stop();
    const statuses = receiver.eventRequests.map((request) => [request.raw.length > receiver.maxContentLength ? 'too large' : 'fits', request.status]);
    assert.deepEqual(statuses[0], ['too large', 413]);
    assert.ok(statuses.every(([fits, status]) => (fits === 'fits') === (status === 200)));
    assert.deepEqual(await receiver.received(), idsOf(batch), 'every event once, in order');
  });

  test('413 for a single event: that event is dead-lettered, the rest delivered', async () => {
    receiver.reset();
    const options = { urls: [receiver.url], compression: 'none' };
    const batch = sampleBatch(6);
    const sizes = batch.map((event) => createEncoder(splunkHec.configSchema.parse({ token: TOKEN, ...options }))(event).bytes.length);
    const largest = sizes.indexOf(Math.max(...sizes));
    receiver.maxContentLength = Math.max(...sizes.filter((_, i) => i !== largest)) + 1;
    const { connector } = await started(options);
    const answer = await connector.send(batch, never);
    await connector.stop();
    assert.equal(answer.kind, 'partial');
    const failed = (answer as Extract<SendResult, { kind: 'partial' }>).failed;
    assert.deepEqual([...failed.keys()], [largest]);
    assert.equal(failed.get(largest)!.retriable, false);
    assert.match(failed.get(largest)!.message, /this event alone \(\d+ bytes\) is over HEC's max_content_length/);
    assert.deepEqual(await receiver.received(), idsOf(batch).filter((_, i) => i !== largest));
  });

  test('busy (503, code 9): retry after Retry-After, and nothing more goes to HEC meanwhile', async () => {
    receiver.reset();
    const { connector } = await started({ urls: [receiver.url], benchMs: 100 });
    receiver.busy = { retryAfterSeconds: 2 };
    const requestsAfterStart = receiver.requests.length;
    const answer = await connector.send(sampleBatch(4), never);
    assert.equal(answer.kind, 'retry');
    const { retryAfterMs, error } = answer as Extract<SendResult, { kind: 'retry' }>;
    assert.ok(retryAfterMs !== undefined && retryAfterMs > 1900 && retryAfterMs <= 2000, `retryAfterMs ${retryAfterMs}`);
    assert.equal(backoffDelay(1, { ...FAST_RETRY, maxMs: 30_000 }, retryAfterMs), retryAfterMs, 'the runtime waits that long');
    assert.match(error.message, /503 Service Unavailable: Server is busy \(code 9\)/);
    const again = await connector.send(sampleBatch(4, 1), never);
    assert.equal(again.kind, 'retry');
    assert.ok((again as { retryAfterMs?: number }).retryAfterMs! <= retryAfterMs!);
    assert.equal(receiver.requests.length, requestsAfterStart + 1, 'the second send made no request');
    await connector.stop();
  });

  test('throttled (429): retry after Retry-After', async () => {
    receiver.reset();
    const { connector } = await started({ urls: [receiver.url], benchMs: 100 });
    receiver.throttled = { retryAfterSeconds: 3 };
    const answer = await connector.send(sampleBatch(4), never);
    await connector.stop();
    assert.equal(answer.kind, 'retry');
    const { retryAfterMs, error } = answer as Extract<SendResult, { kind: 'retry' }>;
    assert.ok(retryAfterMs !== undefined && retryAfterMs > 2900 && retryAfterMs <= 3000, `retryAfterMs ${retryAfterMs}`);
    assert.match(error.message, /429 Too Many Requests/);
    assert.deepEqual(await receiver.received(), []);
  });

  test('a rejected token is said once at error level, holds the stream, and is never hammered', async () => {
    receiver.reset();
    receiver.token = 'a-rotated-token';
    const { connector, log, clock } = await started({ urls: [receiver.url], refusedBenchMs: 400 });
    // What the runner does with each retry's error.
    const retries = new RetryLog(log.logger);
    const batch = sampleBatch(4);
    const delivering = deliver(connector, batch, {
      retry: FAST_RETRY,
      timeoutMs: 5000,
      signal: never,
      isStale: () => false,
      onRetry: ({ error }) => retries.failed(error, error.message, {}),
    });
    await sleep(1000); // a window of real time to count the retries in: what is measured, not a condition
    const posts = receiver.eventRequests.length;
    receiver.token = TOKEN;
    const outcome = await delivering;
    retries.delivered(batch.length);
    assert.ok(posts >= 2 && posts <= 3, `${posts} POSTs in one second with refusedBenchMs 400 (the runtime alone would retry every 100 ms)`);
    assert.deepEqual(outcome.kind === 'done' && outcome.deadLetters, []);
    assert.deepEqual(await receiver.received(), idsOf(batch));
    const loud = () => log.records().filter((record) => record.level >= 50).map((record) => `${record.msg}: ${String(record.error)}`);
    const refusal = (code: number, text: string) =>
      `the sink refuses trustwire: batches are held and retried until that is fixed: POST ${receiver.url}/services/collector/event answered 403 Forbidden: ${text} (code ${code}): fix the token; holding the stream`;
    assert.deepEqual(loud(), [refusal(4, 'Invalid token')]);
    assert.ok(log.records().some((record) => record.msg === 'sends succeed again'));

    // Another state, said once again; the endpoint left out meanwhile is not a reason to say it again.
    clock.advance(450); // past the refusal's bench
    receiver.tokenDisabled = true;
    const refused = await connector.send(sampleBatch(4, 1), never);
    assert.ok(refused.kind === 'retry' && refused.error instanceof SinkRefused, `a refused token is a retry whose error is SinkRefused (${refused.kind})`);
    const benched = await connector.send(sampleBatch(4, 2), never);
    assert.ok(benched.kind === 'retry' && !(benched.error instanceof SinkRefused) && benched.retryAfterMs! > 0, 'then the endpoint is left out');
    clock.advance(450);
    const again = await connector.send(sampleBatch(4, 3), never);
    assert.ok(again.kind === 'retry' && again.error instanceof SinkRefused);
    for (const { error } of [refused, benched, again]) retries.failed(error, error.message, {});
    await connector.stop();
    assert.deepEqual(loud(), [refusal(4, 'Invalid token'), refusal(1, 'Token disabled')]);
  });

  test('round robin across endpoints; a busy one is left out, health-checked, and taken back', async () => {
    receiver.reset();
    second.reset();
    const { connector, clock } = await started({ urls: [receiver.url, second.url], benchMs: 300 });
    const posts = () => [receiver.eventRequests.length, second.eventRequests.length];
    const send = async (seed: number) => connector.send(sampleBatch(4, seed), never);
    for (let seed = 0; seed < 4; seed++) assert.deepEqual(await send(seed), { kind: 'ok' });
    assert.deepEqual(posts(), [2, 2]);

    second.busy = {};
    assert.deepEqual(await send(4), { kind: 'ok' }); // the first's turn
    const refused = await send(5); // the second's turn: busy
    assert.equal(refused.kind, 'retry');
    assert.equal('retryAfterMs' in refused, false, 'another endpoint is healthy: the runtime backs off as usual');
    for (let seed = 6; seed < 9; seed++) assert.deepEqual(await send(seed), { kind: 'ok' });
    assert.deepEqual(posts(), [6, 3]);

    clock.advance(350); // the bench is over, but it is still busy: its health check says so
    assert.deepEqual(await send(9), { kind: 'ok' });
    assert.deepEqual(posts(), [7, 3]);
    assert.equal(second.requests.at(-1)!.path, '/services/collector/health');
    assert.equal(second.requests.at(-1)!.status, 503);

    second.busy = undefined;
    clock.advance(350);
    assert.deepEqual(await send(10), { kind: 'ok' });
    assert.deepEqual(await send(11), { kind: 'ok' });
    await connector.stop();
    assert.equal(posts()[1], 4, 'healthy again: back in rotation');
  });

  test('when every endpoint is left out, retry after the shortest bench, without a request', async () => {
    receiver.reset();
    second.reset();
    const { connector } = await started({ urls: [receiver.url, second.url], benchMs: 100 });
    receiver.busy = { retryAfterSeconds: 2 };
    second.busy = { retryAfterSeconds: 1 };
    const requests = () => receiver.requests.length + second.requests.length;
    assert.equal((await connector.send(sampleBatch(4), never)).kind, 'retry');
    assert.equal((await connector.send(sampleBatch(4), never)).kind, 'retry');
    const before = requests();
    const answer = await connector.send(sampleBatch(4), never);
    await connector.stop();
    assert.equal(requests(), before);
    assert.equal(answer.kind, 'retry');
    const { retryAfterMs, error } = answer as Extract<SendResult, { kind: 'retry' }>;
    assert.ok(retryAfterMs !== undefined && retryAfterMs > 800 && retryAfterMs <= 1000, `retryAfterMs ${retryAfterMs}`);
    assert.match(error.message, /every HEC endpoint is left out/);
  });

  test('the token is never in a log line, an error, the options or the status', async () => {
    receiver.reset();
    acking.reset();
    const log = captureLogger();
    const texts: string[] = [];
    const note = (answer: SendResult) => {
      const errors = answer.kind === 'retry' || answer.kind === 'permanent' ? [answer.error] : answer.kind === 'partial' ? [...answer.failed.values()] : [];
      // The connectors endpoint shows lastError: the error's message.
      for (const error of errors) texts.push(error.message, inspect(error, { depth: 6 }), JSON.stringify({ lastError: error.message }));
    };
    const down = `http://127.0.0.1:${await closedPort()}`;
    const options = splunkHec.configSchema.parse({ urls: [receiver.url, down], token: TOKEN, benchMs: 0, refusedBenchMs: 0 });
    texts.push(JSON.stringify(options), inspect(options, { depth: 8 }));
    const { connector } = await started({ urls: [receiver.url, down], benchMs: 0, refusedBenchMs: 0 }, log);
    const batch = sampleBatch(6);
    for (let i = 0; i < 2; i++) note(await connector.send(batch, never)); // one to the receiver, one to the closed port
    receiver.intercept = (request) => ({ status: 500, body: { text: `echo: ${String(request.headers.authorization)}`, code: 8 } });
    note(await connector.send(batch, never));
    receiver.intercept = undefined;
    receiver.token = 'another-token';
    note(await connector.send(batch, never));
    receiver.token = TOKEN;
    receiver.behave({ kind: 'reject', ids: [batch[1]!.id] });
    note(await connector.send(batch, never));
    receiver.behave({ kind: 'ok' });
    receiver.maxContentLength = 100;
    note(await connector.send(batch, never));
    await connector.stop();
    acking.loseAcks = 1;
    const { connector: acked } = await started({ urls: [acking.url], ack: true, ackPollMs: 20, ackTimeoutMs: 100 }, log);
    note(await acked.send(batch, never));
    await acked.stop();

    texts.push(...log.lines());
    assert.ok(texts.some((text) => text.includes('ECONNREFUSED')), 'the closed port was tried');
    assert.ok(texts.some((text) => text.includes('echo: Splunk [redacted]')), 'an echoed token is scrubbed');
    for (const text of texts) for (const secret of SECRETS) assert.equal(text.includes(secret), false, `the token appeared in: ${text.replaceAll(TOKEN, '«TOKEN»').slice(0, 300)}`);
  });
});

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
