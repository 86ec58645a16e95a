/**
 * The I/O to an ePO-style server, on node:https (fetch cannot take a CA of its own in Node 20),
 * and how its answers become results.
 *
 * ePO's Web API answers in its body, not its status: `OK:` then the result, or `Error N :` then
 * a message, often with HTTP 200. Sources:
 * - McAfee's own Python client for the Web API (mcafee.py, © McAfee 2009-2013, kept in
 *   github.com/davidism/mcafee-epo), `parse_response`: "OK:\r\ntrue ----> returns "true"", or
 *   "Error # :\r\nSome error string goes here ----> throws CommandInvokerError(#, ...)"; it
 *   reads code 1 as a command that does not exist.
 * - davidism/mcafee-epo `src/mcafee_epo.py` and UNT-CAS/ePOwerShell `Invoke-ePORequest.ps1`:
 *   with `:output=json`, only a body starting with `OK:` is success, the rest after it is JSON.
 * - Trellix, ePO 5.10 "Web API basics" / "Example task using the web API"
 *   (docs.trellix.com): `curl -u user:password https://epo:8443/remote/<command>`, answered
 *   `OK:` then the result.
 * So a 200 is never success by itself: the body must start with `OK:`.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SendError, type SendResult } from '../../src/runtime/contract.js';
import { parseRetryAfter, scrub } from '../../src/runtime/http.js';

/** One server the connector talks to: where, over which connections, with which credentials. */
export interface EpoServer {
  /** `https://epo.example.net:8443`, no path. */
  origin: string;
  agent: HttpAgent;
  /** Authorization and User-Agent: never logged, never put in an error. */
  headers: Readonly<Record<string, string>>;
  /** Credential values scrubbed from anything the server sends back. */
  secrets: readonly string[];
}

export interface ServerSettings {
  origin: string;
  username: string;
  password: string;
  tls: { ca?: string | Buffer; verify: boolean; minVersion: 'TLSv1.2' | 'TLSv1.3' };
}

export function epoServer(settings: ServerSettings): EpoServer {
  const { tls } = settings;
  const agent = settings.origin.startsWith('https:')
    ? new HttpsAgent({ keepAlive: true, rejectUnauthorized: tls.verify, minVersion: tls.minVersion, ...(tls.ca !== undefined && { ca: tls.ca }) })
    : new HttpAgent({ keepAlive: true });
  const basic = Buffer.from(`${settings.username}:${settings.password}`).toString('base64');
  return { origin: settings.origin, agent, headers: { authorization: `Basic ${basic}`, 'user-agent': 'trustwire' }, secrets: [settings.password, basic] };
}

/** ePO refused the credentials (401 / 403): retried, and logged once at error level by the connector. */
export class CredentialsRefused extends SendError {
  override name = 'CredentialsRefused';
  constructor(message: string) {
    super(message, true);
  }
}

/** What came back: the status, Retry-After, and the start of the body. */
export interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
}

/** How much of an answer is read; an ePO result for a tag command is a number, an events answer a line. */
const MAX_BODY_BYTES = 64 * 1024;
/** How much of an answer goes into an error message. */
const SNIPPET_CHARS = 300;

/** The request failed before an answer came (refused, reset, TLS, aborted). The message names the request, never a credential. */
export class TransportError extends Error {
  override name = 'TransportError';
}

/** One request; settles as soon as `signal` aborts. */
export function exchange(server: EpoServer, request: { method: 'GET' | 'POST'; path: string; body?: Buffer; contentType?: string }, signal: AbortSignal): Promise<Answer> {
  const url = server.origin + request.path;
  const what = `${request.method} ${server.origin}${request.path.split('?')[0]}`;
  return new Promise<Answer>((resolve, reject) => {
    const fail = (error: unknown) => reject(new TransportError(scrub(`${what} ${describeFailure(error, signal)}`, server.secrets), { cause: error }));
    if (signal.aborted) return fail(signal.reason);
    const headers: Record<string, string> = { ...server.headers, accept: 'text/plain, application/json' };
    if (request.body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/octet-stream';
      headers['content-length'] = String(request.body.length);
    }
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: request.method, agent: server.agent, headers, signal }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) return fail(new Error('the connection closed before the answer was complete'));
        const retryAfter = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
          body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8'),
        });
      });
    });
    req.on('error', fail);
    req.end(request.body);
  });
}

const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describeFailure(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return `gave up: ${reason instanceof Error ? reason.message : 'aborted'}`;
  }
  const { code, message } = error as { code?: string; message?: string };
  const why = code !== undefined ? `${code}${message ? ` (${message})` : ''}` : (message ?? String(error));
  const hint = code !== undefined && CERTIFICATE_ERRORS.has(code) ? ": the server's certificate could not be verified; give its CA in tls.ca" : '';
  return `failed: ${why}${hint}`;
}

// ---- answers ------------------------------------------------------------------------------

export type WebApiBody = { kind: 'ok'; result: string } | { kind: 'error'; code: number; message: string } | { kind: 'unrecognized' };

const ERROR_PREFIX = /^Error\s+(\d+)\s*:\s*/;

/** `OK:\r\n<result>` or `Error N :\r\n<message>`, as ePO's Web API answers; anything else is not an ePO answer. */
export function parseWebApiBody(body: string): WebApiBody {
  const text = body.replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('OK:')) return { kind: 'ok', result: text.slice(3).trim() };
  const error = ERROR_PREFIX.exec(text);
  if (error !== null) return { kind: 'error', code: Number(error[1]), message: oneLine(text.slice(error[0].length)) };
  return { kind: 'unrecognized' };
}

export interface AnswerContext {
  /** `POST https://epo:8443/remote/trustwire.events`, or the tag command in words. */
  what: string;
  /** N of `Error N :` that resending cannot fix. */
  permanentCodes: readonly number[];
  /** For the events POST: the batch's size, named by a 413. */
  batch?: { events: number; bytes: number };
  secrets: readonly string[];
}

/**
 * An answer as a result:
 *
 * | answer                                   | result                                         |
 * | ---------------------------------------- | ---------------------------------------------- |
 * | 2xx, body `OK:`                          | ok                                             |
 * | 2xx, body `Error N :`, N permanent       | permanent                                      |
 * | 2xx, body `Error N :`, any other N       | retry                                          |
 * | 2xx, any other body                      | retry (not an ePO answer: a proxy's page?)     |
 * | 401, 403                                 | retry, CredentialsRefused (logged once, loudly) |
 * | 408, 429, 5xx                            | retry, honouring Retry-After                   |
 * | 413                                      | permanent: the batch is too large, not split   |
 * | 3xx                                      | permanent: a redirect is not followed          |
 * | 400, 404, 415, other 4xx                 | permanent                                      |
 */
export function resultOfAnswer(answer: Answer, context: AnswerContext, now = Date.now()): Exclude<SendResult, { kind: 'partial' }> {
  const { status } = answer;
  const body = parseWebApiBody(answer.body);
  const snippet = scrub(oneLine(answer.body), context.secrets);
  const said = snippet === '' ? '' : `: ${snippet}`;
  if (status >= 200 && status < 300) {
    if (body.kind === 'ok') return { kind: 'ok' };
    if (body.kind === 'error') {
      const error = `${context.what} answered ${status} with Error ${body.code}: ${scrub(body.message, context.secrets)}`;
      return context.permanentCodes.includes(body.code) ? { kind: 'permanent', error: new SendError(error, false) } : { kind: 'retry', error: new SendError(error, true) };
    }
    return { kind: 'retry', error: new SendError(`${context.what} answered ${status} without "OK:", so it is not taken for success${said}`, true) };
  }
  const answered = `${context.what} answered ${status}`;
  if (status === 401) return { kind: 'retry', error: new CredentialsRefused(`${answered}: the server refused trustwire's credentials; check username and password`) };
  if (status === 403) return { kind: 'retry', error: new CredentialsRefused(`${answered}: the server refused trustwire's user this request; check its permission set`) };
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, now);
    return { kind: 'retry', ...(retryAfterMs !== undefined && { retryAfterMs }), error: new SendError(`${answered}${said}`, true) };
  }
  if (status === 413 && context.batch !== undefined) {
    const { events, bytes } = context.batch;
    return { kind: 'permanent', error: new SendError(`${answered}: the batch of ${events} events (${bytes} bytes) is too large for the server; lower batch.maxEvents or batch.maxBytes`, false) };
  }
  if (status >= 300 && status < 400) return { kind: 'permanent', error: new SendError(`${answered}: a redirect is not followed (it would carry the credentials elsewhere); configure the URL it points to`, false) };
  return { kind: 'permanent', error: new SendError(`${answered}${said}`, false) };
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > SNIPPET_CHARS ? `${line.slice(0, SNIPPET_CHARS)}…` : line;
}

// ---- the two requests ---------------------------------------------------------------------

/** POSTs one encoded batch; every outcome, a network failure included, is a result. */
export async function postEvents(
  server: EpoServer,
  path: string,
  body: Buffer,
  events: number,
  permanentCodes: readonly number[],
  signal: AbortSignal,
): Promise<Exclude<SendResult, { kind: 'partial' }>> {
  try {
    const answer = await exchange(server, { method: 'POST', path, body, contentType: 'application/xml; charset=utf-8' }, signal);
    return resultOfAnswer(answer, { what: `POST ${server.origin}${path}`, permanentCodes, batch: { events, bytes: body.length }, secrets: server.secrets });
  } catch (error) {
    return { kind: 'retry', error: error instanceof Error ? new SendError(error.message, true, { cause: error }) : new SendError(String(error), true) };
  }
}

/**
 * One Web API tag command, `GET /remote/system.applyTag?names=HOST&tagName=TAG&:output=json`
 * (or clearTag). Its result is the number of systems whose tags changed: 0 when the tag was
 * already so (ePOwerShell's Set-ePOTag reads 0 as "already", 1 as "applied"), which is success
 * too — re-applying after a restart is harmless. `system` goes into `names`, which ePO reads as a
 * comma-separated list: only a name `unaddressableReason` (encode.ts) lets through may come here.
 */
export async function tagCommand(
  server: EpoServer,
  step: { command: 'system.applyTag' | 'system.clearTag'; tag: string },
  system: string,
  permanentCodes: readonly number[],
  signal: AbortSignal,
): Promise<Exclude<SendResult, { kind: 'partial' }>> {
  const path = `/remote/${step.command}?names=${encodeURIComponent(system)}&tagName=${encodeURIComponent(step.tag)}&:output=json`;
  const what = `${step.command} "${step.tag}" on ${system} (GET ${server.origin}/remote/${step.command})`;
  try {
    const answer = await exchange(server, { method: 'GET', path }, signal);
    return resultOfAnswer(answer, { what, permanentCodes, secrets: server.secrets });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'retry', error: new SendError(`${step.command} "${step.tag}" on ${system}: ${message}`, true, { cause: error }) };
  }
}
