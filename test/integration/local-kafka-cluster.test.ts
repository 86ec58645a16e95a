/**
 * The local three-node cluster, and trustwire's Kafka layer on it losing a broker: a node
 * killed with SIGKILL, writes with acks=all going on (min ISR 2 of 3), nothing lost.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  killClusterNode,
  localKafkaClusterStatus,
  startClusterNode,
  startLocalKafkaCluster,
  stopLocalKafkaCluster,
  type LocalKafkaClusterOptions,
} from '../../scripts/kafka/cluster.js';
import { createKafkaClient, withAdmin, type KafkaClient } from '../../src/kafka/client.js';
import { createRecordProducer, type OutgoingRecord } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { Secret } from '../../src/config/secret.js';
import { startService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { adminActionIds, steadyIngest, tally } from '../helpers/ingest-load.js';
import { readToEnd, testConfig } from '../helpers/kafka.js';
import { apiToken, SCOPES } from '../../src/api/auth.js';

// A home and ports of its own: a developer's cluster (29092..) and the suite's broker (19092) are left alone.
const home = mkdtempSync(join(tmpdir(), 'trustwire-kafka-cluster-'));
// Below Linux's ephemeral range (32768–60999): a port there can be taken by any outgoing
// connection of the suite running beside, and the node then cannot bind it.
const cluster: LocalKafkaClusterOptions = { home, port: 28092, controllerPort: 28192, onProgress: (line) => process.stderr.write(`[cluster] ${line}\n`) };

after(async () => {
  // Whatever happened: three JVMs must not outlive the test.
  await stopLocalKafkaCluster(cluster);
  rmSync(home, { recursive: true, force: true });
});

const records = (from: number, to: number): OutgoingRecord[] =>
  Array.from({ length: to - from }, (_, i) => ({ key: `host-${from + i}`, value: Buffer.from(JSON.stringify({ n: from + i })) }));

async function partitions(client: KafkaClient, topic: string) {
  const metadata = await withAdmin(client, (admin) => admin.metadata({ topics: [topic], forceUpdate: true }));
  return metadata.topics.get(topic)?.partitions ?? [];
}

test('a three-node cluster takes acks=all writes with one node killed, and loses none of them', { timeout: 300_000 }, async (t) => {
  const startedAt = Date.now();
  const kafka = await startLocalKafkaCluster(cluster);
  t.diagnostic(`cluster up in ${Date.now() - startedAt} ms`);
  assert.equal(kafka.started, true);
  assert.deepEqual(kafka.brokers, ['127.0.0.1:28092', '127.0.0.1:28093', '127.0.0.1:28094']);
  assert.deepEqual(kafka.nodes.map((node) => node.id), [1, 2, 3]);
  assert.equal(new Set(kafka.nodes.map((node) => node.logFile)).size, 3, 'a log file per node');

  const again = await startLocalKafkaCluster(cluster);
  assert.equal(again.started, false, 'a second start reuses the running nodes');
  assert.deepEqual(again.nodes.map((node) => node.pid), kafka.nodes.map((node) => node.pid));

  const client = createKafkaClient({ brokers: kafka.brokers, clientId: 'trustwire-cluster-test' }, silentLogger);
  const topic = `test.cluster.${randomUUID().slice(0, 8)}`;
  await ensureTopics(client, [{ topic, partitions: 3, replicationFactor: 3 }], silentLogger);
  const before = await partitions(client, topic);
  assert.equal(before.length, 3);
  for (const partition of before) assert.equal(partition.replicas.length, 3, 'every partition has three replicas');
  // The leader of partition 0: losing it forces a leader election, not only an ISR shrink.
  const victim = before[0]!.leader;
  t.diagnostic(`killing node ${victim}, leader of partition 0`);

  // Until the controller fences the dead node (broker.session.timeout.ms, 9 s by default) its
  // partitions have no leader and the others wait for it to leave the ISR: allow for that.
  const producer = await createRecordProducer(client, { ackTimeoutMs: 60_000 });
  try {
    await producer.send(topic, records(0, 100));
    assert.equal(await killClusterNode(victim, cluster), true);
    assert.equal(localKafkaClusterStatus(cluster).nodes[victim - 1]!.running, false, 'the killed node is gone');
    const killedAt = Date.now();
    await producer.send(topic, records(100, 200));
    t.diagnostic(`100 records acknowledged ${Date.now() - killedAt} ms after the kill`);
  } finally {
    await producer.disconnect();
  }
  const during = await partitions(client, topic);
  for (const partition of during) assert.notEqual(partition.leader, victim, 'leadership moved off the killed node');

  const restartedAt = Date.now();
  const restarted = await startClusterNode(victim, cluster);
  t.diagnostic(`node ${victim} serving again ${Date.now() - restartedAt} ms after its restart`);
  assert.equal(restarted.started, true);
  assert.notEqual(restarted.pid, kafka.nodes[victim - 1]!.pid);

  // Everything on the topic up to its end offsets, not the first 200 after a quiet spell: a record
  // written twice would be read as the 201st.
  const read = await readToEnd(topic, { client, timeoutMs: 60_000 });
  assert.deepEqual(
    read.map((record) => record.key).sort(),
    records(0, 200).map((record) => record.key).sort(),
    'all 200 records, each once',
  );
});

test('the pipeline on the cluster: a partition leader SIGKILLed under steady ingest with retries, then restarted: every id answered 202 once on trustwire.enriched', { timeout: 300_000 }, async (t) => {
  const kafka = await startLocalKafkaCluster(cluster);
  const config = testConfig();
  config.kafka.brokers = kafka.brokers;
  config.kafka.replicationFactor = 3;
  config.processor.sessionTimeoutMs = 6000;
  config.runtime.sessionTimeoutMs = 6000;
  const token = 'cluster-faults-token-0123456789';
  const service = await startService(config, { logger: silentLogger, tokens: [apiToken('collector', SCOPES, { token: new Secret(token, 'inline') })] });
  const client = createKafkaClient({ brokers: kafka.brokers, clientId: 'trustwire-cluster-check' }, silentLogger);
  try {
    const load = steadyIngest(service.url, token, { prefix: '0c1a' });
    await eventually(() => load.acknowledged.size >= 200, 'ingest flowing on the cluster', 60_000);
    const victim = (await partitions(client, config.kafka.topics.events))[0]!.leader;
    await killClusterNode(victim, cluster);
    const killedAt = Date.now();
    const atKill = load.acknowledged.size;
    await eventually(() => load.acknowledged.size >= atKill + 200, 'ingest acknowledged again with a node down', 90_000);
    const writableAfter = Date.now() - killedAt;
    await startClusterNode(victim, cluster);
    const atRestart = load.acknowledged.size;
    await eventually(() => load.acknowledged.size >= atRestart + 200, 'ingest flowing after the node came back', 60_000);
    await load.stop();

    const acknowledged = load.acknowledged;
    const raw = tally(acknowledged, await adminActionIds(client, config.kafka.topics.events, acknowledged.size));
    const enriched = tally(acknowledged, await adminActionIds(client, config.kafka.topics.enriched, acknowledged.size));
    t.diagnostic(
      `node ${victim} killed (leader of events partition 0); acknowledged ${acknowledged.size}, client retries ${load.retries()}, on events ${raw.distinct}, on enriched ${enriched.distinct}, lost ${enriched.lost.length}, duplicated ${enriched.duplicated}; writes acknowledged again ${writableAfter} ms after the kill`,
    );
    assert.deepEqual(raw.lost, [], 'every id answered 202 is on trustwire.events');
    assert.deepEqual(enriched.lost, [], 'every id answered 202 is on trustwire.enriched');
    assert.equal(enriched.duplicated, 0, 'no id twice on trustwire.enriched (read_committed)');
  } finally {
    await service.close();
  }
});

test("a stale pid file of one node is reported, and another program on a node's controller port named, before anything starts", async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'trustwire-kafka-cluster-'));
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const held = (squatter.address() as { port: number }).port;
  // Node 2's controller port is the one held: every node's every port is checked, not only node 1's.
  const options = { home: scratch, port: 28292, controllerPort: held - 1 };
  const lines: string[] = [];
  try {
    mkdirSync(join(scratch, 'node-2'));
    writeFileSync(join(scratch, 'node-2', 'broker.pid'), '999999\n');
    assert.equal(localKafkaClusterStatus(options).nodes[1]!.stalePid, 999999);
    await assert.rejects(startLocalKafkaCluster({ ...options, onProgress: (line) => lines.push(line) }), new RegExp(`port ${held} on 127\\.0\\.0\\.1 is in use`));
    assert.ok(lines.some((line) => /stale .*node-2.*pid 999999/.test(line)), 'the stale pid file was reported');
    assert.equal(existsSync(join(scratch, 'node-2', 'broker.pid')), false, 'and removed');
    assert.equal(existsSync(join(scratch, 'node-1', 'data')), false, 'nothing was formatted');
  } finally {
    squatter.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});
