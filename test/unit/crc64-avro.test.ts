import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CRC64_AVRO_EMPTY, crc64Avro, fingerprintBytes, fingerprintHex, toSignedFingerprint } from '../../src/model/wire/crc64.js';

interface SpecCase {
  id: string;
  canonical: string;
  fingerprint?: string;
}
const spec = JSON.parse(readFileSync(new URL('../fixtures/avro/schema-tests.json', import.meta.url), 'utf8')) as { tests: SpecCase[] };
const withFingerprint = spec.tests.filter((c): c is Required<SpecCase> => c.fingerprint !== undefined);

test('the specification test data has enough fingerprints to mean something', () => {
  assert.ok(withFingerprint.length >= 5, `${withFingerprint.length} fingerprints`);
});

test('CRC-64-AVRO of each canonical form matches the fingerprint in the Avro specification test data', () => {
  for (const c of withFingerprint) {
    assert.equal(toSignedFingerprint(crc64Avro(c.canonical)).toString(), c.fingerprint, `schema-tests.txt ${c.id}: ${c.canonical}`);
  }
});

test('bytes and their UTF-8 string give the same fingerprint', () => {
  const text = '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}';
  assert.equal(crc64Avro(Buffer.from(text, 'utf8')), crc64Avro(text));
});

test('the fingerprint of nothing is EMPTY', () => {
  assert.equal(crc64Avro(''), CRC64_AVRO_EMPTY);
});

test('the fingerprint is unsigned and its wire form is 8 bytes little-endian', () => {
  const fingerprint = crc64Avro('"null"'); // 7195948357588979594 = 0x63dd24e7cc258f8a
  assert.equal(fingerprint, 0x63dd24e7cc258f8an);
  assert.deepEqual([...fingerprintBytes(fingerprint)], [0x8a, 0x8f, 0x25, 0xcc, 0xe7, 0x24, 0xdd, 0x63]);
  assert.equal(fingerprintHex(fingerprint), '63dd24e7cc258f8a');

  const negative = crc64Avro('"boolean"'); // -6970731678124411036 as a Java long
  assert.ok(negative > 0n);
  assert.equal(fingerprintBytes(negative).readBigInt64LE(), -6970731678124411036n);
});
