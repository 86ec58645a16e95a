import type { Logger } from '../log.js';
import { withAdmin, kafkaErrorCodes, type KafkaClient } from './client.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Absent: the broker's default. */
  replicationFactor?: number;
  config?: Record<string, string>;
}

/**
 * Creates the topics that are missing and waits until each partition has a leader. An existing
 * topic is left as it is: adding partitions would move keys (host ids) to other partitions and
 * break per-host order, so a topic with fewer partitions than asked for is only reported.
 */
export async function ensureTopics(client: KafkaClient, specs: readonly TopicSpec[], logger: Logger): Promise<string[]> {
  return withAdmin(client, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    const created: string[] = [];
    // One request per topic: a request's configs apply to every topic in it.
    for (const spec of missing) {
      try {
        await admin.createTopics({
          topics: [spec.topic],
          partitions: spec.partitions,
          replicas: spec.replicationFactor ?? -1,
          configs: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        });
        created.push(spec.topic);
      } catch (error) {
        // Another worker created it meanwhile.
        if (!kafkaErrorCodes(error).includes('TOPIC_ALREADY_EXISTS')) throw error;
      }
    }
    if (created.length > 0) logger.info({ topics: created }, 'created topics');
    await waitForLeaders(admin, specs.map((spec) => spec.topic));
    for (const spec of specs.filter((s) => existing.has(s.topic))) {
      const metadata = await admin.metadata({ topics: [spec.topic] });
      const partitions = metadata.topics.get(spec.topic)?.partitionsCount ?? 0;
      if (partitions < spec.partitions) {
        logger.warn({ topic: spec.topic, partitions, wanted: spec.partitions }, 'topic has fewer partitions than configured; left unchanged');
      }
    }
    return created;
  });
}

async function waitForLeaders(admin: { metadata(options: { topics: string[]; forceUpdate?: boolean }): Promise<{ topics: Map<string, { partitions: Array<{ leader: number }> }> }> }, topics: string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      const leaderless = topics.filter((topic) => {
        const partitions = metadata.topics.get(topic)?.partitions ?? [];
        return partitions.length === 0 || partitions.some((partition) => partition === undefined || partition.leader < 0);
      });
      if (leaderless.length === 0) return;
      if (Date.now() > until) throw new Error(`topics without a leader after ${timeoutMs} ms: ${leaderless.join(', ')}`);
    } catch (error) {
      if (Date.now() > until) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Deletes topics (tests clean up after themselves with it). */
export async function deleteTopics(client: KafkaClient, topics: readonly string[]): Promise<void> {
  await withAdmin(client, (admin) => admin.deleteTopics({ topics: [...topics] }));
}

/**
 * A group's committed offsets on a topic (partition → next offset to consume; absent: none).
 * Stable: an offset commit still pending in an open transaction is waited for, not skipped.
 */
export async function committedOffsets(client: KafkaClient, groupId: string, topic: string, timeoutMs = 30_000): Promise<Map<number, bigint>> {
  return withAdmin(client, async (admin) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId], requireStable: true });
        const result = new Map<number, bigint>();
        for (const entry of group?.topics ?? []) {
          if (entry.name !== topic) continue;
          for (const partition of entry.partitions) if (partition.committedOffset >= 0n) result.set(partition.partitionIndex, partition.committedOffset);
        }
        return result;
      } catch (error) {
        if (!kafkaErrorCodes(error).includes('UNSTABLE_OFFSET_COMMIT') || Date.now() > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
}
