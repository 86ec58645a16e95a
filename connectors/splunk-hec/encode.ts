/**
 * Canonical events as HEC event objects (`/services/collector/event`): one JSON object per
 * event, with its metadata (`time`, `host`, `source`, `sourcetype`, `index`), the canonical
 * event as `event`, and indexed fields as `fields`. A request body is these objects one after
 * another, not a JSON array, as HEC reads them.
 */
import { formatJson } from '../../src/formats/json.js';
import type { CanonicalEvent, EventType } from '../../src/model/events.js';
import type { IndexedField, SplunkHecOptions } from './config.js';

/** The sourcetype of each kind when the options name none. */
export const DEFAULT_SOURCETYPES: Readonly<Record<EventType, string>> = {
  'trust.change': 'trustwire:trust',
  'policy.decision': 'trustwire:policy',
  'admin.action': 'trustwire:admin',
  'config.snapshot': 'trustwire:config',
  'compliance.assessment': 'trustwire:compliance',
  alert: 'trustwire:alert',
};

/** One event, encoded once, ready to be concatenated into any request body (a split or a resend reuses it). */
export interface HecEvent {
  bytes: Buffer;
  /** The `index` it names; HEC refuses (code 7) every event naming an index the token may not write. */
  index: string | undefined;
}

type EncodeOptions = Pick<SplunkHecOptions, 'hostFrom' | 'source' | 'sourcetype' | 'index' | 'kinds' | 'indexedFields'>;

/** A function from a canonical event to its HEC event object, the options resolved once. */
export function createEncoder(options: EncodeOptions): (event: CanonicalEvent) => HecEvent {
  const metadata = new Map(
    (Object.keys(DEFAULT_SOURCETYPES) as EventType[]).map((type) => {
      const kind = options.kinds[type] ?? {};
      const sourcetype = kind.sourcetype ?? options.sourcetype ?? DEFAULT_SOURCETYPES[type];
      const index = kind.index ?? options.index;
      return [type, { source: kind.source ?? options.source, sourcetypeJson: JSON.stringify(sourcetype), index, indexJson: index === undefined ? '' : `,"index":${JSON.stringify(index)}` }];
    }),
  );
  const wanted = new Set(options.indexedFields);
  return (event) => {
    const meta = metadata.get(event.type)!;
    const source = meta.source ?? `trustwire:${event.source.system}`;
    const fields = wanted.size === 0 ? '' : fieldsJson(indexedFieldsOf(event, wanted));
    const text =
      `{"time":${epochSeconds(event.time)},"host":${JSON.stringify(hostOf(event, options.hostFrom))},"source":${JSON.stringify(source)},` +
      `"sourcetype":${meta.sourcetypeJson}${meta.indexJson},"event":${formatJson(event)}${fields === '' ? '' : `,"fields":${fields}`}}`;
    return { bytes: Buffer.from(text, 'utf8'), index: meta.index };
  };
}

/** Epoch milliseconds as HEC's `<seconds>.<milliseconds>`, exactly (no floating-point rounding). */
export function epochSeconds(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${seconds}.${String(ms - seconds * 1000).padStart(3, '0')}`;
}

function hostOf(event: CanonicalEvent, from: SplunkHecOptions['hostFrom']): string {
  if (from === 'name') return event.host.name ?? event.host.id;
  if (from === 'ip') return event.host.ip ?? event.host.id;
  return event.host.id;
}

/**
 * The indexed fields a SOC searches and filters on without reading the event: its kind, its
 * host, that host's trust, severity, tenant, pool and asset tags. Values are strings or lists of
 * strings (HEC refuses anything else, code 15); an absent value leaves its field out. The `tw_`
 * prefix keeps them apart from the fields Splunk extracts from the event's JSON at search time
 * (`severity`, `type`, ...), which would otherwise come out twice.
 */
export function indexedFieldsOf(event: CanonicalEvent, wanted: ReadonlySet<IndexedField>): Partial<Record<IndexedField, string | string[]>> {
  const fields: Partial<Record<IndexedField, string | string[]>> = {};
  const set = (name: IndexedField, value: string | string[] | undefined) => {
    if (value !== undefined && value.length > 0 && wanted.has(name)) fields[name] = value;
  };
  set('tw_type', event.type);
  set('tw_host_id', event.host.id);
  set('tw_trust_status', event.type === 'trust.change' ? event.payload.status : event.enrichment?.trust.status);
  set('tw_severity', String(event.severity));
  set('tw_tenant', event.tenant);
  set('tw_pool', event.host.pool);
  const tags = event.enrichment?.assetTags ?? (event.type === 'trust.change' ? event.payload.assetTags : undefined) ?? {};
  set(
    'tw_asset_tag',
    Object.keys(tags)
      .sort()
      .map((key) => `${key}=${tags[key]}`),
  );
  return fields;
}

function fieldsJson(fields: Partial<Record<IndexedField, string | string[]>>): string {
  let out = '';
  for (const [name, value] of Object.entries(fields)) out += `${out === '' ? '' : ','}"${name}":${JSON.stringify(value)}`;
  return out === '' ? '' : `{${out}}`;
}
