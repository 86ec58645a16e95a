import { Admin } from '@platformatic/kafka';
import { closeWithin, type KafkaClient } from './client.js';

/** A topic's partition count and end offsets, from one admin connection kept open (asked per batch, not per start). */
export class OffsetReader {
  readonly #admin: Admin;
  readonly #partitions = new Map<string, number>();

  constructor(client: KafkaClient) {
    this.#admin = new Admin(client.options('admin'));
  }

  /** How many partitions the topic has (asked once: trustwire never adds partitions to its topics). */
  async partitionCount(topic: string): Promise<number> {
    let count = this.#partitions.get(topic);
    if (count === undefined) {
      const metadata = await this.#admin.metadata({ topics: [topic] });
      count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      if (count === 0) throw new Error(`topic ${topic} has no partitions`);
      this.#partitions.set(topic, count);
    }
    return count;
  }

  /**
   * Each partition's high watermark: every record acknowledged (acks=all) before the call is
   * below it, so it marks a point after everything a reporter had been told was written.
   */
  async endOffsets(topic: string): Promise<bigint[]> {
    const count = await this.partitionCount(topic);
    const answer = await this.#admin.listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
    });
    const ends = Array.from({ length: count }, () => 0n);
    for (const entry of answer) for (const partition of entry.partitions) ends[partition.partitionIndex] = partition.offset;
    return ends;
  }

  async close(): Promise<void> {
    await closeWithin(() => this.#admin.close());
  }
}
