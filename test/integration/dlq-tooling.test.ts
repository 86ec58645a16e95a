import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { configBaseDir, loadConfig } from '../../src/config/load.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { encodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { startConnectors } from '../../src/runtime/host.js';
import { ConnectorMetrics } from '../../src/runtime/metrics.js';
import { sinkGroup } from '../../src/runtime/runner.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { eventFixture } from '../helpers/fixtures.js';
import { dropTopics, groupAtEnd, testBrokers, testClient, testConfig } from '../helpers/kafka.js';

const topics = testConfig().kafka.topics;
const dir = mkdtempSync(join(tmpdir(), 'trustwire-dlq-'));
const fixture = fileURLToPath(new URL('../fixtures/connectors/append-ids.ts', import.meta.url));
const configFile = join(dir, 'trustwire.yaml');
const flag = join(dir, 'reject-esx-bad');
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

after(async () => {
  await dropTopics({ kafka: { topics } } as never);
  rmSync(dir, { recursive: true, force: true });
});

function trustwire(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--config', configFile], { encoding: 'utf8', timeout: 120_000 });
}

test('dlq list shows what a connector rejected and why; dlq replay re-drives it through that connector alone, once', async () => {
  writeFileSync(
    configFile,
    [
      'kafka:',
      `  brokers: [${testBrokers().join(', ')}]`,
      `  topics: { ${Object.entries(topics).map(([k, v]) => `${k}: ${v}`).join(', ')} }`,
      'connectors:',
      `  - { name: picky, module: ${JSON.stringify(fixture)}, options: { path: ${JSON.stringify(join(dir, 'a.ids'))}, rejectHost: esx-bad, rejectWhile: ${JSON.stringify(flag)} } }`,
      `  - { name: other, module: ${JSON.stringify(fixture)}, options: { path: ${JSON.stringify(join(dir, 'b.ids'))} } }`,
      '',
    ].join('\n'),
  );
  writeFileSync(flag, '');
  const config = loadConfig(configFile);
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  const producer = await createRecordProducer(testClient());
  const events: CanonicalEvent[] = Array.from({ length: 10 }, (_, i) => ({
    ...eventFixture('admin.action'),
    id: `019ac1a2-0dd0-7000-8000-${String(i).padStart(12, '0')}`,
    host: { id: i % 3 === 0 ? 'esx-bad' : `esx-${i}` },
  }));
  const bad = events.filter((event) => event.host.id === 'esx-bad').map((event) => event.id);
  await producer.send(topics.enriched, events.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));

  const aFile = join(dir, 'a.ids');
  const bFile = join(dir, 'b.ids');
  try {
    const host = await startConnectors(config.connectors, {
      client: testClient(),
      producer,
      topics,
      metrics: new ConnectorMetrics(),
      logger: silentLogger,
      baseDir: configBaseDir(config),
    });
    // Each connector commits past a record once it delivered or dead-lettered it: at the end, both are done.
    await eventually(
      async () => (await groupAtEnd(sinkGroup('picky'), topics.enriched)) && (await groupAtEnd(sinkGroup('other'), topics.enriched)),
      `picky and other committed to the end of ${topics.enriched}`,
      30_000,
    );
    await host.stop(1000);
    assert.deepEqual(lines(aFile).sort(), events.filter((event) => !bad.includes(event.id)).map((event) => event.id).sort(), 'picky took every event but the rejected ones, once');
    assert.deepEqual(lines(bFile).sort(), events.map((event) => event.id).sort(), 'the other sink took every event, once');

    const listed = trustwire('dlq', 'list', '--connector', 'picky');
    assert.equal(listed.status, 0, listed.stderr);
    const letters = listed.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(letters.map((l) => l.eventId).sort(), [...bad].sort());
    for (const letter of letters) {
      assert.equal(letter.stage, 'send');
      assert.equal(letter.error, 'SendError: host esx-bad is not accepted here');
      assert.match(letter.original, new RegExp(`^${topics.enriched.replaceAll('.', '\\.')}/\\d+@\\d+$`));
    }

    rmSync(flag); // the fix
    const replay = trustwire('dlq', 'replay', '--connector', 'picky');
    assert.equal(replay.status, 0, replay.stderr);
    assert.deepEqual(JSON.parse(replay.stdout), { replayed: bad.length, delivered: bad.length, deadLetteredAgain: 0, passedOver: 0 });
    assert.deepEqual(lines(aFile).sort(), events.map((event) => event.id).sort(), 'picky now has every event, once');
    assert.equal(lines(bFile).length, 10, 'the other sink saw nothing again');

    const again = trustwire('dlq', 'replay', '--connector', 'picky');
    assert.deepEqual(JSON.parse(again.stdout), { replayed: 0, delivered: 0, deadLetteredAgain: 0, passedOver: 0 }, 'a dead letter is replayed once');
  } finally {
    await producer.disconnect();
  }
});
