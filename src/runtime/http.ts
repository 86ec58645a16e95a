/**
 * The HTTP transport every HTTP-speaking connector shares (the counterpart of OpenTelemetry's
 * confighttp): one client settings block (`tls`, `compression`), one send on node:http /
 * node:https (fetch cannot take a CA of its own), and one sorting of answers into delivered,
 * permanent, throttled and retriable. A connector keeps only what its protocol adds (HEC's
 * codes, ePO's `OK:` bodies).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { z } from 'zod';
import { abortReason, SendError, SinkRefused, type SendResult } from './contract.js';
import type { Scrubber } from './scrub.js';
import { CERTIFICATE_ERRORS, tlsConnectionOptions, tlsSettings, type TlsSettings, type TlsSettingsText } from './tls.js';

const gzipAsync = promisify(gzip);

/** Retry-After in milliseconds: seconds, or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}/.test(text)) return undefined; // an HTTP date starts with the day's name
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `https://siem.example.net/ingest?key=…`: what an error may show of a URL. */
export function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}

export { scrub } from './scrub.js';

/** The reason a request failed (ECONNREFUSED, a TLS error), from the error or its cause; a certificate error names tls.ca. */
export function networkCause(error: unknown): string {
  const own = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const { code, message } = own.code === undefined && own.cause !== undefined ? own.cause : own;
  const why = code !== undefined ? `${code}${message ? ` (${message})` : ''}` : (message ?? String(error));
  return code !== undefined && CERTIFICATE_ERRORS.has(code) ? `${why}: the server's certificate could not be verified; give its CA in tls.ca` : why;
}

// ---- the settings block -------------------------------------------------------------------

/**
 * The HTTP client settings a connector spreads into its options (`...httpClientSettings()`), so
 * every HTTP connector takes them under the same keys: `tls` and `compression`.
 */
export function httpClientSettings(defaults: { compression?: 'none' | 'gzip'; tls?: TlsSettingsText } = {}) {
  return {
    compression: z
      .enum(['none', 'gzip'])
      .default(defaults.compression ?? 'none')
      .describe('gzip compresses each request body (Content-Encoding: gzip)')
      .meta({ examples: [defaults.compression === 'gzip' ? 'none' : 'gzip'] }),
    tls: tlsSettings({ describe: 'TLS settings of every https:// request', ...defaults.tls }),
  };
}

export interface HttpClientOptions {
  tls: TlsSettings;
  compression: 'none' | 'gzip';
  /** Headers of every request (credentials included: never logged, never put in an error). */
  headers?: Readonly<Record<string, string>>;
  /** The connector's credentials (`Scrubber.of(options)`), scrubbed from every answer's body and network cause. */
  scrubber?: Scrubber;
}

/** What a send returns: an answer (its body capped and scrubbed), or why none came. */
export type HttpExchange =
  | { kind: 'answer'; status: number; statusText: string; headers: IncomingHttpHeaders; retryAfter: string | null; body: string; truncated: boolean }
  | { kind: 'network'; reason: string }
  | { kind: 'aborted'; reason: string };

export type HttpAnswer = Extract<HttpExchange, { kind: 'answer' }>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** The full URL (no credentials in it). */
  url: string;
  headers?: Readonly<Record<string, string>>;
  body?: Buffer;
  /** Compress this request's body when the client compresses (default true). */
  compress?: boolean;
  /** How much of the answer's body is read; the rest is discarded (default 64 KiB). */
  maxBodyBytes?: number;
}

const DEFAULT_BODY_BYTES = 64 * 1024;

/**
 * One client: keep-alive connections with the TLS settings, the common headers, the scrubber of
 * the connector's secrets. A redirect is never followed (node:http does not): it would carry the credentials to
 * wherever it points; `classifyStatus` sorts it as permanent.
 */
export class HttpClient {
  readonly #https: HttpsAgent;
  readonly #http = new HttpAgent({ keepAlive: true });
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    this.#options = options;
    // The name checked is the URL's host unless tls.serverName says otherwise.
    this.#https = new HttpsAgent({ keepAlive: true, ...tlsConnectionOptions(options.tls) });
  }

  /** The request's bytes as sent (compressed when the client compresses), for messages that name the size. */
  async encode(body: Buffer, compress = true): Promise<{ body: Buffer; headers: Record<string, string> }> {
    if (this.#options.compression !== 'gzip' || !compress) return { body, headers: {} };
    return { body: await gzipAsync(body), headers: { 'content-encoding': 'gzip' } };
  }

  /** Sends one request; settles as soon as `signal` aborts, never throws. */
  async send(request: HttpRequest, signal: AbortSignal): Promise<HttpExchange> {
    const clean = (text: string) => this.#options.scrubber?.text(text) ?? text;
    let body: Buffer | undefined;
    const headers: Record<string, string> = { ...this.#options.headers, ...request.headers };
    if (request.body !== undefined) {
      const encoded = await this.encode(request.body, request.compress ?? true);
      body = encoded.body;
      Object.assign(headers, encoded.headers, { 'content-length': String(body.length) });
    }
    const limit = request.maxBodyBytes ?? DEFAULT_BODY_BYTES;
    const https = request.url.startsWith('https:');
    return new Promise<HttpExchange>((resolve) => {
      let settled = false;
      const settle = (exchange: HttpExchange) => {
        if (settled) return;
        settled = true;
        resolve(exchange);
      };
      const fail = (error: unknown) =>
        settle(signal.aborted ? { kind: 'aborted', reason: abortReason(signal) } : { kind: 'network', reason: clean(networkCause(error)) });
      if (signal.aborted) return fail(signal.reason);
      const send = https ? httpsRequest : httpRequest;
      const req = send(request.url, { method: request.method, agent: https ? this.#https : this.#http, headers, signal }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answer = (truncated: boolean) => {
          const retryAfter = res.headers['retry-after'];
          settle({
            kind: 'answer',
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: res.headers,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
            body: clean(Buffer.concat(chunks).subarray(0, limit).toString('utf8')),
            truncated,
          });
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          // Capped: what is past the limit is never read (the connection goes, not the memory).
          if (size > limit) {
            answer(true);
            res.destroy();
          }
        });
        res.on('error', fail);
        res.on('end', () => answer(false));
        res.on('close', () => {
          if (!res.complete) fail(new Error('the connection closed before the answer was complete'));
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }
}

// ---- sorting the answers ------------------------------------------------------------------

/**
 * The OpenTelemetry exporters' sorting of answers, for every HTTP connector:
 *
 * | status                | class       | result                                                   |
 * | --------------------- | ----------- | -------------------------------------------------------- |
 * | 2xx                   | ok          | delivered (a protocol may still read the body)           |
 * | 401, 403              | credentials | retried as SinkRefused: a rotated credential must not    |
 * |                       |             | dead-letter the stream; the runner says it once, loudly  |
 * | 429, 503              | throttled   | retried, after Retry-After when given                    |
 * | 408, other 5xx        | retriable   | retried, after Retry-After when given                    |
 * | 413                   | too-large   | permanent for the batch as sent (see below)              |
 * | 3xx                   | redirect    | permanent: a redirect is not followed                    |
 * | 400, 404, other 4xx   | permanent   | permanent                                                |
 *
 * 413 is permanent: the same bytes sent again get the same answer, so retrying the batch as
 * sent only holds the stream. A connector that can split a batch (HEC) sends smaller ones, which
 * are other requests; the others dead-letter it with the hint to lower batch.maxEvents or
 * batch.maxBytes.
 */
export type StatusClass = 'ok' | 'credentials' | 'throttled' | 'retriable' | 'too-large' | 'redirect' | 'permanent';

export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 401 || status === 403) return 'credentials';
  if (status === 429 || status === 503) return 'throttled';
  if (status === 408 || status >= 500) return 'retriable';
  if (status === 413) return 'too-large';
  if (status >= 300 && status < 400) return 'redirect';
  return 'permanent';
}

export interface ResultWording {
  /** `POST https://siem.example.net/hook`: what the messages name. */
  what: string;
  /** The batch as sent, named by a 413. */
  batch?: { events: number; bytes: number };
  /** What a 401 or 403 asks the operator to check (`check auth`). */
  credentials?: string;
}

/** The SendResult of an exchange by `classifyStatus`; `snippet` is what of the body goes into a message. */
export function resultOfExchange(exchange: HttpExchange, wording: ResultWording, now = Date.now()): Exclude<SendResult, { kind: 'partial' }> {
  if (exchange.kind === 'aborted') return { kind: 'retry', error: new SendError(`${wording.what} gave up: ${exchange.reason}`, true) };
  if (exchange.kind === 'network') return { kind: 'retry', error: new SendError(`${wording.what} failed: ${exchange.reason}`, true) };
  return resultOfStatus({ status: exchange.status, statusText: exchange.statusText, retryAfter: exchange.retryAfter, snippet: snippetOf(exchange) }, wording, now);
}

/** The start of an answer's body, on one line; `…` when there was more. */
export function snippetOf(answer: { body: string; truncated: boolean }, maxChars = 512): string {
  const line = answer.body.replace(/\s+/g, ' ').trim();
  return line.length > maxChars || answer.truncated ? `${line.slice(0, maxChars)}…` : line;
}

export function resultOfStatus(
  response: { status: number; statusText?: string; retryAfter: string | null; snippet: string },
  wording: ResultWording,
  now = Date.now(),
): Exclude<SendResult, { kind: 'partial' }> {
  const { status } = response;
  const answered = `${wording.what} answered ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const said = response.snippet === '' ? '' : `: ${response.snippet}`;
  switch (classifyStatus(status)) {
    case 'ok':
      return { kind: 'ok' };
    case 'credentials':
      return { kind: 'retry', error: new SinkRefused(`${answered}: the receiver refused trustwire's credentials; ${wording.credentials ?? 'check auth'}${said}`) };
    case 'throttled':
    case 'retriable': {
      const retryAfterMs = parseRetryAfter(response.retryAfter, now);
      return { kind: 'retry', ...(retryAfterMs !== undefined && { retryAfterMs }), error: new SendError(`${answered}${said}`, true) };
    }
    case 'too-large': {
      if (wording.batch === undefined) return { kind: 'permanent', error: new SendError(`${answered}: the request is too large for the receiver${said}`, false) };
      const { events, bytes } = wording.batch;
      const message = `${answered}: the batch of ${events} events (${bytes} bytes) is too large for the receiver; lower batch.maxEvents or batch.maxBytes`;
      return { kind: 'permanent', error: new SendError(message, false) };
    }
    case 'redirect':
      return { kind: 'permanent', error: new SendError(`${answered}: a redirect is not followed (it would carry the credentials elsewhere); configure the URL it points to`, false) };
    case 'permanent':
      return { kind: 'permanent', error: new SendError(`${answered}${said}`, false) };
  }
}
