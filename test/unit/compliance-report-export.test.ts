import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { assessmentsContainer } from '../../src/reports/export.js';
import { SINGLE_OBJECT_HEADER_LENGTH } from '../../src/model/wire/single-object.js';
import { decodeEvent, encodeEvent, eventAvroType } from '../../src/model/avro.js';
import { CanonicalEvent } from '../../src/model/events.js';
import { buildFleet } from '../fixtures/compliance/fleet.js';
import { eventFixture } from '../helpers/fixtures.js';

const fleet = buildFleet();
/** What every datum of the container is prefixed with to be a single-object encoding again. */
const singleObjectHeader = encodeEvent(fleet.all[0]!).subarray(0, SINGLE_OBJECT_HEADER_LENGTH);

interface Read {
  values: unknown[];
  codec: string;
  type: avro.Type | undefined;
}

/** Reads a container with avsc's own stream decoder, the writer schema taken from the file. */
async function readContainer(bytes: Buffer): Promise<Read> {
  const decoder = new avro.streams.BlockDecoder({ parseHook: (schema) => eventAvroType(schema as object) });
  const read: Read = { values: [], codec: '', type: undefined };
  decoder.on('metadata', (type: avro.Type, codec: string) => Object.assign(read, { type, codec }));
  Readable.from([bytes]).pipe(decoder);
  for await (const value of decoder) read.values.push(value);
  return read;
}

/** An Avro value read from the container, as the canonical event the Kafka codec makes of the same bytes. */
function canonical(type: avro.Type, value: unknown): CanonicalEvent {
  return decodeEvent(Buffer.concat([singleObjectHeader, type.toBuffer(value)]));
}

async function eventsIn(bytes: Buffer): Promise<CanonicalEvent[]> {
  const { values, type } = await readContainer(bytes);
  return values.map((value) => canonical(type!, value));
}

describe('the Avro container of assessments', () => {
  it('reads back, with avsc, as the same events', async () => {
    const bytes = assessmentsContainer(fleet.all);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'Obj\x01');
    assert.deepEqual(await eventsIn(bytes), fleet.all);
  });

  it('is deflated and carries the trustwire.Event schema', async () => {
    const { values, codec, type } = await readContainer(assessmentsContainer(fleet.latest));
    assert.deepEqual([codec, type?.name, values.length], ['deflate', 'trustwire.Event', fleet.latest.length]);
    // A plain Avro reader sees the payload union wrapped by branch name.
    const first = values[0] as { type: string; host: { id: string }; payload: Record<string, { score: number; results: unknown[] }> };
    assert.equal(first.type, 'compliance.assessment');
    const payload = first.payload['trustwire.ComplianceAssessment']!;
    assert.deepEqual([payload.score, payload.results.length], [fleet.latest[0]!.payload.score, fleet.latest[0]!.payload.results.length]);
  });

  it('keeps the enum defaults an older reader needs in the schema it writes', () => {
    const header = avro.extractFileHeader(writeTemp(assessmentsContainer([])), { decode: false }) as { meta: Record<string, Buffer> } | null;
    const schema = header!.meta['avro.schema']!.toString('utf8');
    assert.match(schema, /"default":/);
    assert.equal(header!.meta['avro.codec']!.toString(), 'deflate');
  });

  it('reads back from a file with createFileDecoder, uncompressed and split into blocks', async () => {
    const bytes = assessmentsContainer(fleet.all, { codec: 'null', blockBytes: 4096 });
    const path = writeTemp(bytes);
    const values: unknown[] = [];
    let codec = '';
    let type: avro.Type | undefined;
    const decoder = avro.createFileDecoder(path, { parseHook: (schema) => eventAvroType(schema as object) }).on('metadata', (t: avro.Type, c: string) => {
      type = t;
      codec = c;
    });
    for await (const value of decoder) values.push(canonical(type!, value));
    assert.equal(codec, 'null');
    assert.deepEqual(values, fleet.all);
    assert.ok(bytes.length > 4096 * 2, 'several blocks were written');
  });

  it('leaves out events of other kinds, and holds none when there are none', async () => {
    const mixed = [CanonicalEvent.parse(eventFixture('trust.change')), ...fleet.latest, CanonicalEvent.parse(eventFixture('alert'))];
    assert.deepEqual(await eventsIn(assessmentsContainer(mixed)), fleet.latest);
    assert.deepEqual(await eventsIn(assessmentsContainer([])), []);
  });

  it('writes the same bytes for the same events given a sync marker', () => {
    const syncMarker = Buffer.alloc(16, 7);
    assert.deepEqual(assessmentsContainer(fleet.all, { syncMarker }), assessmentsContainer(fleet.all, { syncMarker }));
    assert.notDeepEqual(assessmentsContainer(fleet.all), assessmentsContainer(fleet.all));
    assert.throws(() => assessmentsContainer(fleet.all, { syncMarker: Buffer.alloc(8) }), RangeError);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'trustwire-avro-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function writeTemp(bytes: Buffer): string {
  const path = join(dir, `assessments-${files++}.avro`);
  writeFileSync(path, bytes);
  return path;
}
