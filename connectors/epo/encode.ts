/**
 * Pure: a batch of canonical events to what goes to the ePO-style server — one `<EPOEvents>`
 * document holding an `<EPOEvent>` per event (src/formats/epo-xml.ts), and the tag changes the
 * batch asks for.
 */
import { formatEpoEvents } from '../../src/formats/epo-xml.js';
import type { CanonicalEvent } from '../../src/model/events.js';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/**
 * The batch envelope: one XML declaration, then `<EPOEvents count="N">` wrapping the EPOEvent
 * documents in batch order, each without its own declaration (a declaration is only allowed at
 * the very start of a document). A receiver that wants single documents splits at the children.
 */
export function encodeEvents(batch: readonly CanonicalEvent[]): Buffer {
  let body = `${DECLARATION}<EPOEvents count="${batch.length}">`;
  for (const document of formatEpoEvents(batch)) body += document.startsWith(DECLARATION) ? document.slice(DECLARATION.length) : document;
  return Buffer.from(`${body}</EPOEvents>`, 'utf8');
}

/** The ePO system a host is known by: its name, else its id. */
export function systemName(event: CanonicalEvent): string {
  return event.host.name ?? event.host.id;
}

/** The event field the system name came from, as a refusal names it. */
export type SystemField = 'host.name' | 'host.id';

const LEADING_OR_TRAILING_WHITESPACE = /^\s|\s$/;
const CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/;
// With the `u` flag a surrogate pair is one code point, so this meets lone surrogates only.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/**
 * Why the Web API cannot address `system` as the one system of that name; undefined when it can.
 *
 * `names` is a list: ePO splits it at commas and trims each name, so `x,db-prod-01` would tag
 * db-prod-01 as well, and ` db-prod-01` would tag db-prod-01 instead. A name that holds a comma,
 * starts or ends with whitespace, holds a control character (no System Tree name does, and how
 * ePO reads one is not documented) or a lone surrogate (which cannot be URL-encoded) is refused,
 * never sent: the events asking for it are dead-lettered with this reason. Refusing is the
 * simplest correct way: any other name reaches ePO as exactly one name. Resolving the host
 * through system.find first would not be simpler nor safer: it matches substrings of several
 * columns, and the tag is still applied through the same names parameter.
 */
export function unaddressableReason(system: string, field: SystemField): string | undefined {
  const shown = `${field} ${JSON.stringify(system)}`;
  if (system.includes(',')) {
    const parts = system.split(',').length;
    return `${shown} holds a comma, which ePO's names parameter splits into ${parts === 2 ? 'two' : parts} systems`;
  }
  if (LEADING_OR_TRAILING_WHITESPACE.test(system)) {
    const trimmed = system.trim();
    const edge = /^\s/.test(system) ? 'starts' : 'ends';
    return `${shown} ${edge} with whitespace, which ePO trims from each of its names, so it would address ${trimmed === '' ? 'no system' : `the system ${JSON.stringify(trimmed)}`}`;
  }
  const control = CONTROL_CHARACTER.exec(system);
  if (control !== null) return `${shown} holds the control character ${codePoint(control[0])}, which ePO's names parameter is not defined for, so it cannot be addressed safely`;
  const surrogate = LONE_SURROGATE.exec(system);
  if (surrogate !== null) return `${shown} holds a lone surrogate (${codePoint(surrogate[0])}), which cannot be URL-encoded into ePO's names parameter`;
  return undefined;
}

function codePoint(char: string): string {
  return `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

export type TagAspect = 'trust' | 'compliance';
/** trust: the attestation verdict; compliance: the last assessment's `pass` or `fail`. */
export type TagState = 'trusted' | 'untrusted' | 'unknown' | 'pass' | 'fail';

export interface TagChange {
  system: string;
  /** Where `system` came from: host.name, else host.id. */
  field: SystemField;
  /** Set when ePO could not address `system` as one system (`unaddressableReason`): the change is refused, never sent. */
  refusal?: string;
  aspect: TagAspect;
  /** The state the host ends the batch in: the last event of the aspect for that host wins. */
  state: TagState;
  /** Indexes in the batch of every event that asked for this aspect of this host. */
  indexes: number[];
}

/** The tag state each host should be left in by the batch: trust from trust.change, compliance from compliance.assessment. */
export function tagChanges(batch: readonly CanonicalEvent[]): TagChange[] {
  const changes = new Map<string, TagChange>();
  batch.forEach((event, index) => {
    let aspect: TagAspect;
    let state: TagState;
    if (event.type === 'trust.change') {
      aspect = 'trust';
      state = event.payload.status;
    } else if (event.type === 'compliance.assessment') {
      aspect = 'compliance';
      state = event.payload.compliant ? 'pass' : 'fail';
    } else {
      return;
    }
    const system = systemName(event);
    const key = `${aspect}\u0000${system}`;
    const change = changes.get(key);
    if (change === undefined) {
      const field: SystemField = event.host.name == null ? 'host.id' : 'host.name';
      const refusal = unaddressableReason(system, field);
      changes.set(key, { system, field, ...(refusal !== undefined && { refusal }), aspect, state, indexes: [index] });
    } else {
      change.state = state;
      change.indexes.push(index);
    }
  });
  return [...changes.values()];
}

export interface TagNames {
  trusted: string;
  untrusted: string;
  compliant: string;
  noncompliant: string;
}

export interface TagStep {
  command: 'system.applyTag' | 'system.clearTag';
  tag: string;
}

/**
 * The Web API commands that put a host in a state. The new tag is applied before the old one is
 * cleared, so the warning tag (Untrusted, Fail) is on the host at every moment it should be;
 * for that moment the host carries both. `unknown` trust clears both TXT tags: the console
 * must not keep showing a verdict the attestation service no longer gives.
 */
export function tagSteps(state: TagState, names: TagNames): TagStep[] {
  const apply = (tag: string): TagStep => ({ command: 'system.applyTag', tag });
  const clear = (tag: string): TagStep => ({ command: 'system.clearTag', tag });
  switch (state) {
    case 'trusted':
      return [apply(names.trusted), clear(names.untrusted)];
    case 'untrusted':
      return [apply(names.untrusted), clear(names.trusted)];
    case 'unknown':
      return [clear(names.trusted), clear(names.untrusted)];
    case 'pass':
      return [apply(names.compliant), clear(names.noncompliant)];
    case 'fail':
      return [apply(names.noncompliant), clear(names.compliant)];
  }
}
