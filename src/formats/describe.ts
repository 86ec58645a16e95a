/**
 * What every SIEM format says the same way: which product reports, the signature of an event
 * (`<type>:<result>`), its name (a static sentence per signature), its summary (a sentence with
 * the particulars), and the text renderings of tags, faults and enrichment. CEF, LEEF, ePO XML
 * and syslog all take these from here, so one event reads alike in every SIEM.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { CanonicalEvent, EventOf, EventType } from '../model/events.js';

/** The product a SIEM sees as the device: trustwire itself (see docs/formats.md, "Device"). */
export interface DeviceIdentity {
  vendor: string;
  product: string;
  version: string;
}

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `trustwire` / `trustwire` / the package version: the default device of every format. */
export const TRUSTWIRE_DEVICE: Readonly<DeviceIdentity> = Object.freeze({
  vendor: 'trustwire',
  product: 'trustwire',
  version: packageJson.version,
});

type Tags = Readonly<Record<string, string>>;

/** trustwire's severity as the integer 0-10 that every format's scale maps from. */
export function severityLevel(severity: number): number {
  return Math.min(10, Math.max(0, Math.round(severity)));
}

/** The second half of the signature: what happened, from a small, static set per kind. */
export function eventResult(event: CanonicalEvent): string {
  switch (event.type) {
    case 'trust.change':
      return event.payload.status;
    case 'policy.decision':
      return event.payload.decision;
    case 'admin.action':
      return event.payload.outcome;
    case 'config.snapshot':
      return event.payload.platform;
    case 'compliance.assessment':
      return event.payload.compliant ? 'compliant' : 'noncompliant';
    case 'alert':
      return event.payload.rule;
  }
}

/** `trust.change:untrusted`, `policy.decision:deny`, `alert:<rule>`: CEF's Device Event Class ID. */
export function eventSignature(event: CanonicalEvent): string {
  return `${event.type}:${eventResult(event)}`;
}

/** Every signature with its name; `<...>` stands for an open set (platforms, alert rules). */
export const EVENT_SIGNATURES: readonly { type: EventType; result: string; name: string }[] = [
  { type: 'trust.change', result: 'trusted', name: 'Host became trusted' },
  { type: 'trust.change', result: 'untrusted', name: 'Host became untrusted' },
  { type: 'trust.change', result: 'unknown', name: 'Host trust became unknown' },
  { type: 'policy.decision', result: 'permit', name: 'Policy permitted a request' },
  { type: 'policy.decision', result: 'deny', name: 'Policy denied a request' },
  { type: 'admin.action', result: 'success', name: 'Admin action succeeded' },
  { type: 'admin.action', result: 'denied', name: 'Admin action denied' },
  { type: 'admin.action', result: 'failed', name: 'Admin action failed' },
  { type: 'config.snapshot', result: '<platform>', name: 'Host configuration collected' },
  { type: 'compliance.assessment', result: 'compliant', name: 'Host compliant with its hardening template' },
  { type: 'compliance.assessment', result: 'noncompliant', name: 'Host not compliant with its hardening template' },
  { type: 'alert', result: '<rule>', name: 'Alert: the rule, its dots and dashes as spaces' },
];

const NAMES = new Map(EVENT_SIGNATURES.map((s) => [`${s.type}:${s.result}`, s.name]));
const RULE_SEPARATORS = /[._-]+/g;

/**
 * A human sentence, the same for every event of a signature: CEF's Name ("must not contain
 * information mentioned in other fields"), ePO's ThreatName.
 */
export function eventName(event: CanonicalEvent): string {
  switch (event.type) {
    case 'config.snapshot':
      return NAMES.get('config.snapshot:<platform>')!;
    case 'alert':
      return `Alert: ${event.payload.rule.replace(RULE_SEPARATORS, ' ').trim()}`;
    default:
      return NAMES.get(eventSignature(event)) ?? eventSignature(event);
  }
}

/** The reporting system: `HyTrust CloudControl 6.4.1 (policy-proxy)`. */
export function sourceText(event: CanonicalEvent): string {
  const s = event.source;
  return `${s.vendor} ${s.product}${s.version === undefined ? '' : ` ${s.version}`} (${s.system})`;
}

/** How the event's host is called in sentences: its name, else its id. */
export function hostLabel(event: CanonicalEvent): string {
  return event.host.name ?? event.host.id;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A sentence with the particulars: CEF's msg, LEEF's msg, ePO's description. */
export function eventSummary(event: CanonicalEvent): string {
  switch (event.type) {
    case 'trust.change': {
      const p = event.payload;
      const was = p.previousStatus === undefined ? '' : ` (was ${p.previousStatus})`;
      const faults = faultCount(event);
      const failed = failedFlavors(event);
      const why = faults > 0 ? `: ${plural(faults, 'fault')}${failed === undefined ? '' : ` in ${failed}`}` : '';
      return `${hostLabel(event)} is ${p.status}${was} per ${p.attestationService}${why}`;
    }
    case 'policy.decision': {
      const p = event.payload;
      const resource = `${p.resource.type} ${p.resource.name ?? p.resource.id}`;
      const from = p.sourceHost === undefined ? '' : ` from ${p.sourceHost.name ?? p.sourceHost.id}`;
      const by = p.subjectUser === undefined ? '' : ` for ${p.subjectUser}`;
      const verb = p.decision === 'permit' ? 'permitted' : 'denied';
      return `${p.policy} ${verb} ${p.action} of ${resource}${from} onto ${hostLabel(event)}${by}`;
    }
    case 'admin.action': {
      const p = event.payload;
      return `${p.operation} on ${p.target.type} ${p.target.name ?? p.target.id} by ${p.user.name ?? p.user.id}: ${p.outcome}`;
    }
    case 'config.snapshot': {
      const p = event.payload;
      return `Configuration of ${hostLabel(event)} collected (${platformText(event)}): ${plural(Object.keys(p.settings).length, 'setting')}, ${plural(p.services.length, 'service')}`;
    }
    case 'compliance.assessment': {
      const p = event.payload;
      const was = p.drift?.previousScore === undefined ? '' : ` (was ${p.drift.previousScore})`;
      const gate = p.trustGate.applied ? `; trust gate applied, host ${p.trustGate.trustStatus}` : '';
      return (
        `${hostLabel(event)} scored ${p.score}/${p.maxScore} on ${p.templateId} ${p.templateVersion}${was}: ` +
        `${p.counts.fail} failed, ${p.counts.waived} waived; ${p.compliant ? 'compliant' : 'not compliant'}${gate}`
      );
    }
    case 'alert':
      return event.payload.title;
  }
}

// ---- renderings of structured values ------------------------------------------------------

/** `country=DE, region=HE`: tags in their order; undefined when there are none. */
export function tagsText(tags: Tags | undefined): string | undefined {
  if (tags === undefined) return undefined;
  let out = '';
  for (const key in tags) out += `${out === '' ? '' : ', '}${tagPart(key, true)}=${tagPart(tags[key]!, false)}`;
  return out === '' ? undefined : out;
}

/**
 * A key or value of `key=value, ...`, escaped so that whoever splits the text at `, ` and then
 * at a key's first `=` reads the tags that were there: `\` and the `, ` separator are escaped
 * in both, `=` in keys. So `x, classification=public` stays one value, not a forged second tag;
 * a list such as `sensitive,pci` (no space) reads as it always did.
 */
function tagPart(text: string, key: boolean): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c || (c === 0x2c && text.charCodeAt(i + 1) === 0x20) || (key && c === 0x3d)) return text.replace(key ? /\\|, |=/g : /\\|, /g, '\\$&');
  }
  return text;
}

/** Items joined by `, `; undefined when there are none. */
export function listText(items: readonly string[] | undefined): string | undefined {
  return items === undefined || items.length === 0 ? undefined : items.join(', ');
}

// node's isIPv6 is one large regex: a value without a colon (any IPv4 address) skips it.

export function ipv4(value: string | undefined): string | undefined {
  return value !== undefined && !value.includes(':') && isIPv4(value) ? value : undefined;
}

export function ipv6(value: string | undefined): string | undefined {
  return value !== undefined && value.includes(':') && isIPv6(value) ? value : undefined;
}

// ---- trust.change -------------------------------------------------------------------------

type TrustChangeEvent = EventOf<'trust.change'>;

export function faultCount(event: TrustChangeEvent): number {
  let count = 0;
  for (const flavor of event.payload.flavors) count += flavor.faults.length;
  return count;
}

/** `OS, HOST_UNIQUE`: the flavors that did not verify. */
export function failedFlavors(event: TrustChangeEvent): string | undefined {
  let out = '';
  for (const flavor of event.payload.flavors) if (!flavor.trusted) out += `${out === '' ? '' : ', '}${flavor.kind}`;
  return out === '' ? undefined : out;
}

/** Why the host is (un)trusted, in the attestation service's words: fault descriptions, else names. */
export function faultReasons(event: TrustChangeEvent): string | undefined {
  let out = '';
  for (const flavor of event.payload.flavors) {
    for (const fault of flavor.faults) out += `${out === '' ? '' : '; '}${fault.description ?? `${flavor.kind}: ${fault.name}`}`;
  }
  return out === '' ? undefined : out;
}

/** Every fault with its measurement: `OS: PcrValueMismatchSHA256 (PCR 17 SHA256, expected …, actual …)`. */
export function faultDetails(event: TrustChangeEvent): string | undefined {
  let out = '';
  for (const flavor of event.payload.flavors) {
    for (const fault of flavor.faults) {
      const parts: string[] = [];
      if (fault.pcrIndex !== undefined) parts.push(`PCR ${fault.pcrIndex}${fault.pcrBank === undefined ? '' : ` ${fault.pcrBank}`}`);
      if (fault.expected !== undefined) parts.push(`expected ${fault.expected}`);
      if (fault.actual !== undefined) parts.push(`actual ${fault.actual}`);
      const detail = parts.length === 0 ? '' : ` (${parts.join(', ')})`;
      out += `${out === '' ? '' : '; '}${flavor.kind}: ${fault.name}${detail}`;
    }
  }
  return out === '' ? undefined : out;
}

// ---- policy.decision / admin.action -------------------------------------------------------

/** `vm vm-4127 (fin-ledger-db-02) [sensitive, pci]`. */
export function resourceText(event: EventOf<'policy.decision'>): string {
  const r = event.payload.resource;
  const name = r.name === undefined ? '' : ` (${r.name})`;
  const labels = r.labels.length === 0 ? '' : ` [${r.labels.join(', ')}]`;
  return `${r.type} ${r.id}${name}${labels}`;
}

/** `host esx-fra1-07 (esx-fra1-07.dc.example.net)`. */
export function targetText(event: EventOf<'admin.action'>): string {
  const t = event.payload.target;
  return `${t.type} ${t.id}${t.name === undefined ? '' : ` (${t.name})`}`;
}

/** CEF's outcome vocabulary: `success` or `failure`. */
export function successOrFailure(ok: boolean): 'success' | 'failure' {
  return ok ? 'success' : 'failure';
}

// ---- config.snapshot --------------------------------------------------------------------

export function platformText(event: EventOf<'config.snapshot'>): string {
  const p = event.payload;
  return p.platformVersion === undefined ? p.platform : `${p.platform} ${p.platformVersion}`;
}

export function runningServices(event: EventOf<'config.snapshot'>): string | undefined {
  let out = '';
  for (const service of event.payload.services) if (service.running) out += `${out === '' ? '' : ', '}${service.name}`;
  return out === '' ? undefined : out;
}

// ---- compliance.assessment ----------------------------------------------------------------

/** `esxi-8.shell-timeout, esxi-8.ssh-stopped (waived)`: the rules that failed or erred. */
export function failedRules(event: EventOf<'compliance.assessment'>): string | undefined {
  let out = '';
  for (const rule of event.payload.results) {
    if (rule.result !== 'fail' && rule.result !== 'error') continue;
    const note = rule.waiver !== undefined ? ' (waived)' : rule.result === 'error' ? ' (error)' : '';
    out += `${out === '' ? '' : ', '}${rule.ruleId}${note}`;
  }
  return out === '' ? undefined : out;
}

// ---- enrichment ---------------------------------------------------------------------------

/** `country=DE, region=HE, site=FRA1`. */
export function geolocationText(event: CanonicalEvent): string | undefined {
  const geo = event.enrichment?.geolocation;
  if (geo === undefined) return undefined;
  let out = '';
  if (geo.country !== undefined) out += `country=${geo.country}`;
  if (geo.region !== undefined) out += `${out === '' ? '' : ', '}region=${geo.region}`;
  if (geo.site !== undefined) out += `${out === '' ? '' : ', '}site=${geo.site}`;
  return out === '' ? undefined : out;
}
