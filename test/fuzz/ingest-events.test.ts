import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { describeRequest, fuzz, FUZZ_RUNS, FUZZ_TIMEOUT_MS, mutatedJson, requestOf, type FuzzRequest, type Random } from '../helpers/fuzz.js';
import { ingestServer, postAndCheck, type IngestServer } from '../helpers/ingest-server.js';
import { ingestFixture } from '../helpers/fixtures.js';
import { INGESTIBLE_TYPES, EVENT_TYPES } from '../../src/model/events.js';

const EXAMPLES = new URL('../../examples/', import.meta.url);
const FIXTURE_EVENTS = new URL('../../src/kit/events/', import.meta.url);
const readJson = (dir: URL) => readdirSync(dir).filter((name) => name.endsWith('.json')).map((name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as unknown);

/** Valid events as reporters send them, and the fixtures as they are (derived kinds, enrichment: refused). */
const SEEDS: unknown[] = [
  ...INGESTIBLE_TYPES.map(ingestFixture),
  ...INGESTIBLE_TYPES.map(ingestFixture),
  ...readJson(EXAMPLES).filter((example) => (EVENT_TYPES as readonly unknown[]).includes((example as { type?: unknown }).type)),
  ...readJson(FIXTURE_EVENTS),
];

let server: IngestServer;
before(async () => {
  server = await ingestServer({ bodyLimitBytes: 1024 * 1024, maxEventsPerRequest: 1000 });
});
after(() => server.close());

function request(random: Random): FuzzRequest {
  const events = () => Array.from({ length: 1 + random.int(random.chance(0.2) ? 20 : 4) }, () => mutatedJson(random.pick(SEEDS), random));
  if (random.chance(0.01)) {
    // Just past maxEventsPerRequest: 413, nothing produced.
    const mutated = mutatedJson(random.pick(SEEDS), random);
    const event = mutated.length < 4096 ? mutated : JSON.stringify(random.pick(SEEDS));
    return requestOf(`[${Array.from({ length: 1001 }, () => event).join(',')}]`, random);
  }
  switch (random.int(3)) {
    case 0:
      return requestOf(mutatedJson(random.pick(SEEDS), random), random);
    case 1:
      return requestOf(`[${events().join(',')}]`, random);
    default: {
      const lines = events();
      // Blank lines, CRLF, and now and then a line that is no JSON at all.
      if (random.chance(0.3)) lines.splice(random.int(lines.length + 1), 0, random.pick(['', '   ', '{', 'null', '[]', '"x"', '\u0000', '}{']));
      return requestOf(lines.join(random.chance(0.8) ? '\n' : '\r\n'), random, true);
    }
  }
}

test(`POST /v1/events: ${FUZZ_RUNS} mutated bodies, no 5xx, small answers, nothing produced when refused`, { timeout: FUZZ_TIMEOUT_MS }, async () => {
  const statuses = new Map<number, number>();
  await fuzz('ingest', request, async ({ body, contentType }) => {
    const status = await postAndCheck(server, '/v1/events', body, contentType);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }, describeRequest);
  // The mutations reach both sides: some bodies are taken, most refused for a reason.
  process.stderr.write(`ingest fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
});
