import { z } from 'zod';
import { secretOption } from '../../src/config/secret.js';
import { EVENT_TYPES, type EventType } from '../../src/model/events.js';
import { httpClientSettings } from '../../src/runtime/http.js';

/** The indexed fields the connector can attach to each event (HEC's `fields`). */
export const INDEXED_FIELDS = ['tw_type', 'tw_host_id', 'tw_trust_status', 'tw_severity', 'tw_tenant', 'tw_pool', 'tw_asset_tag'] as const;
export type IndexedField = (typeof INDEXED_FIELDS)[number];

/** Splunk's rule for index names: lower-case letters, digits, `_` and `-`, not starting with `_` or `-`. */
const IndexName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'must be a Splunk index name: lower-case letters, digits, _ and -, starting with a letter or digit');

/** Where each HEC request goes; the connector adds /services/collector/event, /ack and /health. */
const HecUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const KindMetadata = z.strictObject({
  source: z.string().min(1).optional().describe("this kind's `source`").meta({ examples: ['trustwire:hytrust'] }),
  sourcetype: z.string().min(1).optional().describe("this kind's `sourcetype`").meta({ examples: ['trustwire:alert'] }),
  index: IndexName.optional().describe("this kind's `index`").meta({ examples: ['soc_alerts'] }),
});

export const SplunkHecOptions = z
  .strictObject({
    urls: z
      .array(HecUrl)
      .min(1)
      .describe(
        'HEC endpoints, each one HEC node (or a load balancer that keeps a request channel on one node); batches go round robin across the healthy ones. A base URL, or one ending in /services/collector/event',
      )
      .meta({ examples: [['https://hec-1.splunk.example.net:8088', 'https://hec-2.splunk.example.net:8088']] }),
    token: secretOption().describe('the HEC token, sent as `Authorization: Splunk <token>`').meta({ examples: [{ env: 'SPLUNK_HEC_TOKEN' }] }),
    ...httpClientSettings({ compression: 'gzip' }),
    ack: z
      .boolean()
      .default(false)
      .describe('use indexer acknowledgment: a batch is delivered only once HEC says it was indexed (the token must have acknowledgment enabled; Splunk Enterprise)')
      .meta({ examples: [true] }),
    ackPollMs: z.number().int().min(10).max(60_000).default(500).describe('with ack: how often the pending acknowledgments are asked for (one request for all of them)').meta({ examples: [1000] }),
    ackTimeoutMs: z
      .number()
      .int()
      .min(100)
      .default(8000)
      .describe("with ack: a batch not acknowledged this long after HEC took it is sent again; below the instance's timeoutMs")
      .meta({ examples: [45_000] }),
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .default(5000)
      .describe("how long a health check or an acknowledgment query may take (a POST of events is bounded by the instance's timeoutMs)")
      .meta({ examples: [2000] }),
    benchMs: z
      .number()
      .int()
      .min(0)
      .default(5000)
      .describe("how long a URL that failed (network error, 5xx, busy) is left out; a Retry-After longer than this wins. It comes back once its health check passes")
      .meta({ examples: [10_000] }),
    refusedBenchMs: z
      .number()
      .int()
      .min(0)
      .default(60_000)
      .describe('how long a URL that refused the token (or the request channel) is left out: nothing is resent to it sooner, however often the runtime retries')
      .meta({ examples: [300_000] }),
    hostFrom: z
      .enum(['name', 'id', 'ip'])
      .default('name')
      .describe("which of the event's host fields becomes HEC's `host` (falling back to the host's id)")
      .meta({ examples: ['id'] }),
    source: z.string().min(1).optional().describe('`source` of every event; absent: `trustwire:<source.system>` (e.g. trustwire:attestation)').meta({ examples: ['trustwire'] }),
    sourcetype: z
      .string()
      .min(1)
      .optional()
      .describe('`sourcetype` of every event; absent: one per kind (trustwire:trust, :policy, :admin, :config, :compliance, :alert)')
      .meta({ examples: ['_json'] }),
    index: IndexName.optional().describe("`index` of every event; absent: the token's default index").meta({ examples: ['trustwire'] }),
    kinds: z
      .partialRecord(z.enum(EVENT_TYPES as [EventType, ...EventType[]]), KindMetadata)
      .default({})
      .describe('per event kind (trust.change, policy.decision, admin.action, config.snapshot, compliance.assessment, alert): `{source, sourcetype, index}`, each winning over the option of the same name above')
      .meta({ examples: [{ alert: { index: 'soc_alerts' }, 'config.snapshot': { index: 'trustwire_config', sourcetype: 'trustwire:config' } }] }),
    indexedFields: z
      .array(z.enum(INDEXED_FIELDS))
      .default([...INDEXED_FIELDS])
      .describe('indexed fields (HEC `fields`) sent with each event, always strings or lists of strings; [] sends none')
      .meta({ examples: [['tw_type', 'tw_host_id', 'tw_trust_status']] }),
  })
  .superRefine((options, ctx) => {
    options.urls.forEach((text, i) => {
      const url = new URL(text);
      if (url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', path: ['urls', i], message: 'has credentials in it: the token goes under token, as a secret' });
      if (url.search !== '' || url.hash !== '') ctx.addIssue({ code: 'custom', path: ['urls', i], message: 'must have no query or fragment (the token is never put in a query string)' });
    });
    if (new Set(options.urls.map(baseUrl)).size !== options.urls.length) ctx.addIssue({ code: 'custom', path: ['urls'], message: 'lists one endpoint twice' });
  });
export type SplunkHecOptions = z.output<typeof SplunkHecOptions>;

/** The endpoint's base (scheme, host, port, any proxy prefix), without /services/collector/... and the trailing slash. */
export function baseUrl(text: string): string {
  const url = new URL(text);
  const path = url.pathname.replace(/\/services\/collector(\/event(\/1\.0)?)?\/?$/, '').replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}
