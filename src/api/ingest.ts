import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { needs } from './auth.js';
import { HttpError } from './errors.js';
import { quoted } from '../model/validation.js';
import { ADAPTER_NAMES, adapt, type AdapterName, type AdapterSettings } from '../ingest/adapters/registry.js';
import { decodeUtf8, parseBody, parseJsonDocument, type BodyItem } from '../ingest/body.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../ingest/limits.js';
import { prepareEvents } from '../ingest/prepare.js';
import type { EventWriter } from '../ingest/writer.js';

export interface IngestRouteOptions {
  writer: EventWriter;
  adapters: AdapterSettings;
  bodyLimitBytes: number;
  maxEventsPerRequest: number;
  /** Depth, string length and keys per object of a document; DEFAULT_INGEST_LIMITS where absent. */
  limits?: Partial<IngestLimits>;
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];
const UTF8_CHARSETS = ['utf-8', 'utf8'];
const CHARSET_PARAMETER = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/gi;

/**
 * `POST /v1/events`: one event (JSON object), a JSON array, or NDJSON. 202 only after Kafka
 * acknowledged every event; any invalid event refuses the whole request (400, every field
 * error listed) and nothing is produced.
 */
export async function ingestRoutes(app: FastifyInstance, options: IngestRouteOptions): Promise<void> {
  const limits: IngestLimits = { ...DEFAULT_INGEST_LIMITS, ...options.limits };

  // A body in another charset would be read as mojibake: refused before it is read.
  app.addHook('preParsing', async (request) => refuseForeignCharset(request.headers['content-type']));
  // Bodies arrive as bytes: invalid UTF-8 is refused with its offset, not turned into U+FFFD,
  // and syntax errors get our message, with the NDJSON line.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', ...NDJSON_TYPES], { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes }, (_request, body, done) =>
    done(null, body),
  );

  app.post('/v1/events', needs('ingest'), async (request, reply) => {
    const ndjson = NDJSON_TYPES.includes(mediaType(request.headers['content-type']));
    return accept(parseBody(bodyText(request), ndjson ? 'ndjson' : 'json', limits), request, reply);
  });

  // Attestation services post their own formats; each document becomes trust.change events.
  app.post<{ Params: { name: string } }>('/v1/adapters/:name', needs('ingest'), async (request, reply) => {
    const name = request.params.name as AdapterName;
    if (!ADAPTER_NAMES.includes(name)) throw new HttpError(404, `no adapter ${quoted(request.params.name)}; there are: ${ADAPTER_NAMES.join(', ')}`);
    const adapted = adapt(name, parseJsonDocument(bodyText(request), limits), options.adapters, limits);
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

/** `application/x-ndjson; charset=utf-8` → `application/x-ndjson`. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** 415 for a charset other than UTF-8; no charset means UTF-8 (RFC 8259). */
function refuseForeignCharset(contentType: string | undefined): void {
  for (const [, inQuotes, bare] of (contentType ?? '').matchAll(CHARSET_PARAMETER)) {
    const charset = inQuotes ?? bare ?? '';
    if (!UTF8_CHARSETS.includes(charset.toLowerCase())) {
      throw new HttpError(415, `unsupported charset ${quoted(charset)}: send the body as UTF-8 (charset=utf-8, or no charset)`, [
        { path: 'content-type', message: `charset ${quoted(charset)} is not UTF-8` },
      ]);
    }
  }
}

function bodyText(request: FastifyRequest): string {
  return Buffer.isBuffer(request.body) ? decodeUtf8(request.body) : '';
}
