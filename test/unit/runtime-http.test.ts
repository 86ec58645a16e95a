import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { classifyStatus, HttpClient, httpClientSettings, resultOfExchange, type HttpExchange } from '../../src/runtime/http.js';
import { tlsSettings } from '../../src/runtime/tls.js';
import { Scrubber } from '../../src/runtime/scrub.js';
import { Secret } from '../../src/config/secret.js';
import { z } from '../../src/connector.js';
import { makeCertificates, type CertificateFiles } from '../helpers/certs.js';
import { closeServer, listenOnLoopback } from '../helpers/loopback-server.js';

const SECRET = 'tw-transport-secret-31c9';
const never = new AbortController().signal;

test('statuses are sorted once: 2xx ok, 401/403 credentials, 429/503 throttled, 408/5xx retriable, 413 too large, 3xx redirect, other 4xx permanent', () => {
  const expected: Record<number, string> = { 200: 'ok', 204: 'ok', 401: 'credentials', 403: 'credentials', 429: 'throttled', 503: 'throttled', 408: 'retriable', 500: 'retriable', 502: 'retriable', 599: 'retriable', 413: 'too-large', 301: 'redirect', 308: 'redirect', 400: 'permanent', 404: 'permanent', 422: 'permanent' };
  for (const [status, sorted] of Object.entries(expected)) assert.equal(classifyStatus(Number(status)), sorted, status);
});

test('413 is permanent for the batch as sent, naming its size; 429 honours Retry-After', () => {
  const answer = (status: number, retryAfter: string | null = null): HttpExchange => ({ kind: 'answer', status, statusText: '', headers: {}, retryAfter, body: '', truncated: false });
  const tooLarge = resultOfExchange(answer(413), { what: 'POST https://siem/x', batch: { events: 4, bytes: 900 } });
  assert.equal(tooLarge.kind, 'permanent');
  assert.match((tooLarge as { error: Error }).error.message, /batch of 4 events \(900 bytes\) is too large.*batch\.maxEvents or batch\.maxBytes/);
  assert.deepEqual({ ...resultOfExchange(answer(429, '3'), { what: 'x' }), error: undefined }, { kind: 'retry', retryAfterMs: 3000, error: undefined });
  assert.equal(resultOfExchange(answer(302), { what: 'x' }).kind, 'permanent');
  assert.equal(resultOfExchange({ kind: 'network', reason: 'ECONNRESET' }, { what: 'x' }).kind, 'retry');
});

test('the TLS block: files read while the options load, a certificate needs its key', () => {
  const files = makeCertificates(mkdtempSync(join(tmpdir(), 'tw-tls-')));
  const Tls = tlsSettings();
  assert.deepEqual(Tls.parse(undefined), { verify: true, minVersion: 'TLSv1.2' });
  const lonely = Tls.safeParse({ cert: files.clientCert });
  assert.equal(lonely.success, false);
  assert.deepEqual(lonely.error?.issues[0]?.path, ['key']);
  assert.equal(Tls.safeParse({ ca: '/nonexistent/ca.pem' }).success, false);
  const settings = z.strictObject(httpClientSettings({ compression: 'gzip' })).parse({});
  assert.equal(settings.compression, 'gzip');
  assert.equal(settings.tls.verify, true);
});

describe('HttpClient', () => {
  let files: CertificateFiles;
  const requests: Array<{ headers: IncomingMessage['headers']; body: Buffer; authorized: boolean }> = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ headers: req.headers, body, authorized: (req.socket as { authorized?: boolean }).authorized === true });
      if (req.url === '/big') return void res.writeHead(500).end('x'.repeat(1024 * 1024));
      if (req.url === '/moved') return void res.writeHead(302, { location: 'https://elsewhere.example/' }).end();
      if (req.url === '/echo') return void res.writeHead(400).end(`bad request from ${req.headers.authorization}`);
      res.writeHead(200).end('fine');
    });
  };
  const plain = createHttpServer(handle);
  let secure: ReturnType<typeof createHttpsServer>;
  const url = (server: { address(): unknown }, scheme: string, path: string) => `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;

  before(async () => {
    files = makeCertificates(mkdtempSync(join(tmpdir(), 'tw-http-')));
    secure = createHttpsServer({ cert: readFileSync(files.serverCert), key: readFileSync(files.serverKey), ca: readFileSync(files.ca), requestCert: true, rejectUnauthorized: false }, handle);
    await listenOnLoopback(plain);
    await listenOnLoopback(secure);
  });
  after(async () => {
    await closeServer(plain);
    await closeServer(secure);
  });

  const client = (options: Partial<ConstructorParameters<typeof HttpClient>[0]> & { tlsInput?: unknown } = {}) =>
    new HttpClient({ tls: tlsSettings().parse(options.tlsInput), compression: 'none', headers: { authorization: `Bearer ${SECRET}` }, ...options });

  test('gzip compresses the body when asked, with Content-Encoding and Content-Length', async () => {
    const http = client({ compression: 'gzip' });
    const sent = await http.send({ method: 'POST', url: url(plain, 'http', '/ok'), body: Buffer.from('hello '.repeat(100)) }, never);
    http.close();
    assert.equal(sent.kind, 'answer');
    const last = requests.at(-1)!;
    assert.equal(last.headers['content-encoding'], 'gzip');
    assert.equal(Number(last.headers['content-length']), last.body.length);
    assert.equal(gunzipSync(last.body).toString(), 'hello '.repeat(100));
  });

  test('the body read is capped; a redirect is answered, not followed; an echoed secret is the runner\'s to scrub', async () => {
    const http = client();
    const big = (await http.send({ method: 'GET', url: url(plain, 'http', '/big'), maxBodyBytes: 1000 }, never)) as Extract<HttpExchange, { kind: 'answer' }>;
    assert.equal(big.body.length, 1000);
    assert.equal(big.truncated, true);
    const moved = await http.send({ method: 'GET', url: url(plain, 'http', '/moved') }, never);
    assert.equal(moved.kind === 'answer' && moved.status, 302);
    assert.equal(resultOfExchange(moved, { what: 'GET /moved' }).kind, 'permanent');
    const echo = (await http.send({ method: 'GET', url: url(plain, 'http', '/echo') }, never)) as Extract<HttpExchange, { kind: 'answer' }>;
    assert.match(echo.body, new RegExp(SECRET));
    const scrubbed = Scrubber.of({ auth: { token: new Secret(SECRET, 'inline') } }).text(echo.body);
    assert.equal(scrubbed, 'bad request from Bearer [redacted]');
    http.close();
  });

  test('https with the CA of tls.ca and a client certificate; without the CA the cause names tls.ca', async () => {
    const trusting = client({ tlsInput: { ca: files.ca, cert: files.clientCert, key: { file: files.clientKey } } });
    const ok = await trusting.send({ method: 'GET', url: url(secure, 'https', '/ok') }, never);
    trusting.close();
    assert.equal(ok.kind === 'answer' && ok.status, 200);
    assert.equal(requests.at(-1)!.authorized, true, 'the client certificate was presented');
    const doubting = client();
    const refused = await doubting.send({ method: 'GET', url: url(secure, 'https', '/ok') }, never);
    doubting.close();
    assert.equal(refused.kind, 'network');
    assert.match((refused as { reason: string }).reason, /give its CA in tls\.ca/);
  });

  test('a refused connection reports the network cause; an aborted signal settles at once', async () => {
    const http = client();
    const closed = createHttpServer();
    await listenOnLoopback(closed);
    const port = (closed.address() as AddressInfo).port;
    await closeServer(closed);
    const refused = await http.send({ method: 'GET', url: `http://127.0.0.1:${port}/` }, never);
    assert.equal(refused.kind, 'network');
    assert.match((refused as { reason: string }).reason, /ECONNREFUSED/);
    const aborted = await http.send({ method: 'GET', url: url(plain, 'http', '/ok') }, AbortSignal.abort(new Error('timeout after 5 ms')));
    assert.deepEqual(aborted, { kind: 'aborted', reason: 'timeout after 5 ms' });
    http.close();
  });
});
