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
 * - Writing takes the plain values as they are, the same bytes as avsc's writers: each record's
 *   writer (`createRecordWriter`) writes an optional field (a `["null", T]` union) as the null
 *   branch's index for null, its default's bytes for undefined, else T's index and T (after
 *   one `typeof`, instead of avsc's union lookup by value bucket); strings (map keys too) go
 *   in one pass instead of avsc's two (`Buffer.byteLength`, then the write): a short ASCII
 *   one by a loop, a longer one by one `utf8Write` (`writeString`). A value these shortcuts
 *   do not take (a short non-ASCII string, a value of the wrong type) goes to avsc's own
 *   writer, which writes or throws exactly as it did. The event's payload union is written
 *   by `model/avro.ts` (`createRecordWriter`'s custom field writers).
 * - Reading is bounded by the bytes there are: an array or map block counting more entries
 *   than bytes are left ends the read as truncated, where avsc would allocate and loop for
 *   each counted entry (a 10-byte varint can count 2^63).
 *
 * Validation, resolution rules and error messages stay avsc's. `_createConstructor`,
 * `_createWriter`, `_read`, `_skip`, `_write` and the tap's `pos`/`buf`/`readLong`/`readString`/
 * `skipString`/`_invalidate`/`writeLong`/`writeString`/`writeBinary` are internals of avsc 5.7 (pinned in package.json;
 * the event-avro tests cover them, test/unit/event-avro-encode.test.ts against avsc's own writers).
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
  skipString(): void;
  _invalidate(): void;
}

/** What avsc's writers see of the tap. */
export interface WriteTap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
  writeString(s: string): void;
  writeBinary(s: string, length: number): void;
}

/** An avsc type as its writers see it. */
interface WritableType {
  readonly typeName: string;
  readonly types?: readonly WritableType[];
  _write(tap: WriteTap, value: unknown): void;
}

type RecordTypeConstructor = new (schema: avro.Schema, opts: avro.ForSchemaOptions) => Type & { fields: readonly FieldLike[] };
const RecordType = avro.types.RecordType as unknown as RecordTypeConstructor;
const StringType = avro.types.StringType as unknown as new () => Type;
const MapType = avro.types.MapType as unknown as new (schema: avro.Schema, opts: avro.ForSchemaOptions) => Type;
const ArrayType = avro.types.ArrayType as unknown as new (schema: avro.Schema, opts: avro.ForSchemaOptions) => Type;

function isNullable(type: Type): boolean {
  return type.typeName.startsWith('union:') && (type as unknown as { types: readonly Type[] }).types.some((branch) => branch.typeName === 'null');
}

class PlainRecordType extends RecordType {
  /** Called by avsc's RecordType constructor, once the fields' types exist. */
  _createWriter(): (tap: WriteTap, value: unknown) => void {
    return createRecordWriter(this.fields, this.name ?? 'Record');
  }

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
function readString(tap: Tap): string | undefined {
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

/** avsc's string writer, which also throws for a value that is not a string. */
const avscStringWrite = (StringType.prototype as unknown as WritableType)._write;
const avscMapWrite = (MapType.prototype as unknown as WritableType)._write;

/** Strings up to this long are written by a loop in JS; longer ones by one call into C++. */
const SHORT_STRING = 24;
/** The most a string's length varint and its UTF-8 can take beyond 3 bytes a UTF-16 unit. */
const VARINT_MAX = 5;

type Utf8Writer = Buffer & { utf8Write(s: string, offset: number): number };

/** Bytes of the zigzag varint of a non-negative `n`. */
function varintLength(n: number): number {
  let bytes = 1;
  for (let rest = n * 2; rest >= 128; rest = Math.floor(rest / 128)) bytes++;
  return bytes;
}

/**
 * `tap.writeString(s)`, the same bytes, with one pass over the string instead of avsc's two
 * (`Buffer.byteLength`, then the characters again):
 *
 * - a short ASCII string (its UTF-8 length is its length) by a loop in JS;
 * - a longer one by one `utf8Write` after room for its length, the length written once known
 *   (and the text moved in the rare case its varint took other than the room left);
 * - a short non-ASCII string, or one near the end of the buffer, by avsc (whose own loop for
 *   at most 64 bytes writes a lone surrogate as its 3 bytes, where Node writes U+FFFD).
 */
export function writeString(tap: WriteTap, s: string): void {
  const n = s.length;
  const buf = tap.buf;
  const start = tap.pos;
  if (n <= SHORT_STRING) {
    // The length's zigzag varint: one byte.
    buf[start] = n << 1;
    const at = start + 1;
    // Past the end of `buf` the stores do nothing: the tap's position then says how much was missing, as avsc's does.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return tap.writeString(s);
      buf[at + i] = c;
    }
    tap.pos = at + n;
    return;
  }
  if (buf.length - start < 3 * n + VARINT_MAX) return tap.writeString(s);
  const room = n < 64 ? 1 : 2; // n >= 64 characters are at least 64 bytes: a varint of 2 bytes or more
  const written = (buf as Utf8Writer).utf8Write(s, start + room);
  if (written !== n && written <= 64) return tap.writeString(s); // not ASCII, and within avsc's loop
  const varint = written < 64 ? 1 : varintLength(written);
  if (varint !== room) buf.copyWithin(start + varint, start + room, start + room + written);
  tap.writeLong(written);
  tap.pos = start + varint + written;
}

class PlainStringType extends StringType {
  // avsc's resolvers call a string reader's `_read` detached from its type: no `this` here.
  _read(tap: Tap): string | undefined {
    return readString(tap);
  }

  _write(tap: WriteTap, value: unknown): void {
    if (typeof value === 'string') writeString(tap, value);
    else avscStringWrite.call(this, tap, value); // throws avsc's error
  }
}

class PlainMapType extends MapType {
  /**
   * avsc's map reader (also its resolvers', `this` being the resolver) with `readString` for
   * the keys, bounded: a block counting more entries than bytes are left ends the read as
   * truncated (each entry's key takes a byte at least), where avsc would loop for each.
   */
  _read(this: { valuesType: { _read(tap: Tap): unknown } }, tap: Tap): Record<string, unknown> | undefined {
    const values = this.valuesType;
    const out: Record<string, unknown> = {};
    for (let n = nextBlockCount(tap); n !== 0; n = nextBlockCount(tap)) {
      if (n < 0) return undefined;
      while (n-- > 0) {
        const key = readString(tap) as string; // undefined only once the tap is invalid, and the map dropped
        const value = values._read(tap);
        // An own `__proto__` entry, as JSON.parse makes it, not a new prototype for the map.
        if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        else out[key] = value;
      }
    }
    return out;
  }

  /** avsc's skip (of a field the reader lacks), bounded as the read. */
  _skip(this: { valuesType: { _skip(tap: Tap): void } }, tap: Tap): void {
    skipBlocks(tap, (t) => {
      t.skipString();
      this.valuesType._skip(t);
    });
  }

  /** avsc's map writer with `writeString` for the keys. */
  _write(this: { valuesType: WritableType }, tap: WriteTap, value: unknown): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return avscMapWrite.call(this, tap, value); // throws avsc's error
    const values = this.valuesType;
    const keys = Object.keys(value);
    const n = keys.length;
    if (n > 0) {
      tap.writeLong(n);
      for (let i = 0; i < n; i++) {
        const key = keys[i]!;
        writeString(tap, key);
        values._write(tap, (value as Record<string, unknown>)[key]);
      }
    }
    tap.writeLong(0);
  }
}

/** Whether a value of `type` may take no bytes at all: then a count says nothing about the bytes it needs. */
function mayTakeNoBytes(type: Type): boolean {
  if (type.typeName === 'null') return true;
  if (type.typeName === 'fixed') return (type as unknown as { size: number }).size === 0;
  if (type.typeName === 'record' || type.typeName === 'error') {
    // Fields not there yet: the record is still being built around this very array, which takes a byte.
    const fields = (type as unknown as { fields?: readonly FieldLike[] }).fields;
    return fields !== undefined && fields.every((field) => mayTakeNoBytes(field.type));
  }
  return false;
}

class PlainArrayType extends ArrayType {
  constructor(schema: avro.Schema, opts: avro.ForSchemaOptions) {
    super(schema, opts);
    const items = (this as unknown as { itemsType: Type }).itemsType;
    if (mayTakeNoBytes(items)) throw new Error(`arrays of ${items.name ?? items.typeName}, which may take no bytes, cannot be bounded by the bytes left`);
  }

  /**
   * avsc's array reader (also its resolvers'), bounded as the map's: a block counting more
   * items than bytes are left ends the read as truncated, where avsc would allocate an array
   * of that length and loop for each item.
   */
  _read(this: { itemsType: { _read(tap: Tap): unknown } }, tap: Tap): unknown[] | undefined {
    const items = this.itemsType;
    const out: unknown[] = [];
    for (let n = nextBlockCount(tap); n !== 0; n = nextBlockCount(tap)) {
      if (n < 0) return undefined;
      while (n-- > 0) out.push(items._read(tap));
    }
    return out;
  }

  /** avsc's skip (of a field the reader lacks), bounded as the read. */
  _skip(this: { itemsType: { _skip(tap: Tap): void } }, tap: Tap): void {
    skipBlocks(tap, (t) => this.itemsType._skip(t));
  }
}

/**
 * The item count of an array's or map's next block: 0 at the end, -1 (the tap invalidated) when
 * it counts more items than bytes are left (each item takes a byte at least).
 */
function nextBlockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.readLong(); // a block's size in bytes, for skipping it
  }
  if (n > tap.buf.length - tap.pos) {
    invalidate(tap);
    return -1;
  }
  return n;
}

/** Skips an array's or map's blocks, `skipItem` for each entry, bounded by the bytes left. */
function skipBlocks(tap: Tap, skipItem: (tap: Tap) => void): void {
  let n: number;
  while ((n = tap.readLong()) !== 0) {
    if (n < 0) {
      // A block with its size: jumped over, unless the size would move the tap back or past the end.
      const size = tap.readLong();
      if (size < 0 || size > tap.buf.length - tap.pos) return void invalidate(tap);
      tap.pos += size;
      continue;
    }
    if (n > tap.buf.length - tap.pos) return void invalidate(tap);
    while (n-- > 0) skipItem(tap);
  }
}

/** Marks the read failed, as avsc does: `decode` then answers offset -1 and drops the value. */
function invalidate(tap: Tap): undefined {
  tap._invalidate();
  return undefined;
}

// ---- record writers -----------------------------------------------------------------------

/** Writes one field's value; `record` is the record it belongs to. */
export type FieldWriter = (tap: WriteTap, value: unknown, record: Record<string, unknown>) => void;

/** A `typeof` test that a value of T passes (and that puts it in T's bucket of an unwrapped union), or undefined. */
function branchTest(type: WritableType, v: string): string | undefined {
  switch (type.typeName) {
    case 'string':
    case 'enum':
      return `typeof ${v} === 'string'`;
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return `typeof ${v} === 'number'`;
    case 'boolean':
      return `typeof ${v} === 'boolean'`;
    case 'array':
      return `Array.isArray(${v})`;
    case 'record':
    case 'error':
    case 'map':
      // avsc's 'object' bucket: not null (tested before), not an array, not a Buffer.
      return `typeof ${v} === 'object' && !Array.isArray(${v}) && !Buffer.isBuffer(${v})`;
    default:
      return undefined; // bytes, fixed, logical and abstract types: avsc's union decides
  }
}

/** The branches of an unwrapped `["null", T]` (or `[T, "null"]`) union with a plain T, or undefined. */
function nullableBranches(type: WritableType): { nullIndex: number; valueIndex: number; value: WritableType } | undefined {
  if (type.typeName !== 'union:unwrapped' || type.types?.length !== 2) return undefined;
  const nullIndex = type.types.findIndex((branch) => branch.typeName === 'null');
  if (nullIndex === -1) return undefined;
  const valueIndex = 1 - nullIndex;
  const value = type.types[valueIndex]!;
  return value.typeName === 'null' ? undefined : { nullIndex, valueIndex, value };
}

/**
 * The writer of a record with these fields, in the shape avsc's `_createWriter` generates (one
 * function, the field types as its arguments) and writing the same bytes, with the fast paths
 * above; `custom` writes the named fields instead (e.g. a wrapped union whose branch another
 * field decides).
 */
export function createRecordWriter(
  fields: readonly FieldLike[],
  name: string,
  custom: Readonly<Record<string, FieldWriter>> = {},
): (tap: WriteTap, record: unknown) => void {
  const params: string[] = ['ws'];
  const args: unknown[] = [writeString];
  const arg = (value: unknown): string => {
    params.push(`a${args.length}`);
    args.push(value);
    return params[params.length - 1]!;
  };
  /** Statements writing `bytes` (a default's encoding) at the tap. */
  const writeBytes = (bytes: Buffer): string => {
    if (bytes.length > 4) return `t.writeBinary(${arg(bytes.toString('latin1'))}, ${bytes.length});`;
    let out = '';
    bytes.forEach((byte, k) => (out += `t.buf[t.pos${k === 0 ? '' : ` + ${k}`}] = ${byte}; `));
    return `${out}t.pos += ${bytes.length};`;
  };
  const writeValue = (type: WritableType, v: string): string => (type.typeName === 'string' ? `ws(t, ${v});` : `${arg(type)}._write(t, ${v});`);

  let body = '';
  fields.forEach((field, i) => {
    // Field names are Avro names ([A-Za-z_][A-Za-z0-9_]*): safe in generated code, as in avsc's own.
    const get = `v.${field.name}`;
    const v = `v${i}`;
    if (Object.hasOwn(custom, field.name)) {
      body += `${arg(custom[field.name])}(t, ${get}, v);\n`;
      return;
    }
    const type = field.type as unknown as WritableType;
    const t = arg(type);
    const defaultValue = field.defaultValue();
    // avsc writes its default's bytes for an undefined value; without a default, its writer throws.
    const ifUndefined = defaultValue === undefined ? `${t}._write(t, ${v});` : writeBytes(field.type.toBuffer(defaultValue));
    const nullable = nullableBranches(type);
    const test = nullable && branchTest(nullable.value, v);
    body += `var ${v} = ${get};\n`;
    if (nullable !== undefined && test !== undefined) {
      body +=
        `if (${v} === undefined) { ${ifUndefined} }\n` +
        `else if (${v} === null) t.buf[t.pos++] = ${nullable.nullIndex * 2};\n` +
        `else if (${test}) { t.buf[t.pos++] = ${nullable.valueIndex * 2}; ${writeValue(nullable.value, v)} }\n` +
        `else ${t}._write(t, ${v});\n`; // throws avsc's error
    } else if (type.typeName === 'string') {
      body += `if (typeof ${v} === 'string') ws(t, ${v});\nelse if (${v} === undefined) { ${ifUndefined} }\nelse ${t}._write(t, ${v});\n`;
    } else if (defaultValue !== undefined) {
      body += `if (${v} === undefined) { ${ifUndefined} }\nelse ${t}._write(t, ${v});\n`;
    } else {
      body += `${t}._write(t, ${v});\n`;
    }
  });
  const fn = `write${name.replace(/^.*\./, '')}`;
  return new Function(...params, `return function ${fn}(t, v) {\n${body}};`)(...args) as (tap: WriteTap, record: unknown) => void;
}

/**
 * `type.encode(value, buf, pos)` with `write` as the type's writer: the end of what was
 * written, or minus the bytes `buf` lacked (avsc's `Type#encode`).
 */
export function encoderOf(write: (tap: WriteTap, value: unknown) => void): (value: unknown, buf: Buffer, pos: number) => number {
  const writer = { _write: write } as unknown as Type;
  const encode = avro.Type.prototype.encode;
  return (value, buf, pos) => encode.call(writer, value, buf, pos);
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
  if (definition.type === 'array') return new PlainArrayType(schema, opts);
  return undefined;
}

/** Whether `type` is a record made by `plainTypeHook` (and so are the records inside it). */
export function isPlainRecordType(type: Type): boolean {
  return type instanceof PlainRecordType;
}
