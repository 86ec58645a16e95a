/**
 * The connector runtime on the real broker, with a sink in memory whose behaviour the test
 * sets: transient failures, permanent rejections of some events.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { DLQ_HEADERS } from '../../src/kafka/dead-letters.js';
import { createRecordProducer, type RecordProducer } from '../../src/kafka/producer.js';
import { committedOffsets, ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent, encodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { defineConnector, SendError, type SendResult } from '../../src/runtime/contract.js';
import { ConnectorMetrics } from '../../src/runtime/metrics.js';
import { ConnectorRunner } from '../../src/runtime/runner.js';
import { ConnectorInstanceSettings } from '../../src/runtime/settings.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { eventFixture } from '../helpers/fixtures.js';
import { dropTopics, readToEnd, testClient, testConfig } from '../helpers/kafka.js';

const config = testConfig();
let producer: RecordProducer;

/** A sink in memory: what it accepted, and a behaviour the test changes while it runs. */
class MemorySink {
  accepted: string[] = [];
  behaviour: (batch: readonly CanonicalEvent[]) => SendResult = () => ({ kind: 'ok' });
  attempts = 0;
}

function memoryConnector(sink: MemorySink) {
  return defineConnector({
    type: 'memory',
    summary: 'keeps what it receives in memory',
    configSchema: z.strictObject({}),
    create: () => ({
      start: async () => {},
      stop: async () => {},
      send: async (batch) => {
        sink.attempts++;
        const result = sink.behaviour(batch);
        if (result.kind === 'ok') sink.accepted.push(...batch.map((event) => event.id));
        if (result.kind === 'partial') sink.accepted.push(...batch.filter((_, i) => !result.failed.has(i)).map((event) => event.id));
        return result;
      },
    }),
  });
}

function runner(name: string, sink: MemorySink, source: string) {
  const settings = ConnectorInstanceSettings.parse({
    name,
    type: 'memory',
    batch: { maxEvents: 7, lingerMs: 50 },
    retry: { initialMs: 50, maxMs: 200 },
    timeoutMs: 2000,
  });
  return new ConnectorRunner(settings, memoryConnector(sink), {}, {
    client: testClient(),
    producer,
    topics: { enriched: source, dlq: config.kafka.topics.dlq },
    metrics: new ConnectorMetrics(),
    logger: silentLogger,
  });
}

function events(prefix: number, count: number): CanonicalEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    ...eventFixture('admin.action'),
    id: `019ac1a2-${String(prefix).padStart(4, '0')}-7000-8000-${String(i).padStart(12, '0')}`,
    host: { id: `esx-${i % 5}` },
  }));
}

async function committed(group: string, topic: string): Promise<number> {
  const offsets = await committedOffsets(testClient(), group, topic);
  return [...offsets.values()].reduce((sum, offset) => sum + Number(offset), 0);
}

before(async () => {
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  producer = await createRecordProducer(testClient());
});
after(async () => {
  await producer.disconnect();
  await dropTopics(config);
});

test('a sink failing transiently for a while gets every event exactly once after it recovers; offsets wait for it', async () => {
  const sink = new MemorySink();
  sink.behaviour = () => ({ kind: 'retry', error: new Error('503 busy') });
  const sent = events(1, 40);
  await producer.send(config.kafka.topics.enriched, sent.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
  const run = runner('transient', sink, config.kafka.topics.enriched);
  await run.start();
  try {
    await eventually(() => sink.attempts >= 6, 'several failed attempts');
    assert.equal(await committed('trustwire-sink-transient', config.kafka.topics.enriched), 0, 'nothing committed while nothing is delivered');
    assert.ok(run.status.retries >= 5);
    sink.behaviour = () => ({ kind: 'ok' });
    await eventually(() => sink.accepted.length >= 40, 'delivery after recovery');
    await eventually(async () => (await committed('trustwire-sink-transient', config.kafka.topics.enriched)) === 40, 'offsets committed');
    assert.deepEqual([...sink.accepted].sort(), sent.map((event) => event.id).sort(), 'every event exactly once');
    assert.equal(run.status.delivered, 40);
    assert.equal(run.status.deadLettered, 0);
  } finally {
    await run.stop(1000);
  }
});

test('a sink rejecting some events permanently leaves exactly those in the DLQ, with their origin and reason', async () => {
  const source = `${config.kafka.topics.enriched}.partial`;
  await ensureTopics(testClient(), [{ topic: source, partitions: 1, replicationFactor: 1 }], silentLogger);
  const sent = events(2, 20);
  const rejected = new Set([sent[3]!.id, sent[11]!.id, sent[19]!.id]);
  const sink = new MemorySink();
  sink.behaviour = (batch) => {
    const failed = new Map<number, SendError>();
    batch.forEach((event, i) => rejected.has(event.id) && failed.set(i, new SendError(`event ${event.id} rejected: bad field`, false)));
    return failed.size === 0 ? { kind: 'ok' } : { kind: 'partial', failed };
  };
  await producer.send(source, sent.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
  const run = runner('partial', sink, source);
  await run.start();
  try {
    await eventually(() => sink.accepted.length >= 17, 'the accepted events');
    await eventually(async () => (await committed('trustwire-sink-partial', source)) === 20, 'offsets past the dead letters');
  } finally {
    await run.stop(1000);
  }
  assert.deepEqual(sink.accepted, sent.filter((event) => !rejected.has(event.id)).map((event) => event.id));
  // The dead letters are written before the offsets past them are committed: they are all below the DLQ's end.
  const dead = (await readToEnd(config.kafka.topics.dlq)).filter((record) => record.headers[DLQ_HEADERS.component] === 'partial');
  assert.deepEqual(dead.map((record) => decodeEvent(record.value!).id).sort(), [...rejected].sort());
  for (const record of dead) {
    const id = decodeEvent(record.value!).id;
    assert.equal(record.headers[DLQ_HEADERS.topic], source);
    assert.equal(record.headers[DLQ_HEADERS.partition], '0');
    assert.equal(record.headers[DLQ_HEADERS.offset], String(sent.findIndex((event) => event.id === id)));
    assert.equal(record.headers[DLQ_HEADERS.stage], 'send');
    assert.equal(record.headers[DLQ_HEADERS.errorClass], 'SendError');
    assert.equal(record.headers[DLQ_HEADERS.errorMessage], `event ${id} rejected: bad field`);
    assert.equal(record.headers[DLQ_HEADERS.attempts], '1');
  }
  assert.equal(run.status.deadLettered, 3);
});

/** A sink whose sends of a batch holding `held` wait for `release()`; the others answer at once. */
function gatedSink(held: string) {
  const sink = new MemorySink();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const started: string[][] = [];
  const definition = defineConnector({
    type: 'gated',
    summary: 'holds one batch until released',
    configSchema: z.strictObject({}),
    create: () => ({
      start: async () => {},
      stop: async () => {},
      send: async (batch, signal) => {
        started.push(batch.map((event) => event.id));
        if (batch.some((event) => event.id === held)) {
          const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
          if ((await Promise.race([gate.then(() => 'released' as const), aborted])) === 'aborted') return { kind: 'retry', error: new Error('aborted') };
        }
        sink.accepted.push(...batch.map((event) => event.id));
        return { kind: 'ok' };
      },
    }),
  });
  return { sink, definition, started, release };
}

function gatedRunner(name: string, definition: ReturnType<typeof gatedSink>['definition'], source: string) {
  const settings = ConnectorInstanceSettings.parse({ name, type: 'gated', batch: { maxEvents: 7, lingerMs: 50 }, inFlight: { maxBatches: 8 }, timeoutMs: 60_000 });
  return new ConnectorRunner(settings, definition, {}, {
    client: testClient(),
    producer,
    topics: { enriched: source, dlq: config.kafka.topics.dlq },
    metrics: new ConnectorMetrics(),
    logger: silentLogger,
  });
}

test('sends are pipelined: later batches go while the first awaits its acknowledgment, and the offset waits for the first', async () => {
  const source = `${config.kafka.topics.enriched}.pipelined`;
  await ensureTopics(testClient(), [{ topic: source, partitions: 1, replicationFactor: 1 }], silentLogger);
  const sent = events(3, 35);
  await producer.send(source, sent.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
  const { sink, definition, started, release } = gatedSink(sent[0]!.id);
  const run = gatedRunner('pipelined', definition, source);
  await run.start();
  try {
    // The four batches after the held one are delivered while it is still in flight...
    await eventually(() => sink.accepted.length === 28, 'the batches behind the held one');
    assert.ok(started.length >= 5, 'every batch was sent without waiting for the first');
    // ...and nothing is committed past the first until it is.
    assert.equal(await committed('trustwire-sink-pipelined', source), 0, 'no offset committed past a batch in flight');
    release();
    await eventually(async () => (await committed('trustwire-sink-pipelined', source)) === 35, 'offsets committed in order once the first is delivered');
    assert.deepEqual([...sink.accepted].sort(), sent.map((event) => event.id).sort(), 'every event once');
  } finally {
    await run.stop(1000);
  }
});

test('a batch abandoned at shutdown holds back the commits of the batches after it: all of them are delivered again', async () => {
  const source = `${config.kafka.topics.enriched}.abandoned`;
  await ensureTopics(testClient(), [{ topic: source, partitions: 1, replicationFactor: 1 }], silentLogger);
  const sent = events(4, 35);
  await producer.send(source, sent.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
  const first = gatedSink(sent[0]!.id);
  const run = gatedRunner('abandoned', first.definition, source);
  await run.start();
  await eventually(() => first.sink.accepted.length === 28, 'the batches behind the held one');
  await run.stop(300); // the held batch is abandoned past the grace period
  assert.equal(await committed('trustwire-sink-abandoned', source), 0, 'nothing committed past the abandoned batch');

  const second = gatedSink('none');
  const again = gatedRunner('abandoned', second.definition, source);
  await again.start();
  try {
    await eventually(() => second.sink.accepted.length === 35, 'everything delivered again by the next worker');
    await eventually(async () => (await committed('trustwire-sink-abandoned', source)) === 35, 'committed');
    const delivered = new Set([...first.sink.accepted, ...second.sink.accepted]);
    assert.equal(delivered.size, 35, 'no event lost');
  } finally {
    await again.stop(1000);
  }
});
