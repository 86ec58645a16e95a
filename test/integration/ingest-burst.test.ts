/**
 * A burst: 50,000 events posted to POST /v1/events as fast as ingest takes them, in several
 * requests at a time. The processor falls behind and catches up; it never stops being ready,
 * and trustwire.enriched (read_committed) ends up with every event once.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Secret } from '../../src/config/secret.js';
import { silentLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { countEnriched, describeCount, EnrichedFollower, locateIds, recordCount } from '../helpers/enriched.js';
import { eventually } from '../helpers/eventually.js';
import { FLEET_EVENT_KINDS, fleetEvents, type FleetEvent } from '../helpers/fleet-events.js';
import { dropTopics, testConfig } from '../helpers/kafka.js';
import { apiToken, SCOPES } from '../../src/api/auth.js';

const TOTAL = 50_000;
const PER_REQUEST = 500;
const CONCURRENT_REQUESTS = 4;
const HOSTS = 200;
const TOKEN = 'test-token-burst-51d7';

const config = testConfig();
config.kafka.partitions = 6;
let service: RunningService;
let follower: EnrichedFollower | undefined;

before(async () => {
  service = await startService(config, { logger: silentLogger, tokens: [apiToken('collector', SCOPES, { token: new Secret(TOKEN, 'inline') })] });
  // As a collector's operator would: the burst starts once the service says it is ready.
  await eventually(async () => (await fetch(`${service.url}/readyz`)).status === 200, 'the service to be ready', 60_000, 250);
});
after(async () => {
  await follower?.stop();
  await service.close();
  await dropTopics(config);
});

interface Readiness {
  polls: number;
  /** Polls answered other than 200, with what /readyz said. */
  notReady: string[];
  /** Polls where the processor component was missing or not ready. */
  processorNotReady: string[];
}

/** Polls /readyz until stopped, noting every answer that is not "ready". */
function watchReadiness(url: string): { readiness: Readiness; stop(): Promise<void> } {
  const readiness: Readiness = { polls: 0, notReady: [], processorNotReady: [] };
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) }).catch((error: Error) => error);
      readiness.polls++;
      if (response instanceof Error) {
        readiness.notReady.push(`no answer: ${response.message}`);
      } else {
        const body = (await response.json()) as { error?: string; components: Array<{ component: string; state: string; ready: boolean; cause?: string }> };
        if (response.status !== 200) readiness.notReady.push(`${response.status}: ${body.error}`);
        const processor = body.components.find((c) => c.component === 'processor');
        if (processor?.ready !== true) readiness.processorNotReady.push(processor === undefined ? 'no processor component' : `${processor.state} ${processor.cause ?? ''}`);
      }
      await sleep(250); // the poll's pace
    }
  })();
  return {
    readiness,
    async stop() {
      stopped = true;
      await polling;
    },
  };
}

/** Posts one request's events, again with the same ids after a 503's Retry-After; resolves with the ids accepted. */
async function postBatch(events: FleetEvent[], retries: { count: number }): Promise<string[]> {
  const body = JSON.stringify(events);
  for (;;) {
    const response = await fetch(`${service.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    if (response.status === 202) return ((await response.json()) as { ids: string[] }).ids;
    const text = await response.text();
    if (response.status !== 503) throw new Error(`POST /v1/events answered ${response.status}: ${text}`);
    retries.count++;
    const retryAfter = Number(response.headers.get('retry-after') ?? '1');
    await sleep(retryAfter * 1000); // as the answer asks
  }
}

test('a burst of 50,000 events as fast as ingest takes them: the processor lags, catches up, never halts', { timeout: 4 * 60_000 }, async (t) => {
  const events = fleetEvents(0, TOTAL, HOSTS, 'burst');
  const sent = events.map((event) => event.id);
  follower = await EnrichedFollower.start(config.kafka.topics.enriched, { kinds: FLEET_EVENT_KINDS });
  const watch = watchReadiness(service.url);
  const retries = { count: 0 };
  const accepted: string[] = [];
  let maxLag = 0;

  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT_REQUESTS }, async () => {
      while (next < TOTAL) {
        const batch = events.slice(next, next + PER_REQUEST);
        next += PER_REQUEST;
        accepted.push(...(await postBatch(batch, retries)));
        maxLag = Math.max(maxLag, accepted.length - follower!.seenAt.size);
      }
    }),
  );
  const ingested = Date.now();
  const behindAtEnd = TOTAL - follower.countOf(sent);
  t.diagnostic(`ingest: ${TOTAL} events in ${((ingested - started) / 1000).toFixed(1)} s, ${Math.round(TOTAL / ((ingested - started) / 1000))} events/s (${retries.count} requests retried after 503)`);
  t.diagnostic(`the processor was ${behindAtEnd} events behind when ingest finished (at most ${maxLag} behind during it, as the test's reader saw it)`);

  // A wait that runs out is said, not thrown: the count below names what is missing, and the assertions fail on it.
  await eventually(() => follower!.countOf(sent) === TOTAL, `the processor to bring all ${TOTAL} events to ${config.kafka.topics.enriched}`, 150_000, 250).catch(
    (error: Error) => t.diagnostic(`${error.message}; counting what is there`),
  );
  let lastOut = 0;
  for (const at of follower.seenAt.values()) lastOut = Math.max(lastOut, at);
  await watch.stop();
  t.diagnostic(
    `processor: ${follower.countOf(sent)} events out ${((lastOut - started) / 1000).toFixed(1)} s after the first post, ${Math.round(follower.countOf(sent) / ((lastOut - started) / 1000))} events/s; caught up ${((lastOut - ingested) / 1000).toFixed(1)} s after ingest finished`,
  );
  t.diagnostic(`/readyz polled ${watch.readiness.polls} times: ${watch.readiness.notReady.length} not 200, processor not ready in ${watch.readiness.processorNotReady.length}`);
  for (const answer of [...new Set([...watch.readiness.notReady, ...watch.readiness.processorNotReady])].slice(0, 5)) t.diagnostic(`  /readyz: ${answer}`);
  const written = await recordCount(config.kafka.topics.events);
  t.diagnostic(`${config.kafka.topics.events} holds ${written} records for ${TOTAL} events (${written - TOTAL} written again by retried requests)`);

  const count = await countEnriched(config.kafka.topics.enriched, sent, { kinds: FLEET_EVENT_KINDS });
  t.diagnostic(describeCount(count));
  const odd = [...count.duplicated, ...count.lost].slice(0, 10);
  if (odd.length > 0) for (const line of await locateIds(config.kafka.topics, odd)) t.diagnostic(line);

  const sentIds = new Set(sent);
  assert.deepEqual(accepted.filter((id) => !sentIds.has(id)).slice(0, 10), [], 'ingest answered with the ids it was given');
  assert.equal(new Set(accepted).size, TOTAL, 'every event accepted (202) once');
  assert.deepEqual(count.lost.slice(0, 20), [], `no event lost (${count.lost.length} of ${TOTAL} missing)`);
  assert.deepEqual(count.duplicated.slice(0, 20), [], `no event enriched twice (${count.duplicated.length} duplicated)`);
  assert.deepEqual(count.unexpected, [], 'no input event that was not sent');
  assert.equal(count.inEnriched, TOTAL);
  assert.ok(watch.readiness.polls >= 10, `/readyz was polled throughout (${watch.readiness.polls} polls)`);
  assert.deepEqual(watch.readiness.processorNotReady.slice(0, 10), [], 'the processor stayed ready throughout');
});
