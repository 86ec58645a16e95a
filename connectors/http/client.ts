import type { SendResult } from '../../src/runtime/contract.js';
import { resultOfExchange, type HttpClient } from '../../src/runtime/http.js';
import type { EncodedBody } from './encode.js';

/** Where and how requests go; built once by the connector from its options. */
export interface HttpTarget {
  /** The URL requests go to, without credentials. */
  url: string;
  /** The URL as messages show it: no credentials, no query values. */
  shownUrl: string;
  method: 'POST' | 'PUT';
  /** The connections and headers (credentials included). */
  client: HttpClient;
}

/** How much of an error response's body goes into the error message. */
const SNIPPET_BYTES = 512;

/** Sends one request and maps its outcome to a SendResult; settles as soon as `signal` aborts. */
export async function sendRequest(target: HttpTarget, encoded: EncodedBody, events: number, signal: AbortSignal): Promise<SendResult> {
  const { body, headers } = await target.client.encode(encoded.body);
  const exchange = await target.client.send(
    { method: target.method, url: target.url, headers: { ...headers, 'content-type': encoded.contentType }, body, compress: false, maxBodyBytes: SNIPPET_BYTES },
    signal,
  );
  return resultOfExchange(exchange, { what: `${target.method} ${target.shownUrl}`, batch: { events, bytes: body.length } });
}
