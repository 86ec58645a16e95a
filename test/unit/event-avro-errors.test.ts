import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { types } from 'avsc';
import { SingleObjectDecodeError, type SingleObjectDecodeFailure } from '../../src/model/wire/single-object.js';
import { decodeEvent, encodeEvent, EVENT_AVRO_TYPE, EVENT_SCHEMA_FINGERPRINT, eventAvroFieldErrors } from '../../src/model/avro.js';
import { CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { ValidationError } from '../../src/model/validation.js';

const fixture = (type: string) => CanonicalEvent.parse(JSON.parse(readFileSync(new URL(`../../src/kit/events/${type}.json`, import.meta.url), 'utf8')));

function decodeFailure(bytes: Buffer): SingleObjectDecodeError {
  try {
    decodeEvent(bytes);
  } catch (error) {
    assert.ok(error instanceof SingleObjectDecodeError, `expected a SingleObjectDecodeError, got ${String(error)}`);
    return error;
  }
  assert.fail('decoding succeeded');
}

function assertDecodeFailure(bytes: Buffer, reason: SingleObjectDecodeFailure, message: RegExp): void {
  const error = decodeFailure(bytes);
  assert.equal(error.reason, reason, error.message);
  assert.match(error.message, message);
}

/** Single-object bytes of an Avro value built by hand, bypassing encodeEvent's checks. */
function rawBytes(value: unknown): Buffer {
  const header = Buffer.alloc(10);
  header.writeUInt8(0xc3, 0);
  header.writeUInt8(0x01, 1);
  header.writeBigUInt64LE(EVENT_SCHEMA_FINGERPRINT, 2);
  return Buffer.concat([header, EVENT_AVRO_TYPE.toBuffer(value)]);
}

test('JSON handed to decodeEvent is refused as not single-object encoded', () => {
  assertDecodeFailure(Buffer.from(JSON.stringify(fixture('alert'))), 'not-single-object', /not Avro single-object encoded: expected marker c301, got 7b22/);
});

test('an event written with an unknown schema is refused with the fingerprint in hex', () => {
  const bytes = Buffer.from(encodeEvent(fixture('alert')));
  bytes.writeBigUInt64LE(0xfeedfacecafebeefn, 2);
  const error = decodeFailure(bytes);
  assert.equal(error.reason, 'unknown-fingerprint');
  assert.equal(error.fingerprint, 0xfeedfacecafebeefn);
  assert.match(error.message, /unknown Avro schema fingerprint feedfacecafebeef/);
});

test('an event cut short anywhere is refused as truncated', () => {
  const bytes = encodeEvent(fixture('admin.action'));
  for (let end = 2; end < bytes.length; end++) {
    const error = decodeFailure(bytes.subarray(0, end));
    assert.equal(error.reason, 'truncated', `cut at ${end}: ${error.message}`);
  }
});

test('an event whose payload is not of its type is refused', () => {
  const alert = fixture('alert');
  const union = (EVENT_AVRO_TYPE as types.RecordType).field('payload').type as types.WrappedUnionType;
  const trustChange = union.types[0]!;
  const mismatched = { ...alert, payload: trustChange.wrap(fixture('trust.change').payload) };
  assertDecodeFailure(rawBytes(mismatched), 'malformed', /type is alert but the payload is not a trustwire\.Alert/);
});

test('an event of an unknown type is refused', () => {
  const alert = fixture('alert');
  const union = (EVENT_AVRO_TYPE as types.RecordType).field('payload').type as types.WrappedUnionType;
  assertDecodeFailure(rawBytes({ ...alert, type: 'vm.escape', payload: union.types[5]!.wrap(alert.payload) }), 'malformed', /unknown type "vm\.escape"/);
});

test('an event that does not fit the schema is refused on encode, naming its fields', () => {
  const event = fixture('trust.change') as EventOf<'trust.change'>;
  const broken = {
    ...event,
    severity: 4.5,
    payload: { ...event.payload, flavors: [{ ...event.payload.flavors[1]!, kind: 'FIRMWARE' }] },
  } as unknown as CanonicalEvent;
  assert.throws(
    () => encodeEvent(broken),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(
        error.details.map((d) => d.path),
        ['severity', 'payload.flavors[0].kind'],
      );
      assert.match(error.message, /severity: expected int, got 4\.5/);
      return true;
    },
  );
});

test('a field the schema does not know is reported, though encoding would drop it silently', () => {
  const event = { ...fixture('alert'), correlationId: 'abc' } as unknown as CanonicalEvent;
  assert.deepEqual(eventAvroFieldErrors(event), [{ path: '(root)', message: 'unknown field correlationId (not in trustwire.Event)' }]);
});

test('an array or map count no bytes left could hold is refused as truncated, without looping or allocating for it', () => {
  const alert = fixture('alert') as EventOf<'alert'>;
  const bytes = encodeEvent(alert);
  const relatedId = Buffer.from(alert.payload.relatedEventIds[0]!);
  // relatedEventIds: the count (one item: zigzag 2), the id's length (zigzag 72), the id.
  const at = bytes.indexOf(Buffer.concat([Buffer.from([0x02, relatedId.length * 2]), relatedId]));
  assert.ok(at > 0);
  const huge = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]); // 2^62 - 1 items
  const hostile = Buffer.concat([bytes.subarray(0, at), huge, bytes.subarray(at + 1)]);
  const started = performance.now();
  assertDecodeFailure(hostile, 'truncated', /truncated Avro body/);
  assert.ok(performance.now() - started < 100, 'refused at once');
});

test('a negative string length is refused, not read backwards', () => {
  const event = fixture('admin.action');
  const bytes = encodeEvent(event);
  const id = Buffer.from(event.id);
  const at = bytes.indexOf(Buffer.concat([Buffer.from([id.length * 2]), id]));
  const hostile = Buffer.from(bytes);
  hostile[at] = 0x03; // zigzag -2
  assert.throws(() => decodeEvent(hostile), SingleObjectDecodeError);
});
