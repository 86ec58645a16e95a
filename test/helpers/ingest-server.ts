import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { apiToken, SCOPES } from '../../src/api/auth.js';
import { createServer } from '../../src/api/server.js';
import { Secret } from '../../src/config/secret.js';
import type { OutgoingRecord, RecordMetadata, RecordProducer } from '../../src/kafka/producer.js';
import { silentLogger } from '../../src/log.js';
import { ingestRoutes } from '../../src/api/ingest.js';
import { EventWriter } from '../../src/ingest/writer.js';
import { decodeEvent } from '../../src/model/avro.js';
import { CanonicalEvent } from '../../src/model/events.js';
import { MAX_FIELD_ERRORS } from '../../src/model/validation.js';

/** The token every request of these tests carries (all scopes). */
export const FUZZ_TOKEN = 'fuzz-token-3b7e';

/** A producer that keeps what it was given: what a request produced is `sent` after it (postAndCheck takes it out again). */
export class RecordingProducer implements RecordProducer {
  readonly sent: OutgoingRecord[] = [];
  async send(_topic: string, records: readonly OutgoingRecord[]): Promise<RecordMetadata[]> {
    this.sent.push(...records);
    return [];
  }
  async check(): Promise<void> {}
  async disconnect(): Promise<void> {}
}

export interface IngestServer {
  app: FastifyInstance;
  producer: RecordingProducer;
  close(): Promise<void>;
}

/**
 * The ingest routes on the real server (auth, error shape, parsers, adapters), Kafka replaced
 * by a recording producer: for the fuzzers, the limit tests and the simulation's test.
 */
export async function ingestServer(options: { bodyLimitBytes?: number; maxEventsPerRequest?: number } = {}): Promise<IngestServer> {
  const bodyLimitBytes = options.bodyLimitBytes ?? 1024 * 1024;
  const producer = new RecordingProducer();
  const writer = new EventWriter(producer, 'trustwire.events', silentLogger);
  const app = createServer({
    logger: silentLogger,
    bodyLimitBytes,
    readiness: () => ({ ready: true, components: [] }),
    tokens: [apiToken('fuzzer', SCOPES, { token: new Secret(FUZZ_TOKEN, 'inline') })],
    // The fuzzers send thousands of requests a second with one token.
    rateLimit: { requestsPerSecond: 1e9, burst: 1e9 },
    requestTimeoutMs: 30_000,
  });
  await app.register(ingestRoutes, { writer, adapters: {}, bodyLimitBytes, maxEventsPerRequest: options.maxEventsPerRequest ?? 1000 });
  await app.ready();
  return {
    app,
    producer,
    async close() {
      writer.close();
      await app.close();
    },
  };
}

/** `app.inject` of a POST with the fuzz token. */
export function post(app: FastifyInstance, url: string, body: string | Buffer, contentType = 'application/json') {
  return app.inject({ method: 'POST', url, payload: body, headers: { authorization: `Bearer ${FUZZ_TOKEN}`, 'content-type': contentType } });
}

/** What an answer may weigh: the first 100 problems and a count of the rest fit well under it. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** Longer than any request should take here, short of the test's own timeout: a hang. */
const MAX_ANSWER_MS = 5_000;

/**
 * POSTs and checks what every answer must be: no 5xx, under MAX_ANSWER_BYTES, quick; a 202
 * produced exactly the events it lists (each decodable, keyed by its host id, within the
 * contract), anything else produced nothing and has the `{error, details[]}` shape.
 */
export async function postAndCheck(server: IngestServer, url: string, body: string | Buffer, contentType: string): Promise<number> {
  const before = server.producer.sent.length;
  const started = performance.now();
  const response = await post(server.app, url, body, contentType);
  const took = performance.now() - started;
  assert.ok(response.statusCode < 500, `answered ${response.statusCode}: ${response.body.slice(0, 500)}`);
  assert.ok(took < MAX_ANSWER_MS, `took ${Math.round(took)} ms`);
  assert.ok(response.rawPayload.length <= MAX_ANSWER_BYTES, `answered ${response.rawPayload.length} bytes`);
  const answer = response.json() as { accepted?: number; ids?: string[]; error?: unknown; details?: unknown };
  const produced = server.producer.sent.splice(before);
  if (response.statusCode === 202) {
    assert.ok(answer.accepted! >= 1, 'a 202 for no event');
    assert.equal(answer.ids!.length, answer.accepted);
    assert.equal(produced.length, answer.accepted, 'produced what it accepted');
    produced.forEach((record, i) => {
      const event = decodeEvent(record.value as Buffer);
      assert.equal(event.id, answer.ids![i]);
      assert.equal(record.key, event.host.id);
      const contract = CanonicalEvent.safeParse(event);
      assert.ok(contract.success, `produced an event outside the contract: ${JSON.stringify(contract.error?.issues.slice(0, 3))}`);
    });
  } else {
    assert.equal(produced.length, 0, `a ${response.statusCode} produced ${produced.length} events`);
    assert.equal(typeof answer.error, 'string', response.body.slice(0, 500));
    assert.ok(Array.isArray(answer.details), response.body.slice(0, 500));
    const details = answer.details as unknown[];
    assert.ok(details.length <= MAX_FIELD_ERRORS + 1, `${details.length} details`);
    for (const detail of details as Array<{ path?: unknown; message?: unknown }>) {
      assert.equal(typeof detail.path, 'string');
      assert.equal(typeof detail.message, 'string');
    }
  }
  return response.statusCode;
}
