import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { resultOfStatus } from '../../src/runtime/http.js';
import http from '../../connectors/http/index.js';
import { parseRetryAfter, scrub, shownUrl } from '../../src/runtime/http.js';
import { formatNdjson } from '../../src/formats/json.js';
import { conformanceSuite, sampleBatch } from '../../src/kit/index.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const TOKEN = 'tw-test-token-7f3a9c51e2';
const PASSWORD = 'correct-horse-battery-9';
const BASIC = Buffer.from(`trustwire:${PASSWORD}`).toString('base64');

const bearer = new WebhookReceiver();
bearer.expectHeaders = { authorization: `Bearer ${TOKEN}` };
conformanceSuite({
  definition: http,
  label: 'bearer token, JSON array',
  options: () => ({ url: bearer.url, auth: { type: 'bearer', token: TOKEN } }),
  harness: bearer,
  secrets: [TOKEN],
  partial: false,
});

const basic = new WebhookReceiver();
basic.expectHeaders = { authorization: `Basic ${BASIC}` };
conformanceSuite({
  definition: http,
  label: 'basic auth, gzip NDJSON',
  options: () => ({ url: basic.url, format: 'ndjson', compression: 'gzip', auth: { type: 'basic', username: 'trustwire', password: PASSWORD } }),
  harness: basic,
  secrets: [PASSWORD, BASIC],
  partial: false,
});

// The connector's answers are the runtime's sorting (src/runtime/http.ts), worded for its request.
const what = { what: 'POST https://siem.example.net/hook', batch: { events: 3, bytes: 2048 } };
const answer = (status: number, retryAfter: string | null = null, snippet = '') =>
  resultOfStatus({ status, statusText: '', retryAfter, snippet }, what, Date.parse('2026-11-26T12:00:00Z'));

test('2xx answers are delivered', () => {
  for (const status of [200, 201, 202, 204]) assert.deepEqual(answer(status), { kind: 'ok' });
});

test('400, 404 and other 4xx are permanent; 413 says the batch was too large', () => {
  for (const status of [400, 404, 405, 409, 410, 415, 422]) assert.equal(answer(status).kind, 'permanent', String(status));
  const tooLarge = answer(413);
  assert.equal(tooLarge.kind, 'permanent');
  assert.match((tooLarge as { error: Error }).error.message, /batch of 3 events \(2048 bytes\) is too large.*batch\.maxEvents or batch\.maxBytes/);
});

test('408, 429 and every 5xx are retried, honouring Retry-After in seconds or as an HTTP date', () => {
  for (const status of [408, 429, 500, 501, 502, 503, 504, 599]) assert.equal(answer(status).kind, 'retry', String(status));
  assert.deepEqual({ ...answer(429, '7'), error: undefined }, { kind: 'retry', retryAfterMs: 7000, error: undefined });
  assert.equal((answer(503, 'Thu, 26 Nov 2026 12:00:30 GMT') as { retryAfterMs?: number }).retryAfterMs, 30_000);
  assert.equal('retryAfterMs' in answer(502, 'soon'), false);
});

test('401 and 403 are retried, naming the credentials, so a rotated token does not dead-letter the stream', () => {
  const refused = answer(401);
  assert.equal(refused.kind, 'retry');
  assert.match((refused as { error: Error }).error.message, /refused trustwire's credentials; check auth/);
  assert.equal(answer(403).kind, 'retry');
});

test('a redirect is refused, not followed with the credentials', () => {
  const moved = answer(308);
  assert.equal(moved.kind, 'permanent');
  assert.match((moved as { error: Error }).error.message, /redirect is not followed/);
});

test('Retry-After: seconds, an HTTP date (never negative), or nothing usable', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Thu, 26 Nov 2026 12:01:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Thu, 26 Nov 2026 11:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('-5', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

test('a URL is shown without credentials or query values', () => {
  assert.equal(shownUrl(new URL('https://alice:s3cret@siem.example.net:8443/in/events?key=abc')), 'https://siem.example.net:8443/in/events?…');
  assert.equal(scrub('echo: Bearer abc123 and abc', ['abc', 'abc123']), 'echo: Bearer [redacted] and [redacted]');
});

test('the options refuse credentials outside auth', () => {
  const refused = http.configSchema.safeParse({ url: 'https://x.example/hook', headers: { Authorization: 'Bearer x' } });
  assert.equal(refused.success, false);
  assert.match(JSON.stringify(refused.error?.issues), /credentials go under auth/);
  const twice = http.configSchema.safeParse({ url: 'https://a:b@x.example/hook', auth: { type: 'bearer', token: 't' } });
  assert.equal(twice.success, false);
  assert.equal(http.configSchema.safeParse({ url: 'ftp://x.example/' }).success, false);
});

describe('http connector on the wire', () => {
  const receiver = new WebhookReceiver();
  before(() => receiver.start());
  after(() => receiver.stop());
  const never = new AbortController().signal;

  async function started(options: unknown) {
    const connector = http.create(http.configSchema.parse(options));
    await connector.start({ name: 'test', logger: (await import('../../src/log.js')).silentLogger, kafka: { produce: async () => {} } });
    return connector;
  }

  test('credentials in the URL become basic auth, and an error never shows them', async () => {
    receiver.reset();
    const url = new URL(receiver.url);
    url.username = 'alice';
    url.password = 'pa55-w0rd';
    const connector = await started({ url: url.href });
    assert.deepEqual(await connector.send(sampleBatch(4), never), { kind: 'ok' });
    assert.equal(receiver.requests[0]!.headers.authorization, `Basic ${Buffer.from('alice:pa55-w0rd').toString('base64')}`);
    await connector.stop();

    const closed = new URL(url);
    closed.port = String(await closedPort());
    const down = await started({ url: closed.href });
    const result = await down.send(sampleBatch(4), never);
    assert.equal(result.kind, 'retry');
    const message = (result as { error: Error }).error.message;
    assert.match(message, new RegExp(`^POST http://127\\.0\\.0\\.1:${closed.port}/hook failed: ECONNREFUSED`));
    assert.doesNotMatch(message, /pa55-w0rd|alice/);
  });

  test('each request carries the configured method, headers and content type', async () => {
    receiver.reset();
    const connector = await started({ url: receiver.url, method: 'PUT', format: 'ndjson', headers: { 'X-Source': 'trustwire-test' }, auth: { type: 'header', name: 'X-API-Key', value: 'k-123' } });
    const batch = sampleBatch(4);
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    const [request] = receiver.requests;
    assert.equal(request!.method, 'PUT');
    assert.equal(request!.headers['x-source'], 'trustwire-test');
    assert.equal(request!.headers['x-api-key'], 'k-123');
    assert.equal(request!.headers['content-type'], 'application/x-ndjson');
    assert.equal(request!.text, formatNdjson(batch));
    assert.deepEqual(
      request!.text.trimEnd().split('\n').map((line) => JSON.parse(line)),
      batch,
    );
  });

  test("an error body's echo of the credentials is scrubbed from the error", async () => {
    receiver.reset();
    receiver.behave({ kind: 'permanent' });
    const connector = await started({ url: receiver.url, auth: { type: 'bearer', token: 'echo-me-token' } });
    const result = await connector.send(sampleBatch(4), never);
    assert.equal(result.kind, 'permanent');
    const message = (result as { error: Error }).error.message;
    assert.match(message, /answered 400 Bad Request: .*schema mismatch.*Bearer \[redacted\]/);
    assert.doesNotMatch(message, /echo-me-token/);
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
