/**
 * Every configured secret — API tokens, connector tokens and passwords, credentials in URLs —
 * is looked for in everything trustwire shows: its logs, its errors and statuses, /metrics,
 * /readyz and /healthz, the dead letters, and `config check`. The sinks here answer with a
 * hostile receiver that echoes the request's headers and URL back in its error bodies, so any
 * connector that quotes a response unscrubbed would leak.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { apiToken } from '../../src/api/auth.js';
import { Secret } from '../../src/config/secret.js';
import { createLogger } from '../../src/log.js';
import { decodeEvent } from '../../src/model/avro.js';
import { startService, type RunningService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, readAll, testBrokers, testConfig } from '../helpers/kafka.js';

const SECRETS = {
  ingestToken: 'ingest-tok-5ecret-a1',
  readToken: 'read-tok-5ecret-b2',
  urlPassword: 'url-pa55-5ecret-c3',
  urlApiKey: 'url-apikey-5ecret-d4',
  bearer: 'bearer-5ecret-e5',
  hecToken: 'hec-5ecret-f6',
  epoPassword: 'epo-pa55-5ecret-07',
};
/** The forms a secret travels in: itself, and inside HTTP basic credentials. */
const NEEDLES = [
  ...Object.values(SECRETS),
  Buffer.from(`alice:${SECRETS.urlPassword}`).toString('base64'),
  Buffer.from(`trustwire-svc:${SECRETS.epoPassword}`).toString('base64'),
];

let echo: Server;
let service: RunningService;
const logs: string[] = [];
let config: ReturnType<typeof testConfig>;
let yaml: string;

before(async () => {
  // A receiver that refuses everything and quotes the request's credentials in its answer.
  echo = createServer((request, response) => {
    request.resume();
    const quoted = JSON.stringify({ url: request.url, headers: request.headers });
    response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `refused ${quoted}`, code: 4, error: quoted }));
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  const retry = '{ initialMs: 10, maxMs: 20, maxAttempts: 2 }';
  yaml = [
    'connectors:',
    `  - { name: webhook-url, type: http, retry: ${retry}, options: { url: "http://alice:${SECRETS.urlPassword}@127.0.0.1:${new URL(origin).port}/hook?apikey=${SECRETS.urlApiKey}" } }`,
    `  - { name: webhook-bearer, type: http, retry: ${retry}, options: { url: "${origin}/hook", auth: { type: bearer, token: ${SECRETS.bearer} } } }`,
    `  - { name: hec, type: splunk-hec, retry: ${retry}, options: { urls: ["${origin}"], token: ${SECRETS.hecToken}, compression: none } }`,
    `  - { name: epo, type: epo, retry: ${retry}, options: { url: "${origin}", allowInsecureHttp: true, username: trustwire-svc, password: ${SECRETS.epoPassword} } }`,
  ].join('\n');
  config = testConfig(yaml);
  const sink = new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) });
  service = await startService(config, {
    // The service's own logger (URL redaction included), at debug, into memory.
    logger: createLogger('debug', sink),
    tokens: [apiToken('collector', ['ingest'], { token: new Secret(SECRETS.ingestToken, 'inline') }), apiToken('reader', ['read'], { token: new Secret(SECRETS.readToken, 'inline') })],
  });
});
after(async () => {
  await service?.close();
  echo?.close();
  if (config) await dropTopics(config);
});

function assertNoSecret(where: string, text: string) {
  for (const needle of NEEDLES) assert.ok(!text.includes(needle), `${where} shows a secret (${needle.slice(0, 6)}…): ${text.slice(Math.max(0, text.indexOf(needle) - 200), text.indexOf(needle) + 60)}`);
}

test('no configured secret shows in logs, errors, statuses, metrics, health, dead letters or config check', async () => {
  const posted = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRETS.ingestToken}`, 'content-type': 'application/json' },
    body: JSON.stringify([ingestFixture('trust.change'), ingestFixture('admin.action')]),
  });
  assert.equal(posted.status, 202, await posted.clone().text());
  const postedIds = ((await posted.json()) as { ids: string[] }).ids;
  assert.equal(postedIds.length, 2);
  const read = (path: string) => fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${SECRETS.readToken}` } }).then((r) => r.text());

  // Every connector tried, was refused, and dead-lettered: their errors are now everywhere.
  type Status = { name: string; deadLettered: number; lastError?: string };
  await eventually(
    async () => {
      const { connectors } = JSON.parse(await read('/v1/connectors')) as { connectors: Status[] };
      return connectors.length === 4 && connectors.every((c) => c.deadLettered > 0 && c.lastError !== undefined);
    },
    'every connector dead-lettered after its refused attempts',
    60_000,
    250,
  );
  const statuses = await read('/v1/connectors');
  // The receiver did quote the credentials back: the test would catch a leak.
  assert.match(statuses, /refused|401/);
  const dlq = await readAll(config.kafka.topics.dlq, 1);
  // Every dead letter is one of the two posted events, and each connector dead-lettered what it took.
  const lettered = new Map<string, string[]>();
  for (const record of dlq) {
    const id = decodeEvent(record.value!).id;
    assert.ok(postedIds.includes(id), `dead letter ${id} is one of the posted events`);
    const component = record.headers['trustwire.dlq.component'] ?? '?';
    lettered.set(component, [...(lettered.get(component) ?? []), id]);
  }
  assert.deepEqual([...lettered.keys()].sort(), ['epo', 'hec', 'webhook-bearer', 'webhook-url']);
  for (const [component, letters] of lettered) assert.equal(new Set(letters).size, letters.length, `${component} dead-lettered no event twice`);

  const shown: Record<string, string> = {
    logs: logs.join(''),
    '/v1/connectors': statuses,
    '/metrics': await read('/metrics'),
    '/readyz': await fetch(`${service.url}/readyz`).then((r) => r.text()),
    '/healthz': await fetch(`${service.url}/healthz`).then((r) => r.text()),
    'dead letters': dlq.map((record) => `${JSON.stringify(record.headers)} ${record.value?.toString('latin1') ?? ''}`).join('\n'),
  };
  const dir = mkdtempSync(join(tmpdir(), 'trustwire-secrets-'));
  const file = join(dir, 'trustwire.yaml');
  writeFileSync(file, `kafka:\n  brokers: [${testBrokers().join(', ')}]\nauth:\n  tokens:\n    - { name: reader, token: ${SECRETS.readToken}, scopes: [read] }\n${yaml}\n`);
  const check = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  shown['config check'] = check.stdout + check.stderr;
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nhttp: { port: not-a-port }\n`);
  const failing = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', file], { encoding: 'utf8' });
  assert.equal(failing.status, 1);
  shown['config check errors'] = failing.stdout + failing.stderr;

  for (const [where, text] of Object.entries(shown)) {
    assert.ok(text.length > 0, `${where} is empty`);
    assertNoSecret(where, text);
  }
  // The logs did carry the connectors' errors (so the grep looked at something).
  assert.match(shown.logs!, /webhook-url|hec|epo/);
});
