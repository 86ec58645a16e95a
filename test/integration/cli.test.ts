import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { devTokenFile } from '../../src/embedded/dev-token.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { INGESTIBLE_TYPES } from '../../src/model/events.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, testBrokers, testClient, testConfig } from '../helpers/kafka.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const config = testConfig();
const dir = mkdtempSync(join(tmpdir(), 'trustwire-cli-'));
const configFile = join(dir, 'trustwire.yaml');

function trustwire(args: string[], input?: string) {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', input, timeout: 60_000 });
}

/** `trustwire tail` output: one JSON line per record. */
function tail(args: string[]): Array<{ key: string; event: { id: string; type: string } }> {
  const result = trustwire(['tail', ...args]);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

before(async () => {
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  writeFileSync(
    configFile,
    `kafka:\n  brokers: [${testBrokers().join(', ')}]\n  topics:\n${Object.entries(config.kafka.topics)
      .map(([k, v]) => `    ${k}: ${v}`)
      .join('\n')}\n`,
  );
});
after(async () => {
  await dropTopics(config);
  rmSync(dir, { recursive: true, force: true });
});

test('`trustwire emit` produces NDJSON from stdin and prints the ids; `tail` reads them back', () => {
  const ndjson = INGESTIBLE_TYPES.map((type) => JSON.stringify(ingestFixture(type))).join('\n');
  const emitted = trustwire(['emit', '--config', configFile], ndjson);
  assert.equal(emitted.status, 0, emitted.stderr);
  const ids = emitted.stdout.trim().split('\n');
  assert.equal(ids.length, INGESTIBLE_TYPES.length);
  assert.match(emitted.stderr, new RegExp(`produced 4 event\\(s\\) to ${config.kafka.topics.events}`));

  const records = tail(['--config', configFile, '--limit', '10']);
  assert.deepEqual(records.map((r) => r.event.id).sort(), [...ids].sort());
  assert.deepEqual(records.map((r) => r.event.type).sort(), [...INGESTIBLE_TYPES].sort());
});

test('`trustwire emit` reads a JSON array from a file', () => {
  const file = join(dir, 'events.json');
  writeFileSync(file, JSON.stringify([ingestFixture('trust.change'), ingestFixture('config.snapshot')], null, 2));
  const emitted = trustwire(['emit', file, '--config', configFile]);
  assert.equal(emitted.status, 0, emitted.stderr);
  assert.equal(emitted.stdout.trim().split('\n').length, 2);
});

test('`trustwire emit` refuses invalid input with the line and field, and produces nothing', () => {
  const good = JSON.stringify(ingestFixture('trust.change'));
  const bad = JSON.stringify({ ...ingestFixture('trust.change'), payload: { ...(ingestFixture('trust.change').payload as object), status: 'green' } });
  const before = tail(['--config', configFile, '--limit', '100']).length;
  const emitted = trustwire(['emit', '--config', configFile], `${good}\n${bad}\n`);
  assert.equal(emitted.status, 1);
  assert.match(emitted.stderr, /stdin: 1 problem\(s\) in 2 events; nothing was ingested/);
  assert.match(emitted.stderr, /line 2: payload\.status: Invalid option: expected one of "trusted"\|"untrusted"\|"unknown"/);
  assert.equal(emitted.stdout, '');
  assert.equal(tail(['--config', configFile, '--limit', '100']).length, before);
});

test('`trustwire emit` with a missing file or a bad option says so', () => {
  const missing = trustwire(['emit', join(dir, 'nope.json'), '--config', configFile]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read .*nope\.json: ENOENT/);
  const usage = trustwire(['emit', '--formt', 'json']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /Unknown option '--formt'/);
});

test('`trustwire start` on the embedded default: reuses the local broker, takes a curl-style post with the dev token', async () => {
  const startConfig = join(dir, 'embedded.yaml');
  writeFileSync(startConfig, 'http:\n  port: 0\nlog:\n  level: warn\n');
  const child = spawn(process.execPath, [...CLI, 'start', '--config', startConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${stderr}`)), 60_000);
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /HTTP API\s+(http:\/\/\S+)/.exec(stderr);
      if (match) (clearTimeout(timer), resolve(match[1]!));
    });
    child.once('exit', (code) => reject(new Error(`start exited with ${code}:\n${stderr}`)));
  });
  try {
    assert.match(stderr, /reusing the local Kafka broker at 127\.0\.0\.1:\d+/);
    assert.match(stderr, /Authorization: Bearer \$\(cat .*dev-token\)/, 'the banner shows how to post, pointing at the token file');
    const token = readFileSync(devTokenFile(), 'utf8').trim();
    assert.ok(!stderr.includes(token), 'the token itself is never printed');

    const response = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: readFileSync(new URL('../../examples/trust.change.json', import.meta.url), 'utf8'),
    });
    assert.equal(response.status, 202, await response.clone().text());
    const { ids } = (await response.json()) as { ids: string[] };
    // Read it back from trustwire.events, as the banner tells a person to.
    const records = tail(['--topic', 'trustwire.events', '--limit', '100000']);
    assert.ok(records.some((r) => r.event.id === ids[0]), `event ${ids[0]} not found on trustwire.events`);

    // The embedded default plays a pool and files the SIEM feed: CEF lines under syslog headers, within 30 s of the start.
    const feed = /written to\s+(\S+siem-cef\.log)/.exec(stderr)?.[1];
    assert.ok(feed, `the banner names the SIEM feed:\n${stderr}`);
    assert.match(stderr, /embedded: \{ simulation: \{ enabled: false \} \}/, 'the banner says how to turn the simulation off');
    await eventually(() => existsSync(feed) && /^<\d+>1 \S+ \S+ trustwire - trust\.change .*CEF:0\|trustwire\|/m.test(readFileSync(feed, 'utf8')), `CEF lines in ${feed}`, 30_000, 250);
    // What the dashboard shows: the simulated pools, their hosts attested, sensitive VMs placed.
    await eventually(async () => {
      const overview = (await (await fetch(`${url}/v1/overview`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        hosts: { byPool: Array<{ pool: string | null; trusted: number }> };
        sensitiveWorkloads: unknown[];
      };
      return overview.hosts.byPool.some((pool) => pool.pool === 'tcp-gold-fra1' && pool.trusted > 0) && overview.sensitiveWorkloads.length > 0;
    }, 'a living pool in /v1/overview', 30_000, 250);
  } finally {
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
  }
});

test('`trustwire start` exits 1 naming http.port when the port is in use, and http.host when the address is not this machine’s', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  const base = `kafka:\n  brokers: [${testBrokers().join(', ')}]\n  groupPrefix: ${config.kafka.groupPrefix}\n  topics:\n${Object.entries(config.kafka.topics)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n')}\nlog:\n  level: warn\n`;
  try {
    for (const [http, expected] of [
      [`http:\n  host: 127.0.0.1\n  port: ${port}\n`, new RegExp(`http\\.port: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\)`)],
      // 192.0.2.1 (TEST-NET-1) is nobody's address.
      ['http:\n  host: 192.0.2.1\n  port: 0\n', /http\.host: cannot listen on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this machine \(EADDRNOTAVAIL\)/],
    ] as const) {
      const file = join(dir, 'unbindable.yaml');
      writeFileSync(file, `${base}${http}`);
      const started = Date.now();
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [...CLI, 'start', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
        child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stderr })));
      });
      assert.equal(result.code, 1, `exit code after ${Date.now() - started} ms:\n${result.stderr}`);
      assert.match(result.stderr, expected);
    }
  } finally {
    taken.close();
  }
});

test('`trustwire emit` refuses input past --max-bytes, and answers garbage with a bounded error list', () => {
  const big = trustwire(['emit', '--config', configFile, '--max-bytes', '1000'], 'x'.repeat(5000));
  assert.equal(big.status, 1);
  assert.match(big.stderr, /stdin is larger than 1000 bytes \(--max-bytes\)/);

  // 2 MB of garbage lines: the issue saw 77 MB of stderr; now the first problems and a count.
  const garbage = Array.from({ length: 40_000 }, (_, i) => `{"oops": ${i}, garbage`).join('\n');
  const refused = trustwire(['emit', '--config', configFile, '--format', 'ndjson'], garbage);
  assert.equal(refused.status, 1);
  assert.ok(refused.stderr.length < 64 * 1024, `${refused.stderr.length} bytes of stderr`);
  assert.match(refused.stderr, /line 1\b/);
  assert.match(refused.stderr, /more/);
});
