/**
 * Avro single-object encoding (Avro specification, "Single-object encoding"):
 * `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing
 * Canonical Form, then the Avro binary body. The fingerprint lets a reader pick the writer
 * schema among those it knows and resolve it to its own.
 */
import type { Type } from 'avsc';
import { crc64Avro, fingerprintBytes, fingerprintHex } from './crc64.js';
import { decodeFrom } from './plain-types.js';
import { TrustwireError } from '../../errors.js';

export const SINGLE_OBJECT_MARKER: readonly number[] = [0xc3, 0x01];
/** Marker and fingerprint. */
export const SINGLE_OBJECT_HEADER_LENGTH = 10;

/**
 * The schema's Parsing Canonical Form. avsc's `type.schema()` (alias `getSchema()`) without
 * options is already it: primitives in their simple form, full names and no namespaces, only
 * name/type/fields/symbols/items/values/size in that order, logical types reduced to their
 * underlying type; `JSON.stringify` adds no whitespace.
 */
export function parsingCanonicalForm(type: Type): string {
  return JSON.stringify(type.schema());
}

/** CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form. */
export function schemaFingerprint(type: Type): bigint {
  return crc64Avro(parsingCanonicalForm(type));
}

export type SingleObjectDecodeFailure = 'not-single-object' | 'unknown-fingerprint' | 'truncated' | 'malformed';

/** Bytes that cannot be decoded: never worth retrying, so they belong in the dead-letter topic. */
export class SingleObjectDecodeError extends TrustwireError {
  readonly reason: SingleObjectDecodeFailure;
  /** The writer fingerprint the bytes carry, when they got that far. */
  readonly fingerprint: bigint | undefined;
  constructor(reason: SingleObjectDecodeFailure, message: string, fingerprint?: bigint, options?: ErrorOptions) {
    super(message, { cause: options?.cause });
    this.name = 'SingleObjectDecodeError';
    this.reason = reason;
    this.fingerprint = fingerprint;
  }
}

export interface SingleObjectCodec {
  /** The schema values are encoded with and decoded into. */
  readonly type: Type;
  readonly fingerprint: bigint;
  /** Writer fingerprints this codec decodes, the reader's own included. */
  readonly knownFingerprints: readonly bigint[];
  encode(value: unknown): Buffer;
  decode(bytes: Buffer): unknown;
}

interface Writer {
  type: Type;
  /** Absent when the writer's canonical form is the reader's: no resolution needed. */
  resolver: ReturnType<Type['createResolver']> | undefined;
}

export interface SingleObjectCodecOptions {
  /**
   * Writes a value's body into `buf` at `pos` as `reader.encode` would (the same bytes, for a
   * value in another shape, say) and returns the end, or minus the bytes `buf` lacked.
   * `reader.encode` when absent.
   */
  encodeBody?(value: unknown, buf: Buffer, pos: number): number;
}

/**
 * A codec that writes with `reader` and reads anything written with `reader` or one of
 * `writers`. Resolvers are built here, once: a writer the reader cannot resolve fails now,
 * not on the first message that uses it.
 */
export function createSingleObjectCodec(reader: Type, writers: Iterable<Type> = [], options: SingleObjectCodecOptions = {}): SingleObjectCodec {
  const fingerprint = schemaFingerprint(reader);
  const known = new Map<bigint, Writer>([[fingerprint, { type: reader, resolver: undefined }]]);
  for (const writer of writers) {
    const writerFingerprint = schemaFingerprint(writer);
    if (known.has(writerFingerprint)) continue;
    let resolver;
    try {
      resolver = reader.createResolver(writer);
    } catch (error) {
      throw new Error(`writer schema ${fingerprintHex(writerFingerprint)} cannot be resolved to ${reader.name ?? reader.typeName}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    known.set(writerFingerprint, { type: writer, resolver });
  }

  const header = Buffer.concat([Buffer.from(SINGLE_OBJECT_MARKER), fingerprintBytes(fingerprint)]);
  // One scratch buffer per codec, header written once: an encode is one body write and one copy.
  let scratch = Buffer.alloc(64 * 1024);
  header.copy(scratch);

  const encodeBody = options.encodeBody ?? ((value: unknown, buf: Buffer, pos: number) => reader.encode(value, buf, pos));

  function encode(value: unknown): Buffer {
    let end = encodeBody(value, scratch, SINGLE_OBJECT_HEADER_LENGTH);
    if (end < 0) {
      // avsc returns minus the number of bytes missing.
      scratch = Buffer.alloc(Math.max(scratch.length * 2, scratch.length - end));
      header.copy(scratch);
      end = encodeBody(value, scratch, SINGLE_OBJECT_HEADER_LENGTH);
    }
    const out = Buffer.allocUnsafe(end);
    scratch.copy(out, 0, 0, end);
    return out;
  }

  function decode(bytes: Buffer): unknown {
    if (bytes.length < 2 || bytes[0] !== SINGLE_OBJECT_MARKER[0] || bytes[1] !== SINGLE_OBJECT_MARKER[1]) {
      const start = bytes.subarray(0, 2).toString('hex') || 'nothing';
      throw new SingleObjectDecodeError('not-single-object', `not Avro single-object encoded: expected marker c301, got ${start}`);
    }
    if (bytes.length < SINGLE_OBJECT_HEADER_LENGTH) {
      throw new SingleObjectDecodeError('truncated', `truncated Avro single-object header: ${bytes.length} of ${SINGLE_OBJECT_HEADER_LENGTH} bytes`);
    }
    const writerFingerprint = bytes.readBigUInt64LE(2);
    const writer = known.get(writerFingerprint);
    if (writer === undefined) {
      throw new SingleObjectDecodeError(
        'unknown-fingerprint',
        `unknown Avro schema fingerprint ${fingerprintHex(writerFingerprint)} (CRC-64-AVRO); known: ${[...known.keys()].map(fingerprintHex).join(', ')}`,
        writerFingerprint,
      );
    }
    let decoded: { value: unknown; offset: number };
    try {
      decoded = decodeFrom(reader, bytes, SINGLE_OBJECT_HEADER_LENGTH, writer.resolver);
    } catch (error) {
      throw new SingleObjectDecodeError('malformed', `malformed Avro body (schema ${fingerprintHex(writerFingerprint)}): ${(error as Error).message}`, writerFingerprint, {
        cause: error,
      });
    }
    if (decoded.offset < 0) {
      throw new SingleObjectDecodeError('truncated', `truncated Avro body (schema ${fingerprintHex(writerFingerprint)}): ${bytes.length} bytes end mid-value`, writerFingerprint);
    }
    if (decoded.offset !== bytes.length) {
      throw new SingleObjectDecodeError(
        'malformed',
        `malformed Avro body (schema ${fingerprintHex(writerFingerprint)}): ${bytes.length - decoded.offset} bytes after the value`,
        writerFingerprint,
      );
    }
    return decoded.value;
  }

  return { type: reader, fingerprint, knownFingerprints: [...known.keys()], encode, decode };
}
