/**
 * The bench's events: a fleet of 480 hosts over four sites, each event built from the realistic
 * fixtures (src/kit/events) with its own id, time, host and payload details.
 *
 * - enriched: what the sinks consume (the processor's output): all six kinds, each with the
 *   enrichment of its host, about 870 bytes of Avro single-object on average.
 * - raw: what ingest writes to `trustwire.events` (the processor's input): the four kinds a
 *   reporter sends, without enrichment.
 *
 * Ids (bench/ids.ts) are unique per run and carry the event's number.
 */
import { eventFixture } from '../test/helpers/fixtures.js';
import type { CanonicalEvent, EventType } from '../src/model/events.js';
import { eventId } from './ids.js';

const SITES = [
  { site: 'fra1', country: 'DE', region: 'HE' },
  { site: 'ams2', country: 'NL', region: 'NH' },
  { site: 'par3', country: 'FR', region: 'IDF' },
  { site: 'dub1', country: 'IE', region: 'L' },
];

interface Host {
  id: string;
  name: string;
  ip: string;
  pool: string;
  platform: 'esxi-8' | 'linux-kvm';
  site: (typeof SITES)[number];
  trusted: boolean;
}

const HOSTS: Host[] = Array.from({ length: 480 }, (_, i) => {
  const site = SITES[i % SITES.length]!;
  const esx = i % 3 !== 2;
  const id = `${esx ? 'esx' : 'kvm'}-${site.site}-${String(Math.floor(i / SITES.length)).padStart(3, '0')}`;
  return {
    id,
    name: `${id}.dc.example.net`,
    ip: `10.${40 + (i % SITES.length)}.${Math.floor(i / 200)}.${(i % 200) + 20}`,
    pool: `tcp-${i % 5 === 0 ? 'silver' : 'gold'}-${site.site}`,
    platform: esx ? 'esxi-8' : 'linux-kvm',
    site,
    trusted: i % 11 !== 0,
  };
});

/** Kinds in a cycle of 20 events. */
const ENRICHED_CYCLE = cycle({ 'trust.change': 4, 'policy.decision': 4, 'admin.action': 3, 'config.snapshot': 3, 'compliance.assessment': 3, alert: 3 });
const RAW_CYCLE = cycle({ 'trust.change': 4, 'policy.decision': 6, 'admin.action': 8, 'config.snapshot': 2 });

/** The kinds of the raw stream: the processor's outputs of these kinds are the events counted. */
export const RAW_KINDS: readonly EventType[] = ['trust.change', 'policy.decision', 'admin.action', 'config.snapshot'];

function cycle(weights: Partial<Record<EventType, number>>): EventType[] {
  const slots: EventType[] = [];
  const entries = Object.entries(weights) as Array<[EventType, number]>;
  // Interleaved, not in runs: a, b, c, a, b, c, ...
  for (let round = 0; slots.length < 20; round++) for (const [type, count] of entries) if (round < count) slots.push(type);
  return slots;
}

const FIXTURES = {
  'trust.change': eventFixture('trust.change'),
  'policy.decision': eventFixture('policy.decision'),
  'admin.action': eventFixture('admin.action'),
  'config.snapshot': eventFixture('config.snapshot'),
  'compliance.assessment': eventFixture('compliance.assessment'),
  alert: eventFixture('alert'),
} as const;

const BASE_TIME = 1_780_000_000_000;

const UNTRUSTED = HOSTS.filter((host) => !host.trusted);

/** Spread over the fleet; half of the trust changes concern the untrusted hosts (re-attested more often). */
function hostOf(n: number, type: EventType): Host {
  if (type === 'trust.change' && Math.floor(n / 20) % 2 === 0) return UNTRUSTED[n % UNTRUSTED.length]!;
  return HOSTS[(n * 7919) % HOSTS.length]!;
}

function tagsOf(host: Host): Record<string, string> {
  return { country: host.site.country, region: host.site.region, site: host.site.site.toUpperCase(), classification: host.pool.includes('gold') ? 'pci' : 'internal' };
}

function enrichmentOf(host: Host, time: number): NonNullable<CanonicalEvent['enrichment']> {
  const tags = tagsOf(host);
  return {
    hostId: host.id,
    trust: { status: host.trusted ? 'trusted' : 'untrusted', since: time - 3_600_000, attestationService: 'intel-secl-hvs', faultCount: host.trusted ? 0 : 2 },
    ...(host.platform === 'esxi-8' && {
      compliance: { templateId: 'esxi-8-stig', score: host.trusted ? 96.5 : 71.25, maxScore: 100, compliant: host.trusted, assessedAt: time - 1_800_000 },
    }),
    assetTags: tags,
    geolocation: { country: host.site.country, region: host.site.region, site: host.site.site.toUpperCase() },
  };
}

/**
 * Event `n` of a stream: `enriched` carries all kinds with enrichment; raw only what ingest takes.
 * A stream opens with one trust change per host (the fleet's attestations), so that the
 * processor knows every host's verdict and tags before the other events about it.
 */
export function benchEvent(n: number, options: { run: string; stream: number; enriched: boolean }): CanonicalEvent {
  const types = options.enriched ? ENRICHED_CYCLE : RAW_CYCLE;
  const type = n < HOSTS.length ? 'trust.change' : types[n % types.length]!;
  const host = n < HOSTS.length ? HOSTS[n]! : hostOf(n, type);
  const time = BASE_TIME + n * 3;
  const base = structuredClone(FIXTURES[type]) as CanonicalEvent & { enrichment?: unknown; payload: Record<string, unknown> };
  const event = {
    ...base,
    id: eventId(options.run, options.stream, n),
    time,
    ingestTime: time + 17,
    host: { id: host.id, name: host.name, ip: host.ip, pool: host.pool },
    payload: payloadOf(type, base.payload, host, n),
  } as CanonicalEvent & { enrichment?: unknown };
  if (options.enriched) event.enrichment = enrichmentOf(host, time);
  else delete event.enrichment;
  return event as CanonicalEvent;
}

function payloadOf(type: EventType, payload: Record<string, unknown>, host: Host, n: number): Record<string, unknown> {
  switch (type) {
    case 'trust.change': {
      // Each host keeps its verdict (1 in 11 untrusted): a fleet, not a flapping storm.
      const flavors = payload.flavors as Array<Record<string, unknown>>;
      return {
        ...payload,
        previousStatus: host.trusted ? 'trusted' : 'untrusted',
        status: host.trusted ? 'trusted' : 'untrusted',
        reportId: `62d3b413-6783-41fb-a5fa-${n.toString(16).padStart(12, '0')}`,
        flavors: host.trusted ? flavors.map((flavor) => ({ ...flavor, trusted: true, faults: [] })) : flavors,
        assetTags: tagsOf(host),
      };
    }
    case 'policy.decision':
      return {
        ...payload,
        decisionId: `dec-${n}`,
        decision: n % 9 === 0 ? 'deny' : 'permit',
        // A dozen VMs per host, each staying on its host.
        resource: { ...(payload.resource as object), id: `vm-${host.id}-${n % 12}`, name: `app-${host.site.site}-${n % 12}`, requiredTags: { country: host.site.country, classification: tagsOf(host).classification } },
        targetHost: { id: host.id, name: host.name },
      };
    case 'admin.action': {
      const denied = n % 10 === 0;
      const { error, ...rest } = payload;
      return {
        ...rest,
        ...(denied && { error }),
        outcome: denied ? 'denied' : 'success',
        requestId: `req-${n}`,
        target: { type: 'host', id: host.id, name: host.name },
      };
    }
    case 'config.snapshot':
      return { ...payload, platform: 'esxi-8', collectedAt: BASE_TIME + n * 3 };
    case 'compliance.assessment':
      return { ...payload, snapshotEventId: `01959419-9760-7b30-a2f8-${n.toString(16).padStart(12, '0')}` };
    case 'alert':
      return { ...payload, title: `Sensitive VM app-${host.site.site}-${n % 12} runs on untrusted host ${host.id}` };
  }
}
