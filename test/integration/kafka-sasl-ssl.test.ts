/**
 * `kafka.ssl` and `kafka.sasl` against a broker that requires them: a broker of this file's own
 * whose only client listener is SASL_SSL with SCRAM-SHA-512, its certificate signed by a CA made
 * for it. Events go ingest → processor → the file connector through it, every id counted; a
 * wrong password and an untrusted CA fail the start within a bound, naming the option; the
 * password shows in no log line, error, status or metric.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { apiToken, SCOPES } from '../../src/api/auth.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Secret } from '../../src/config/secret.js';
import { makeLoopbackCertificates } from '../../scripts/kafka/certificates.js';
import { createKafkaClient } from '../../src/kafka/client.js';
import { startKafkaProbe } from '../../src/kafka/probe.js';
import { DERIVED_TYPES, INGESTIBLE_TYPES } from '../../src/model/events.js';
import { startService, type RunningService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { startOwnBroker, type OwnBroker } from '../helpers/own-broker.js';

/** The SASL_SSL listener; the controller listens on + 1 and the broker's own PLAINTEXT on + 2. */
const PORT = 28792;
const USER = 'trustwire-test';
// Random, so a match in a log can only be a leak.
const PASSWORD = `scram-${randomBytes(12).toString('hex')}`;
const PASSWORD_ENV = 'TRUSTWIRE_TEST_KAFKA_SASL_PASSWORD';
const TOKEN = 'sasl-ssl-token-5d1e';
/** How long a refused setting may take to fail the start: never a hang. */
const REFUSAL_BOUND_MS = 30_000;

const work = mkdtempSync(join(tmpdir(), 'trustwire-sasl-ssl-'));
const sinkFile = join(work, 'events.jsonl');
const logLines: string[] = [];
const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
/** Everything the service said outside its log: errors, status and metrics answers. */
const said: string[] = [];
let broker: OwnBroker;
let service: RunningService | undefined;

before(async () => {
  process.env[PASSWORD_ENV] = PASSWORD;
  broker = await startOwnBroker(PORT, { saslSsl: { users: [{ name: USER, password: PASSWORD }] } });
});
after(async () => {
  await service?.close();
  await broker?.destroy();
  rmSync(work, { recursive: true, force: true });
  delete process.env[PASSWORD_ENV];
});

function configFor(kafka: { password?: string; ca?: string } = {}): Config {
  const password = kafka.password !== undefined ? JSON.stringify(kafka.password) : `{ env: ${PASSWORD_ENV} }`;
  return parseConfig(
    [
      'kafka:',
      `  brokers: ["127.0.0.1:${PORT}"]`,
      `  ssl: { ca: ${JSON.stringify(kafka.ca ?? broker.tls!.caFile)} }`,
      `  sasl: { mechanism: scram-sha-512, username: ${USER}, password: ${password} }`,
      '  partitions: 3',
      '  replicationFactor: 1',
      'http: { port: 0 }',
      'connectors:',
      `  - { name: audit, type: file, batch: { maxEvents: 50, lingerMs: 100 }, options: { path: ${JSON.stringify(sinkFile)} } }`,
    ].join('\n'),
    'sasl-ssl.yaml',
    work,
  );
}

const tokens = [apiToken('collector', SCOPES, { token: new Secret(TOKEN, 'inline') })];

/** Starts the service and expects it to fail: resolves to the error, and how long it took. */
async function refusedStart(config: Config): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  const outcome = await startService(config, { logger, tokens }).then(
    async (running) => {
      await running.close();
      return undefined;
    },
    (error: Error) => error,
  );
  assert.ok(outcome instanceof Error, 'the service must not start');
  said.push(outcome.message, inspect(outcome, { depth: 20 }));
  return { error: outcome, ms: Date.now() - started };
}

test('ingest → processor → file sink over SASL_SSL: every posted event arrives at the sink', async () => {
  service = await startService(configFor(), { logger, tokens });
  const posted: string[] = [];
  for (let round = 0; round < 4; round++) {
    const batch = Array.from({ length: 15 }, (_, i) => ingestFixture(INGESTIBLE_TYPES[(round * 15 + i) % INGESTIBLE_TYPES.length]!));
    const response: Response = await fetch(`${service.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(batch),
    });
    assert.equal(response.status, 202, await response.clone().text());
    posted.push(...((await response.json()) as { ids: string[] }).ids);
  }
  assert.equal(new Set(posted).size, 60);

  const delivered = () => {
    if (!existsSync(sinkFile)) return [];
    return readFileSync(sinkFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { id: string; type: string });
  };
  const missing = () => {
    const ids = new Set(delivered().map((event) => event.id));
    return posted.filter((id) => !ids.has(id));
  };
  await eventually(() => missing().length === 0, 'every posted id in the sink file', 60_000, 200).catch((error: Error) => {
    throw new Error(`${error.message}; missing ${missing().length} of ${posted.length}`);
  });
  // At least once: a redelivery may repeat an id; anything else in the file is the processor's own (derived).
  const strangers = delivered().filter((event) => !posted.includes(event.id) && !DERIVED_TYPES.includes(event.type as never));
  assert.deepEqual(strangers, [], 'the sink got only posted events (and derived ones)');
  assert.equal(service.readiness().ready, true, JSON.stringify(service.readiness()));

  for (const path of ['/readyz', '/healthz', '/v1/connectors', '/metrics']) {
    const answer: Response = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(answer.status, 200, path);
    said.push(await answer.text());
  }
  await service.close();
  service = undefined;
});

describe('a setting the broker refuses fails the start within a bound, naming the option', () => {
  test('a wrong password: kafka.sasl.password', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const { error, ms } = await refusedStart(configFor({ password: wrong }));
    assert.ok(ms < REFUSAL_BOUND_MS, `failed after ${ms} ms`);
    assert.match(error.message, /^kafka\.sasl\.password: 127\.0\.0\.1:28792 refused user "trustwire-test" with SCRAM-SHA-512 \(SASL_AUTHENTICATION_FAILED/);
    assert.equal((error as { retriable?: boolean }).retriable, false);
    assert.ok(!inspect(error, { depth: 20 }).includes(wrong), 'the wrong password is a secret too');
  });

  test('a CA that did not sign the broker certificate: kafka.ssl.ca', async () => {
    const stranger = makeLoopbackCertificates(join(work, 'stranger'), 'a stranger');
    const { error, ms } = await refusedStart(configFor({ ca: stranger.caFile }));
    assert.ok(ms < REFUSAL_BOUND_MS, `failed after ${ms} ms`);
    assert.match(error.message, /^kafka\.ssl\.ca: the certificate of 127\.0\.0\.1:28792 is not signed by the CA in kafka\.ssl\.ca \(SELF_SIGNED_CERT_IN_CHAIN/);
  });

  test('readiness names the option while the password is wrong', async () => {
    const config = configFor({ password: 'not-the-password' });
    const probe = startKafkaProbe(createKafkaClient(config.kafka, logger), 500, 3000);
    try {
      await eventually(() => probe.health.state === 'failing', 'the probe failing', 15_000);
      const snapshot = probe.health.snapshot();
      said.push(JSON.stringify(snapshot));
      assert.match(snapshot.cause ?? '', /^kafka\.sasl\.password: /);
    } finally {
      await probe.stop();
    }
  });
});

describe('kafka.ssl.ca is read and checked when the configuration loads', () => {
  const problem = (ca: string) => {
    try {
      configFor({ ca });
      return undefined;
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.message;
    }
  };

  test('a path, {file: PATH} or inline PEM all give the certificate', () => {
    const pem = readFileSync(broker.tls!.caFile, 'utf8');
    assert.equal(configFor().kafka.ssl?.ca, pem);
    const asFile = parseConfig(`kafka: { ssl: { ca: { file: ${JSON.stringify(broker.tls!.caFile)} } } }`);
    assert.equal(asFile.kafka.ssl?.ca, pem);
    const inline = parseConfig(`kafka: { ssl: { ca: ${JSON.stringify(pem)} } }`);
    assert.equal(inline.kafka.ssl?.ca, pem);
  });

  test('a missing file and a file that is no certificate are errors at kafka.ssl.ca', () => {
    assert.match(problem(join(work, 'absent.pem')) ?? '', /^sasl-ssl\.yaml: kafka\.ssl\.ca: cannot read .*absent\.pem: ENOENT$/);
    const notPem = join(work, 'not-a-ca.txt');
    writeFileSync(notPem, 'hello\n');
    assert.match(problem(notPem) ?? '', /^sasl-ssl\.yaml: kafka\.ssl\.ca: .*not-a-ca\.txt is not PEM/);
    assert.match(problem(broker.tls!.keyFile) ?? '', /^sasl-ssl\.yaml: kafka\.ssl\.ca: .*server\.key does not parse as a certificate/);
  });

  test('a client certificate needs its key', () => {
    const cert = JSON.stringify(broker.tls!.certFile);
    assert.throws(() => parseConfig(`kafka: { ssl: { cert: { file: ${cert} } } }`), /kafka\.ssl\.key: missing/);
  });
});

test('the password is in no log line, error, status or metric', () => {
  assert.ok(logLines.length > 0, 'the service logged');
  const leaks = [...logLines, ...said].filter((text) => text.includes(PASSWORD));
  assert.deepEqual(leaks, []);
});
