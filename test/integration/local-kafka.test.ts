import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { localKafkaStatus, startLocalKafka } from '../../scripts/kafka/broker.js';
import { testBrokers } from '../helpers/kafka.js';

test('starting the local broker again reuses the running one', async () => {
  const kafka = await startLocalKafka();
  assert.equal(kafka.started, false);
  assert.deepEqual(kafka.brokers, testBrokers());
  assert.match(kafka.logFile, /\.trustwire\/kafka\/broker\.log$|broker\.log$/);
});

test('a pid file naming a process that is gone is reported as stale', () => {
  const home = mkdtempSync(join(tmpdir(), 'trustwire-kafka-'));
  try {
    writeFileSync(join(home, 'broker.pid'), '999999\n');
    const status = localKafkaStatus({ home, port: 29092 });
    assert.equal(status.running, false);
    assert.equal(status.stalePid, 999999);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("a port held by another process is reported, naming the port, before anything is started", async () => {
  const home = mkdtempSync(join(tmpdir(), 'trustwire-kafka-'));
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as { port: number }).port;
  const progress: string[] = [];
  try {
    writeFileSync(join(home, 'broker.pid'), '999999\n');
    await assert.rejects(startLocalKafka({ home, port, onProgress: (line) => progress.push(line) }), (error: Error) => {
      assert.match(error.message, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use by a process that is not trustwire's broker`));
      return true;
    });
    assert.ok(progress.some((line) => /stale .*pid 999999/.test(line)), 'the stale pid file was reported');
    assert.equal(existsSync(join(home, 'broker.pid')), false, 'and removed');
    assert.equal(existsSync(join(home, 'libs')), false, 'nothing was fetched');
  } finally {
    squatter.close();
    rmSync(home, { recursive: true, force: true });
  }
});
