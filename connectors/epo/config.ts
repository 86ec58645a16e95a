import { z } from 'zod';
import { secretOption } from '../../src/config/secret.js';
import { httpClientSettings } from '../../src/runtime/http.js';

const TagName = z.string().min(1).max(255);

const PermanentErrorCodes = z
  .array(z.number().int().min(0))
  .default([1, 2, 3])
  .describe(
    'N of the `Error N :` answers (Web API, or an events answer in that style) that resending cannot fix — 1: unknown command or parameter, 2: no such tag, 3: no such system; what asked for it is dead-lettered, any other N is retried',
  )
  .meta({ examples: [[1, 2, 3, 17]] });

const Tags = z
  .strictObject({
    enabled: z.boolean().default(true).describe("keep each host's trust and compliance tags current through the Web API").meta({ examples: [false] }),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .optional()
      .describe("the ePO server whose Web API (/remote/system.applyTag, /remote/system.clearTag) takes the tag commands, when it is not `url`")
      .meta({ examples: ['https://epo-console.example.net:8443'] }),
    trusted: TagName.default('TXT: Trusted').describe('tag of a host the attestation service found trusted').meta({ examples: ['TXT: Trusted'] }),
    untrusted: TagName.default('TXT: Untrusted').describe('tag of a host found untrusted').meta({ examples: ['Trust: Untrusted (TXT)'] }),
    compliant: TagName.default('Compliance: Pass').describe('tag of a host whose last compliance assessment passed').meta({ examples: ['Compliance: Pass'] }),
    noncompliant: TagName.default('Compliance: Fail').describe('tag of a host whose last compliance assessment failed').meta({ examples: ['Hardening: Fail'] }),
  })
  .prefault({})
  .describe("ePO tags that show each host's trust and compliance in the console");

export const EpoOptions = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an https:// URL (http:// only with allowInsecureHttp: true)' })
      .describe('the ePO-style server: scheme, host and port only; events go to eventsPath on it, tag commands to /remote/system.*Tag')
      .meta({ examples: ['https://epo.example.net:8443'] }),
    eventsPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'must be a URL path starting with /, without query or fragment')
      .default('/remote/trustwire.events')
      .describe('where each batch of EPOEvent documents is POSTed, as one <EPOEvents> document')
      .meta({ examples: ['/ingest/epo-events'] }),
    username: z.string().min(1).describe('ePO user (HTTP Basic) allowed to post events and apply tags').meta({ examples: ['trustwire-svc'] }),
    password: secretOption().describe("that user's password").meta({ examples: [{ env: 'EPO_PASSWORD' }] }),
    ...httpClientSettings({ compression: 'none', tls: { describe: 'TLS settings for every request (events and tag commands)', caExample: '/etc/trustwire/epo-ca.pem' } }),
    allowInsecureHttp: z
      .boolean()
      .default(false)
      .describe('allow http:// URLs, sending the password in the clear: for a lab only')
      .meta({ examples: [true] }),
    permanentErrorCodes: PermanentErrorCodes,
    tags: Tags,
  })
  .superRefine((options, ctx) => {
    for (const [path, value] of [
      [['url'], options.url],
      [['tags', 'url'], options.tags.url],
    ] as const) {
      if (value === undefined) continue;
      const url = new URL(value);
      if (url.protocol === 'http:' && !options.allowInsecureHttp) {
        ctx.addIssue({ code: 'custom', path: [...path], message: 'is http://: the Basic credentials would cross the network in the clear; use https://, or set allowInsecureHttp: true in a lab' });
      }
      if (url.username !== '' || url.password !== '') {
        ctx.addIssue({ code: 'custom', path: [...path], message: 'has credentials (user:password@): give them as username and password' });
      }
      if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
        ctx.addIssue({ code: 'custom', path: [...path], message: 'must name the server only (scheme, host, port); the path of the events goes in eventsPath' });
      }
    }
    if (options.tags.trusted === options.tags.untrusted) ctx.addIssue({ code: 'custom', path: ['tags', 'untrusted'], message: 'must differ from tags.trusted' });
    if (options.tags.compliant === options.tags.noncompliant) ctx.addIssue({ code: 'custom', path: ['tags', 'noncompliant'], message: 'must differ from tags.compliant' });
  });
export type EpoOptions = z.output<typeof EpoOptions>;
