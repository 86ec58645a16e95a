/**
 * What every trustwire consumer relies on for exactly once (the sinks on trustwire.enriched, the
 * processor restoring its changelog, `trustwire tail`): read with read_committed, a topic shows
 * every committed transaction and no aborted one. The processor's take-overs make exactly the
 * patterns below: one transactional id (one producer id) aborting several transactions, and
 * abort markers of transactions that had added a partition but wrote nothing to it.
 *
 * The transactions are made with the client library directly: trustwire's own transactional
 * producer commits or fails, it has no "abort this" to call.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { trustwireTopics } from '../../src/service.js';
import { dropTopics, readToEnd, testClient, testConfig } from '../helpers/kafka.js';

const config = testConfig();
config.kafka.partitions = 2;
const topic = config.kafka.topics.events;
let producer: Producer<string, string, string, string>;

before(async () => {
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  producer = new Producer({
    ...testClient().options('read-committed-test'),
    idempotent: true,
    transactionalId: `${config.kafka.groupPrefix}.read-committed`,
    producerId: -1n,
    producerEpoch: -1,
    acks: ProduceAcks.ALL,
    serializers: stringSerializers,
  });
});
after(async () => {
  await producer?.close(true).catch(() => {});
  await dropTopics(config);
});

/** One transaction of three records `<label>-1..3` on `partition`; committed or aborted. */
async function transaction(partition: number, label: string, end: 'commit' | 'abort'): Promise<void> {
  const txn = await producer.beginTransaction();
  await txn.send({ messages: [1, 2, 3].map((i) => ({ topic, partition, key: label, value: `${label}-${i}` })) });
  await (end === 'commit' ? txn.commit() : txn.abort());
}

/** A transaction that adds `partition` but writes nothing to it, then aborts: only its abort marker lands there. */
async function emptyAbortedTransaction(partition: number): Promise<void> {
  const txn = await producer.beginTransaction();
  const metadata = await producer.metadata({ topics: [topic] });
  await txn.addPartitions(metadata, [{ topic, partition, key: Buffer.from('none'), value: Buffer.from('none') }]);
  await txn.abort();
}

/** The partition's values, read (read_committed, through trustwire's ReadCommittedConsumer) to the topic's high watermark. */
async function readValues(partition: number): Promise<string[]> {
  const records = await readToEnd(topic);
  return records.filter((record) => record.partition === partition).map((record) => record.value!.toString());
}

const threeOf = (...labels: string[]) => labels.flatMap((label) => [1, 2, 3].map((i) => `${label}-${i}`));

test('several aborted transactions of one producer: read_committed shows none of them', async () => {
  await transaction(0, 'committed-1', 'commit');
  await transaction(0, 'aborted-A', 'abort');
  await transaction(0, 'aborted-B', 'abort');
  await transaction(0, 'committed-2', 'commit');
  assert.deepEqual(await readValues(0), threeOf('committed-1', 'committed-2'));
});

test('a transaction that aborted without writing to the partition: read_committed hides no committed one', async () => {
  await transaction(1, 'committed-3', 'commit');
  await transaction(1, 'aborted-C', 'abort');
  await transaction(1, 'committed-4', 'commit');
  await emptyAbortedTransaction(1);
  await transaction(1, 'committed-5', 'commit');
  assert.deepEqual(await readValues(1), threeOf('committed-3', 'committed-4', 'committed-5'));
});
