/**
 * How a format names the fields of the catalogue (`fields.ts`): a key table, key → field id
 * (with a label for CEF's custom keys), in the order the keys are sent. The tables resolve
 * once, when a format's module loads, into mapping rows that the format compiles and that
 * `docs.ts` renders into docs/formats.md.
 */
import type { CanonicalEvent, EventOf, EventType } from '../model/events.js';
import { fieldOf, type Field, type FieldId } from './fields.js';

/**
 * What a key carries: a field of the catalogue, that field with a label, or a field the format
 * alone makes by its own rules (its date format, its numbering), written where it is used.
 */
export type KeyField<K extends EventType = EventType> = FieldId<K> | { field: FieldId<K>; label: string } | Field<EventOf<K>>;

export type KeyTable<K extends EventType = EventType> = Readonly<Record<string, KeyField<K>>>;

/** The key tables of each kind, sent after the tables every kind starts with. */
export type KindKeys = { readonly [K in EventType]: KeyTable<K> };

/** A key with its field: the row a format compiles and the docs show. */
export interface FieldMapping<E extends CanonicalEvent = CanonicalEvent> extends Field<E> {
  /** The format's key: a CEF extension key, a LEEF attribute, an ePO element. */
  key: string;
  /** CEF's custom fields (`cs1`, `cn1`, ...) carry a label, sent as `<key>Label`. */
  label?: string;
}

export type KindMappings = { readonly [K in EventType]: readonly FieldMapping<EventOf<K>>[] };

// Every format's keys are constants of letters and digits: none needs escaping or checking per event.
const KEY_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * The rows of `tables` in order, for events of `type` (undefined: fields of every kind only).
 * Throws when the module loads if a key is malformed or used twice (the second would shadow the first).
 */
export function mapKeys(format: string, tables: readonly KeyTable[], type?: EventType): FieldMapping[] {
  const rows: FieldMapping[] = [];
  const seen = new Set<string>();
  for (const table of tables) {
    for (const [key, keyField] of Object.entries(table)) {
      if (!KEY_NAME.test(key)) throw new Error(`invalid ${format} key ${JSON.stringify(key)}`);
      if (seen.has(key)) throw new Error(`${format} mapping${type === undefined ? '' : ` of ${type}`} uses the key ${key} twice`);
      seen.add(key);
      if (typeof keyField === 'string') rows.push({ key, ...fieldOf(type, keyField) });
      else if ('field' in keyField) rows.push({ key, label: keyField.label, ...fieldOf(type, keyField.field) });
      else rows.push({ key, ...(keyField as Field) });
    }
  }
  return rows;
}

/** Each kind's rows: `head` (the tables every kind starts with), then the kind's own table. */
export function mapKinds(format: string, head: readonly KeyTable[], kinds: KindKeys): KindMappings {
  const mappings = {} as Record<EventType, FieldMapping[]>;
  for (const type of Object.keys(kinds) as EventType[]) mappings[type] = mapKeys(format, [...head, kinds[type] as KeyTable], type);
  return mappings as KindMappings;
}

/** Each kind's rows compiled for sending, once. */
export function compileKinds<T>(mappings: KindMappings, compile: (row: FieldMapping) => T): Map<CanonicalEvent['type'], T[]> {
  return new Map((Object.keys(mappings) as EventType[]).map((type) => [type, (mappings[type] as readonly FieldMapping[]).map(compile)]));
}
