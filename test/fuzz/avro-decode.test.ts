import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SingleObjectDecodeError } from '../../src/model/wire/single-object.js';
import { createEventCodec, decodeEvent, encodeEvent, EVENT_AVRO_TYPE, EVENT_SCHEMA_FILE, eventAvroType } from '../../src/model/avro.js';
import { CanonicalEvent, EVENT_TYPES } from '../../src/model/events.js';
import { describeBytes, fuzz, FUZZ_RUNS, FUZZ_TIMEOUT_MS, mutateBytes, type Random } from '../helpers/fuzz.js';

const fixture = (type: string) => CanonicalEvent.parse(JSON.parse(readFileSync(new URL(`../../src/kit/events/${type}.json`, import.meta.url), 'utf8')));

/**
 * A later writer schema with fields the reader lacks (an array, a map, a union): decoding its
 * events goes through avsc's resolver, which skips those fields, rather than the plain read.
 */
const schema = JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as { fields: object[] };
const newer = eventAvroType({
  ...schema,
  fields: [
    ...schema.fields,
    { name: 'hops', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'attributes', type: { type: 'map', values: 'long' }, default: {} },
    { name: 'traceId', type: ['null', 'string'], default: null },
  ],
});
const writerOfNewer = createEventCodec(newer);
const readerOfBoth = createEventCodec(EVENT_AVRO_TYPE, [newer]);

const EVENTS = EVENT_TYPES.map(fixture);
const CURRENT = EVENTS.map(encodeEvent);
const NEWER = EVENTS.map((event) => writerOfNewer.encode({ ...event, hops: ['a', 'b'], attributes: { x: 1 }, traceId: 't' } as unknown as CanonicalEvent));

/** Zigzag varints a hostile writer would put where a length or a count goes. */
const HOSTILE_LONGS = [2 ** 31, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 62, -1, -2, -(2 ** 31), -(2 ** 62), 1_000_000];

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 128) {
    bytes.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  bytes.push(z);
  return Buffer.from(bytes);
}

interface Input {
  bytes: Buffer;
  resolving: boolean;
}

/** A valid event's bytes with hostile lengths written over or into its body, or byte-level damage. */
function input(random: Random): Input {
  const resolving = random.chance(0.3);
  const original = random.pick(resolving ? NEWER : CURRENT);
  let bytes: Buffer;
  if (random.chance(0.5)) {
    const at = 10 + random.int(original.length - 10);
    const long = varint(random.pick(HOSTILE_LONGS));
    bytes = random.chance(0.5)
      ? Buffer.concat([original.subarray(0, at), long, original.subarray(at)])
      : Buffer.concat([original.subarray(0, at), long, original.subarray(Math.min(original.length, at + long.length))]);
  } else {
    // Damage past the header mostly: a broken header is refused before any decoding.
    const header = original.subarray(0, 10);
    bytes = random.chance(0.9) ? Buffer.concat([header, mutateBytes(original.subarray(10), random)]) : mutateBytes(original, random);
  }
  return { bytes, resolving };
}

test(`Avro single-object decoding: ${FUZZ_RUNS} damaged events decode or throw SingleObjectDecodeError, quickly`, { timeout: FUZZ_TIMEOUT_MS }, async () => {
  const outcomes = { decoded: 0, refused: 0 };
  const heapBefore = process.memoryUsage().heapUsed;
  await fuzz(
    'avro',
    input,
    ({ bytes, resolving }) => {
      const started = performance.now();
      try {
        const event = resolving ? readerOfBoth.decode(bytes) : decodeEvent(bytes);
        assert.ok(EVENT_TYPES.includes(event.type));
        outcomes.decoded++;
      } catch (error) {
        assert.ok(error instanceof SingleObjectDecodeError, `threw ${(error as Error).stack}`);
        outcomes.refused++;
      }
      const took = performance.now() - started;
      assert.ok(took < 1_000, `took ${Math.round(took)} ms`);
      // A count taken at its word would allocate for it: the heap must not grow with the counts.
      assert.ok(process.memoryUsage().heapUsed - heapBefore < 512 * 1024 * 1024, 'the heap grew by more than 512 MiB');
    },
    ({ bytes, resolving }) => `${resolving ? 'resolving, ' : ''}${describeBytes(bytes)}`,
  );
  process.stderr.write(`avro fuzz: ${JSON.stringify(outcomes)}\n`);
});
