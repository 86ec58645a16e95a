import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DLQ_HEADERS } from '../../src/kafka/dead-letters.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent, encodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { processorGroup, startProcessor, type RunningProcessor } from '../../src/processor/worker.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { eventFixture } from '../helpers/fixtures.js';
import { dropTopics, groupAtEnd, readToEnd, testClient, testConfig } from '../helpers/kafka.js';

const config = testConfig();
let processor: RunningProcessor;

before(async () => {
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  processor = await startProcessor({
    client: testClient(),
    topics: config.kafka.topics,
    rules: config.processor,
    logger: silentLogger,
    groupId: processorGroup(config.kafka.groupPrefix),
  });
});
after(async () => {
  await processor.stop();
  await dropTopics(config);
});

test('poison messages land in the DLQ with their reason and origin; the stream behind them is processed', async () => {
  const producer = await createRecordProducer(testClient());
  const good = (n: number): CanonicalEvent => ({ ...eventFixture('admin.action'), id: `019ac1a2-0000-7000-8000-00000000000${n}`, enrichment: undefined });
  const breaksContract = { ...eventFixture('admin.action'), id: '019ac1a2-0000-7000-8000-0000000000ff', severity: 99 } as CanonicalEvent;
  // One host, so all of it is one partition in this order: the poison sits between good events.
  const key = 'esx-poison-1';
  await producer.send(config.kafka.topics.events, [
    { key, value: encodeEvent(good(1)) },
    { key, value: Buffer.from('\u0000\u0001 not an event at all') },
    { key, value: Buffer.from(JSON.stringify(good(9))) },
    { key, value: encodeEvent(breaksContract) },
    { key, value: encodeEvent(good(2)) },
  ]);
  await producer.disconnect();

  // The processor commits its input offsets with what it wrote: at the end of the events topic,
  // every output and dead letter is written. Read both topics to their end.
  await eventually(
    () => groupAtEnd(processorGroup(config.kafka.groupPrefix), config.kafka.topics.events),
    `the processor group committed to the end of ${config.kafka.topics.events}`,
  );
  const enriched = await readToEnd(config.kafka.topics.enriched);
  assert.deepEqual(
    enriched.map((record) => decodeEvent(record.value!).id),
    [good(1).id, good(2).id],
    'the good events around the poison came through, in order',
  );

  const dead = await readToEnd(config.kafka.topics.dlq);
  assert.equal(dead.length, 3, 'the three poison messages, each once');
  const [garbage, json, invalid] = dead.sort((x, y) => Number(x.headers[DLQ_HEADERS.offset]) - Number(y.headers[DLQ_HEADERS.offset]));
  for (const [record, offset] of [
    [garbage!, '1'],
    [json!, '2'],
    [invalid!, '3'],
  ] as const) {
    assert.equal(record.key, key);
    assert.equal(record.headers[DLQ_HEADERS.topic], config.kafka.topics.events);
    assert.equal(record.headers[DLQ_HEADERS.offset], offset);
    assert.equal(record.headers[DLQ_HEADERS.component], 'processor');
    assert.equal(record.headers[DLQ_HEADERS.attempts], '1');
  }
  assert.equal(garbage!.headers[DLQ_HEADERS.stage], 'decode');
  assert.match(garbage!.headers[DLQ_HEADERS.errorMessage]!, /single-object/i);
  assert.equal(json!.headers[DLQ_HEADERS.stage], 'decode');
  assert.equal(json!.value!.toString(), JSON.stringify(good(9)), 'the original bytes are kept for a replay');
  assert.equal(invalid!.headers[DLQ_HEADERS.stage], 'validate');
  assert.equal(invalid!.headers[DLQ_HEADERS.errorClass], 'ValidationError');
  assert.match(invalid!.headers[DLQ_HEADERS.errorMessage]!, /severity: Too big/);
});

