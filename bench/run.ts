/**
 * `npm run bench`: each stage of the pipeline as a ratio against the raw Kafka client consuming
 * the same topic, run side by side (alternating, several rounds) so that the machine's noise
 * hits both. Prints medians and the spread of the ratios.
 *
 * Stages, each consuming the same N Avro events from one topic:
 *   raw      the Kafka client's stream, nothing done with the records (the baseline)
 *   decode   + Avro single-object decode of every record
 *   cef      + decode + CEF formatting (what the syslog sink does per event)
 *   runner   the connector runtime with a sink that accepts everything (decode, route,
 *            batch, deliver, commit)
 */
import { startLocalKafka, stopLocalKafka } from '../src/embedded/local-kafka.js';
import { formatCef } from '../src/formats/cef.js';
import { createKafkaClient, type KafkaClient } from '../src/kafka/client.js';
import { randomUUID } from 'node:crypto';
import { createRecordProducer } from '../src/kafka/producer.js';
import { drainTopic } from '../src/kafka/reader.js';
import { deleteTopics, ensureTopics } from '../src/kafka/topics.js';
import { silentLogger } from '../src/log.js';
import { decodeEvent, encodeEvent } from '../src/model/avro.js';
import type { CanonicalEvent } from '../src/model/events.js';
import { defineConnector } from '../src/runtime/contract.js';
import { ConnectorMetrics } from '../src/runtime/metrics.js';
import { ConnectorRunner } from '../src/runtime/runner.js';
import { ConnectorInstanceSettings } from '../src/runtime/settings.js';
import { z } from 'zod';
import { readFileSync } from 'node:fs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

type Stage = 'raw' | 'decode' | 'cef' | 'runner';

async function consume(client: KafkaClient, topic: string, stage: Exclude<Stage, 'runner'>): Promise<number> {
  const seconds = await drainTopic(client, topic, EVENTS, (value) => {
    if (stage === 'raw') return;
    const event = decodeEvent(value);
    if (stage === 'cef') formatCef(event);
  });
  return EVENTS / seconds;
}

async function runner(client: KafkaClient, topic: string, dlq: string): Promise<number> {
  let delivered = 0;
  let started = 0n;
  let done: (seconds: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (done = resolve));
  const sink = defineConnector({
    type: 'bench',
    summary: 'accepts everything',
    configSchema: z.strictObject({}),
    create: () => ({
      start: async () => {},
      stop: async () => {},
      send: async (batch) => {
        if (started === 0n) started = process.hrtime.bigint();
        delivered += batch.length;
        if (delivered >= EVENTS) done(Number(process.hrtime.bigint() - started) / 1e9);
        return { kind: 'ok' };
      },
    }),
  });
  const producer = await createRecordProducer(client);
  const name = `bench-${randomUUID().slice(0, 8)}`;
  const run = new ConnectorRunner(ConnectorInstanceSettings.parse({ name, type: 'bench', batch: { maxEvents: 1000, lingerMs: 10 } }), sink, {}, {
    client,
    producer,
    topics: { enriched: topic, dlq },
    metrics: new ConnectorMetrics(),
    logger: silentLogger,
  });
  await run.start();
  const seconds = await finished;
  await run.stop(1000);
  await producer.disconnect();
  return EVENTS / seconds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const broker = await startLocalKafka({ onProgress: (line) => console.error(line) });
const client = createKafkaClient({ brokers: broker.brokers, clientId: 'bench' }, silentLogger);
const topic = `bench.${randomUUID().slice(0, 8)}`;
const dlq = `${topic}.dlq`;
await ensureTopics(client, [{ topic, partitions: 1, replicationFactor: 1 }, { topic: dlq, partitions: 1, replicationFactor: 1 }], silentLogger);
try {
  const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/events/trust.change.json', import.meta.url), 'utf8')) as CanonicalEvent;
  const producer = await createRecordProducer(client);
  for (let i = 0; i < EVENTS; i += 500) {
    await producer.send(
      topic,
      Array.from({ length: Math.min(500, EVENTS - i) }, (_, j) => {
        const event = { ...fixture, id: `019ac1a2-0000-7000-8000-${String(i + j).padStart(12, '0')}` };
        return { key: event.host.id, value: encodeEvent(event) };
      }),
    );
  }
  await producer.disconnect();
  console.error(`${EVENTS} trust.change events (${encodeEvent(fixture).length} bytes each) on ${topic}; ${ROUNDS} rounds`);

  const rates: Record<Stage, number[]> = { raw: [], decode: [], cef: [], runner: [] };
  const ratios: Record<Exclude<Stage, 'raw'>, number[]> = { decode: [], cef: [], runner: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Baseline right before each stage, so both see the same moment of the machine.
    for (const stage of ['decode', 'cef', 'runner'] as const) {
      const base = await consume(client, topic, 'raw');
      const rate = stage === 'runner' ? await runner(client, topic, dlq) : await consume(client, topic, stage);
      rates.raw.push(base);
      rates[stage].push(rate);
      ratios[stage].push(rate / base);
    }
  }
  const spread = (values: number[]) => `${(Math.min(...values) * 100).toFixed(0)}–${(Math.max(...values) * 100).toFixed(0)} %`;
  console.log(`stage     events/s (median)   ratio to raw (median)   ratio spread (min–max)`);
  console.log(`raw       ${median(rates.raw).toFixed(0).padStart(10)}          1.00`);
  for (const stage of ['decode', 'cef', 'runner'] as const) {
    console.log(`${stage.padEnd(9)} ${median(rates[stage]).toFixed(0).padStart(10)}          ${median(ratios[stage]).toFixed(2)}                    ${spread(ratios[stage])}`);
  }
  const noise = (Math.max(...rates.raw) - Math.min(...rates.raw)) / median(rates.raw);
  console.log(`machine noise: the baseline itself varied by ${(noise * 100).toFixed(0)} % across ${rates.raw.length} runs`);
} finally {
  await deleteTopics(client, [topic, dlq]);
  if (broker.started) await stopLocalKafka();
}
