/**
 * `trustwire connect` as operators run it: connectors loaded by type or module path, broken
 * ones refused while the others start, and a worker killed with SIGKILL mid-stream.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { encodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { eventFixture } from '../helpers/fixtures.js';
import { dropTopics, testBrokers, testClient, testConfig } from '../helpers/kafka.js';

const config = testConfig();
const dir = mkdtempSync(join(tmpdir(), 'trustwire-connect-'));
const idsFile = join(dir, 'ids.txt');
const configFile = join(dir, 'trustwire.yaml');
const fixtureConnector = fileURLToPath(new URL('../fixtures/connectors/append-ids.ts', import.meta.url));
const children: ChildProcess[] = [];

function startWorker(): { child: ChildProcess; started: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'connect', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  const started = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/appender \(append-ids\): running/.test(stderr) && stderr.split('\n').filter((l) => / \(.*\): /.test(l)).length >= 3) resolve(stderr);
    });
    child.once('exit', (code, signal) => reject(new Error(`connect exited (${code ?? signal}):\n${stderr}`)));
  });
  return { child, started };
}

function delivered(): string[] {
  return existsSync(idsFile) ? readFileSync(idsFile, 'utf8').split('\n').filter(Boolean) : [];
}

before(async () => {
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  writeFileSync(
    configFile,
    [
      'kafka:',
      `  brokers: [${testBrokers().join(', ')}]`,
      `  topics: { ${Object.entries(config.kafka.topics).map(([k, v]) => `${k}: ${v}`).join(', ')} }`,
      'runtime: { sessionTimeoutMs: 6000, shutdownGraceMs: 2000 }',
      'connectors:',
      `  - { name: appender, module: ${JSON.stringify(fixtureConnector)}, options: { path: ${JSON.stringify(idsFile)} }, batch: { maxEvents: 10, lingerMs: 20 } }`,
      '  - { name: broken, type: no-such-sink }',
      `  - { name: misconfigured, module: ${JSON.stringify(fixtureConnector)}, options: { pathh: /tmp/x } }`,
      'log: { level: info }',
      '',
    ].join('\n'),
  );
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await dropTopics(config);
  rmSync(dir, { recursive: true, force: true });
});

test('a broken or misconfigured connector is refused with its name, option path and reason; the others start', async () => {
  const worker = startWorker();
  const stderr = await worker.started;
  worker.child.kill('SIGTERM');
  await new Promise((resolve) => worker.child.once('exit', resolve));
  assert.match(stderr, /broken \(no-such-sink\): refused — connector "broken" refused: connectors\[1\]\.type: no built-in connector "no-such-sink"; there are: /);
  assert.match(stderr, /misconfigured \(.*append-ids\.ts\): refused — connector "misconfigured" refused: connectors\[2\]\.options\.(path|pathh): /);
});

test('a worker killed with SIGKILL mid-stream and restarted delivers every event at least once; duplicates are counted', async (t) => {
  const producer = await createRecordProducer(testClient());
  const sent: string[] = [];
  const produceRound = async (round: number) => {
    const events: CanonicalEvent[] = Array.from({ length: 25 }, (_, i) => ({
      ...eventFixture('admin.action'),
      id: `019ac1a2-${String(round).padStart(4, '0')}-7000-8000-${String(i).padStart(12, '0')}`,
      host: { id: `esx-${i % 7}` },
    }));
    await producer.send(config.kafka.topics.enriched, events.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
    sent.push(...events.map((event) => event.id));
  };

  const first = startWorker();
  await first.started;
  for (let round = 0; round < 6; round++) {
    await produceRound(round);
    await sleep(150); // pacing the stream, so that the kill comes mid-stream; not waiting for a condition
  }
  await eventually(() => delivered().length > 0, 'the first worker delivering some events before it is killed', 20_000);
  first.child.kill('SIGKILL');
  const sentBeforeKill = new Set(sent);
  for (let round = 6; round < 12; round++) await produceRound(round);

  const second = startWorker();
  await second.started;
  await eventually(() => new Set(delivered()).size >= sent.length, `all ${sent.length} sent ids in ${idsFile}`, 60_000, 200).finally(() => second.child.kill('SIGTERM'));
  await producer.disconnect();

  const lines = delivered();
  const unique = new Set(lines);
  const missing = sent.filter((id) => !unique.has(id));
  assert.deepEqual(missing, [], 'nothing lost');
  t.diagnostic(`${sent.length} events, ${lines.length} deliveries, ${lines.length - unique.size} duplicates after the SIGKILL`);
  assert.ok(lines.every((id) => sent.includes(id)), 'nothing delivered that was not sent');
  // At least once, and no more than the kill explains: only what the killed worker had taken
  // (sent before the kill) comes again, and each at most once more.
  const times = new Map<string, number>();
  for (const id of lines) times.set(id, (times.get(id) ?? 0) + 1);
  const duplicated = [...times].filter(([, count]) => count > 1);
  assert.deepEqual(duplicated.filter(([id]) => !sentBeforeKill.has(id)), [], 'no event sent after the kill delivered twice');
  assert.deepEqual(duplicated.filter(([, count]) => count > 2), [], 'no event delivered more than twice');
});
