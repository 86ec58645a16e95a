import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Overview } from '../activity/overview.js';
import type { ActivityView, ViewMessage } from '../activity/view.js';
import { needs } from './auth.js';

/** How the stream paces itself and when it gives up on a client. */
export interface StreamLimits {
  /** A `: ping` comment this often, so proxies and the browser see the stream alive. */
  heartbeatMs: number;
  /** The overview at most this often, and only when it changed. */
  overviewMs: number;
  /** A client whose socket buffer stays above this for `stallMs` is disconnected. */
  softBufferBytes: number;
  stallMs: number;
  /** A client whose socket buffer goes above this is disconnected at once: a burst must not grow the heap either. */
  hardBufferBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { heartbeatMs: 15_000, overviewMs: 2000, softBufferBytes: 256 * 1024, stallMs: 10_000, hardBufferBytes: 4 * 1024 * 1024 };

/** The part of a `ServerResponse` a client is written through. */
export interface StreamSink {
  write(chunk: string): boolean;
  readonly writableLength: number;
  readonly destroyed: boolean;
  end(): void;
  destroy(): void;
}

/** One server-sent event. Ids are event ids (UUIDv7 / ULID) and JSON has no raw line break: neither can break the framing. */
export function sseMessage(event: string, id: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface Client {
  sink: StreamSink;
  who: string;
  /** Since when its buffer has been above the soft bound. */
  overSince?: number;
}

/**
 * Every open stream: each event of the activity view is serialized once and written to all of
 * them, the overview computed once per tick for all. A client that does not read is cut off
 * rather than buffered for.
 */
export class StreamHub {
  readonly #clients = new Set<Client>();
  readonly #limits: StreamLimits;
  readonly #subscribe: ActivityView['subscribe'];
  readonly #overview: () => Overview;
  readonly #log: FastifyBaseLogger | undefined;
  #unsubscribe: (() => void) | undefined;
  #timers: NodeJS.Timeout[] = [];
  /** The last overview broadcast, without its time: a tick sends one only when this changed. */
  #lastOverview = '';

  constructor(sources: { subscribe: ActivityView['subscribe']; overview: () => Overview }, limits: Partial<StreamLimits> = {}, log?: FastifyBaseLogger) {
    this.#subscribe = sources.subscribe;
    this.#overview = sources.overview;
    this.#limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
    this.#log = log;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Starts streaming to `sink` with the overview; returns what ends it (idempotent). */
  add(sink: StreamSink, who = 'client', now = Date.now()): () => void {
    const client: Client = { sink, who };
    this.#clients.add(client);
    if (this.#clients.size === 1) this.#start();
    const overview = this.#overview();
    this.#send(client, sseMessage('overview', `overview-${overview.generatedAt}`, overview), now);
    return () => this.#remove(client);
  }

  /** Writes the heartbeat, and cuts off clients that stayed behind. Called by its timer. */
  heartbeat(now = Date.now()): void {
    this.#broadcast(': ping\n\n', now);
  }

  /** Sends the overview when it differs from the last one sent. Called by its timer. */
  refreshOverview(now = Date.now()): void {
    const overview = this.#overview();
    const content = JSON.stringify({ ...overview, generatedAt: 0 });
    if (content === this.#lastOverview) return;
    this.#lastOverview = content;
    this.#broadcast(sseMessage('overview', `overview-${overview.generatedAt}`, overview), now);
  }

  /** Ends every stream (the server is closing: open streams would hold its close forever). */
  close(): void {
    for (const client of [...this.#clients]) {
      this.#remove(client);
      client.sink.end();
    }
  }

  #start(): void {
    this.#unsubscribe = this.#subscribe((message) => this.#broadcast(messageOf(message), Date.now()));
    const every = (ms: number, tick: () => void) => {
      const timer = setInterval(() => {
        try {
          tick();
        } catch (error) {
          this.#log?.warn({ error: (error as Error).message }, 'stream tick failed');
        }
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#limits.heartbeatMs, () => this.heartbeat());
    every(this.#limits.overviewMs, () => this.refreshOverview());
  }

  #remove(client: Client): void {
    if (!this.#clients.delete(client) || this.#clients.size > 0) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#lastOverview = '';
  }

  #broadcast(chunk: string, now: number): void {
    for (const client of [...this.#clients]) this.#send(client, chunk, now);
  }

  #send(client: Client, chunk: string, now: number): void {
    const { sink } = client;
    if (sink.destroyed) return this.#remove(client);
    sink.write(chunk);
    const buffered = sink.writableLength;
    const { softBufferBytes, hardBufferBytes, stallMs } = this.#limits;
    if (buffered <= softBufferBytes && buffered <= hardBufferBytes) {
      delete client.overSince;
      return;
    }
    client.overSince ??= now;
    if (buffered > hardBufferBytes || now - client.overSince >= stallMs) {
      this.#log?.warn({ caller: client.who, bufferedBytes: buffered, behindMs: now - client.overSince }, 'stream client does not keep up: disconnected');
      this.#remove(client);
      sink.destroy();
    }
  }
}

function messageOf(message: ViewMessage): string {
  return sseMessage(message.kind, message.item.id, message.item);
}

/**
 * `GET /v1/stream`: server-sent events of the activity view (activity, alert, trust,
 * compliance) and the overview. The auth hook has run before; the answer is then written by
 * hand, for as long as the client stays.
 */
export async function streamRoutes(app: FastifyInstance, options: { activity: ActivityView; overview: () => Overview; limits?: Partial<StreamLimits> }): Promise<void> {
  const hub = new StreamHub({ subscribe: (listener) => options.activity.subscribe(listener), overview: options.overview }, options.limits, app.log);
  app.addHook('preClose', async () => hub.close());

  app.get('/v1/stream', needs('read'), (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    const end = hub.add(raw, request.caller ?? 'client');
    request.raw.on('close', end);
    raw.on('close', end);
    raw.on('error', end);
  });
}
