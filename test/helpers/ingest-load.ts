/**
 * Load for fault tests: collectors posting events to a running service as a real one would,
 * resending a refused batch with the same ids, and the check that counts ids on a topic.
 */
import type { KafkaClient } from '../../src/kafka/client.js';
import { readToEnd } from './kafka.js';
import { decodeEvent } from '../../src/model/avro.js';
import { eventually } from './eventually.js';
import { ingestFixture } from './fixtures.js';

export interface SteadyIngest {
  /** Ids answered 202. */
  acknowledged: Set<string>;
  /** Batches resent after a refusal or a broken connection. */
  retries(): number;
  /** Stops the collectors after their batch in hand is acknowledged. */
  stop(): Promise<void>;
}

/** `collectors` collectors, each posting `batch` admin actions every `everyMs`, over 30 hosts. */
export function steadyIngest(url: string, token: string, options: { prefix: string; collectors?: number; batch?: number; everyMs?: number }): SteadyIngest {
  const { prefix, collectors = 2, batch = 20, everyMs = 50 } = options;
  const acknowledged = new Set<string>();
  let retries = 0;
  let sequence = 0;
  let running = true;
  const post = (events: Array<Record<string, unknown>>) =>
    fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
      signal: AbortSignal.timeout(30_000),
    });
  const collector = async () => {
    while (running) {
      const events = Array.from({ length: batch }, () => {
        const n = sequence++;
        return { ...ingestFixture('admin.action'), id: `019ac1a2-${prefix}-7000-8000-${String(n).padStart(12, '0')}`, host: { id: `esx-${n % 30}` } };
      });
      for (;;) {
        const response = await post(events).catch(() => undefined);
        if (response?.status === 202) break;
        retries++;
        await new Promise((resolve) => setTimeout(resolve, 500)); // pacing: a collector's pause before it posts again
      }
      for (const event of events) acknowledged.add(event.id as string);
      await new Promise((resolve) => setTimeout(resolve, everyMs)); // pacing the load, not waiting for a condition
    }
  };
  const running$ = Array.from({ length: collectors }, collector);
  return {
    acknowledged,
    retries: () => retries,
    async stop() {
      running = false;
      await Promise.all(running$);
    },
  };
}

/** The ids of the admin actions on `topic` (read_committed), once at least `expected` distinct ones are there. */
export async function adminActionIds(client: KafkaClient, topic: string, expected: number, timeoutMs = 90_000): Promise<string[]> {
  let ids: string[] = [];
  await eventually(
    async () => {
      // Up to each partition's end offset: what was there when asked, not what came before a quiet spell.
      const records = await readToEnd(topic, { client });
      ids = records.filter((r) => r.headers['trustwire-type'] === 'admin.action').map((r) => decodeEvent(r.value!).id);
      return new Set(ids).size >= expected;
    },
    `${expected} ids on ${topic}`,
    timeoutMs,
    1000,
  );
  return ids;
}

/** Lost and doubled ids of `acknowledged` among `seen`. */
export function tally(acknowledged: ReadonlySet<string>, seen: readonly string[]): { lost: string[]; duplicated: number; distinct: number } {
  const distinct = new Set(seen);
  return { lost: [...acknowledged].filter((id) => !distinct.has(id)), duplicated: seen.length - distinct.size, distinct: distinct.size };
}
