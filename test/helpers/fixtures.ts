import { readFileSync } from 'node:fs';
import type { CanonicalEvent, EventType } from '../../src/model/events.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
/** The canonical events are packaged with the conformance kit, which hands them to connector authors too. */
const EVENTS = new URL('../../src/kit/events/', import.meta.url);

/** The realistic canonical event of a kind (src/kit/events/<type>.json). */
export function eventFixture<T extends EventType>(type: T): Extract<CanonicalEvent, { type: T }> {
  return JSON.parse(readFileSync(new URL(`${type}.json`, EVENTS), 'utf8'));
}

/** A fixture as a reporter would send it: no enrichment (the processor's), no id or ingestTime. */
export function ingestFixture(type: EventType): Record<string, unknown> {
  const { enrichment: _e, id: _i, ingestTime: _t, ...event } = eventFixture(type) as Record<string, unknown>;
  return event;
}

export function readFixture(path: string): string {
  return readFileSync(new URL(path, FIXTURES), 'utf8');
}
