import type { FastifyInstance } from 'fastify';
import { describeDeadLetter, replayDeadLetters, type DeadLetterSettings } from '../runtime/replay.js';
import { DLQ_HEADERS } from '../kafka/dead-letters.js';
import type { KafkaClient } from '../kafka/client.js';
import type { RecordProducer } from '../kafka/producer.js';
import { readRecords } from '../kafka/reader.js';
import type { Logger } from '../log.js';
import { Timestamp } from '../model/primitives.js';
import { needs } from './auth.js';
import { HttpError } from './errors.js';

interface DlqRouteOptions {
  settings: DeadLetterSettings;
  baseDir: string;
  client: KafkaClient;
  producer: RecordProducer;
  logger: Logger;
}

/**
 * The operations of `trustwire dlq` over HTTP, behind the `admin` scope: dead letters hold
 * whole events and their errors, and a replay writes into a SIEM.
 * - `GET /v1/dlq?connector=NAME&since=TIME&limit=N`: what was dead-lettered, why.
 * - `POST /v1/dlq/replay?connector=NAME&since=TIME`: re-drive a connector's dead letters once.
 */
export async function dlqRoutes(app: FastifyInstance, options: DlqRouteOptions): Promise<void> {
  const { settings } = options;
  app.get<{ Querystring: { connector?: string; since?: string; limit?: string } }>('/v1/dlq', needs('admin'), async (request) => {
    const since = sinceOf(request.query.since);
    const limit = request.query.limit === undefined ? 1000 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new HttpError(400, 'invalid query', [{ path: 'limit', message: `must be a whole number from 1 to 100000, got ${JSON.stringify(request.query.limit)}` }]);
    const records = await readRecords(options.client, { topic: settings.topic, limit: Number.MAX_SAFE_INTEGER, idleMs: 1000 });
    const deadLetters = records
      .filter((record) => request.query.connector === undefined || record.headers[DLQ_HEADERS.component] === request.query.connector)
      .map(describeDeadLetter)
      .filter((letter) => since === undefined || Date.parse(letter.time) >= since)
      .slice(-limit);
    return { deadLetters };
  });

  app.post<{ Querystring: { connector?: string; since?: string } }>('/v1/dlq/replay', needs('admin'), async (request) => {
    const { connector } = request.query;
    if (connector === undefined || !settings.connectors.some((c) => c.name === connector)) {
      throw new HttpError(400, 'invalid query', [{ path: 'connector', message: `must name a configured connector (${settings.connectors.map((c) => c.name).join(', ') || 'none configured'}), got ${JSON.stringify(connector)}` }]);
    }
    const since = sinceOf(request.query.since);
    request.log.info({ connector }, 'dead-letter replay requested');
    return replayDeadLetters({ settings, baseDir: options.baseDir, connector, ...(since !== undefined && { since }), client: options.client, producer: options.producer, logger: options.logger });
  });
}

function sinceOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const since = Timestamp.safeParse(/^\d+$/.test(text) ? Number(text) : text);
  if (!since.success) throw new HttpError(400, 'invalid query', [{ path: 'since', message: since.error.issues[0]!.message }]);
  return since.data;
}
