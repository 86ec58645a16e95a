/**
 * Exactly once through crashes and scale-out: two processor processes share the partitions; one
 * is killed with SIGKILL mid-stream and started again. trustwire.enriched, read with
 * read_committed, must hold every input exactly once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createProducer } from '../../src/ingest/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent } from '../../src/model/avro.js';
import { processorGroup } from '../../src/processor/worker.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, groupAtEnd, readToEnd, testBrokers, testClient, testConfig } from '../helpers/kafka.js';

const config = testConfig();
const dir = mkdtempSync(join(tmpdir(), 'trustwire-processor-'));
const configFile = join(dir, 'trustwire.yaml');
const children: ChildProcess[] = [];

function startWorker(name: string): { child: ChildProcess; ready: Promise<void>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'processor', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('partitions taken over')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before taking partitions:\n${output}`)));
  });
  return { child, ready, output: () => output };
}

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await dropTopics(config);
  rmSync(dir, { recursive: true, force: true });
});

test('SIGKILL mid-stream, partitions moving between two workers: every input enriched exactly once', async () => {
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  writeFileSync(
    configFile,
    [
      `kafka:`,
      `  brokers: [${testBrokers().join(', ')}]`,
      `  topics: { ${Object.entries(config.kafka.topics).map(([k, v]) => `${k}: ${v}`).join(', ')} }`,
      `  groupPrefix: ${config.kafka.groupPrefix}`,
      `processor:`,
      `  sessionTimeoutMs: 6000`,
      `log:`,
      `  level: info`,
      '',
    ].join('\n'),
  );
  const a = startWorker('worker A');
  const b = startWorker('worker B');
  await Promise.all([a.ready, b.ready]);

  // Admin actions that succeed on hosts nobody reported untrusted: no alerts, one output each.
  const producer = await createProducer({ brokers: testBrokers(), topic: config.kafka.topics.events });
  const base = ingestFixture('admin.action') as Record<string, unknown>;
  const sent: string[] = [];
  const sendRound = async (round: number) => {
    const events = Array.from({ length: 20 }, (_, i) => ({
      ...base,
      host: { id: `esx-${(round * 20 + i) % 12}` },
      time: 1_780_000_000_000 + round * 1000 + i,
      payload: { ...(base.payload as object), outcome: 'success' },
    }));
    sent.push(...(await producer.send(events as never)).ids);
  };

  for (let round = 0; round < 10; round++) {
    await sendRound(round);
    await sleep(100); // pacing the stream, not waiting for a condition
  }
  // Mid-stream, with work of A's already committed: B and the group notice within the session timeout.
  assert.match(a.output(), /"partitions":\[\d/, 'worker A owned partitions when it was killed');
  await eventually(async () => (await readToEnd(config.kafka.topics.enriched)).length > 0, 'outputs committed before the kill', 30_000, 250);
  a.child.kill('SIGKILL');
  for (let round = 10; round < 20; round++) {
    await sendRound(round);
    await sleep(100); // pacing the stream, not waiting for a condition
  }
  const a2 = startWorker('worker A again');
  for (let round = 20; round < 30; round++) {
    await sendRound(round);
    await sleep(100); // pacing the stream, not waiting for a condition
  }
  await a2.ready;
  await producer.close();

  // The processor commits its input offsets in the transaction that writes the outputs: once its
  // group is at the end of the events topic, every input's outputs are committed. Read them all.
  await eventually(
    () => groupAtEnd(processorGroup(config.kafka.groupPrefix), config.kafka.topics.events),
    `the processor group committed to the end of ${config.kafka.topics.events}`,
    90_000,
    500,
  );
  const records = await readToEnd(config.kafka.topics.enriched, { timeoutMs: 60_000 });
  const ids = records.map((record) => decodeEvent(record.value!).id);
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = sent.filter((id) => !counts.has(id));
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(missing, [], 'no input lost');
  assert.deepEqual(twice, [], 'no input enriched twice');
  assert.equal(ids.length, sent.length);
});
