import { z } from 'zod';
import { secretOption } from '../../src/config/secret.js';
import { httpClientSettings } from '../../src/runtime/http.js';

/** Header names the connector sets itself, or that carry credentials (those go under `auth`). */
const RESERVED_HEADERS = new Set(['authorization', 'proxy-authorization', 'content-type', 'content-encoding', 'content-length', 'host', 'transfer-encoding']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const Auth = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({
      type: z.literal('bearer'),
      token: secretOption().describe('sent as `Authorization: Bearer <token>`').meta({ examples: [{ env: 'WEBHOOK_TOKEN' }] }),
    }),
    z.strictObject({
      type: z.literal('basic'),
      username: z.string().min(1).describe('HTTP basic user name').meta({ examples: ['trustwire'] }),
      password: secretOption().describe('HTTP basic password').meta({ examples: [{ file: '/run/secrets/webhook-password' }] }),
    }),
    z.strictObject({
      type: z.literal('header'),
      name: z.string().regex(HEADER_NAME, 'must be an HTTP header name').describe('header carrying the key').meta({ examples: ['X-API-Key'] }),
      value: secretOption().describe("the header's value").meta({ examples: [{ env: 'WEBHOOK_API_KEY' }] }),
    }),
  ])
  .prefault({ type: 'none' })
  .describe('how the receiver authenticates trustwire');

export const HttpOptions = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .describe('where each batch is sent; credentials in it (user:password@) become basic auth and are never printed')
      .meta({ examples: ['https://siem.example.net/ingest/trustwire'] }),
    method: z.enum(['POST', 'PUT']).default('POST').describe('HTTP method of each request').meta({ examples: ['PUT'] }),
    format: z
      .enum(['json', 'ndjson'])
      .default('json')
      .describe('json: one JSON array of events per request (application/json); ndjson: one event a line (application/x-ndjson)')
      .meta({ examples: ['ndjson'] }),
    ...httpClientSettings({ compression: 'none' }),
    headers: z
      .record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), z.string())
      .default({})
      .describe('extra request headers, not secret (credentials go under auth)')
      .meta({ examples: [{ 'X-Source': 'trustwire' }] }),
    auth: Auth,
  })
  .superRefine((options, ctx) => {
    for (const name of Object.keys(options.headers)) {
      if (RESERVED_HEADERS.has(name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['headers', name], message: `is set by the connector${name.toLowerCase().includes('authorization') ? ' (credentials go under auth, as secrets)' : ''}` });
      }
    }
    const url = new URL(options.url);
    if ((url.username !== '' || url.password !== '') && options.auth.type !== 'none') {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'has credentials (user:password@) and auth is set too: give them once, preferably under auth' });
    }
  });
export type HttpOptions = z.output<typeof HttpOptions>;
