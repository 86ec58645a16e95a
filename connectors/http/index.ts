import { defineConnector, type SinkConnector } from '../../src/runtime/contract.js';
import { shownUrl } from '../../src/runtime/http.js';
import { sendRequest, type HttpTarget } from './client.js';
import { HttpOptions } from './config.js';
import { encodeBody } from './encode.js';
import { isCredentialParameter } from '../../src/config/redact.js';

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
      async stop() {},
    };
  },
});

/** The request target: credentials out of the URL into a header, and every credential value listed for scrubbing. */
function targetOf(options: HttpOptions): HttpTarget {
  const url = new URL(options.url);
  const headers: Record<string, string> = { 'user-agent': 'trustwire', ...options.headers };
  const secrets: string[] = [];
  const basic = (user: string, password: string) => {
    const encoded = Buffer.from(`${user}:${password}`).toString('base64');
    headers.authorization = `Basic ${encoded}`;
    secrets.push(password, encoded);
  };
  if (url.username !== '' || url.password !== '') {
    basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
    url.username = '';
    url.password = '';
  }
  // A key in the query (`?apikey=`) is a credential too: a receiver that echoes its URL must not show it.
  for (const [name, value] of url.searchParams) if (value !== '' && isCredentialParameter(name)) secrets.push(value, encodeURIComponent(value));
  const { auth } = options;
  if (auth.type === 'bearer') {
    headers.authorization = `Bearer ${auth.token.reveal()}`;
    secrets.push(auth.token.reveal());
  } else if (auth.type === 'basic') {
    basic(auth.username, auth.password.reveal());
  } else if (auth.type === 'header') {
    headers[auth.name.toLowerCase()] = auth.value.reveal();
    secrets.push(auth.value.reveal());
  }
  return { url: url.href, shownUrl: shownUrl(url), method: options.method, headers, compression: options.compression, secrets };
}
