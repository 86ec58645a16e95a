import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { ConformanceHarness, SinkBehaviour } from '../../src/kit/index.js';
import { LoopbackReceiver } from './loopback-server.js';

/** One request the receiver answered (or holds). */
export interface HecRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The body as on the wire (compressed when it was). */
  raw: Buffer;
  /** The body, decompressed. */
  text: string;
  /** The HEC event objects the body held, as far as they parsed. */
  events: Array<Record<string, unknown>>;
  status?: number;
  answer?: unknown;
}

export interface HecReceiverOptions {
  token: string;
  /** Indexer acknowledgment on for the token: a request channel is required, and each accepted request gets an ackId. */
  ack?: boolean;
  /** How long after a request is taken its ackId turns true. */
  ackDelayMs?: number;
  /** HEC's max_content_length: a larger request body (on the wire) is answered 413. */
  maxContentLength?: number;
  /** The indexes the token may write to; absent: any. */
  allowedIndexes?: string[];
}

/** An answer a test puts in place of HEC's own for one POST of events; undefined lets HEC answer. */
export type Intercept = (request: HecRequest, eventRequestNumber: number) => { status: number; body: object | string; headers?: Record<string, string> } | undefined;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Channel {
  nextAckId: number;
  /** ackId → when it turns true (Infinity: never). */
  pending: Map<number, number>;
  /** ackIds already answered true: HEC forgets them; asking again answers false. */
  read: Set<number>;
}

/**
 * A Splunk HTTP Event Collector on 127.0.0.1 that follows the protocol as Splunk documents it:
 * `Authorization: Splunk <token>` (codes 2, 3, 4, 1, and 16 for a token in the query string),
 * HEC event objects concatenated in one body (gzip too), the first bad event answered with its
 * `invalid-event-number` after indexing the ones before it (codes 6, 7, 12, 13, 15; 5 for no
 * data), request channels and per-channel ackIds when acknowledgment is on (10, 11, 14), acks
 * that turn true after a delay and are answered true once, `/services/collector/health`,
 * busy (503, code 9, Retry-After), throttled (429, Retry-After), and 413 for large bodies.
 * It is the conformance kit's harness for the splunk-hec connector.
 */
export class HecReceiver extends LoopbackReceiver implements ConformanceHarness {
  readonly requests: HecRequest[] = [];
  /** Every acknowledgment query: the channel, the ackIds asked for, and the answer. */
  readonly ackQueries: Array<{ channel: string; ackIds: number[]; acks: Record<string, boolean> }> = [];
  /** Queries for an ackId that had already been answered true: a client relying on reading an ack twice. */
  rereads = 0;

  token: string;
  tokenDisabled = false;
  ack: boolean;
  ackDelayMs: number;
  maxContentLength: number;
  allowedIndexes: string[] | undefined;
  /** Busy (503, code 9) while set; health answers 503 too. */
  busy: { retryAfterSeconds?: number } | undefined;
  /** Throttled (429) while set. */
  throttled: { retryAfterSeconds?: number } | undefined;
  /** The next this-many ackIds never turn true (the indexer lost them). */
  loseAcks = 0;
  /** How long an acknowledgment query takes to be answered (its answer is what it was when asked). */
  ackAnswerDelayMs = 0;
  intercept: Intercept | undefined;

  readonly #options: Required<Omit<HecReceiverOptions, 'allowedIndexes'>> & Pick<HecReceiverOptions, 'allowedIndexes'>;
  #eventRequests = 0;
  readonly #channels = new Map<string, Channel>();

  constructor(options: HecReceiverOptions) {
    super();
    this.#options = { ack: false, ackDelayMs: 0, maxContentLength: 1_000_000, ...options };
    this.token = options.token;
    this.ack = this.#options.ack;
    this.ackDelayMs = this.#options.ackDelayMs;
    this.maxContentLength = this.#options.maxContentLength;
    this.allowedIndexes = options.allowedIndexes;
  }

  /** The base URL, as an operator writes it under `urls`. */
  get url(): string {
    return this.origin;
  }

  /** The POSTs to /services/collector/event. */
  get eventRequests(): HecRequest[] {
    return this.requests.filter((request) => request.path === '/services/collector/event');
  }

  protected serve(listener: RequestListener): Server {
    return createServer(listener);
  }

  override reset(): void {
    super.reset();
    this.requests.length = 0;
    this.ackQueries.length = 0;
    this.rereads = 0;
    this.#eventRequests = 0;
    this.#channels.clear();
    this.token = this.#options.token;
    this.tokenDisabled = false;
    this.ack = this.#options.ack;
    this.ackDelayMs = this.#options.ackDelayMs;
    this.maxContentLength = this.#options.maxContentLength;
    this.allowedIndexes = this.#options.allowedIndexes;
    this.busy = undefined;
    this.throttled = undefined;
    this.loseAcks = 0;
    this.ackAnswerDelayMs = 0;
    this.intercept = undefined;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://hec.invalid');
    const request: HecRequest = { method: req.method ?? '', path: url.pathname, headers: req.headers, raw, text: '', events: [] };
    this.requests.push(request);
    const answer = (status: number, body: object | string, headers: Record<string, string> = {}) => {
      request.status = status;
      request.answer = body;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers }).end(text);
    };
    const hec = (status: number, text: string, code: number, extra: object = {}, headers: Record<string, string> = {}) => answer(status, { text, code, ...extra }, headers);

    if (url.pathname === '/services/collector/health' || url.pathname === '/services/collector/health/1.0') {
      if (req.method !== 'GET') return answer(405, 'Method Not Allowed');
      return this.busy !== undefined ? hec(503, 'HEC is unhealthy, queues are full', 18) : hec(200, 'HEC is healthy', 17);
    }
    const endpoint = url.pathname.replace(/\/1\.0$/, '');
    if (endpoint !== '/services/collector/event' && endpoint !== '/services/collector' && endpoint !== '/services/collector/ack') return answer(404, 'Not Found');
    if (req.method !== 'POST') return answer(405, 'Method Not Allowed');
    // The HTTP server refuses an oversized body before HEC looks at it.
    if (raw.length > this.maxContentLength) return answer(413, `Content-Length of ${raw.length} too large (maximum is ${this.maxContentLength})`);
    if (this.throttled !== undefined) return answer(429, { text: 'Too Many Requests' }, retryAfter(this.throttled.retryAfterSeconds));

    if (url.searchParams.has('token')) return hec(400, 'Query string authorization is not enabled', 16);
    const auth = this.#authorize(req.headers.authorization);
    if (auth !== undefined) return hec(auth.status, auth.text, auth.code);
    if (this.busy !== undefined) return hec(503, 'Server is busy', 9, {}, retryAfter(this.busy.retryAfterSeconds));

    const channelId = req.headers['x-splunk-request-channel'] ?? url.searchParams.get('channel') ?? undefined;
    let channel: Channel | undefined;
    if (this.ack) {
      if (channelId === undefined || channelId === '') return hec(400, 'Data channel is missing', 10);
      if (typeof channelId !== 'string' || !GUID.test(channelId)) return hec(400, 'Invalid data channel', 11);
      channel = this.#channel(channelId);
    }

    if (endpoint === '/services/collector/ack') {
      if (!this.ack) return hec(400, 'ACK is disabled', 14);
      const delayMs = this.ackAnswerDelayMs;
      const respond = delayMs === 0 ? answer : (status: number, body: object) => void setTimeout(() => answer(status, body), delayMs);
      return this.#answerAcks(raw.toString('utf8'), channelId as string, channel!, respond, hec);
    }

    let body = raw;
    if (req.headers['content-encoding'] === 'gzip') {
      try {
        body = gunzipSync(raw);
      } catch {
        return hec(400, 'Invalid data format', 6, { 'invalid-event-number': 0 });
      }
    }
    request.text = body.toString('utf8');
    const parsed = parseConcatenated(request.text);
    request.events = parsed.objects;
    const number = this.#eventRequests++;

    const behaviour = this.behaviour;
    if (behaviour.kind === 'hang') return void this.hold(res);
    if (behaviour.kind === 'transient' && this.takeTransient()) {
      return hec(500, 'Internal server error', 8);
    }
    const intercepted = this.intercept?.(request, number);
    if (intercepted !== undefined) return answer(intercepted.status, intercepted.body, intercepted.headers);

    if (parsed.objects.length === 0 && parsed.error === undefined) return hec(400, 'No data', 5);
    // Events are indexed one by one; the first bad one stops the request, those before it stay indexed.
    const taken: string[] = [];
    let refusal: { code: number; text: string; at: number } | undefined;
    for (const [at, event] of parsed.objects.entries()) {
      const problem = this.#problemOf(event, behaviour);
      if (problem !== undefined) {
        refusal = { ...problem, at };
        break;
      }
      taken.push(String((event.event as { id?: unknown } | undefined)?.id ?? ''));
    }
    if (refusal === undefined && parsed.error !== undefined) refusal = { code: 6, text: 'Invalid data format', at: parsed.objects.length };
    this.ids.push(...taken);
    if (refusal !== undefined) return hec(400, refusal.text, refusal.code, { 'invalid-event-number': refusal.at });
    if (channel === undefined) return hec(200, 'Success', 0);
    const ackId = channel.nextAckId++;
    const lost = this.loseAcks > 0;
    if (lost) this.loseAcks--;
    channel.pending.set(ackId, lost ? Infinity : Date.now() + this.ackDelayMs);
    return hec(200, 'Success', 0, { ackId });
  }

  /** Codes 2, 3, 4 and 1, with Splunk's HTTP statuses; undefined when the token is good. */
  #authorize(header: string | undefined): { status: number; text: string; code: number } | undefined {
    if (header === undefined || header === '') return { status: 401, text: 'Token is required', code: 2 };
    let token: string | undefined;
    const [scheme, value] = [header.slice(0, header.indexOf(' ')), header.slice(header.indexOf(' ') + 1).trim()];
    if (header.indexOf(' ') > 0 && scheme === 'Splunk') token = value;
    else if (header.indexOf(' ') > 0 && scheme === 'Basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      if (decoded.includes(':')) token = decoded.slice(decoded.indexOf(':') + 1);
    }
    if (token === undefined || token === '') return { status: 401, text: 'Invalid authorization', code: 3 };
    if (token !== this.token) return { status: 403, text: 'Invalid token', code: 4 };
    if (this.tokenDisabled) return { status: 403, text: 'Token disabled', code: 1 };
    return undefined;
  }

  /** Why HEC would refuse this event object, or undefined. */
  #problemOf(event: Record<string, unknown>, behaviour: SinkBehaviour): { code: number; text: string } | undefined {
    if (!('event' in event)) return { code: 12, text: 'Event field is required' };
    const value = event.event;
    if (value === null || (typeof value === 'string' && value.trim() === '')) return { code: 13, text: 'Event field cannot be blank' };
    if ('time' in event && !isEpoch(event.time)) return { code: 6, text: 'Invalid data format' };
    for (const key of ['host', 'source', 'sourcetype', 'index'] as const) if (key in event && typeof event[key] !== 'string') return { code: 6, text: 'Invalid data format' };
    if ('fields' in event && !indexedFieldsOk(event.fields)) return { code: 15, text: 'Error in handling indexed fields' };
    const index = event.index as string | undefined;
    if (behaviour.kind === 'permanent' || (index !== undefined && this.allowedIndexes !== undefined && !this.allowedIndexes.includes(index))) {
      return { code: 7, text: 'Incorrect index' };
    }
    const id = (value as { id?: unknown } | undefined)?.id;
    if (behaviour.kind === 'reject' && typeof id === 'string' && behaviour.ids.includes(id)) return { code: 6, text: 'Invalid data format' };
    return undefined;
  }

  #channel(id: string): Channel {
    let channel = this.#channels.get(id);
    if (channel === undefined) {
      channel = { nextAckId: 0, pending: new Map(), read: new Set() };
      this.#channels.set(id, channel);
    }
    return channel;
  }

  #answerAcks(text: string, channelId: string, channel: Channel, answer: (status: number, body: object) => void, hec: (status: number, text: string, code: number) => void): void {
    let ackIds: unknown;
    try {
      ackIds = (JSON.parse(text) as { acks?: unknown }).acks;
    } catch {
      return hec(400, 'Invalid data format', 6);
    }
    if (!Array.isArray(ackIds) || !ackIds.every((id) => Number.isInteger(id) && id >= 0)) return hec(400, 'Invalid data format', 6);
    const acks: Record<string, boolean> = {};
    const now = Date.now();
    for (const ackId of ackIds as number[]) {
      if (channel.read.has(ackId)) this.rereads++;
      const readyAt = channel.pending.get(ackId);
      const indexed = readyAt !== undefined && readyAt <= now;
      if (indexed) {
        // Read once: HEC forgets an ackId it answered true.
        channel.pending.delete(ackId);
        channel.read.add(ackId);
      }
      acks[String(ackId)] = indexed;
    }
    this.ackQueries.push({ channel: channelId, ackIds: ackIds as number[], acks });
    answer(200, { acks });
  }
}

function retryAfter(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}

function isEpoch(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0;
  return typeof value === 'string' && /^\d+(\.\d+)?$/.test(value);
}

/** HEC's `fields`: an object whose values are strings or arrays of strings (no numbers, no nesting). */
function indexedFieldsOk(fields: unknown): boolean {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return false;
  return Object.values(fields).every((value) => typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string')));
}

/**
 * JSON objects one after another, whitespace allowed between them, as HEC reads a body. Stops at
 * the first one that does not parse (or is not an object): `error` is set, `objects` holds those before.
 */
export function parseConcatenated(text: string): { objects: Array<Record<string, unknown>>; error?: string } {
  const objects: Array<Record<string, unknown>> = [];
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  for (skipSpace(); at < text.length; skipSpace()) {
    if (text[at] !== '{') return { objects, error: `expected an object at character ${at}` };
    const start = at;
    let depth = 0;
    let inString = false;
    for (; at < text.length; at++) {
      const char = text[at]!;
      if (inString) {
        if (char === '\\') at++;
        else if (char === '"') inString = false;
      } else if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (depth !== 0) return { objects, error: 'unterminated object' };
    at++;
    try {
      const value: unknown = JSON.parse(text.slice(start, at));
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { objects, error: 'not an object' };
      objects.push(value as Record<string, unknown>);
    } catch (error) {
      return { objects, error: (error as Error).message };
    }
  }
  return { objects };
}
