import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../api/errors.js';
import type { Secret } from '../config/secret.js';
import type { CanonicalEvent } from '../model/events.js';
import { parseBody, type BodyItem } from './body.js';
import { prepareEvents } from './prepare.js';
import type { EventWriter } from './writer.js';

export interface IngestToken {
  name: string;
  token: Secret;
}

export interface IngestRouteOptions {
  writer: EventWriter;
  tokens: readonly IngestToken[];
  bodyLimitBytes: number;
  maxEventsPerRequest: number;
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

/**
 * `POST /v1/events`: one event (JSON object), a JSON array, or NDJSON. 202 only after Kafka
 * acknowledged every event; any invalid event refuses the whole request (400, every field
 * error listed) and nothing is produced.
 */
export async function ingestRoutes(app: FastifyInstance, options: IngestRouteOptions): Promise<void> {
  // Authenticate before the body is read: an unauthenticated caller cannot make us parse 1 MiB.
  app.addHook('onRequest', async (request) => {
    const caller = authenticate(request, options.tokens);
    request.log = request.log.child({ caller });
  });

  // Bodies arrive as text so that syntax errors get our message, with the NDJSON line.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', ...NDJSON_TYPES], { parseAs: 'string', bodyLimit: options.bodyLimitBytes }, (_request, body, done) =>
    done(null, body),
  );

  app.post('/v1/events', async (request, reply) => {
    const ndjson = NDJSON_TYPES.some((type) => (request.headers['content-type'] ?? '').startsWith(type));
    const items = parseBody(typeof request.body === 'string' ? request.body : '', ndjson ? 'ndjson' : 'json');
    const events = prepareEvents(limitItems(items, options.maxEventsPerRequest));
    await produce(options.writer, events, request);
    return reply.code(202).send({ accepted: events.length, ids: events.map((event) => event.id) });
  });
}

export function limitItems(items: BodyItem[], max: number): BodyItem[] {
  if (items.length > max) throw new HttpError(413, `a request may carry at most ${max} events, this one has ${items.length}`);
  return items;
}

/** Produces the events; a Kafka failure answers 503 so the caller retries later. */
export async function produce(writer: EventWriter, events: readonly CanonicalEvent[], request: FastifyRequest): Promise<void> {
  try {
    await writer.write(events);
  } catch (error) {
    request.log.error({ err: error, events: events.length }, 'Kafka did not acknowledge the events');
    throw new HttpError(503, `Kafka did not acknowledge the events: ${(error as Error).message}; retry later`, [], { 'retry-after': '5' });
  }
  request.log.info({ events: events.length, topic: writer.topic }, 'events ingested');
}

function authenticate(request: FastifyRequest, tokens: readonly IngestToken[]): string {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const holder = match ? tokens.find(({ token }) => token.equals(match[1]!)) : undefined;
  if (holder === undefined) {
    throw new HttpError(401, header === '' ? 'missing bearer token' : 'invalid bearer token', [], {
      'www-authenticate': 'Bearer realm="trustwire"',
    });
  }
  return holder.name;
}
