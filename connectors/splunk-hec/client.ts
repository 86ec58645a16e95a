/**
 * The I/O with one HEC endpoint — posting events, asking for acknowledgments, the health check —
 * and the sorting of HEC's answers by its published status codes:
 *
 *   code  HTTP  text                                        sorted as
 *   0     200   Success                                     accepted (with ackId when acks are on)
 *   1     403   Token disabled                              token   (hold the stream, say it once)
 *   2     401   Token is required                           token
 *   3     401   Invalid authorization                       token
 *   4     403   Invalid token                               token
 *   5     400   No data                                     rejected (for good)
 *   6     400   Invalid data format                         rejected, or invalid-event with invalid-event-number
 *   7     400   Incorrect index                             rejected / invalid-event
 *   8     500   Internal server error                       server  (retry)
 *   9     503   Server is busy                              busy    (retry, Retry-After)
 *   10    400   Data channel is missing                     setup   (hold the stream, say it once)
 *   11    400   Invalid data channel                        setup
 *   12    400   Event field is required                     rejected / invalid-event
 *   13    400   Event field cannot be blank                 rejected / invalid-event
 *   14    400   ACK is disabled                             setup
 *   15    400   Error in handling indexed fields            rejected / invalid-event
 *   16    400   Query string authorization is not enabled   token
 *   17    200   HEC is healthy                              (health check)
 *
 * plus what the runtime's sorting of statuses says (src/runtime/http.ts, classifyStatus): 413
 * (permanent for the body as sent, over HEC's max_content_length: the sink splits it), 429
 * (throttled: retry, Retry-After), any other 5xx and network failures (retry); 404 and 3xx are
 * setup here (a URL that is not an HEC holds the stream rather than dead-lettering it).
 */
import { classifyStatus, HttpClient, parseRetryAfter } from '../../src/runtime/http.js';
import type { Scrubber } from '../../src/runtime/scrub.js';
import type { TlsSettings } from '../../src/runtime/tls.js';
import { TrustwireError } from '../../src/errors.js';

/** What one answer of HEC to a POST of events means. */
export type HecAnswer =
  | { kind: 'accepted'; ackId?: number }
  /** Events before `at` were indexed; event `at` was refused for good; the ones after it were not read. */
  | { kind: 'invalid-event'; at: number; code: number; reason: string }
  /** Every event of the request refused for good. */
  | { kind: 'rejected'; code?: number; reason: string }
  /** HTTP 413: the body is too large; smaller ones may go. */
  | { kind: 'too-large'; reason: string }
  /** The token was refused: nothing to do but wait for an operator. */
  | { kind: 'token'; code?: number; reason: string }
  /** The request channel or acknowledgment setup was refused, or the URL is not an HEC: the same. */
  | { kind: 'setup'; code?: number; reason: string }
  /** 503, code 9 or 429: come back later, after Retry-After when given. */
  | { kind: 'busy'; reason: string; retryAfterMs?: number }
  /** A server error (5xx, 408): try again, elsewhere if possible. */
  | { kind: 'server'; reason: string }
  /** No answer: connection refused or reset, DNS, TLS. The same. */
  | { kind: 'network'; reason: string }
  /** The signal aborted the request. */
  | { kind: 'aborted'; reason: string };

export interface HecResponse {
  status: number;
  statusText: string;
  retryAfter: string | null;
  /** The body's start, already scrubbed of the token. */
  body: string;
}

const TOKEN_CODES = new Set([1, 2, 3, 4, 16]);
const SETUP_CODES = new Set([10, 11, 14]);
const EVENT_CODES = new Set([5, 6, 7, 12, 13, 15]);

/** Sorts one HEC answer to a POST of events (see the table above). */
export function answerOf(response: HecResponse, now = Date.now()): HecAnswer {
  const { status } = response;
  const parsed = parseHecBody(response.body);
  const code = parsed?.code;
  const said = describe(response, parsed);
  const sorted = classifyStatus(status);
  if (sorted === 'ok') return parsed?.ackId === undefined ? { kind: 'accepted' } : { kind: 'accepted', ackId: parsed.ackId };
  if (sorted === 'too-large') return { kind: 'too-large', reason: said };
  if (sorted === 'throttled' || code === 9) {
    const retryAfterMs = parseRetryAfter(response.retryAfter, now);
    return retryAfterMs === undefined ? { kind: 'busy', reason: said } : { kind: 'busy', reason: said, retryAfterMs };
  }
  if ((code !== undefined && TOKEN_CODES.has(code)) || sorted === 'credentials') return code === undefined ? { kind: 'token', reason: said } : { kind: 'token', code, reason: said };
  if ((code !== undefined && SETUP_CODES.has(code)) || status === 404 || sorted === 'redirect') {
    const reason = sorted === 'redirect' ? `${said}: a redirect is not followed (it would carry the token elsewhere); configure the URL it points to` : said;
    return code === undefined ? { kind: 'setup', reason } : { kind: 'setup', code, reason };
  }
  if (code !== undefined && EVENT_CODES.has(code)) {
    const at = parsed?.invalidEventNumber;
    return at === undefined ? { kind: 'rejected', code, reason: said } : { kind: 'invalid-event', at, code, reason: said };
  }
  if (sorted === 'retriable') return { kind: 'server', reason: said };
  return code === undefined ? { kind: 'rejected', reason: said } : { kind: 'rejected', code, reason: said };
}

interface HecBody {
  text?: string;
  code?: number;
  ackId?: number;
  invalidEventNumber?: number;
}

/** HEC's answer body `{"text","code","ackId"?,"invalid-event-number"?}`, or undefined when it is not one. */
export function parseHecBody(body: string): HecBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const integer = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const out: HecBody = {};
  if (typeof record.text === 'string') out.text = record.text;
  if (integer(record.code) !== undefined) out.code = integer(record.code)!;
  if (integer(record.ackId) !== undefined) out.ackId = integer(record.ackId)!;
  if (integer(record['invalid-event-number']) !== undefined) out.invalidEventNumber = integer(record['invalid-event-number'])!;
  return out;
}

/** `503 Server is busy (code 9)`: the status, then HEC's text and code, or the body's start. */
function describe(response: HecResponse, parsed: HecBody | undefined): string {
  const head = `${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
  if (parsed?.text !== undefined) return `${head}: ${parsed.text}${parsed.code === undefined ? '' : ` (code ${parsed.code})`}`;
  const snippet = response.body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return snippet === '' ? head : `${head}: ${snippet}`;
}

/** A failed acknowledgment query or health check: the message names the endpoint and HEC's answer, never the token. */
export class HecRequestError extends TrustwireError {
  override name = 'HecRequestError';
  constructor(
    message: string,
    readonly answer: HecAnswer,
  ) {
    super(message, { retriable: answer.kind !== 'rejected' && answer.kind !== 'invalid-event' && answer.kind !== 'too-large' });
  }
}

export interface EndpointSettings {
  /** The base URL (no /services/collector, no credentials, no query). */
  base: string;
  /** Every header of a request to HEC, the token's included: never logged, never in an error. */
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  tls: TlsSettings;
  /** The connector's credentials, scrubbed from what HEC sends back. */
  scrubber: Scrubber;
}

/** How much of a response body is read: HEC's answers are a few dozen bytes. */
const BODY_BYTES = 2048;

/** One HEC endpoint: its three requests, each settling as soon as its signal aborts. */
export class HecEndpoint {
  /** What messages show of the endpoint: its base URL (it never holds credentials). */
  readonly shown: string;
  readonly #client: HttpClient;

  constructor(private readonly settings: EndpointSettings) {
    this.shown = settings.base;
    this.#client = new HttpClient({ tls: settings.tls, compression: settings.compression, scrubber: settings.scrubber });
  }

  /** POSTs events (HEC event objects, concatenated) to /services/collector/event. */
  async postEvents(body: Buffer, signal: AbortSignal): Promise<HecAnswer> {
    const headers = { ...this.settings.headers, 'content-type': 'application/json' };
    const response = await this.#request('POST', '/services/collector/event', headers, body, signal, true);
    return 'kind' in response ? response : answerOf(response);
  }

  /**
   * Asks which of `ackIds` are indexed: `{"acks":[1,2]}` → `{"acks":{"1":true,"2":false}}`. HEC
   * answers true once per ackId and forgets it, so the caller must act on every true it gets.
   */
  async queryAcks(ackIds: readonly number[], signal: AbortSignal): Promise<Map<number, boolean>> {
    const headers = { ...this.settings.headers, 'content-type': 'application/json' };
    const response = await this.#request('POST', '/services/collector/ack', headers, Buffer.from(JSON.stringify({ acks: ackIds })), signal, false);
    const what = `POST ${this.shown}/services/collector/ack`;
    if ('kind' in response) throw new HecRequestError(`${what} ${response.kind === 'aborted' ? 'gave up' : 'failed'}: ${response.reason}`, response);
    if (response.status !== 200) {
      const answer = answerOf(response);
      throw new HecRequestError(`${what} answered ${'reason' in answer ? answer.reason : response.status}`, answer);
    }
    let acks: unknown;
    try {
      acks = (JSON.parse(response.body) as { acks?: unknown }).acks;
    } catch {
      acks = undefined;
    }
    if (typeof acks !== 'object' || acks === null) throw new HecRequestError(`${what} answered 200 without an acks object`, { kind: 'server', reason: 'no acks object' });
    const out = new Map<number, boolean>();
    for (const [id, value] of Object.entries(acks)) if (/^\d+$/.test(id)) out.set(Number(id), value === true);
    return out;
  }

  /** GET /services/collector/health (no token needed): 200 `HEC is healthy` (code 17), else why not. */
  async health(signal: AbortSignal): Promise<{ healthy: true } | { healthy: false; reason: string }> {
    const response = await this.#request('GET', '/services/collector/health', { 'user-agent': 'trustwire' }, undefined, signal, false);
    if ('kind' in response) return { healthy: false, reason: `${response.kind === 'aborted' ? 'gave up' : 'failed'}: ${response.reason}` };
    if (response.status === 200) return { healthy: true };
    return { healthy: false, reason: describe(response, parseHecBody(response.body)) };
  }

  /** Closes the endpoint's kept-alive connections. */
  close(): void {
    this.#client.close();
  }

  async #request(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: AbortSignal,
    compress: boolean,
  ): Promise<HecResponse | Extract<HecAnswer, { kind: 'network' | 'aborted' }>> {
    const exchange = await this.#client.send({ method, url: `${this.settings.base}${path}`, headers, ...(body !== undefined && { body }), compress, maxBodyBytes: BODY_BYTES }, signal);
    if (exchange.kind !== 'answer') return exchange;
    return { status: exchange.status, statusText: exchange.statusText, retryAfter: exchange.retryAfter, body: exchange.body };
  }
}
