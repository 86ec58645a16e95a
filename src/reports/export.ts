/**
 * Assessments for data teams: an Avro Object Container File (Avro specification, "Object
 * Container Files") of `compliance.assessment` events, written with the `trustwire.Event`
 * schema, which Spark, pandas (fastavro), DuckDB and avro-tools read as they are.
 *
 * Written synchronously into a Buffer rather than through avsc's `BlockEncoder`: that stream
 * finishes on a later tick, so it can only fill a Buffer through a Promise. The framing is the
 * specification's (header record, then blocks of count, size, data and sync marker), encoded with
 * avsc types; each datum is the body of the event's single-object encoding, so the event is
 * checked against the schema by the same codec as on Kafka.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { SINGLE_OBJECT_HEADER_LENGTH } from '../model/wire/single-object.js';
import { encodeEvent, EVENT_SCHEMA_FILE } from '../model/avro.js';
import type { CanonicalEvent } from '../model/events.js';

export interface ContainerOptions {
  /** `deflate` (raw DEFLATE, RFC 1951, as the specification says; the default) or `null`. */
  codec?: 'deflate' | 'null';
  /** The file's 16-byte sync marker; default random, as the specification asks. Fixed: the same bytes for the same events. */
  syncMarker?: Buffer;
  /** Uncompressed bytes per block before a new one is started; default 64 KiB (avsc's). */
  blockBytes?: number;
}

const MAGIC = Buffer.from('Obj\x01', 'latin1');

const HEADER_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});

const BLOCK_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Block',
  fields: [
    { name: 'count', type: 'long' },
    // `bytes` is the block's size as a long, then the data: the specification's framing.
    { name: 'data', type: 'bytes' },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});

/**
 * The schema text as published (docs and enum defaults kept: avsc's `schema({exportAttrs})` drops
 * enum defaults, which readers of an older schema need), without the whitespace.
 */
let schemaText: Buffer | undefined;
function writerSchema(): Buffer {
  schemaText ??= Buffer.from(JSON.stringify(JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8'))), 'utf8');
  return schemaText;
}

/**
 * The `compliance.assessment` events among `events`, in their order, as an Avro Object Container
 * File; other kinds are left out. An event that does not fit the schema throws the codec's
 * ValidationError (field paths in `details`), as publishing it would.
 */
export function assessmentsContainer(events: readonly CanonicalEvent[], options: ContainerOptions = {}): Buffer {
  const codec = options.codec ?? 'deflate';
  const sync = options.syncMarker ?? randomBytes(16);
  if (sync.length !== 16) throw new RangeError(`a sync marker is 16 bytes, not ${sync.length}`);
  const blockBytes = options.blockBytes ?? 65_536;

  const parts: Buffer[] = [HEADER_TYPE.toBuffer({ magic: MAGIC, meta: { 'avro.schema': writerSchema(), 'avro.codec': Buffer.from(codec) }, sync })];
  let block: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (block.length === 0) return;
    const data = Buffer.concat(block, size);
    parts.push(BLOCK_TYPE.toBuffer({ count: block.length, data: codec === 'deflate' ? deflateRawSync(data) : data, sync }));
    block = [];
    size = 0;
  };
  for (const event of events) {
    if (event.type !== 'compliance.assessment') continue;
    const datum = encodeEvent(event).subarray(SINGLE_OBJECT_HEADER_LENGTH);
    block.push(datum);
    size += datum.length;
    if (size >= blockBytes) flush();
  }
  flush();
  return Buffer.concat(parts);
}
