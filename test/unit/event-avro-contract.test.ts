import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import avro from 'avsc';
import type { Type, types } from 'avsc';
import { z } from 'zod';
import { schemaFingerprint } from '../../src/model/wire/single-object.js';
import {
  EVENT_AVRO_TYPE,
  EVENT_SCHEMA_FILE,
  EVENT_SCHEMA_FINGERPRINT,
  RELEASED_EVENT_SCHEMAS,
  decodeEvent,
  encodeEvent,
  eventAvroFieldErrors,
} from '../../src/model/avro.js';
import { CanonicalEvent, EVENT_TYPES, PAYLOADS } from '../../src/model/events.js';
import { EpochMillis } from '../../src/model/primitives.js';

const FIXTURES = new URL('../../src/kit/events/', import.meta.url);
const fixtures = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, json: JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as unknown }));

const currentSchema = JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;

test('there is one fixture per event kind, named after it', () => {
  assert.deepEqual(fixtures.map((f) => f.name).sort(), EVENT_TYPES.map((type) => `${type}.json`).sort());
  for (const { name, json } of fixtures) assert.equal(`${(json as { type: string }).type}.json`, name);
});

test('every fixture is a valid CanonicalEvent', () => {
  for (const { name, json } of fixtures) {
    const result = CanonicalEvent.safeParse(json);
    assert.ok(result.success, `${name}: ${result.error?.message}`);
  }
});

test('every fixture fits the Avro schema, with no field the schema lacks', () => {
  for (const { name, json } of fixtures) {
    const event = CanonicalEvent.parse(json);
    assert.deepEqual(eventAvroFieldErrors(event), [], name);
  }
});

test('every fixture round-trips through Avro into what CanonicalEvent.parse yields', () => {
  for (const { name, json } of fixtures) {
    const parsed = CanonicalEvent.parse(json);
    const decoded = decodeEvent(encodeEvent(parsed));
    assert.deepEqual(decoded, parsed, name);
    // Same key order too, so JSON formats render a decoded event byte for byte as a parsed one.
    assert.equal(JSON.stringify(decoded), JSON.stringify(parsed), name);
  }
});

test('optional fields left out stay out after a round trip, and defaults are filled as zod fills them', () => {
  const minimal = CanonicalEvent.parse({
    id: '01959418-ad00-7a1c-9e4b-2f6d8a0c31b5',
    type: 'trust.change',
    time: 1741946399871,
    ingestTime: '2025-03-14T10:00:00Z',
    source: { system: 'attestation', vendor: 'Keylime', product: 'verifier' },
    host: { id: 'kvm-fra1-12' },
    severity: 8,
    payload: { status: 'untrusted', attestationService: 'keylime' },
  });
  const decoded = decodeEvent(encodeEvent(minimal));
  assert.deepEqual(decoded, minimal);
  assert.ok(!('tenant' in decoded) && !('enrichment' in decoded) && !('version' in decoded.source));
  assert.deepEqual(decoded.payload, { status: 'untrusted', attestationService: 'keylime', flavors: [], assetTags: {} });
});

test('each fixture is encoded under the current schema fingerprint', () => {
  const bytes = encodeEvent(CanonicalEvent.parse(fixtures[0]!.json));
  assert.equal(bytes.readBigUInt64LE(2), EVENT_SCHEMA_FINGERPRINT);
  assert.equal(EVENT_SCHEMA_FINGERPRINT, schemaFingerprint(EVENT_AVRO_TYPE));
});

// ---- zod and Avro hold the same fields ----------------------------------------------------

/** avsc keeps timestamp-millis only when told about it; the walk below needs to see it. */
class TimestampMillis extends avro.types.LogicalType {
  protected override _fromValue(value: unknown) {
    return value;
  }
  protected override _toValue(value: unknown) {
    return value;
  }
  protected override _resolve(type: Type) {
    return type.typeName === 'long' || type.typeName === 'logical:timestamp-millis' ? (value: unknown) => value : undefined;
  }
}

function typeWithLogicalTypes(schema: object): Type {
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto', logicalTypes: { 'timestamp-millis': TimestampMillis } });
}

type AnyZod = z.ZodType;
type Def = { type: string; innerType?: AnyZod; defaultValue?: unknown; element?: AnyZod; valueType?: AnyZod; options?: AnyZod[]; entries?: Record<string, string> };
const defOf = (schema: AnyZod) => schema.def as unknown as Def;

function avroName(type: Type): string {
  return type.name ?? type.typeName;
}

function isNullableUnion(type: Type): boolean {
  return type.typeName === 'union:unwrapped' && (type as types.UnwrappedUnionType).types[0]?.typeName === 'null';
}

/** Every place where the zod schema and the Avro type disagree, as `path: problem`. */
function contractMismatches(zodSchema: AnyZod, avroType: Type, path: string, out: string[] = []): string[] {
  const def = defOf(zodSchema);
  const expect = (typeName: string | string[], what = def.type) => {
    const wanted = Array.isArray(typeName) ? typeName : [typeName];
    if (!wanted.includes(avroType.typeName)) out.push(`${path}: zod ${what} but Avro ${avroName(avroType)} (want ${wanted.join(' or ')})`);
    return wanted.includes(avroType.typeName);
  };
  switch (def.type) {
    case 'object':
      if (expect('record')) compareObject(zodSchema as z.ZodObject, avroType as types.RecordType, path, out);
      break;
    case 'array':
      if (expect('array')) contractMismatches(def.element!, (avroType as types.ArrayType).itemsType, `${path}[]`, out);
      break;
    case 'record':
      if (expect('map')) contractMismatches(def.valueType!, (avroType as types.MapType).valuesType as Type, `${path}{}`, out);
      break;
    case 'enum':
      if (expect('enum')) {
        const zodSymbols = Object.values(def.entries!).sort();
        const avroSymbols = [...(avroType as types.EnumType).symbols].sort();
        if (zodSymbols.join() !== avroSymbols.join()) out.push(`${path}: zod symbols ${zodSymbols.join(',')} but Avro ${avroSymbols.join(',')}`);
      }
      break;
    case 'union': {
      if (!expect('union:unwrapped')) break;
      const branches = (avroType as types.UnwrappedUnionType).types;
      if (branches.length !== def.options!.length) out.push(`${path}: zod union of ${def.options!.length}, Avro of ${branches.length}`);
      def.options!.forEach((option, i) => branches[i] && contractMismatches(option, branches[i], `${path}|${i}`, out));
      break;
    }
    case 'pipe': // Timestamp: ms or RFC 3339 in, epoch ms out
      expect('logical:timestamp-millis', 'Timestamp');
      break;
    case 'number':
      if (zodSchema === EpochMillis) expect('logical:timestamp-millis', 'EpochMillis');
      else if ((zodSchema as z.ZodNumber).format === 'safeint') expect(['int', 'long'], 'integer');
      else expect('double');
      break;
    case 'string':
    case 'literal':
      expect('string');
      break;
    case 'boolean':
      expect('boolean');
      break;
    default:
      out.push(`${path}: zod ${def.type} has no Avro counterpart this check knows`);
  }
  return out;
}

function compareObject(schema: z.ZodObject, record: types.RecordType, path: string, out: string[], fieldType?: (name: string, type: Type) => Type): void {
  const zodFields = Object.keys(schema.shape);
  const avroFields = record.fields.map((field) => field.name);
  for (const name of zodFields) if (!avroFields.includes(name)) out.push(`${path}.${name}: in zod, missing from Avro ${record.name}`);
  for (const name of avroFields) if (!zodFields.includes(name)) out.push(`${path}.${name}: in Avro ${record.name}, missing from zod`);
  for (const field of record.fields) {
    let zodField = schema.shape[field.name] as AnyZod | undefined;
    if (zodField === undefined) continue;
    const at = `${path}.${field.name}`;
    let optional = false;
    let zodDefault: { value: unknown } | undefined;
    for (let def = defOf(zodField); def.type === 'optional' || def.type === 'default'; def = defOf(zodField)) {
      if (def.type === 'optional') optional = true;
      else zodDefault = { value: def.defaultValue };
      zodField = def.innerType!;
    }
    let avroType = fieldType ? fieldType(field.name, field.type) : field.type;
    const avroDefault = field.defaultValue() as unknown;
    if (optional) {
      if (!isNullableUnion(avroType) || avroDefault !== null) {
        out.push(`${at}: optional in zod, so Avro must be ["null", T] with default null`);
        continue;
      }
      const branches = (avroType as types.UnwrappedUnionType).types;
      if (branches.length !== 2) out.push(`${at}: Avro ["null", T] must have exactly one other branch`);
      avroType = branches[1]!;
    } else if (isNullableUnion(avroType)) {
      out.push(`${at}: required in zod but nullable in Avro`);
      continue;
    }
    if (!optional) {
      if (zodDefault !== undefined && !isDeepEqual(avroDefault, zodDefault.value)) {
        out.push(`${at}: zod default ${JSON.stringify(zodDefault.value)}, Avro default ${JSON.stringify(avroDefault)}`);
      }
      if (zodDefault === undefined && avroDefault !== undefined) out.push(`${at}: Avro default ${JSON.stringify(avroDefault)} but none in zod`);
    }
    contractMismatches(zodField, avroType, at, out);
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Each CanonicalEvent variant against the Event record, its payload against the branch of its kind. */
function eventMismatches(event: Type): string[] {
  const out: string[] = [];
  const payloadUnion = (event as types.RecordType).field('payload')?.type as types.WrappedUnionType | undefined;
  if (payloadUnion?.typeName !== 'union:wrapped') return ['Event.payload: not a union of records'];
  if (payloadUnion.types.length !== EVENT_TYPES.length) out.push(`Event.payload: ${payloadUnion.types.length} branches for ${EVENT_TYPES.length} kinds`);
  for (const variant of CanonicalEvent.options) {
    const type = defOf(variant.shape.type as AnyZod).type === 'literal' ? (variant.shape.type as z.ZodLiteral<string>).value : '?';
    const branch = payloadUnion.types[EVENT_TYPES.indexOf(type as (typeof EVENT_TYPES)[number])];
    if (branch === undefined) {
      out.push(`Event(${type}).payload: no Avro branch`);
      continue;
    }
    compareObject(variant as unknown as z.ZodObject, event as types.RecordType, `Event(${type})`, out, (name, fieldType) => (name === 'payload' ? branch : fieldType));
  }
  return out;
}

test('the Avro schema and the zod schemas hold the same records, fields, optionality, defaults and enums', () => {
  assert.deepEqual(eventMismatches(typeWithLogicalTypes(currentSchema)), []);
});

test('the payload union holds one record per kind, in the order of PAYLOADS', () => {
  const union = (EVENT_AVRO_TYPE as types.RecordType).field('payload').type as types.WrappedUnionType;
  const pascal = (type: string) => type.split('.').map((part) => part[0]!.toUpperCase() + part.slice(1)).join('');
  assert.deepEqual(
    union.types.map((branch) => branch.name),
    Object.keys(PAYLOADS).map((type) => `trustwire.${pascal(type)}`),
  );
});

function withField(schema: object, recordName: string, change: (fields: Array<Record<string, unknown>>) => void): object {
  const copy = structuredClone(schema) as Record<string, unknown>;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.type === 'record' && record.name === recordName) change(record.fields as Array<Record<string, unknown>>);
      Object.values(record).forEach(visit);
    }
  };
  visit(copy);
  return copy;
}

test('the contract check notices a field added to or dropped from one side only', () => {
  const added = withField(currentSchema, 'AttestationFault', (fields) => fields.push({ name: 'eventLogDigest', type: ['null', 'string'], default: null, doc: 'x' }));
  assert.deepEqual(eventMismatches(typeWithLogicalTypes(added)), [
    'Event(trust.change).payload.flavors[].faults[].eventLogDigest: in Avro trustwire.AttestationFault, missing from zod',
  ]);
  const dropped = withField(currentSchema, 'HostIdentity', (fields) => fields.splice(fields.findIndex((f) => f.name === 'pool'), 1));
  // The envelope is checked once per kind.
  assert.equal(eventMismatches(typeWithLogicalTypes(dropped)).filter((m) => m.endsWith('host.pool: in zod, missing from Avro trustwire.HostIdentity')).length, EVENT_TYPES.length);
  const required = withField(currentSchema, 'PolicyResource', (fields) => {
    const name = fields.find((f) => f.name === 'name')!;
    name.type = 'string';
    delete name.default;
  });
  assert.deepEqual(eventMismatches(typeWithLogicalTypes(required)), ['Event(policy.decision).payload.resource.name: optional in zod, so Avro must be ["null", T] with default null']);
});

// ---- the schema files ---------------------------------------------------------------------

function undocumented(node: unknown, path: string, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item, i) => undocumented(item, `${path}[${i}]`, out));
  else if (node !== null && typeof node === 'object') {
    const schema = node as Record<string, unknown>;
    const named = schema.type === 'record' || schema.type === 'enum' || schema.type === 'fixed';
    if (named && typeof schema.doc !== 'string') out.push(`${path} (${String(schema.name)})`);
    if (schema.type === 'record') {
      for (const field of schema.fields as Array<Record<string, unknown>>) {
        if (typeof field.doc !== 'string') out.push(`${String(schema.name)}.${String(field.name)}`);
        undocumented(field.type, `${String(schema.name)}.${String(field.name)}`, out);
      }
    } else {
      for (const [key, value] of Object.entries(schema)) if (key !== 'default') undocumented(value, `${path}.${key}`, out);
    }
  }
  return out;
}

test('every record, enum and field of the schema has a doc', () => {
  assert.deepEqual(undocumented(currentSchema, 'Event'), []);
});

test('the current schema is the newest released version', () => {
  const newest = RELEASED_EVENT_SCHEMAS.at(-1);
  assert.ok(newest, 'schemas/history/ holds no released version');
  assert.equal(
    EVENT_SCHEMA_FINGERPRINT,
    newest.fingerprint,
    `schemas/trustwire.Event.avsc changed its canonical form: release it as schemas/history/trustwire.Event.v${newest.version + 1}.avsc`,
  );
  assert.deepEqual(
    RELEASED_EVENT_SCHEMAS.map((released) => released.version),
    RELEASED_EVENT_SCHEMAS.map((_, i) => i + 1),
    'released versions are numbered 1, 2, 3, ... without gaps',
  );
});
