/**
 * kafkajs 2.2.4 is unmaintained upstream and Kafka 4 removed old protocol versions: these tests
 * hold the client to what trustwire needs of it against the real broker. If one fails after a
 * broker upgrade, src/kafka is the one module to move to another client.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { readRecords } from '../../src/kafka/reader.js';
import { testClient } from '../helpers/kafka.js';

const client = testClient();
const admin = client.admin();
const topics: string[] = [];

async function freshTopic(partitions = 3): Promise<string> {
  const topic = `test.client.${randomUUID().slice(0, 8)}`;
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  topics.push(topic);
  return topic;
}

after(async () => {
  await admin.deleteTopics({ topics });
  await admin.disconnect();
});

test('admin: creates topics with their partition count and describes the cluster', async () => {
  const topic = await freshTopic(6);
  const { topics: described } = await admin.fetchTopicMetadata({ topics: [topic] });
  assert.equal(described[0]?.partitions.length, 6);
  const cluster = await admin.describeCluster();
  assert.equal(cluster.brokers.length, 1);
  assert.ok((await admin.listTopics()).includes(topic));
});

test('consumer group: committed offsets survive a restart; the group resumes after them', async () => {
  const topic = await freshTopic(3);
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: Array.from({ length: 12 }, (_, i) => ({ key: `h${i % 4}`, value: `m${i}` })) });

  const groupId = `test-group-${randomUUID()}`;
  const consumeAll = async (expected: number, idleMs: number) => {
    const consumer = client.consumer({ groupId });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      let idle = setTimeout(resolve, idleMs + 5000); // the first join takes a while
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen.push(message.value!.toString());
          await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          clearTimeout(idle);
          idle = setTimeout(resolve, seen.length >= expected ? 200 : idleMs);
        },
      });
    });
    await consumer.disconnect();
    return seen;
  };
  assert.equal((await consumeAll(12, 3000)).length, 12);
  await producer.send({ topic, acks: -1, messages: [{ key: 'h9', value: 'late' }] });
  await producer.disconnect();
  assert.deepEqual(await consumeAll(1, 3000), ['late'], 'only what came after the committed offsets');

  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  assert.equal(committed, 13);
});

test('transactions: read-process-write commits output and input offsets together; an abort leaves nothing visible', async () => {
  const input = await freshTopic(1);
  const output = await freshTopic(1);
  const groupId = `test-tx-${randomUUID()}`;
  const producer = client.producer({ transactionalId: `test-tx-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  const committed = await producer.transaction();
  await committed.send({ topic: output, messages: [{ key: 'h1', value: 'kept-1' }, { key: 'h1', value: 'kept-2' }] });
  await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '7' }] }] });
  await committed.commit();

  const aborted = await producer.transaction();
  await aborted.send({ topic: output, messages: [{ key: 'h1', value: 'dropped' }] });
  await aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '9' }] }] });
  await aborted.abort();
  await producer.disconnect();

  const visible = await readRecords(client, { topic: output, limit: 10, idleMs: 1500 });
  assert.deepEqual(
    visible.map((r) => r.value?.toString()),
    ['kept-1', 'kept-2'],
    'read_committed sees the committed transaction only',
  );
  const uncommitted = await readRecords(client, { topic: output, limit: 10, idleMs: 1500, readCommitted: false });
  assert.deepEqual(
    uncommitted.map((r) => r.value?.toString()),
    ['kept-1', 'kept-2', 'dropped'],
    'the aborted record was written, and is hidden from read_committed readers',
  );
  const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
  assert.equal(offsets[0]!.partitions[0]!.offset, '7', 'the input offset of the committed transaction, not the aborted one');
});
