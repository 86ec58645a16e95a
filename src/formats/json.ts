/**
 * The canonical event as JSON: one line, keys in a stable order, so the same event gives the
 * same bytes however it was built (parsed from JSON, decoded from Avro, assembled in code).
 *
 * - Records (the envelope, payloads, enrichment) list their fields in the order of the wire
 *   contract, `schemas/trustwire.Event.avsc`; absent optional fields are left out, as the zod
 *   schemas leave them out (a null in an optional field counts as absent).
 * - Maps (asset tags, settings, details) list their keys sorted by UTF-16 code unit.
 * - Keys the contract does not know are not written.
 *
 * The writer is compiled from the schema once; per event it only walks the value, quoting
 * strings itself unless they need `JSON.stringify`'s escapes. No intermediate objects are
 * built. JSON text never holds a raw line break, so a line is always exactly one event (NDJSON):
 * besides the controls JSON.stringify escapes, NEL (U+0085), U+2028 and U+2029, which it leaves
 * raw and readers that split on Unicode line breaks (Java's `\R`, Python's `splitlines`) would
 * end a line at, are written `\u0085`, `\u2028`, `\u2029`: the same JSON value, on one line.
 */
import type { Type, types } from 'avsc';
import { EVENT_AVRO_TYPE } from '../model/avro.js';
import { EVENT_TYPES, type CanonicalEvent } from '../model/events.js';

type Write = (value: any) => string;

const UNICODE_LINE_BREAK = /[\u0085\u2028\u2029]/;
const UNICODE_LINE_BREAKS = /[\u0085\u2028\u2029]/g;
const unicodeEscape = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON.stringify's text, with the Unicode line breaks it leaves raw escaped too. */
const stringify: Write = (value) => {
  const text = JSON.stringify(value) ?? 'null';
  return UNICODE_LINE_BREAK.test(text) ? text.replace(UNICODE_LINE_BREAKS, unicodeEscape) : text;
};

/** Whether `value` needs escaping (`"`, `\`, controls, lone surrogates, NEL, U+2028, U+2029). */
function needsJsonEscape(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 ? c <= 0xdfff : c >= 0x85 && (c === 0x85 || c === 0x2028 || c === 0x2029))) return true;
  }
  return false;
}

// JSON.stringify per value was most of the cost: a string that needs no escape (nearly all)
// is just quoted, a finite number is its String(). Anything else still goes to `stringify`,
// so the output is JSON.stringify's in every case but for the three escapes above.
const writeString: Write = (value) => (typeof value === 'string' && !needsJsonEscape(value) ? `"${value}"` : stringify(value));
const writeNumber: Write = (value) => (typeof value === 'number' && Number.isFinite(value) ? String(value) : stringify(value));
const writeBoolean: Write = (value) => (value === true ? 'true' : value === false ? 'false' : stringify(value));

function isNullable(type: Type): boolean {
  return type.typeName === 'union:unwrapped' && (type as types.UnwrappedUnionType).types.some((t) => t.typeName === 'null');
}

function writerOf(type: Type): Write {
  switch (type.typeName) {
    case 'record':
      return recordWriter(type as types.RecordType);
    case 'array': {
      const item = writerOf((type as types.ArrayType).itemsType);
      return (value: unknown[]) => {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + item(value[i]);
        return `${out}]`;
      };
    }
    case 'map': {
      const entry = writerOf((type as types.MapType).valuesType as Type);
      return (value: Record<string, unknown>) => {
        const keys = Object.keys(value).sort();
        let out = '{';
        for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${writeString(keys[i])}:${entry(value[keys[i]!])}`;
        return `${out}}`;
      };
    }
    case 'union:unwrapped': {
      const branches = (type as types.UnwrappedUnionType).types.filter((t) => t.typeName !== 'null');
      const records = branches.filter((t) => t.typeName === 'record');
      if (branches.length === 1) return writerOf(branches[0]!);
      // Primitives and arrays of primitives (a setting's value): a string or number takes its fast path.
      if (records.length === 0) return (value) => (typeof value === 'string' ? writeString(value) : typeof value === 'number' ? writeNumber(value) : stringify(value));
      throw new Error(`unsupported union ${JSON.stringify(type.schema())}`);
    }
    case 'string':
    case 'enum':
      return writeString;
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return writeNumber;
    case 'boolean':
      return writeBoolean;
    default:
      return stringify;
  }
}

interface FieldWriter {
  name: string;
  /** `"name":`, with the comma for every field but the first written. */
  key: string;
  nullable: boolean;
  write: Write;
}

function fieldWriters(type: types.RecordType, skip: ReadonlySet<string> = new Set()): FieldWriter[] {
  return type.fields
    .filter((field) => !skip.has(field.name))
    .map((field) => ({ name: field.name, key: `${JSON.stringify(field.name)}:`, nullable: isNullable(field.type), write: writerOf(field.type) }));
}

/** The fields of a record, comma-separated, without braces; empty when none is present. */
function fieldsText(fields: readonly FieldWriter[], value: Record<string, unknown>): string {
  let out = '';
  for (const field of fields) {
    const fieldValue = value[field.name];
    if (fieldValue === undefined || (fieldValue === null && field.nullable)) continue;
    out += (out === '' ? '' : ',') + field.key + (fieldValue === null ? 'null' : field.write(fieldValue));
  }
  return out;
}

function recordWriter(type: types.RecordType): Write {
  const fields = fieldWriters(type);
  return (value: Record<string, unknown>) => `{${fieldsText(fields, value)}}`;
}

/** The envelope's fields around the payload, whose record is chosen by the event's type. */
function eventWriter(type: types.RecordType): (event: CanonicalEvent) => string {
  const names = type.fields.map((field) => field.name);
  const at = names.indexOf('payload');
  const before = fieldWriters(type, new Set(names.slice(at)));
  const after = fieldWriters(type, new Set(names.slice(0, at + 1)));
  const union = type.field('payload').type as types.WrappedUnionType;
  // The union's branches are the kinds in EVENT_TYPES order (model/avro.ts holds this).
  const payloads = new Map(EVENT_TYPES.map((eventType, index) => [eventType, recordWriter(union.types[index] as types.RecordType)]));
  return (event) => {
    const value = event as unknown as Record<string, unknown>;
    const payload = payloads.get(event.type);
    if (payload === undefined) throw new Error(`unknown event type ${JSON.stringify(event.type)}`);
    const head = fieldsText(before, value);
    const tail = fieldsText(after, value);
    return `{${head}${head === '' ? '' : ','}"payload":${payload(event.payload)}${tail === '' ? '' : ','}${tail}}`;
  };
}

const writeEvent = eventWriter(EVENT_AVRO_TYPE as types.RecordType);

/** One canonical event as one line of JSON (no line break). */
export function formatJson(event: CanonicalEvent): string {
  return writeEvent(event);
}

/** A batch as NDJSON: one event a line, each line ended by `\n`; empty for no events. */
export function formatNdjson(events: readonly CanonicalEvent[]): string {
  let out = '';
  for (const event of events) out += `${writeEvent(event)}\n`;
  return out;
}
