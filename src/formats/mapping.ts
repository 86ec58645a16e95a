/**
 * A mapping table: which key of a format carries which part of a canonical event. The tables
 * are data (one per format and event kind); the formats render events from them and
 * `docs.ts` renders docs/formats.md from the same rows, so the docs cannot drift.
 */
import type { CanonicalEvent, EventOf, EventType } from '../model/events.js';

export type FieldValue = string | number | boolean | undefined;

export interface FieldMapping<E extends CanonicalEvent = CanonicalEvent> {
  /** The format's key: a CEF extension key, a LEEF attribute, an ePO element. */
  key: string;
  /** CEF's custom fields (`cs1`, `cn1`, ...) carry a label, sent as `<key>Label`. */
  label?: string;
  /** Where the value comes from: a field path of the contract, or a derived value in parentheses. */
  from: string;
  /** When the row applies or how the value is shaped, for the docs. */
  note?: string;
  /** The value; undefined (or an empty string) leaves the key out. */
  value(event: E): FieldValue;
}

export type KindMappings = { readonly [K in EventType]: readonly FieldMapping<EventOf<K>>[] };

/** The rows of `event`'s kind, typed for the event at hand. */
export function rowsOf(mappings: KindMappings, event: CanonicalEvent): readonly FieldMapping[] {
  return mappings[event.type] as readonly FieldMapping[];
}

/** Throws at module load when a kind uses a key twice (the second would shadow the first). */
export function assertUniqueKeys(format: string, mappings: KindMappings, keyOf: (row: FieldMapping) => readonly string[] = (row) => [row.key]): void {
  for (const [kind, rows] of Object.entries(mappings) as [EventType, readonly FieldMapping[]][]) {
    const seen = new Set<string>();
    for (const row of rows) {
      for (const key of keyOf(row)) {
        if (seen.has(key)) throw new Error(`${format} mapping of ${kind} uses the key ${key} twice`);
        seen.add(key);
      }
    }
  }
}
