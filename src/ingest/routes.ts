import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { needs } from '../api/auth.js';
import { HttpError } from '../api/errors.js';
import { ADAPTER_NAMES, adapt, type AdapterName, type AdapterSettings } from './adapters/registry.js';
import { parseBody, parseJsonDocument, type BodyItem } from './body.js';
import { prepareEvents } from './prepare.js';
import type { EventWriter } from './writer.js';

export interface IngestRouteOptions {
  writer: EventWriter;
  adapters: AdapterSettings;
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
  // Bodies arrive as text so that syntax errors get our message, with the NDJSON line.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', ...NDJSON_TYPES], { parseAs: 'string', bodyLimit: options.bodyLimitBytes }, (_request, body, done) =>
    done(null, body),
  );

  app.post('/v1/events', needs('ingest'), async (request, reply) => {
    const ndjson = NDJSON_TYPES.some((type) => (request.headers['content-type'] ?? '').startsWith(type));
    return accept(parseBody(bodyText(request), ndjson ? 'ndjson' : 'json'), request, reply);
  });

  // Attestation services post their own formats; each document becomes trust.change events.
  app.post<{ Params: { name: string } }>('/v1/adapters/:name', needs('ingest'), async (request, reply) => {
    const name = request.params.name as AdapterName;
    if (!ADAPTER_NAMES.includes(name)) throw new HttpError(404, `no adapter ${JSON.stringify(request.params.name)}; there are: ${ADAPTER_NAMES.join(', ')}`);
    const adapted = adapt(name, parseJsonDocument(bodyText(request)), options.adapters);
    return accept(
      adapted.map((value) => ({ value })),
      request,
      reply,
    );
  });

  /** Validates all, produces all, and answers 202 once Kafka has them; 503 when it does not. */
  async function accept(items: readonly BodyItem[], request: FastifyRequest, reply: FastifyReply) {
    if (items.length > options.maxEventsPerRequest) {
      throw new HttpError(413, `a request may carry at most ${options.maxEventsPerRequest} events, this one has ${items.length}`);
    }
    const events = prepareEvents(items);
    try {
      await options.writer.write(events);
    } catch (error) {
      // The writer's health logs the outage once; a line per refused request would flood.
      request.log.debug({ events: events.length, error: (error as Error).message }, 'Kafka did not acknowledge the events');
      throw new HttpError(503, `Kafka did not acknowledge the events: ${(error as Error).message}; retry later`, [], { 'retry-after': '5' });
    }
    request.log.info({ events: events.length, topic: options.writer.topic }, 'events ingested');
    return reply.code(202).send({ accepted: events.length, ids: events.map((event) => event.id) });
  }
}

function bodyText(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}
