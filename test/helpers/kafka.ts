import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createKafkaClient, type KafkaClient } from '../../src/kafka/client.js';
import { readTopicToEnd, type IncomingRecord } from '../../src/kafka/reader.js';
import { OffsetReader } from '../../src/kafka/offsets.js';
import { committedOffsets, deleteTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { byUserGroup } from '../../src/processor/users.js';
import { processorGroup } from '../../src/processor/worker.js';
import { byWorkloadGroup } from '../../src/processor/workloads.js';
import { eventually } from './eventually.js';

/** The broker `npm test` started; integration tests run only through it. */
export function testBrokers(): string[] {
  const brokers = process.env.TRUSTWIRE_TEST_BROKERS;
  if (!brokers) throw new Error('TRUSTWIRE_TEST_BROKERS is not set: run integration tests with `npm test` (it starts the broker)');
  return brokers.split(',');
}

export function testClient(): KafkaClient {
  return createKafkaClient({ brokers: testBrokers(), clientId: 'trustwire-test' }, silentLogger);
}

/**
 * A configuration on the test broker whose topics are this test's own (random suffix), so test
 * files can run side by side and never read each other's events.
 */
export function testConfig(yaml = ''): Config {
  const config = parseConfig(yaml || '{}');
  const suffix = randomUUID().slice(0, 8);
  config.kafka.brokers = testBrokers();
  config.kafka.replicationFactor = 1;
  config.kafka.partitions = 3;
  config.kafka.topics = {
    events: `test.${suffix}.events`,
    enriched: `test.${suffix}.enriched`,
    hostState: `test.${suffix}.host-state`,
    dlq: `test.${suffix}.dlq`,
    byUser: `test.${suffix}.by-user`,
    userState: `test.${suffix}.user-state`,
    byWorkload: `test.${suffix}.by-workload`,
    workloadState: `test.${suffix}.workload-state`,
  };
  config.kafka.groupPrefix = `test-${suffix}`;
  config.http.port = 0;
  config.log.level = 'silent';
  return config;
}

export async function dropTopics(config: Config): Promise<void> {
  await deleteTopics(testClient(), Object.values(config.kafka.topics));
}

/**
 * Everything on a topic to its high watermark (read_committed), once it holds at least `expect`
 * records (more, if they are there); fails, naming the topic and the count, when it does not
 * within 30 s. No idle gap is waited for: `expect` 0 reads what is there now.
 */
export async function readAll(topic: string, expect: number): Promise<IncomingRecord[]> {
  let records: IncomingRecord[] = [];
  await eventually(async () => (records = await readToEnd(topic)).length >= expect, `${topic} to hold ${expect} records`, 30_000, 250);
  return records;
}

/** Each partition's high watermark (end offset): every record acknowledged before the call is below it. */
export async function endOffsets(topic: string, client: KafkaClient = testClient()): Promise<bigint[]> {
  const offsets = new OffsetReader(client);
  try {
    return await offsets.endOffsets(topic);
  } finally {
    await offsets.close();
  }
}

/**
 * Everything on `topic` up to its high watermark as it stood when called, read as the sinks read
 * it (read_committed): no idle gap waited for, so "nothing twice" and "nothing more" are asserted
 * on a definite end of the topic. Fails, saying which partitions fell short, if that end is not
 * reached within `timeoutMs` (a transaction left open, a broker away).
 */
export async function readToEnd(topic: string, options: { timeoutMs?: number; client?: KafkaClient } = {}): Promise<IncomingRecord[]> {
  return readTopicToEnd(options.client ?? testClient(), topic, options.timeoutMs);
}

/**
 * Whether `groupId` has committed every partition of `topic` past its last record: a connector's
 * group gets there only once it delivered, skipped or dead-lettered every record. On a topic
 * written in transactions the high watermark lies past a commit marker, which a group that
 * commits in its own transactions does not commit past: there the end is the offset after the
 * last committed record (read to the high watermark).
 */
export async function groupAtEnd(groupId: string, topic: string, client: KafkaClient = testClient()): Promise<boolean> {
  const ends = await endOffsets(topic, client);
  const committed = await committedOffsets(client, groupId, topic);
  const at = (partition: number) => committed.get(partition) ?? 0n;
  if (ends.every((end, partition) => at(partition) >= end)) return true;
  const lastRecords = ends.map(() => 0n);
  for (const record of await readToEnd(topic, { client })) {
    const next = BigInt(record.offset) + 1n;
    if (next > lastRecords[record.partition]!) lastRecords[record.partition] = next;
  }
  return lastRecords.every((end, partition) => at(partition) >= end);
}

/**
 * Whether the processor and its by-user and by-workload stages have each committed to the end of
 * the topic it reads: every output of every event sent so far (alerts of the stages included) is
 * then committed on the enriched topic, and `readToEnd` of it holds all the pipeline will write.
 */
export async function pipelineAtEnd(config: Config, client: KafkaClient = testClient()): Promise<boolean> {
  const { groupPrefix, topics } = config.kafka;
  return (
    (await groupAtEnd(processorGroup(groupPrefix), topics.events, client)) &&
    (await groupAtEnd(byUserGroup(groupPrefix), topics.byUser, client)) &&
    (await groupAtEnd(byWorkloadGroup(groupPrefix), topics.byWorkload, client))
  );
}
