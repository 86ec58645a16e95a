import type { z } from 'zod';
import { defined } from '../model/text.js';
import type { Enrichment, HostIdentity } from '../model/events.js';
import type { HostState } from './state.js';

export type Geolocation = NonNullable<HostState['geolocation']>;

/**
 * Asset-tag keys that carry a location, best first. Keys are compared lower-cased, by their
 * last dotted segment, without `-`, `_` or spaces: `Country`, `geo.country`, `country_code`
 * and `location.Data-Center` all match. Intel SecL's customary tags are Country / State / City,
 * so `city` stands in for the site when no site or data-center tag is there.
 */
const GEO_TAGS: Record<keyof Geolocation, readonly string[]> = {
  country: ['country', 'countrycode'],
  region: ['region', 'state', 'province'],
  site: ['site', 'datacenter', 'dc', 'city'],
};

function geoKey(tag: string): string {
  return (tag.slice(tag.lastIndexOf('.') + 1)).toLowerCase().replace(/[-_ ]/g, '');
}

/** The host's location as its asset tags tell it; undefined when they name none. */
export function geolocationOf(assetTags: Readonly<Record<string, string>>): Geolocation | undefined {
  const byKey = new Map<string, string>();
  for (const [tag, value] of Object.entries(assetTags)) {
    const key = geoKey(tag);
    // The first of two spellings wins (tag order is the report's, so the choice is stable);
    // a value too long for a Name is no location.
    if (value.length > 0 && value.length <= 256 && !byKey.has(key)) byKey.set(key, value);
  }
  const geo: Geolocation = {};
  for (const [field, keys] of Object.entries(GEO_TAGS) as [keyof Geolocation, readonly string[]][]) {
    const value = keys.map((key) => byKey.get(key)).find((v) => v !== undefined);
    if (value !== undefined) geo[field] = value;
  }
  return Object.keys(geo).length > 0 ? geo : undefined;
}

/** A host as an event names it: the envelope's host, or a decision's target host. */
export interface HostRef {
  id: string;
  name?: string | undefined;
  ip?: string | undefined;
  pool?: string | undefined;
}

/** State of a host never seen before: nothing is known of its trust. */
export function newHostState(ref: HostRef, event: { id: string; time: number }): HostState {
  return {
    ...defined({ hostId: ref.id, name: ref.name, ip: ref.ip, pool: ref.pool }),
    trust: { status: 'unknown', faults: [], recentChanges: [] },
    assetTags: {},
    assessments: {},
    lastEventId: event.id,
    updatedAt: event.time,
  };
}

/**
 * What the processor adds to an event concerning `host`. It shares the state's objects: state
 * replaces its tags, compliance and geolocation whole and never edits them in place.
 */
export function enrichmentOf(host: HostState): z.infer<typeof Enrichment> {
  const { trust } = host;
  return defined({
    hostId: host.hostId,
    trust: defined({
      status: trust.status,
      since: trust.since,
      attestationService: trust.attestationService,
      faultCount: trust.faults.length,
    }),
    compliance: host.compliance,
    assetTags: host.assetTags,
    geolocation: host.geolocation,
  });
}

/** The envelope `host` of an event the processor derives about `host`. */
export function hostIdentityOf(host: HostState): z.infer<typeof HostIdentity> {
  return defined({ id: host.hostId, name: host.name, ip: host.ip, pool: host.pool });
}
