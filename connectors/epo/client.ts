/**
 * The requests to an ePO-style server, on the runtime's HTTP client, and how its answers become
 * results.
 *
 * The status is sorted by the runtime (src/runtime/http.ts, classifyStatus); what is ePO's own is
 * the body. ePO's Web API answers in its body, not its status: `OK:` then the result, or `Error N :` then
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
import { SendError, SinkRefused, type SendResult } from '../../src/runtime/contract.js';
import { HttpClient, resultOfStatus, type HttpExchange } from '../../src/runtime/http.js';
import type { Scrubber } from '../../src/runtime/scrub.js';
import type { TlsSettings } from '../../src/runtime/tls.js';

/** One server the connector talks to: where, over which client (connections, credentials). */
export interface EpoServer {
  /** `https://epo.example.net:8443`, no path. */
  origin: string;
  client: HttpClient;
}

export interface ServerSettings {
  origin: string;
  username: string;
  password: string;
  tls: TlsSettings;
  compression: 'none' | 'gzip';
  /** The connector's credentials, scrubbed from what the server sends back. */
  scrubber: Scrubber;
}

export function epoServer(settings: ServerSettings): EpoServer {
  const basic = Buffer.from(`${settings.username}:${settings.password}`).toString('base64');
  const headers = { authorization: `Basic ${basic}`, 'user-agent': 'trustwire', accept: 'text/plain, application/json' };
  return { origin: settings.origin, client: new HttpClient({ tls: settings.tls, compression: settings.compression, headers, scrubber: settings.scrubber }) };
}

/** ePO refused the credentials (401 / 403): held and retried, said once at error level by the runner. */
export class CredentialsRefused extends SinkRefused {
  override name = 'CredentialsRefused';
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

/** One request; settles as soon as `signal` aborts. A failure before an answer names the request, never a credential. */
function exchange(server: EpoServer, request: { method: 'GET' | 'POST'; path: string; body?: Buffer; contentType?: string }, signal: AbortSignal): Promise<HttpExchange> {
  const headers: Record<string, string> = request.body === undefined ? {} : { 'content-type': request.contentType ?? 'application/octet-stream' };
  return server.client.send({ method: request.method, url: server.origin + request.path, headers, ...(request.body !== undefined && { body: request.body }), maxBodyBytes: MAX_BODY_BYTES }, signal);
}

/** The exchange as a result: an answer by `resultOfAnswer`, no answer retried with the request named. */
function epoResult(exchanged: HttpExchange, what: string, context: AnswerContext): Exclude<SendResult, { kind: 'partial' }> {
  if (exchanged.kind === 'answer') return resultOfAnswer(exchanged, context);
  return { kind: 'retry', error: new SendError(`${what} ${exchanged.kind === 'aborted' ? 'gave up' : 'failed'}: ${exchanged.reason}`, true) };
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
 * | 413                                      | permanent: the batch as sent is too large      |
 * | 3xx                                      | permanent: a redirect is not followed          |
 * | 400, 404, 415, other 4xx                 | permanent                                      |
 */
export function resultOfAnswer(answer: Answer, context: AnswerContext, now = Date.now()): Exclude<SendResult, { kind: 'partial' }> {
  const { status } = answer;
  const body = parseWebApiBody(answer.body);
  const snippet = oneLine(answer.body);
  const said = snippet === '' ? '' : `: ${snippet}`;
  if (status >= 200 && status < 300) {
    if (body.kind === 'ok') return { kind: 'ok' };
    if (body.kind === 'error') {
      const error = `${context.what} answered ${status} with Error ${body.code}: ${body.message}`;
      return context.permanentCodes.includes(body.code) ? { kind: 'permanent', error: new SendError(error, false) } : { kind: 'retry', error: new SendError(error, true) };
    }
    return { kind: 'retry', error: new SendError(`${context.what} answered ${status} without "OK:", so it is not taken for success${said}`, true) };
  }
  const answered = `${context.what} answered ${status}`;
  if (status === 401) return { kind: 'retry', error: new CredentialsRefused(`${answered}: the server refused trustwire's credentials; check username and password`) };
  if (status === 403) return { kind: 'retry', error: new CredentialsRefused(`${answered}: the server refused trustwire's user this request; check its permission set`) };
  return resultOfStatus({ status, retryAfter: answer.retryAfter, snippet }, { what: context.what, ...(context.batch !== undefined && { batch: context.batch }) }, now);
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
  const what = `POST ${server.origin}${path}`;
  const answer = await exchange(server, { method: 'POST', path, body, contentType: 'application/xml; charset=utf-8' }, signal);
  return epoResult(answer, what, { what, permanentCodes, batch: { events, bytes: body.length } });
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
  const answer = await exchange(server, { method: 'GET', path }, signal);
  return epoResult(answer, `${step.command} "${step.tag}" on ${system}: GET ${server.origin}/remote/${step.command}`, { what, permanentCodes });
}
