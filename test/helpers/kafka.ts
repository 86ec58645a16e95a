import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createKafkaClient, type KafkaClient } from '../../src/kafka/client.js';
import { readRecords, type IncomingRecord } from '../../src/kafka/reader.js';
import { deleteTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';

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

/** Everything on a topic, waiting for at least `expect` records (more, if they are there). */
export async function readAll(topic: string, expect: number): Promise<IncomingRecord[]> {
  return readRecords(testClient(), { topic, limit: Number.MAX_SAFE_INTEGER, idleMs: expect === 0 ? 2500 : 1500, timeoutMs: 30_000 });
}
