import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createProducer, decodeEvent, ValidationError, type TrustwireProducer } from '../../src/index.js';
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
