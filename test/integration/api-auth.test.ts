import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { apiToken } from '../../src/api/auth.js';
import { Secret } from '../../src/config/secret.js';
import { silentLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { makeTestCertificates } from '../helpers/certs.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, readAll, testConfig } from '../helpers/kafka.js';

const INGEST = 'ingest-only-token-1f7a';
const READ = 'read-only-token-88c2';
const ADMIN = 'admin-token-c0de';
const LIMITED = 'limited-token-77aa';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const config = testConfig();
config.auth.rateLimit = { requestsPerSecond: 1, burst: 40 };
config.http.requestTimeoutMs = 1500;
let service: RunningService;

/** Every route but the two probes, as a caller reaches it. */
const GUARDED: Array<{ method: 'GET' | 'POST'; path: string; scope: 'ingest' | 'read' | 'admin' }> = [
  { method: 'POST', path: '/v1/events', scope: 'ingest' },
  { method: 'POST', path: '/v1/adapters/keylime', scope: 'ingest' },
  { method: 'POST', path: '/v1/adapters/intel-secl-hvs', scope: 'ingest' },
  { method: 'GET', path: '/v1/hosts', scope: 'read' },
  { method: 'GET', path: '/v1/hosts/esx-01', scope: 'read' },
  { method: 'GET', path: '/v1/compliance/summary', scope: 'read' },
  { method: 'GET', path: '/v1/compliance/report', scope: 'read' },
  { method: 'GET', path: '/v1/compliance/hosts/esx-01', scope: 'read' },
  { method: 'GET', path: '/v1/connectors', scope: 'read' },
  { method: 'GET', path: '/metrics', scope: 'read' },
  { method: 'GET', path: '/v1/overview', scope: 'read' },
  { method: 'GET', path: '/v1/activity', scope: 'read' },
  { method: 'GET', path: '/v1/alerts', scope: 'read' },
  { method: 'GET', path: '/v1/hosts/esx-01/history', scope: 'read' },
  { method: 'GET', path: '/v1/stream', scope: 'read' },
  { method: 'GET', path: '/v1/dlq', scope: 'admin' },
  { method: 'POST', path: '/v1/dlq/replay', scope: 'admin' },
];

function call(method: string, path: string, token?: string, body?: string) {
  return fetch(`${service.url}${path}`, {
    method,
    headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body }),
  });
}

before(async () => {
  service = await startService(config, {
    logger: silentLogger,
    tokens: [
      apiToken('collector', ['ingest'], { token: new Secret(INGEST, 'inline') }),
      // Configured as a hash: the service never holds the token itself.
      apiToken('auditor', ['read'], { sha256: sha256(READ) }),
      apiToken('operator', ['read', 'admin'], { token: new Secret(ADMIN, 'inline') }),
      apiToken('scraper', ['read'], { token: new Secret(LIMITED, 'inline') }),
    ],
  });
});
after(async () => {
  await service.close();
  await dropTopics(config);
});

describe('the API answers only callers with a token that carries the scope', () => {
  test('without a token every route but /healthz and /readyz answers 401 {error, details[]} with a Bearer challenge', async () => {
    for (const route of [...GUARDED, { method: 'GET', path: '/no-such-route' }]) {
      const response = await call(route.method, route.path, undefined, route.method === 'POST' ? '{}' : undefined);
      assert.equal(response.status, 401, `${route.method} ${route.path}`);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      assert.deepEqual(await response.json(), { error: 'missing bearer token', details: [] });
    }
    for (const probe of ['/healthz', '/readyz']) assert.notEqual((await call('GET', probe)).status, 401, probe);
  });

  test('an unknown token answers 401, told apart from a missing one', async () => {
    const response = await call('GET', '/v1/hosts', 'not-a-token');
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid bearer token');
  });

  test('a token without the route’s scope answers 403 naming the scope', async () => {
    const held: Record<string, { token: string; scopes: string[] }> = {
      collector: { token: INGEST, scopes: ['ingest'] },
      auditor: { token: READ, scopes: ['read'] },
    };
    for (const [name, { token, scopes }] of Object.entries(held)) {
      for (const route of GUARDED.filter((r) => !scopes.includes(r.scope))) {
        const response = await call(route.method, route.path, token, route.method === 'POST' ? '{}' : undefined);
        assert.equal(response.status, 403, `${name} ${route.method} ${route.path}`);
        const body = (await response.json()) as { error: string; details: unknown[] };
        assert.equal(body.error, `token ${name} lacks the ${route.scope} scope that ${route.method} ${route.path.replace(/esx-01(\/history)?$/, ':id$1').replace(/(keylime|intel-secl-hvs)$/, ':name')} needs`);
      }
    }
  });

  test('a read token refused at ingest produces nothing', async () => {
    const response = await call('POST', '/v1/events', READ, JSON.stringify(ingestFixture('trust.change')));
    assert.equal(response.status, 403);
    assert.equal((await readAll(config.kafka.topics.events, 0)).length, 0);
  });

  test('each scope reaches its routes: ingest posts, a hashed read token reads, admin lists dead letters', async () => {
    const posted = await call('POST', '/v1/events', INGEST, JSON.stringify(ingestFixture('trust.change')));
    assert.equal(posted.status, 202);
    for (const path of ['/v1/hosts', '/v1/compliance/summary', '/v1/connectors', '/metrics']) assert.equal((await call('GET', path, READ)).status, 200, path);
    const dlq = await call('GET', '/v1/dlq', ADMIN);
    assert.equal(dlq.status, 200);
    assert.deepEqual(await dlq.json(), { deadLetters: [] });
    const replay = await call('POST', '/v1/dlq/replay?connector=nope', ADMIN);
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { details: Array<{ path: string }> }).details[0]!.path, 'connector');
  });
});

test('a token past its rate answers 429 with Retry-After, and other tokens go on', async () => {
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 45 && !statuses.includes(429); i++) {
    const response = await call('GET', '/v1/connectors', LIMITED);
    statuses.push(response.status);
    if (response.status === 429) {
      retryAfter = response.headers.get('retry-after');
      assert.match(((await response.json()) as { error: string }).error, /token scraper is over its rate of 1 requests a second/);
    } else await response.body?.cancel();
  }
  assert.ok(statuses.includes(429), `no 429 in ${statuses.length} requests`);
  assert.ok(statuses.filter((s) => s === 200).length >= 40, 'the burst is served before the limit');
  assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
  assert.equal((await call('GET', '/v1/connectors', ADMIN)).status, 200);
});

test('a chunked body that never ends is answered 408 {error, details[]} and closed', async () => {
  const { port } = new URL(service.url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${INGEST}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n[{"id"\r\n`);
    // Then nothing more, ever: the server must end it.
  });
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { error: 'the request did not arrive in time', details: [] });
});

test('headers too large answer 431 in the same {error, details[]} shape', async () => {
  const response = await fetch(`${service.url}/v1/hosts`, { headers: { authorization: `Bearer ${READ}`, 'x-filler': 'a'.repeat(20_000) } });
  assert.equal(response.status, 431);
  assert.deepEqual(await response.json(), { error: 'request headers are too large', details: [] });
});

describe('HTTPS with client certificates', () => {
  const certs = makeTestCertificates();
  const tlsConfig = testConfig(`
http:
  tls:
    cert: { file: ${certs.files.serverCert} }
    key: { file: ${certs.files.serverKey} }
    clientCa: { file: ${certs.files.ca} }
`);
  let secure: RunningService;
  before(async () => {
    secure = await startService(tlsConfig, { logger: silentLogger, tokens: [apiToken('auditor', ['read'], { sha256: sha256(READ) })] });
  });
  after(async () => {
    await secure.close();
    await dropTopics(tlsConfig);
  });

  function get(options: { cert?: string; key?: string; ca?: string }) {
    return new Promise<number>((resolve, reject) => {
      const request = httpsRequest(`${secure.url}/v1/hosts`, { ...options, headers: { authorization: `Bearer ${READ}` } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });
  }

  test('serves https, to a client with a certificate the CA signed and a token', async () => {
    assert.match(secure.url, /^https:\/\//);
    assert.equal(await get({ ca: certs.pem('ca'), cert: certs.pem('clientCert'), key: certs.pem('clientKey') }), 200);
  });

  test('refuses a client without a certificate, and plain HTTP', async () => {
    await assert.rejects(get({ ca: certs.pem('ca') }), (error: NodeJS.ErrnoException) => /certificate|ECONNRESET|alert/i.test(`${error.code} ${error.message}`));
    await assert.rejects(fetch(secure.url.replace('https:', 'http:') + '/v1/hosts'));
  });

  test('a client that trusts another CA does not talk to it', async () => {
    await assert.rejects(get({ ca: certs.pem('otherCa'), cert: certs.pem('clientCert'), key: certs.pem('clientKey') }), /self-signed|unable to verify|certificate/i);
  });
});
