import type { Logger } from '../log.js';
import type { KafkaClient } from './client.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Absent: the broker's default. */
  replicationFactor?: number;
  config?: Record<string, string>;
}

/**
 * Creates the topics that are missing. An existing topic is left as it is: adding partitions
 * would move keys (host ids) to other partitions and break per-host order, so a topic with
 * fewer partitions than asked for is only reported.
 */
export async function ensureTopics(client: KafkaClient, specs: readonly TopicSpec[], logger: Logger): Promise<string[]> {
  const admin = client.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor ?? -1,
          configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      logger.info({ topics: missing.map((spec) => spec.topic) }, 'created topics');
    }
    const present = specs.filter((spec) => existing.has(spec.topic));
    if (present.length > 0) {
      const { topics } = await admin.fetchTopicMetadata({ topics: present.map((spec) => spec.topic) });
      for (const { name, partitions } of topics) {
        const wanted = present.find((spec) => spec.topic === name)?.partitions ?? 0;
        if (partitions.length < wanted) {
          logger.warn({ topic: name, partitions: partitions.length, wanted }, 'topic has fewer partitions than configured; left unchanged');
        }
      }
    }
    return missing.map((spec) => spec.topic);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics (tests clean up after themselves with it). */
export async function deleteTopics(client: KafkaClient, topics: readonly string[]): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...topics] });
  } finally {
    await admin.disconnect();
  }
}
