import { defineConnector, type SinkConnector } from '../../src/runtime/contract.js';
import { HttpClient, shownUrl } from '../../src/runtime/http.js';
import { Scrubber } from '../../src/runtime/scrub.js';
import { sendRequest, type HttpTarget } from './client.js';
import { HttpOptions } from './config.js';
import { encodeBody } from './encode.js';

export default defineConnector({
  type: 'http',
  summary: 'POSTs each batch as JSON or NDJSON to a webhook',
  configSchema: HttpOptions,
  create: (options): SinkConnector => {
    const target = targetOf(options);
    return {
      async start(ctx) {
        // No request at start: a receiver that is down now is the retry loop's business, not a reason to refuse.
        ctx.logger.info({ url: target.shownUrl, format: options.format, auth: options.auth.type }, 'http sink ready');
      },
      send: (batch, signal) => sendRequest(target, encodeBody(batch, options.format), batch.length, signal),
      async stop() {
        target.client.close();
      },
    };
  },
});

/** The request target: credentials out of the URL into a header (the runner keeps them out of what it writes). */
function targetOf(options: HttpOptions): HttpTarget {
  const url = new URL(options.url);
  const headers: Record<string, string> = { 'user-agent': 'trustwire', ...options.headers };
  const basic = (user: string, password: string) => {
    const encoded = Buffer.from(`${user}:${password}`).toString('base64');
    headers.authorization = `Basic ${encoded}`;
  };
  if (url.username !== '' || url.password !== '') {
    basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
    url.username = '';
    url.password = '';
  }
  const { auth } = options;
  if (auth.type === 'bearer') {
    headers.authorization = `Bearer ${auth.token.reveal()}`;
  } else if (auth.type === 'basic') {
    basic(auth.username, auth.password.reveal());
  } else if (auth.type === 'header') {
    headers[auth.name.toLowerCase()] = auth.value.reveal();
  }
  const client = new HttpClient({ tls: options.tls, compression: options.compression, headers, scrubber: Scrubber.of(options) });
  return { url: url.href, shownUrl: shownUrl(url), method: options.method, client };
}
