import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import avro from 'avsc';
import { crc64Avro, fingerprintBytes } from '../../src/model/wire/crc64.js';
import {
  createSingleObjectCodec,
  parsingCanonicalForm,
  schemaFingerprint,
  SingleObjectDecodeError,
  type SingleObjectDecodeFailure,
} from '../../src/model/wire/single-object.js';

interface SpecCase {
  id: string;
  input: string;
  canonical: string;
}
const spec = JSON.parse(readFileSync(new URL('../fixtures/avro/schema-tests.json', import.meta.url), 'utf8')) as { tests: SpecCase[] };

// avsc refuses these two inputs before any canonical form exists.
const REFUSED_BY_AVSC: Record<string, string> = {
  '016': 'an empty union',
  '026': 'the string default "true" of a boolean field',
};

test('the Parsing Canonical Form of each schema in the Avro specification test data is the expected one', () => {
  for (const c of spec.tests) {
    if (c.id in REFUSED_BY_AVSC) continue;
    const type = avro.Type.forSchema(JSON.parse(c.input) as avro.Schema);
    assert.equal(parsingCanonicalForm(type), c.canonical, `schema-tests.txt ${c.id}: ${c.input}`);
  }
});

test('avsc refuses exactly the specification schemas it is known to refuse', () => {
  for (const [id, why] of Object.entries(REFUSED_BY_AVSC)) {
    const c = spec.tests.find((t) => t.id === id)!;
    assert.throws(() => avro.Type.forSchema(JSON.parse(c.input) as avro.Schema), Error, `${id}: ${why}`);
  }
  // 026 without its invalid default still strips aliases, order and doc as the spec expects.
  const c026 = spec.tests.find((t) => t.id === '026')!;
  const fixed = JSON.parse(c026.input) as { fields: Array<Record<string, unknown>> };
  delete fixed.fields[0]!.default;
  assert.equal(parsingCanonicalForm(avro.Type.forSchema(fixed as avro.Schema)), c026.canonical);
});

test('the canonical form drops logical types, defaults and enum defaults, which do not change the bytes', () => {
  const type = avro.Type.forSchema({
    type: 'record',
    name: 'Sample',
    namespace: 'trustwire.test',
    doc: 'ignored',
    fields: [
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'ignored' },
      { name: 'level', type: { type: 'enum', name: 'Level', symbols: ['low', 'high'], default: 'low' }, default: 'high' },
      { name: 'note', type: ['null', 'string'], default: null },
    ],
  });
  assert.equal(
    parsingCanonicalForm(type),
    '{"name":"trustwire.test.Sample","type":"record","fields":[{"name":"at","type":"long"},' +
      '{"name":"level","type":{"name":"trustwire.test.Level","type":"enum","symbols":["low","high"]}},' +
      '{"name":"note","type":["null","string"]}]}',
  );
});

const V1 = {
  type: 'record',
  name: 'Reading',
  namespace: 'trustwire.test',
  fields: [
    { name: 'sensor', type: 'string' },
    { name: 'value', type: 'double' },
  ],
} as const;
const V2 = { ...V1, fields: [...V1.fields, { name: 'unit', type: 'string', default: 'C' }] };

test('an encoded value is C3 01, the schema fingerprint little-endian, then the Avro binary', () => {
  const type = avro.Type.forSchema(V1 as unknown as avro.Schema);
  const codec = createSingleObjectCodec(type);
  const value = { sensor: 'inlet-1', value: 21.5 };
  const bytes = codec.encode(value);
  assert.deepEqual([...bytes.subarray(0, 2)], [0xc3, 0x01]);
  assert.deepEqual(bytes.subarray(2, 10), fingerprintBytes(crc64Avro(parsingCanonicalForm(type))));
  assert.deepEqual(bytes.subarray(10), type.toBuffer(value));
  assert.equal(codec.fingerprint, schemaFingerprint(type));
  assert.deepEqual({ ...(codec.decode(bytes) as object) }, value);
});

test('a value larger than the scratch buffer encodes whole', () => {
  const codec = createSingleObjectCodec(avro.Type.forSchema(V1 as unknown as avro.Schema));
  const value = { sensor: 'x'.repeat(200_000), value: 1 };
  assert.deepEqual({ ...(codec.decode(codec.encode(value)) as object) }, value);
  const small = { sensor: 'y', value: 2 };
  assert.deepEqual({ ...(codec.decode(codec.encode(small)) as object) }, small);
});

test('bytes written with a known older schema resolve to the reader schema', () => {
  const v1 = avro.Type.forSchema(V1 as unknown as avro.Schema);
  const v2 = avro.Type.forSchema(V2 as unknown as avro.Schema);
  const bytes = createSingleObjectCodec(v1).encode({ sensor: 'inlet-1', value: 21.5 });
  const reader = createSingleObjectCodec(v2, [v1]);
  assert.deepEqual(reader.knownFingerprints, [schemaFingerprint(v2), schemaFingerprint(v1)]);
  assert.deepEqual({ ...(reader.decode(bytes) as object) }, { sensor: 'inlet-1', value: 21.5, unit: 'C' });
});

test('a writer schema the reader cannot resolve is refused when the codec is made', () => {
  const v1 = avro.Type.forSchema(V1 as unknown as avro.Schema);
  const other = avro.Type.forSchema({ ...V1, fields: [{ name: 'sensor', type: 'int' }] } as unknown as avro.Schema);
  assert.throws(() => createSingleObjectCodec(v1, [other]), /cannot be resolved to trustwire\.test\.Reading/);
});

function decodeFailure(decode: () => unknown): SingleObjectDecodeError {
  try {
    decode();
  } catch (error) {
    assert.ok(error instanceof SingleObjectDecodeError, `expected a SingleObjectDecodeError, got ${String(error)}`);
    return error;
  }
  assert.fail('decoding succeeded');
}

function assertFailure(decode: () => unknown, reason: SingleObjectDecodeFailure, message: RegExp): void {
  const error = decodeFailure(decode);
  assert.equal(error.reason, reason, error.message);
  assert.match(error.message, message);
}

test('bytes without the single-object marker are refused as such', () => {
  const codec = createSingleObjectCodec(avro.Type.forSchema(V1 as unknown as avro.Schema));
  const bytes = codec.encode({ sensor: 'inlet-1', value: 21.5 });
  assertFailure(() => codec.decode(Buffer.from('{"sensor":"inlet-1"}')), 'not-single-object', /not Avro single-object encoded: expected marker c301, got 7b22/);
  assertFailure(() => codec.decode(bytes.subarray(10)), 'not-single-object', /expected marker c301/);
  assertFailure(() => codec.decode(Buffer.alloc(0)), 'not-single-object', /got nothing/);
  assertFailure(() => codec.decode(Buffer.from([0xc3])), 'not-single-object', /got c3$/);
});

test('an unknown fingerprint is refused with its hex value', () => {
  const codec = createSingleObjectCodec(avro.Type.forSchema(V1 as unknown as avro.Schema));
  const bytes = Buffer.from(codec.encode({ sensor: 'inlet-1', value: 21.5 }));
  bytes.writeBigUInt64LE(0x0123456789abcdefn, 2);
  const error = decodeFailure(() => codec.decode(bytes));
  assert.equal(error.reason, 'unknown-fingerprint');
  assert.equal(error.fingerprint, 0x0123456789abcdefn);
  assert.match(error.message, /unknown Avro schema fingerprint 0123456789abcdef/);
});

test('truncated bytes are refused as truncated', () => {
  const codec = createSingleObjectCodec(avro.Type.forSchema(V1 as unknown as avro.Schema));
  const bytes = codec.encode({ sensor: 'inlet-1', value: 21.5 });
  assertFailure(() => codec.decode(bytes.subarray(0, 6)), 'truncated', /truncated Avro single-object header: 6 of 10 bytes/);
  for (let end = 10; end < bytes.length; end++) {
    assertFailure(() => codec.decode(bytes.subarray(0, end)), 'truncated', /truncated Avro body/);
  }
});

test('bytes after the value are refused', () => {
  const codec = createSingleObjectCodec(avro.Type.forSchema(V1 as unknown as avro.Schema));
  const bytes = Buffer.concat([codec.encode({ sensor: 'inlet-1', value: 21.5 }), Buffer.from([0])]);
  assertFailure(() => codec.decode(bytes), 'malformed', /1 bytes after the value/);
});
