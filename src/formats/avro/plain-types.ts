/**
 * avsc types that decode straight into the values zod gives, in one pass (`plainTypeHook`):
 *
 * - Records become plain objects: no class, no methods, and an optional field (a union with
 *   null) that holds null is left out rather than set to null. avsc builds each record type's
 *   reader, and every resolver reading into it, around the type's `recordConstructor`
 *   (`new Record(v0, v1, ...)`, the field values in order); a constructor that assigns only
 *   the present fields, with `Object.prototype` as its prototype, changes what every read and
 *   resolution yields and nothing else.
 * - Strings (and map keys) read inside `decodeFrom` that are pure ASCII (most of an event's:
 *   ids, host names, addresses) are cut with `substring` from one latin1 copy of the buffer,
 *   instead of one `utf8Slice` call into C++ each, which was ~45 % of decoding an event.
 *
 * Encoding, validation, resolution rules and error messages stay avsc's. `_createConstructor`,
 * `_read` and the tap's `pos`/`buf`/`readLong`/`readString` are internals of avsc 5.7 (pinned
 * in package.json; the event-avro tests cover them).
 */
import avro from 'avsc';
import type { Type } from 'avsc';

interface FieldLike {
  name: string;
  type: Type;
  defaultValue(): unknown;
}

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  readString(): string;
}

type RecordTypeConstructor = new (schema: avro.Schema, opts: avro.ForSchemaOptions) => Type & { fields: readonly FieldLike[] };
const RecordType = avro.types.RecordType as unknown as RecordTypeConstructor;
const StringType = avro.types.StringType as unknown as new () => Type;
const MapType = avro.types.MapType as unknown as new (schema: avro.Schema, opts: avro.ForSchemaOptions) => Type;

function isNullable(type: Type): boolean {
  return type.typeName.startsWith('union:') && (type as unknown as { types: readonly Type[] }).types.some((branch) => branch.typeName === 'null');
}

class PlainRecordType extends RecordType {
  /** Called by avsc's RecordType constructor; the same parameters, defaults applied the same way. */
  _createConstructor(): unknown {
    const defaults: (() => unknown)[] = [];
    const params: string[] = [];
    let body = '';
    this.fields.forEach((field, i) => {
      const v = `v${i}`;
      params.push(v);
      // avsc passes undefined for a field the writer lacks: the reader's default fills it.
      if (field.defaultValue() !== undefined) body += `if (${v} === undefined) ${v} = d${defaults.push(() => field.defaultValue()) - 1}();\n`;
      // Field names are Avro names ([A-Za-z_][A-Za-z0-9_]*): safe in generated code, as in avsc's own.
      body += isNullable(field.type) ? `if (${v} !== null) this.${field.name} = ${v};\n` : `this.${field.name} = ${v};\n`;
    });
    const name = this.name?.replace(/^.*\./, '') ?? 'Record';
    const Record = new Function(...defaults.map((_, i) => `d${i}`), `return function ${name}(${params.join(', ')}) {\n${body}};`)(...defaults) as {
      prototype: object;
    };
    Record.prototype = Object.prototype;
    return Record;
  }
}

// ---- strings ------------------------------------------------------------------------------

/** The buffer `decodeFrom` is decoding, and its latin1 text once a string needed it. */
let body: Buffer | undefined;
let text: string | undefined;

/** A string at the tap, cut from the latin1 text when it is ASCII and `decodeFrom` is decoding this buffer. */
function readString(tap: Tap): string {
  const buf = tap.buf;
  if (buf === body) {
    const at = tap.pos;
    const length = tap.readLong();
    const start = tap.pos;
    const end = start + length;
    if (length >= 0 && end <= buf.length) {
      let i = start;
      while (i < end && buf[i]! < 0x80) i++;
      if (i === end) {
        tap.pos = end;
        text ??= buf.toString('latin1');
        return text.substring(start, end);
      }
    }
    tap.pos = at; // not ASCII, or not all there: avsc's way
  }
  return tap.readString();
}

class PlainStringType extends StringType {
  // avsc's resolvers call a string reader's `_read` detached from its type: no `this` here.
  _read(tap: Tap): string {
    return readString(tap);
  }
}

class PlainMapType extends MapType {
  /** avsc's map reader (also its resolvers', `this` being the resolver) with `readString` for the keys. */
  _read(this: { valuesType: { _read(tap: Tap): unknown } }, tap: Tap): Record<string, unknown> {
    const values = this.valuesType;
    const out: Record<string, unknown> = {};
    let n: number;
    while ((n = tap.readLong()) !== 0) {
      if (n < 0) {
        n = -n;
        tap.readLong(); // a block's size in bytes, for skipping it
      }
      while (n-- > 0) {
        const key = readString(tap);
        out[key] = values._read(tap);
      }
    }
    return out;
  }
}

/** `type.decode(bytes, offset, resolver)`, with the ASCII fast path for `plainTypeHook`'s strings. */
export function decodeFrom(type: Type, bytes: Buffer, offset: number, resolver?: Parameters<Type['decode']>[2]): ReturnType<Type['decode']> {
  body = bytes;
  text = undefined;
  try {
    return type.decode(bytes, offset, resolver);
  } finally {
    body = undefined;
    text = undefined; // the text is not kept past the decode (the strings cut from it are)
  }
}

// ---- the hook -----------------------------------------------------------------------------

/** avsc's `typeHook`: plain-object records and fast strings (map keys too) throughout the schema. */
export function plainTypeHook(schema: avro.Schema, opts: avro.ForSchemaOptions): Type | undefined {
  if (typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const definition = schema as { type?: unknown; logicalType?: unknown };
  if (definition.logicalType !== undefined) return undefined; // avsc's logical types stay as they are
  if (definition.type === 'record') return new PlainRecordType(schema, opts);
  // `"string"` references reach here as `{type: "string"}`, once per registry.
  if (definition.type === 'string') return new PlainStringType();
  if (definition.type === 'map') return new PlainMapType(schema, opts);
  return undefined;
}

/** Whether `type` is a record made by `plainTypeHook` (and so are the records inside it). */
export function isPlainRecordType(type: Type): boolean {
  return type instanceof PlainRecordType;
}
