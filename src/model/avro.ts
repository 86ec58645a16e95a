/**
 * The Avro side of the event contract: canonical events to single-object encoded bytes and
 * back. The schema is `schemas/trustwire.Event.avsc`, self-contained; every released version is
 * kept as `schemas/history/trustwire.Event.vN.avsc` and stays readable. Changing the schema's
 * canonical form means releasing it as the next vN (a test insists).
 */
import { readdirSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import type { Type, types } from 'avsc';
import { createRecordWriter, encoderOf, isPlainRecordType, plainTypeHook, type WriteTap } from './wire/plain-types.js';
import { createSingleObjectCodec, SingleObjectDecodeError, schemaFingerprint } from './wire/single-object.js';
import { CanonicalEvent, EVENT_TYPES, type EventType } from './events.js';
import { describeValue, fieldErrors, formatPath, ValidationError, type FieldError } from './validation.js';

const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);
/** Publish this file's text (e.g. to a schema registry): avsc's `schema({ exportAttrs })` drops enum defaults. */
export const EVENT_SCHEMA_FILE = new URL('trustwire.Event.avsc', SCHEMA_DIR);
export const EVENT_SCHEMA_HISTORY_DIR = new URL('history/', SCHEMA_DIR);
const RELEASED_FILE = /^trustwire\.Event\.v(\d+)\.avsc$/;

/**
 * An Avro type for a `trustwire.Event` schema (parsed JSON), checked to fit the codec. Its
 * records decode into plain objects without their null optional fields, the objects
 * `CanonicalEvent.parse` yields (`model/wire/plain-types.ts`), so decoding is one pass; and
 * they write such objects as they are, so encoding is one pass too.
 */
export function eventAvroType(schema: object): Type {
  // 'auto' wraps the payload union (six records, ambiguous as plain objects) by branch name
  // and leaves ["null", T] and the setting-value union unwrapped.
  const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto', typeHook: plainTypeHook });
  if (type.name !== 'trustwire.Event') throw new Error(`expected the trustwire.Event schema, got ${type.name ?? type.typeName}`);
  const payload = (type as types.RecordType).field('payload')?.type;
  const branches = payload?.typeName === 'union:wrapped' ? (payload as types.WrappedUnionType).types : [];
  if (branches.length !== EVENT_TYPES.length || !branches.every((branch) => branch.typeName === 'record')) {
    throw new Error(`trustwire.Event.payload must be a union of ${EVENT_TYPES.length} records, one per event type`);
  }
  return type;
}

function readSchema(file: URL): Type {
  try {
    return eventAvroType(JSON.parse(readFileSync(file, 'utf8')) as object);
  } catch (error) {
    throw new Error(`${file.pathname}: ${(error as Error).message}`, { cause: error });
  }
}

export interface ReleasedEventSchema {
  version: number;
  file: URL;
  type: Type;
  fingerprint: bigint;
}

/** Every released schema, oldest first. */
function readReleasedSchemas(): ReleasedEventSchema[] {
  const released: ReleasedEventSchema[] = [];
  for (const name of readdirSync(EVENT_SCHEMA_HISTORY_DIR)) {
    const match = RELEASED_FILE.exec(name);
    if (match === null) continue;
    const file = new URL(name, EVENT_SCHEMA_HISTORY_DIR);
    const type = readSchema(file);
    released.push({ version: Number(match[1]), file, type, fingerprint: schemaFingerprint(type) });
  }
  return released.sort((a, b) => a.version - b.version);
}

// ---- the codec ----------------------------------------------------------------------------

export interface EventCodec {
  readonly type: Type;
  /** CRC-64-AVRO fingerprint of the schema events are written with. */
  readonly fingerprint: bigint;
  readonly knownFingerprints: readonly bigint[];
  encode(event: CanonicalEvent): Buffer;
  decode(bytes: Buffer): CanonicalEvent;
  /** Where the event does not fit the schema (fields it lacks or has beyond it); empty when it fits. */
  fieldErrors(event: CanonicalEvent): FieldError[];
}

interface PayloadBranch {
  /** The event type, the constant of EVENT_TYPES. */
  type: EventType;
  /** Full name of the payload record, the key of avsc's wrapped union value. */
  name: string;
  wrap(payload: unknown): unknown;
}

type AvroEvent = { type: string; payload: Record<string, unknown> } & Record<string, unknown>;

const DIGITS = /^\d+$/;

/** Where `record` does not fit `type`, field by field; the payload's branch name left out of paths. */
function avroFieldErrors(type: Type, record: AvroEvent): FieldError[] {
  const details: FieldError[] = [];
  type.isValid(record, {
    noUndeclaredFields: true,
    errorHook: (path, value, expected) => {
      const segments: PropertyKey[] = path.map((segment) => (DIGITS.test(segment) ? Number(segment) : segment));
      if (segments[0] === 'payload') segments.splice(1, 1);
      details.push({ path: formatPath(segments), message: mismatch(expected, value) });
    },
  });
  return details;
}

function mismatch(expected: Type, value: unknown): string {
  if (expected.typeName === 'record' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const declared = new Set((expected as types.RecordType).fields.map((field) => field.name));
    const unknown = Object.keys(value).filter((key) => !declared.has(key));
    if (unknown.length > 0) return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (not in ${expected.name})`;
  }
  const wanted = expected.typeName.startsWith('union:')
    ? (expected as types.UnwrappedUnionType).types.map((t) => t.name ?? t.typeName).join(' | ')
    : (expected.name ?? expected.typeName);
  return `expected ${wanted}, got ${value === undefined ? 'nothing' : describeValue(value)}`;
}

/** Throws on a wrapped union below the envelope: its values would decode into avsc's branch objects, not plain values. */
function assertNoNestedWrappedUnion(type: Type, seen = new Set<Type>()): void {
  if (seen.has(type)) return;
  seen.add(type);
  if (type.typeName === 'union:wrapped') throw new Error(`unsupported wrapped union ${JSON.stringify(type.schema())}: only the payload's union may be wrapped`);
  if (type.typeName === 'record') for (const field of (type as types.RecordType).fields) assertNoNestedWrappedUnion(field.type, seen);
  if (type.typeName === 'array') assertNoNestedWrappedUnion((type as types.ArrayType).itemsType, seen);
  if (type.typeName === 'map') assertNoNestedWrappedUnion((type as types.MapType).valuesType as Type, seen);
  if (type.typeName === 'union:unwrapped') for (const branch of (type as types.UnwrappedUnionType).types) assertNoNestedWrappedUnion(branch, seen);
}

/**
 * Writes with `reader`; reads what `reader` or any of `writers` wrote. The payload union's
 * branches are PAYLOADS' kinds in order, which `eventAvroType` and the tests hold.
 *
 * The canonical event is written as it is, without the `{branchName: payload}` wrapper avsc's
 * wrapped union wants: the event's writer writes the payload's branch index from `event.type`
 * and the branch's record, the same bytes as avsc writing the wrapped value.
 */
export function createEventCodec(reader: Type, writers: Iterable<Type> = []): EventCodec {
  if (!isPlainRecordType(reader)) throw new Error('the reader type must come from eventAvroType, which decodes records into plain objects');
  const payloadUnion = (reader as types.RecordType).field('payload').type as types.WrappedUnionType;
  const payloadTypes = payloadUnion.types as unknown as readonly { _write(tap: WriteTap, value: unknown): void }[];
  const payloadIndex = new Map<string, number>(EVENT_TYPES.map((eventType, index) => [eventType, index]));
  const writeEvent = createRecordWriter((reader as types.RecordType).fields, reader.name!, {
    payload: (tap, payload, event) => {
      const index = payloadIndex.get(event.type as string);
      // encode() checked the type; anything else reaching here is not an event.
      if (index === undefined) throw new Error(`unknown event type ${describeValue(event.type)}`);
      tap.writeLong(index);
      payloadTypes[index]!._write(tap, payload);
    },
  });
  const codec = createSingleObjectCodec(reader, writers, { encodeBody: encoderOf(writeEvent) });
  for (const field of (reader as types.RecordType).fields) if (field.name !== 'payload') assertNoNestedWrappedUnion(field.type);
  for (const branch of payloadUnion.types) assertNoNestedWrappedUnion(branch);
  const branches = new Map<string, PayloadBranch>(
    EVENT_TYPES.map((eventType: EventType, index) => {
      const record = payloadUnion.types[index] as types.RecordType;
      const branch: PayloadBranch = {
        type: eventType,
        name: record.name!,
        wrap: (payload) => record.wrap(payload),
      };
      return [eventType, branch];
    }),
  );
  function unknownType(event: CanonicalEvent): FieldError[] {
    return [{ path: 'type', message: `unknown event type ${describeValue(event.type)}` }];
  }

  function toAvro(event: CanonicalEvent, branch: PayloadBranch): AvroEvent {
    return { ...event, payload: branch.wrap(event.payload) } as unknown as AvroEvent;
  }

  function encode(event: CanonicalEvent): Buffer {
    const branch = branches.get(event.type);
    if (branch === undefined) throw new ValidationError('event does not fit the Avro schema', unknownType(event));
    try {
      return codec.encode(event);
    } catch (error) {
      // The slow path only: work out which fields are wrong.
      const details = avroFieldErrors(reader, toAvro(event, branch));
      if (details.length === 0) details.push({ path: '(root)', message: (error as Error).message });
      throw new ValidationError('event does not fit the Avro schema', details);
    }
  }

  function fieldErrors(event: CanonicalEvent): FieldError[] {
    const branch = branches.get(event.type);
    return branch === undefined ? unknownType(event) : avroFieldErrors(reader, toAvro(event, branch));
  }

  function malformed(bytes: Buffer, message: string): SingleObjectDecodeError {
    return new SingleObjectDecodeError('malformed', `malformed event: ${message}`, bytes.readBigUInt64LE(2));
  }

  function decode(bytes: Buffer): CanonicalEvent {
    // Already the plain object (eventAvroType's records), but for the payload's union wrapper.
    const record = codec.decode(bytes) as AvroEvent;
    const branch = branches.get(record.type);
    if (branch === undefined) throw malformed(bytes, `unknown type ${describeValue(record.type)}`);
    const payload = record.payload[branch.name];
    if (payload === undefined) throw malformed(bytes, `type is ${record.type} but the payload is not a ${branch.name}`);
    record.payload = payload as Record<string, unknown>;
    // The same text, as the constant: the formats' switches and lookups on the type then
    // compare one pointer instead of the characters of a freshly decoded string.
    record.type = branch.type;
    return record as unknown as CanonicalEvent;
  }

  return { type: reader, fingerprint: codec.fingerprint, knownFingerprints: codec.knownFingerprints, encode, decode, fieldErrors };
}

/** The current schema: events are written with it. */
export const EVENT_AVRO_TYPE: Type = readSchema(EVENT_SCHEMA_FILE);
export const RELEASED_EVENT_SCHEMAS: readonly ReleasedEventSchema[] = readReleasedSchemas();

const eventCodec = createEventCodec(
  EVENT_AVRO_TYPE,
  RELEASED_EVENT_SCHEMAS.map((released) => released.type),
);

/** CRC-64-AVRO fingerprint of the current schema's Parsing Canonical Form. */
export const EVENT_SCHEMA_FINGERPRINT: bigint = eventCodec.fingerprint;

/** A canonical event as Avro single-object bytes, written with the current schema. */
export function encodeEvent(event: CanonicalEvent): Buffer {
  return eventCodec.encode(event);
}

/**
 * Single-object bytes written with the current or any released schema, as the object
 * `CanonicalEvent.parse` yields. Avro holds the structure; the finer rules of the zod schema
 * (lengths, ranges, id and IP formats) are not checked again here.
 */
export function decodeEvent(bytes: Buffer): CanonicalEvent {
  return eventCodec.decode(bytes);
}

/** Where the event does not fit the current Avro schema, field by field; empty when it fits. */
export function eventAvroFieldErrors(event: CanonicalEvent): FieldError[] {
  return eventCodec.fieldErrors(event);
}

/** Avro single-object (what trustwire writes) or JSON (what another producer may write). */
export function decodeValue(value: Buffer | null): CanonicalEvent {
  if (value === null || value.length === 0) throw new Error('record has no value');
  if (value[0] === 0xc3 && value[1] === 0x01) return decodeEvent(value);
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new Error(`neither Avro single-object nor JSON: ${(error as Error).message}`);
  }
  const result = CanonicalEvent.safeParse(json);
  if (!result.success) throw new ValidationError('event breaks the contract', fieldErrors(result.error));
  return result.data;
}
