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

export type TagAspect = 'trust' | 'compliance';
/** trust: the attestation verdict; compliance: the last assessment's `pass` or `fail`. */
export type TagState = 'trusted' | 'untrusted' | 'unknown' | 'pass' | 'fail';

export interface TagChange {
  system: string;
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
    if (change === undefined) changes.set(key, { system, aspect, state, indexes: [index] });
    else {
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
