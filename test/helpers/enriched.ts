/**
 * Counting input events at the far end of the pipeline, the enriched topic, read the way the
 * sinks read it (read_committed): which ids arrived, which are missing, which came twice.
 * Alerts and assessments are events of their own (ids of their own): only the input kinds count.
 */
import { withAdmin } from '../../src/kafka/client.js';
import { readRecords, followTopic } from '../../src/kafka/reader.js';
import { decodeEvent } from '../../src/model/avro.js';
import { eventually } from './eventually.js';
import { readToEnd, testClient } from './kafka.js';

export interface EnrichedCount {
  sent: number;
  /** Distinct sent ids found in the enriched topic. */
  inEnriched: number;
  lost: string[];
  /** Ids found more than once. */
  duplicated: string[];
  /** Input-kind events in the topic whose id was never sent. */
  unexpected: string[];
  /** Every record of the topic, alerts included. */
  records: number;
}

/** The ids of the enriched topic's input-kind events, one entry per record, and the record count. */
async function readInputIds(topic: string, kinds: ReadonlySet<string>, readTimeoutMs: number): Promise<{ ids: string[]; records: number }> {
  // To the topic's high watermark, not to an idle gap: a transaction still open is waited for, not cut off.
  const records = await readToEnd(topic, { timeoutMs: readTimeoutMs });
  const ids: string[] = [];
  for (const record of records) {
    const event = decodeEvent(record.value!);
    if (kinds.has(event.type)) ids.push(event.id);
  }
  return { ids, records: records.length };
}

/**
 * Reads the enriched topic until it holds as many input events as were sent (or `timeoutMs`
 * passes), then once more, and counts that last read against `sent`. Call it once the pipeline
 * is idle; a wait that ran out is not thrown: the counts say what is missing.
 */
export async function countEnriched(
  topic: string,
  sent: readonly string[],
  options: { kinds: readonly string[]; timeoutMs?: number; readTimeoutMs?: number },
): Promise<EnrichedCount> {
  const kinds = new Set(options.kinds);
  const readTimeoutMs = options.readTimeoutMs ?? 60_000;
  await eventually(
    async () => (await readInputIds(topic, kinds, readTimeoutMs)).ids.length >= sent.length,
    `${topic} to hold ${sent.length} input events`,
    options.timeoutMs ?? 90_000,
    1000,
  ).catch(() => {});
  const { ids, records } = await readInputIds(topic, kinds, readTimeoutMs);
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const sentIds = new Set(sent);
  return {
    sent: sent.length,
    inEnriched: sent.filter((id) => counts.has(id)).length,
    lost: sent.filter((id) => !counts.has(id)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    unexpected: [...counts.keys()].filter((id) => !sentIds.has(id)),
    records,
  };
}

/** One line for t.diagnostic: sent, in enriched, lost, duplicated. */
export function describeCount(count: EnrichedCount): string {
  return `sent ${count.sent}, in enriched ${count.inEnriched}, lost ${count.lost.length}, duplicated ${count.duplicated.length}, unexpected ${count.unexpected.length} (${count.records} records in all, alerts included)`;
}

/**
 * Follows the enriched topic as it fills (read_committed, from the beginning) to see progress
 * without reading the whole topic again: which input ids arrived and when, and per partition the
 * latest send time of an event that came out, so that "every partition is processed again since
 * time T" can be waited for.
 */
export class EnrichedFollower {
  /** Input ids seen, with when they were first seen. */
  readonly seenAt = new Map<string, number>();
  /** Per partition: the latest send time (per `sentAt`) of an input event seen on it. */
  readonly #latestSent = new Map<number, number>();
  readonly #kinds: ReadonlySet<string>;
  readonly #sentAt: (id: string) => number | undefined;
  #stop: (() => Promise<void>) | undefined;

  private constructor(kinds: ReadonlySet<string>, sentAt: (id: string) => number | undefined) {
    this.#kinds = kinds;
    this.#sentAt = sentAt;
  }

  static async start(topic: string, options: { kinds: readonly string[]; sentAt?: (id: string) => number | undefined }): Promise<EnrichedFollower> {
    const follower = new EnrichedFollower(new Set(options.kinds), options.sentAt ?? (() => undefined));
    const following = await followTopic(testClient(), topic, (record) => follower.#onRecord(record.partition, record.value), {
      component: 'test follower',
    });
    follower.#stop = () => following.stop();
    return follower;
  }

  #onRecord(partition: number, value: Buffer | null): void {
    if (value === null) return;
    const event = decodeEvent(value);
    if (!this.#kinds.has(event.type)) return;
    if (!this.seenAt.has(event.id)) this.seenAt.set(event.id, Date.now());
    const sent = this.#sentAt(event.id);
    if (sent !== undefined && sent > (this.#latestSent.get(partition) ?? -Infinity)) this.#latestSent.set(partition, sent);
  }

  /** How many of `ids` were seen. */
  countOf(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) if (this.seenAt.has(id)) n++;
    return n;
  }

  /** Whether each of the `partitions` partitions brought out an event sent after `time`. */
  flowingSince(time: number, partitions: number): boolean {
    for (let partition = 0; partition < partitions; partition++) if ((this.#latestSent.get(partition) ?? -Infinity) <= time) return false;
    return true;
  }

  async stop(): Promise<void> {
    const stop = this.#stop;
    this.#stop = undefined;
    await stop?.();
  }
}

/** Where each of `ids` is: its records in the input topic and in the enriched topic (partition:offset). */
export async function locateIds(topics: { events: string; enriched: string }, ids: readonly string[]): Promise<string[]> {
  const wanted = new Set(ids);
  const where = new Map<string, { events: string[]; enriched: string[] }>(ids.map((id) => [id, { events: [], enriched: [] }]));
  for (const [name, topic] of [['events', topics.events], ['enriched', topics.enriched]] as const) {
    const records = await readRecords(testClient(), { topic, limit: Number.MAX_SAFE_INTEGER, idleMs: 1500, timeoutMs: 60_000 });
    for (const record of records) {
      const event = decodeEvent(record.value!);
      if (wanted.has(event.id)) where.get(event.id)![name].push(`${record.partition}:${record.offset}`);
    }
  }
  return ids.map((id) => `${id} ${where.get(id)!.events.length}× in events [${where.get(id)!.events.join(' ')}], ${where.get(id)!.enriched.length}× in enriched [${where.get(id)!.enriched.join(' ')}]`);
}

/** Records written to a topic that no transaction wrote to (the events topic): the sum of its end offsets. */
export async function recordCount(topic: string): Promise<number> {
  return withAdmin(testClient(), async (admin) => {
    const metadata = await admin.metadata({ topics: [topic] });
    const partitions = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const listed = await admin.listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
    });
    return listed.flatMap((entry) => entry.partitions).reduce((sum, partition) => sum + Number(partition.offset), 0);
  });
}
