/**
 * Built-in connectors end to end on the real broker: events on the enriched topic reach the
 * kafka connector's topic and the http connector's receiver, every one, with the right content.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { createRecordProducer, type RecordProducer } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent, encodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { startConnectors } from '../../src/runtime/host.js';
import { ConnectorMetrics } from '../../src/runtime/metrics.js';
import { sinkGroup } from '../../src/runtime/runner.js';
import { trustwireTopics } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { eventFixture } from '../helpers/fixtures.js';
import { dropTopics, groupAtEnd, readToEnd, testClient, testConfig } from '../helpers/kafka.js';
import { EpoReceiver } from '../helpers/epo-receiver.js';
import { HecReceiver } from '../helpers/hec-receiver.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const config = testConfig();
const republished = `${config.kafka.topics.enriched}.republished`;
let producer: RecordProducer;
const receiver = new WebhookReceiver();

before(async () => {
  await ensureTopics(testClient(), [...trustwireTopics(config.kafka), { topic: republished, partitions: 3, replicationFactor: 1 }], silentLogger);
  producer = await createRecordProducer(testClient());
  await receiver.start();
});
after(async () => {
  await producer.disconnect();
  await receiver.stop();
  await dropTopics(config);
  await dropTopics({ kafka: { topics: { republished } } } as never);
});

test('kafka and http connectors deliver every routed event, with its content, and skip the rest', async () => {
  const connectors = parseConfig(
    [
      'connectors:',
      `  - { name: republish, type: kafka, options: { topic: ${republished}, format: avro } }`,
      `  - { name: webhook, type: http, route: { types: [alert, trust.change], minSeverity: 5 }, options: { url: "${receiver.url}", format: ndjson, auth: { type: bearer, token: hook-token-77 } } }`,
    ].join('\n'),
  ).connectors;
  const events: CanonicalEvent[] = (['trust.change', 'policy.decision', 'admin.action', 'config.snapshot', 'compliance.assessment', 'alert'] as const).flatMap((type, k) =>
    Array.from({ length: 5 }, (_, i) => ({ ...eventFixture(type), id: `019ac1a2-0ccc-7000-8000-${String(k * 10 + i).padStart(12, '0')}`, severity: i * 2 }) as CanonicalEvent),
  );
  await producer.send(config.kafka.topics.enriched, events.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
  const host = await startConnectors(connectors, {
    client: testClient(),
    producer,
    topics: config.kafka.topics,
    metrics: new ConnectorMetrics(),
    logger: silentLogger,
    baseDir: process.cwd(),
  });
  const routed = events.filter((event) => ['alert', 'trust.change'].includes(event.type) && event.severity >= 5);
  try {
    // A connector commits an offset once every record before it was delivered or skipped: at the
    // topic's end, it has sent all it ever will.
    const enriched = config.kafka.topics.enriched;
    await eventually(
      async () => (await groupAtEnd(sinkGroup('republish'), enriched)) && (await groupAtEnd(sinkGroup('webhook'), enriched)),
      `both connectors' groups committed to the end of ${enriched}`,
      30_000,
      200,
    );
  } finally {
    await host.stop(1000);
  }
  const copies = await readToEnd(republished);
  assert.deepEqual(copies.map((record) => decodeEvent(record.value!)).sort(byId), [...events].sort(byId), 'every event republished, content intact');
  const received = await receiver.received();
  assert.deepEqual([...received].sort(), routed.map((event) => event.id).sort(), 'the webhook got exactly the routed events');
  assert.ok(receiver.requests.every((request) => request.headers.authorization === 'Bearer hook-token-77'));
  const status = host.statuses().find((s) => s.name === 'webhook')!;
  assert.equal(status.skipped, events.length - routed.length);
});

const byId = (a: CanonicalEvent, b: CanonicalEvent) => a.id.localeCompare(b.id);

test('splunk-hec (with indexer acks) and epo get every event produced to Kafka, with the right content', async () => {
  const topics = { ...config.kafka.topics, enriched: `${config.kafka.topics.enriched}.siem` };
  await ensureTopics(testClient(), [{ topic: topics.enriched, partitions: 3, replicationFactor: 1 }], silentLogger);
  const hec = new HecReceiver({ token: 'hec-token-e2e-41', ack: true, ackDelayMs: 50 });
  const epo = new EpoReceiver();
  await hec.start();
  await epo.start();
  const events: CanonicalEvent[] = (['trust.change', 'policy.decision', 'admin.action', 'compliance.assessment', 'alert'] as const).flatMap((type, k) =>
    Array.from({ length: 4 }, (_, i) => ({ ...eventFixture(type), id: `019ac1a2-0eee-7000-8000-${String(k * 10 + i).padStart(12, '0')}` }) as CanonicalEvent),
  );
  await producer.send(topics.enriched, events.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
  const connectors = parseConfig(
    [
      'connectors:',
      `  - { name: splunk, type: splunk-hec, options: { urls: ["${hec.url}"], token: hec-token-e2e-41, ack: true } }`,
      `  - { name: epo, type: epo, options: { url: "${epo.url}", username: ${epo.username}, password: ${epo.password}, tls: { ca: ${JSON.stringify(epo.caFile)} } } }`,
    ].join('\n'),
  ).connectors;
  const host = await startConnectors(connectors, {
    client: testClient(),
    producer,
    topics,
    metrics: new ConnectorMetrics(),
    logger: silentLogger,
    baseDir: process.cwd(),
    groupPrefix: config.kafka.groupPrefix,
  });
  try {
    await eventually(
      async () => (await groupAtEnd(sinkGroup('splunk', config.kafka.groupPrefix), topics.enriched)) && (await groupAtEnd(sinkGroup('epo', config.kafka.groupPrefix), topics.enriched)),
      `the splunk and epo groups committed to the end of ${topics.enriched}`,
      30_000,
      200,
    );
    assert.deepEqual(
      host.statuses().map((s) => [s.name, s.state]),
      [
        ['splunk', 'running'],
        ['epo', 'running'],
      ],
    );
  } finally {
    await host.stop(1000);
    await hec.stop();
    await epo.stop();
    await dropTopics({ kafka: { topics: { enriched: topics.enriched } } } as never);
  }
  const ids = events.map((event) => event.id).sort();
  assert.deepEqual([...new Set(await hec.received())].sort(), ids, 'Splunk indexed every event');
  assert.ok(hec.ackQueries.length > 0, 'the connector waited for indexer acknowledgments');
  assert.deepEqual([...new Set(await epo.received())].sort(), ids, 'the ePO-style receiver got every event');
  const untrusted = events.find((event) => event.type === 'trust.change')!;
  assert.ok(epo.tagsOf(untrusted.host.name ?? untrusted.host.id).length > 0, 'the console tags follow the host trust');
});
