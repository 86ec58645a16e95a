import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { SendError, type SendResult } from '../../src/runtime/contract.js';
import { abortReason, networkCause, parseRetryAfter, scrub, shownUrl } from '../../src/runtime/http.js';
import type { EncodedBody } from './encode.js';

const gzipAsync = promisify(gzip);

/** Where and how requests go; built once by the connector from its options. */
export interface HttpTarget {
  /** The URL requests go to, without credentials. */
  url: string;
  /** The URL as messages show it: no credentials, no query values. */
  shownUrl: string;
  method: 'POST' | 'PUT';
  /** Every request header, credentials included: never logged, never put in an error. */
  headers: Record<string, string>;
  compression: 'none' | 'gzip';
  /** Credential values scrubbed from anything the receiver sends back (a receiver may echo headers). */
  secrets: readonly string[];
}

/** How much of an error response's body goes into the error message. */
const SNIPPET_BYTES = 512;

/** Sends one request and maps its outcome to a SendResult; settles as soon as `signal` aborts. */
export async function sendRequest(target: HttpTarget, encoded: EncodedBody, events: number, signal: AbortSignal): Promise<SendResult> {
  const what = `${target.method} ${target.shownUrl}`;
  let response: Response;
  let bytes = encoded.body.length;
  try {
    const headers: Record<string, string> = { ...target.headers, 'content-type': encoded.contentType };
    let body = encoded.body;
    if (target.compression === 'gzip') {
      body = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
      bytes = body.length;
    }
    // A redirect is not followed: it would resend the credentials to wherever it points.
    // Buffers made by Buffer.from and zlib sit on a plain ArrayBuffer, which is what fetch's types ask for.
    response = await fetch(target.url, { method: target.method, headers, body: body as Uint8Array<ArrayBuffer>, redirect: 'manual', signal });
  } catch (error) {
    if (signal.aborted) return { kind: 'retry', error: new SendError(`${what} gave up: ${abortReason(signal)}`, true) };
    const message = scrub(`${what} failed: ${networkCause(error)}`, target.secrets);
    return { kind: 'retry', error: new SendError(message, true, { cause: error }) };
  }
  try {
    const snippet = response.ok ? (await drain(response), '') : scrub(await readSnippet(response), target.secrets);
    return resultOfResponse(
      { status: response.status, statusText: response.statusText, retryAfter: response.headers.get('retry-after'), snippet },
      { what, events, bytes },
    );
  } catch (error) {
    if (signal.aborted) return { kind: 'retry', error: new SendError(`${what} gave up: ${abortReason(signal)}`, true) };
    return { kind: 'retry', error: new SendError(scrub(`${what}: reading the response failed: ${networkCause(error)}`, target.secrets), true) };
  }
}

export interface ResponseSummary {
  status: number;
  statusText: string;
  retryAfter: string | null;
  /** The start of the body, already scrubbed of credentials. */
  snippet: string;
}

/**
 * The OpenTelemetry exporters' sorting of answers: 2xx delivered; 400, 404, 413 and the other
 * 4xx rejected for good; 408, 429 and 5xx retried, honouring Retry-After; 401 and 403 retried
 * too (a credential being rotated must not dead-letter the stream); a redirect is refused.
 */
export function resultOfResponse(response: ResponseSummary, request: { what: string; events: number; bytes: number }, now = Date.now()): SendResult {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const answered = `${request.what} answered ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const said = response.snippet === '' ? '' : `: ${response.snippet}`;
  if (status === 413) {
    return {
      kind: 'permanent',
      error: new SendError(
        `${answered}: the batch of ${request.events} events (${request.bytes} bytes) is too large for the receiver; lower batch.maxEvents or batch.maxBytes`,
        false,
      ),
    };
  }
  if (status === 401 || status === 403) {
    return { kind: 'retry', error: new SendError(`${answered}: the receiver refused trustwire's credentials; check auth${said}`, true) };
  }
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.retryAfter, now);
    return { kind: 'retry', ...(retryAfterMs !== undefined && { retryAfterMs }), error: new SendError(`${answered}${said}`, true) };
  }
  if (status >= 300 && status < 400) {
    return { kind: 'permanent', error: new SendError(`${answered}: a redirect is not followed; configure the URL it points to`, false) };
  }
  return { kind: 'permanent', error: new SendError(`${answered}${said}`, false) };
}

async function drain(response: Response): Promise<void> {
  await response.arrayBuffer();
}

/** The first bytes of an error response's body, on one line; the rest is discarded. */
async function readSnippet(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < SNIPPET_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  if (size >= SNIPPET_BYTES) await reader.cancel().catch(() => {});
  const text = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  return size > SNIPPET_BYTES ? `${text}…` : text;
}
