import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { createProducer, decodeEvent, ValidationError, type TrustwireProducer } from '../../src/index.js';
import { createKafkaClient } from '../../src/kafka/client.js';
import { KafkaUnavailable } from '../../src/kafka/errors.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { trustwireTopics } from '../../src/service.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { dropTopics, readAll, testBrokers, testClient, testConfig } from '../helpers/kafka.js';

const config = testConfig();
let producer: TrustwireProducer;

before(async () => {
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  producer = await createProducer({ brokers: testBrokers(), topic: config.kafka.topics.events });
});
after(async () => {
  await producer.close();
  await dropTopics(config);
});

test('createProducer: events of one host land in one partition, in the order sent, with ids and ingestTime assigned', async () => {
  const base = ingestFixture('admin.action');
  const sent = Array.from({ length: 20 }, (_, i) => ({ ...base, host: { id: `esx-${i % 3}` }, time: 1_780_000_000_000 + i }));
  const { ids } = await producer.send(sent as never);
  assert.equal(ids.length, 20);
  assert.equal(new Set(ids).size, 20);

  const records = await readAll(config.kafka.topics.events, 20);
  assert.equal(records.length, 20);
  const partitionsByHost = new Map<string, Set<number>>();
  for (const record of records) {
    const set = partitionsByHost.get(record.key!) ?? new Set();
    set.add(record.partition);
    partitionsByHost.set(record.key!, set);
  }
  for (const [host, partitions] of partitionsByHost) assert.equal(partitions.size, 1, `${host} spread over ${[...partitions]}`);
  for (const host of ['esx-0', 'esx-1', 'esx-2']) {
    const times = records
      .filter((r) => r.key === host)
      .sort((a, b) => Number(a.offset) - Number(b.offset))
      .map((r) => decodeEvent(r.value!).time);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), `${host}'s events kept their order`);
  }
  const event = decodeEvent(records[0]!.value!);
  assert.ok(ids.includes(event.id));
  assert.ok(event.ingestTime > 1_780_000_000_000 - 10 ** 12);
});

test('createProducer refuses an invalid event with ValidationError and sends none of the batch', async () => {
  const good = ingestFixture('trust.change');
  const bad = { ...good, host: { id: '' } };
  await assert.rejects(producer.send([good, bad] as never), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(
      error.details.map((d) => [d.index, d.path]),
      [[1, 'host.id']],
    );
    return true;
  });
  assert.equal((await readAll(config.kafka.topics.events, 20)).length, 20, 'only the 20 of the first test are there');
});

test('a producer whose earlier writes still wait for Kafka refuses more at once, naming what waits', async () => {
  // A broker that accepts connections and never answers: every write stays pending.
  const silent = createServer((socket) => socket.on('data', () => {}));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const producer = await createRecordProducer(createKafkaClient({ brokers: [`127.0.0.1:${port}`], clientId: 'test-pending' }, silentLogger), {
    ackTimeoutMs: 300,
    maxPendingBytes: 3000,
  });
  try {
    const record = { key: 'h', value: Buffer.alloc(2000) };
    const first = await producer.send('test.pending', [record]).then(() => undefined, (error: unknown) => error);
    assert.ok(first instanceof KafkaUnavailable, 'the first write times out and is still retried by the client');
    const started = Date.now();
    const second = await producer.send('test.pending', [record]).then(() => undefined, (error: unknown) => error);
    assert.ok(second instanceof KafkaUnavailable, 'the second is refused');
    assert.match((second as Error).message, /MiB of earlier writes to Kafka still wait for its acknowledgment/);
    assert.ok(Date.now() - started < 300, 'refused at once, not after the acknowledgment timeout');
  } finally {
    await producer.disconnect();
    silent.close();
  }
});
