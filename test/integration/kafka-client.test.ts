/**
 * What trustwire needs of its Kafka client (@platformatic/kafka), held against the real broker:
 * if one of these fails after a client or broker upgrade, src/kafka is the one module to look at.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { startGroupConsumer } from '../../src/kafka/group-consumer.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { committedOffsets, deleteTopics, ensureTopics } from '../../src/kafka/topics.js';
import { createTransactionalProducer, isFenced } from '../../src/kafka/transactional.js';
import { silentLogger } from '../../src/log.js';
import { eventually } from '../helpers/eventually.js';
import { readToEnd, testClient } from '../helpers/kafka.js';

const client = testClient();
const topics: string[] = [];

async function freshTopic(partitions = 3, config?: Record<string, string>): Promise<string> {
  const topic = `test.client.${randomUUID().slice(0, 8)}`;
  await ensureTopics(client, [{ topic, partitions, replicationFactor: 1, ...(config && { config }) }], silentLogger);
  topics.push(topic);
  return topic;
}

after(async () => {
  await deleteTopics(client, topics);
});

test('topics: created with their partition count; a second ensure creates nothing', async () => {
  const topic = await freshTopic(6);
  assert.deepEqual(await ensureTopics(client, [{ topic, partitions: 6 }], silentLogger), []);
  const producer = await createRecordProducer(client);
  try {
    const written = await producer.send(topic, Array.from({ length: 60 }, (_, i) => ({ key: `host-${i}`, value: Buffer.from(`m${i}`) })));
    assert.deepEqual([...new Set(written.map((entry) => entry.partition))].sort(), [0, 1, 2, 3, 4, 5], 'keys spread over all six partitions');
  } finally {
    await producer.disconnect();
  }
});

test('producer: 3 MB for one partition in one send is split under the message size limit, not refused', async () => {
  const topic = await freshTopic(6);
  const producer = await createRecordProducer(client);
  try {
    const big = Array.from({ length: 3000 }, (_, i) => ({ key: 'one-host', value: Buffer.alloc(1000, i % 256) }));
    const written = await producer.send(topic, big);
    assert.equal(new Set(written.map((entry) => entry.partition)).size, 1, 'one key, one partition');
  } finally {
    await producer.disconnect();
  }
  const records = await readToEnd(topic, { client });
  assert.equal(records.filter((r) => r.key === 'one-host').length, 3000, 'all 3 MB reached the partition');
});

test('consumer group: committed offsets survive a restart; the group resumes after them', async () => {
  const topic = await freshTopic(3);
  const producer = await createRecordProducer(client);
  await producer.send(topic, Array.from({ length: 12 }, (_, i) => ({ key: `h${i % 4}`, value: Buffer.from(`m${i}`) })));
  const groupId = `test-group-${randomUUID()}`;
  const consumeAll = async (expected: number) => {
    const seen: string[] = [];
    const consumer = await startGroupConsumer(client, {
      groupId,
      topic,
      component: 'test',
      maxWaitTimeMs: 200,
      eachBatch: async (batch) => {
        for (const record of batch.records) seen.push(record.value!.toString());
        await batch.commit();
      },
    });
    try {
      await eventually(() => seen.length >= expected, `${expected} records consumed`);
    } finally {
      await consumer.stop();
    }
    return seen;
  };
  assert.equal((await consumeAll(12)).length, 12);
  await producer.send(topic, [{ key: 'h9', value: Buffer.from('late') }]);
  await producer.disconnect();
  assert.deepEqual(await consumeAll(1), ['late'], 'only what came after the committed offsets');
  const offsets = await committedOffsets(client, groupId, topic);
  assert.equal([...offsets.values()].reduce((sum, offset) => sum + Number(offset), 0), 13);
});

test('transactions: output and offsets commit together; a fenced producer leaves nothing visible', async () => {
  const output = await freshTopic(1);
  const transactionalId = `test-tx-${randomUUID()}`;
  const first = await createTransactionalProducer(client, transactionalId);
  await first.commit([
    { topic: output, key: 'h1', value: Buffer.from('kept-1') },
    { topic: output, key: 'h1', value: Buffer.from('kept-2') },
  ]);
  // A second producer with the same id fences the first: its later transaction fails.
  const second = await createTransactionalProducer(client, transactionalId);
  await second.commit([{ topic: output, key: 'h1', value: Buffer.from('kept-3') }]);
  const error = await first.commit([{ topic: output, key: 'h1', value: Buffer.from('dropped') }]).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error !== undefined && isFenced(error), `the fenced producer's commit fails as fenced: ${String(error)}`);
  await first.disconnect();
  await second.disconnect();

  const visible = await readToEnd(output, { client });
  assert.deepEqual(
    visible.map((r) => r.value?.toString()),
    ['kept-1', 'kept-2', 'kept-3'],
    'read_committed sees the committed transactions only',
  );
});

test('transactions: 3 MB over six partitions in one commit goes out in several requests at once, every record in its order', async () => {
  const output = await freshTopic(6);
  const tx = await createTransactionalProducer(client, `test-tx-${randomUUID()}`);
  try {
    const records = Array.from({ length: 3000 }, (_, i) => ({ topic: output, key: `host-${i % 12}`, value: Buffer.from(`${i}:`.padEnd(1000, 'x')) }));
    await tx.commit(records);
  } finally {
    await tx.disconnect();
  }
  const visible = await readToEnd(output, { client });
  assert.equal(visible.length, 3000, 'every record committed');
  for (let h = 0; h < 12; h++) {
    const sequence = visible.filter((r) => r.key === `host-${h}`).map((r) => Number(r.value!.toString().split(':')[0]));
    assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b), `host-${h}'s records in the order they were given`);
    assert.equal(sequence.length, 250);
  }
});

test('transactions: the consumed offset commits with the output, under the group member that read it', async () => {
  const input = await freshTopic(1);
  const output = await freshTopic(1);
  const producer = await createRecordProducer(client);
  await producer.send(input, Array.from({ length: 5 }, (_, i) => ({ key: 'h', value: Buffer.from(`in-${i}`) })));
  await producer.disconnect();
  const groupId = `test-rpw-${randomUUID()}`;
  const tx = await createTransactionalProducer(client, `test-rpw-${randomUUID()}`);
  let done = 0;
  const consumer = await startGroupConsumer(client, {
    groupId,
    topic: input,
    component: 'test',
    maxWaitTimeMs: 200,
    eachBatch: async (batch) => {
      await tx.commit(
        batch.records.map((record) => ({ topic: output, key: 'h', value: Buffer.from(`out-${record.value}`) })),
        { record: batch.records[batch.records.length - 1]! },
      );
      done += batch.records.length;
    },
  });
  try {
    await eventually(() => done >= 5, 'five records processed');
  } finally {
    await consumer.stop();
    await tx.disconnect();
  }
  const offsets = await committedOffsets(client, groupId, input);
  assert.equal(offsets.get(0), 5n, 'the input offset committed in the transaction');
  const visible = await readToEnd(output, { client });
  assert.deepEqual(
    visible.map((r) => r.value?.toString()),
    ['out-in-0', 'out-in-1', 'out-in-2', 'out-in-3', 'out-in-4'],
  );
});

test('lag counts data records only: a consumer at the end of a transactional topic shows 0', async () => {
  const topic = await freshTopic(2);
  const tx = await createTransactionalProducer(client, `test-lag-${randomUUID()}`);
  for (let i = 0; i < 3; i++) await tx.commit([{ topic, key: `k${i}`, value: Buffer.from(`v${i}`) }]);
  await tx.disconnect();
  let seen = 0;
  const consumer = await startGroupConsumer(client, {
    groupId: `test-lag-${randomUUID()}`,
    topic,
    component: 'test',
    maxWaitTimeMs: 200,
    eachBatch: async (batch) => {
      seen += batch.records.length;
      await batch.commit();
    },
  });
  try {
    await eventually(() => seen === 3, 'three records');
    await eventually(async () => {
      const lags = await consumer.lag();
      return lags.size === 2 && [...lags.values()].every((lag) => lag === 0);
    }, 'lag 0 on both partitions after the transaction markers');
  } finally {
    await consumer.stop();
  }
});

test('consumer group: with handlers busy and the queue full, every record is handed over before its offset is committed', async () => {
  const topic = await freshTopic(3);
  const producer = await createRecordProducer(client);
  await producer.send(topic, Array.from({ length: 300 }, (_, i) => ({ key: `h${i % 9}`, value: Buffer.from(`m${i}`) })));
  await producer.disconnect();
  const groupId = `test-full-${randomUUID()}`;
  const handed: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const waiting = new Set<number>();
  const consumer = await startGroupConsumer(client, {
    groupId,
    topic,
    component: 'test',
    maxWaitTimeMs: 200,
    maxBatchRecords: 5,
    maxQueuedRecords: 20,
    eachBatch: async (batch) => {
      waiting.add(batch.partition);
      await held; // every partition's first batch waits while the client's buffer fills
      for (const record of batch.records) handed.push(record.value!.toString());
      await batch.commit();
    },
  });
  try {
    // A batch is held in the handler: it came from a queue filled from a fetch of every record,
    // so the queue is full now and the client's buffer holds the rest.
    await eventually(() => waiting.size > 0, 'a batch held in the handler');
    release();
    await eventually(async () => {
      const offsets = await committedOffsets(client, groupId, topic);
      return [...offsets.values()].reduce((sum, offset) => sum + Number(offset), 0) === 300;
    }, 'offsets committed to the end');
  } finally {
    release();
    await consumer.stop();
  }
  assert.equal(new Set(handed).size, 300, 'every record handed over');
  assert.equal(handed.length, 300, 'each once');
});
