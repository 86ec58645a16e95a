import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { redactUrlCredentials } from '../config/redact.js';
import type { Secret } from '../config/secret.js';
import type { HealthSnapshot } from '../kafka/health.js';
import type { Logger } from '../log.js';
import { ValidationError } from '../model/validation.js';
import { installAuth, type ApiToken, type AuthSettings } from './auth.js';
import { HttpError, type ErrorBody } from './errors.js';

export interface ServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  /** Every component's health; /readyz answers 200 only when all of them do their work. */
  readiness: () => Readiness;
  /** Who may call which route; only /healthz and /readyz are open. */
  tokens: readonly ApiToken[];
  rateLimit: AuthSettings['rateLimit'];
  /** How long a request may take to arrive, headers and body. */
  requestTimeoutMs: number;
  /** HTTPS, and client certificates when `clientCa` is set. */
  tls?: { cert: string; key: Secret; clientCa?: string | undefined } | undefined;
}

export interface Readiness {
  ready: boolean;
  components: HealthSnapshot[];
}

/** The one HTTP server: ingest, API, metrics and health all register on it. */
export function createServer(options: ServerOptions): FastifyInstance {
  const { tls } = options;
  // Node checks request deadlines every connectionsCheckingInterval (30 s by default): checked
  // each second, a body that never ends is answered 408 about when its time is up.
  const deadlines = { requestTimeout: options.requestTimeoutMs, headersTimeout: options.requestTimeoutMs, connectionsCheckingInterval: 1000 };
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    ...(tls !== undefined && {
      https: {
        ...deadlines,
        cert: tls.cert,
        key: tls.key.reveal(),
        ...(tls.clientCa !== undefined && { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }),
      },
    }),
    http: deadlines,
    // What Node answers itself (431 headers too large, 408 too slow, 400 unparseable) gets the same shape as the rest.
    clientErrorHandler: answerClientError,
    // One line per ingest request is ours to write (with the caller and count), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  installAuth(app, options.tokens, options.rateLimit);
  // Status answers quote connectors' and brokers' errors: no URL credential leaves in one.
  app.addHook('onSend', async (_request, reply, payload) =>
    typeof payload === 'string' && String(reply.getHeader('content-type') ?? '').startsWith('application/json') ? redactUrlCredentials(payload) : payload,
  );

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const { status, body, headers } = toErrorResponse(error, options.bodyLimitBytes);
    // A 503 is an outage the component's health already logs, once; not a line per request.
    if (status === 503) request.log.debug({ url: request.url, status, error: body.error }, 'request refused');
    else if (status >= 500) request.log.error({ err: error, url: request.url }, body.error);
    else request.log.info({ url: request.url, status, error: body.error }, 'request refused');
    void reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url}`, details: [] } satisfies ErrorBody);
  });

  // Alive: the process answers. The components are listed for a person, not judged.
  app.get('/healthz', async () => ({ status: 'ok', components: options.readiness().components }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, components } = options.readiness();
    if (ready) return { status: 'ready', components };
    const failing = components.filter((c) => !c.ready);
    return reply.code(503).send({
      status: 'not ready',
      error: `not ready: ${failing.map((c) => `${c.component} ${c.state}${c.cause !== undefined ? ` (${c.cause})` : ''}`).join('; ')}`,
      details: [],
      components,
    });
  });
  return app;
}

/** Errors before a request reaches a route: written raw, in the `{error, details[]}` shape, then the socket closes. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'request headers are too large' : status === 408 ? 'the request did not arrive in time' : `unreadable request: ${error.code ?? 'malformed HTTP'}`;
  const body = JSON.stringify({ error: message, details: [] } satisfies ErrorBody);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function toErrorResponse(error: FastifyError | Error, bodyLimit: number): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.statusCode, body: { error: error.message, details: error.details }, headers: error.headers };
  if (error instanceof ValidationError) return { status: 400, body: { error: error.summary, details: error.details }, headers: {} };
  const code = (error as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: `request body is larger than ${bodyLimit} bytes`, details: [] }, headers: {} };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 415 : 400,
        body: { error: error.message, details: [] },
        headers: {},
      };
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, body: { error: error.message, details: [] }, headers: {} };
  return { status: 500, body: { error: 'internal error', details: [] }, headers: {} };
}
