import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';
import { topicNames } from '../../src/config/schema.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));
const SECRETS = { TRUSTWIRE_TEST_KAFKA_PASSWORD: 'kafka-pa55-word', TRUSTWIRE_TEST_HVS_TOKEN: 'hvs-token-value' };

function withEnv<T>(env: Record<string, string>, work: () => T): T {
  Object.assign(process.env, env);
  try {
    return work();
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
  }
}

function configErrors(file: string): string[] {
  try {
    loadConfig(fixture(file));
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.details.map((d) => `${d.path}: ${d.message}`);
  }
  assert.fail(`${file} was accepted`);
}

test('a full configuration loads, with secrets from the environment and from a file relative to it', () => {
  const config = withEnv(SECRETS, () => loadConfig(fixture('trustwire.yaml')));
  assert.deepEqual(config.kafka.brokers, ['kafka-1.dc1.example:9093', 'kafka-2.dc1.example:9093']);
  assert.equal(config.kafka.partitions, 12);
  assert.equal(config.kafka.topics.events, 'trustwire.events');
  assert.equal(config.kafka.sasl?.password.reveal(), 'kafka-pa55-word');
  assert.deepEqual(
    config.ingest.tokens.map((t) => [t.name, t.token.reveal()]),
    [
      ['hvs-collector', 'hvs-token-value'],
      ['hytrust-proxy', 'proxy-token-from-file'],
    ],
  );
});

test('secrets never print: not in JSON, not in util.inspect, not in String()', () => {
  const config = withEnv(SECRETS, () => loadConfig(fixture('trustwire.yaml')));
  const printed = [JSON.stringify(config), inspect(config, { depth: 20 }), String(config.kafka.sasl?.password), `${config.ingest.tokens[0]?.token}`];
  for (const text of printed) {
    for (const secret of [...Object.values(SECRETS), 'proxy-token-from-file']) assert.ok(!text.includes(secret), `${secret} printed in ${text}`);
  }
  assert.match(inspect(config.kafka.sasl?.password), /Secret\(env:TRUSTWIRE_TEST_KAFKA_PASSWORD\)/);
});

test('no file: every option takes its default (the embedded default)', () => {
  const config = loadConfig();
  assert.deepEqual(config.kafka.brokers, []);
  assert.equal(config.kafka.partitions, 6);
  assert.equal(config.http.port, 8080);
  assert.equal(config.http.host, '127.0.0.1');
});

test('unknown keys are refused with their path', () => {
  assert.deepEqual(configErrors('bad_unknown_key.yaml'), ['kafka.partitons: unknown field', 'htp: unknown field']);
});

test('bad values: every problem, each with its option path and reason', () => {
  const errors = configErrors('bad_values.yaml');
  const byPath = new Map(errors.map((e) => [e.split(':')[0], e]));
  assert.match(byPath.get('kafka.brokers[0]')!, /must be host:port/);
  assert.match(byPath.get('kafka.partitions')!, />=1/);
  assert.match(byPath.get('http.port')!, /expected number/);
  assert.match(byPath.get('ingest.tokens[0].token')!, /environment variable TRUSTWIRE_TEST_UNSET_VARIABLE is not set/);
  assert.match(byPath.get('ingest.tokens[1].token')!, /cannot read secret file .*no-such\.token: ENOENT/);
  assert.match(byPath.get('log.level')!, /expected one of/);
});

test('broken YAML is refused with its line', () => {
  const [error] = configErrors('bad_yaml.yaml');
  assert.match(error!, /^line \d+: /);
});

test('`trustwire config check` prints every error and exits 1, or ok with secrets redacted', () => {
  const cli = (file: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', fixture(file)], {
      encoding: 'utf8',
      env: { ...process.env, ...SECRETS },
    });
  const bad = cli('bad_values.yaml');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /bad_values\.yaml: kafka\.partitions: /);
  assert.match(bad.stderr, /bad_values\.yaml: log\.level: /);
  const good = cli('trustwire.yaml');
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /trustwire\.yaml: ok/);
  assert.ok(!good.stdout.includes('kafka-pa55-word') && !good.stdout.includes('proxy-token-from-file'));
});

test('`trustwire config check` also checks each connector against its own options, and the templates', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', fixture('bad_connectors.yaml')], { encoding: 'utf8' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /bad_connectors\.yaml: connectors\[0\]\.options\.framing: tls carries octet-counted frames only/);
  assert.match(result.stderr, /bad_connectors\.yaml: connectors\[1\]\.type: no built-in connector "carrier-pigeon"; there are: .*syslog/);
  assert.match(result.stderr, /bad_connectors\.yaml: compliance\.templates\[0\]: .*no-such-templates does not exist/);
});

test('`trustwire config check` lists every problem in one run: an unset variable and an unknown key hide no connector, file or template error', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', fixture('bad_everything.yaml')], { encoding: 'utf8' });
  assert.equal(result.status, 1);
  const expected = [
    /bad_everything\.yaml: kafka\.partitons: /,
    /bad_everything\.yaml: auth\.tokens\[0\]\.token: environment variable TRUSTWIRE_TEST_UNSET_VARIABLE is not set/,
    /bad_everything\.yaml: http\.tls\.cert: cannot read .*no-such-cert\.pem: ENOENT/,
    /bad_everything\.yaml: http\.tls\.key: is not PEM but looks like a path: to read a file write \{file: "\/etc\/trustwire\/server\.key"\}/,
    /bad_everything\.yaml: connectors\[0\]\.options\.framing: tls carries octet-counted frames only/,
    /bad_everything\.yaml: connectors\[1\]\.options\.method: /,
    /bad_everything\.yaml: connectors\[2\]\.type: no built-in connector "carrier-pigeon"/,
    /bad_everything\.yaml: compliance\.templates\[0\]: .*no-such-templates does not exist/,
  ];
  for (const line of expected) assert.match(result.stderr, line);
  assert.ok(!/webhook-pa55|webhook-api-key/.test(result.stderr + result.stdout), result.stderr);
});

test('`trustwire config check` redacts credentials in URLs from what it prints', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', fixture('url_credentials.yaml')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /https:\/\/alice:\[redacted\]@hooks\.example\.net\/in\?apikey=\[redacted\]&tenant=dc1/);
  assert.ok(!/webhook-pa55|webhook-api-key/.test(result.stdout));
});

test('an internal topic a configuration built in code leaves out is named after the group prefix, not shared', () => {
  const config = parseConfig('kafka: { groupPrefix: acme }');
  const { byWorkload: _w, workloadState: _s, ...older } = config.kafka.topics;
  const topics = topicNames({ ...config.kafka, topics: older as typeof config.kafka.topics });
  assert.equal(topics.byWorkload, 'acme.by-workload');
  assert.equal(topics.workloadState, 'acme.workload-state');
  assert.equal(topics.byUser, 'trustwire.by-user', 'a name the configuration has is kept');
  assert.deepEqual(topicNames(config.kafka), config.kafka.topics);
});
