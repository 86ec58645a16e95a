import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createEventCodec, decodeEvent, encodeEvent, EVENT_AVRO_TYPE, EVENT_SCHEMA_FILE, eventAvroType, RELEASED_EVENT_SCHEMAS } from '../../src/model/avro.js';
import { CanonicalEvent, EVENT_TYPES } from '../../src/model/events.js';

const fixture = (type: string) => CanonicalEvent.parse(JSON.parse(readFileSync(new URL(`../../src/kit/events/${type}.json`, import.meta.url), 'utf8')));
const current = JSON.parse(readFileSync(EVENT_SCHEMA_FILE, 'utf8')) as object;

type Node = Record<string, unknown>;

/** A copy of the schema with `change` applied to the named type's definition. */
function evolve(schema: object, changes: Record<string, (definition: Node) => void>): object {
  const copy = structuredClone(schema) as Node;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') {
      const definition = node as Node;
      const change = typeof definition.name === 'string' && (definition.type === 'record' || definition.type === 'enum') ? changes[definition.name] : undefined;
      change?.(definition);
      Object.values(definition).forEach(visit);
    }
  };
  visit(copy);
  return copy;
}

const fields = (definition: Node) => definition.fields as Node[];

/** A plausible next version: a new envelope field, a new payload field, a new trust verdict. */
const newer = eventAvroType(
  evolve(current, {
    Event: (d) => fields(d).push({ name: 'traceId', type: ['null', 'string'], default: null, doc: 'W3C trace id of the request that caused the event.' }),
    TrustChange: (d) => fields(d).push({ name: 'evidenceFormat', type: 'string', default: 'tpm2', doc: 'Format of the attestation evidence.' }),
    TrustStatus: (d) => (d.symbols as string[]).push('revoked'),
  }),
);

test('the newer schema is a different schema', () => {
  assert.notEqual(createEventCodec(newer).fingerprint, createEventCodec(EVENT_AVRO_TYPE).fingerprint);
});

test('a reader of the current schema reads events written with a newer one', () => {
  const original = fixture('trust.change');
  const written = {
    ...original,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    payload: { ...original.payload, status: 'revoked', evidenceFormat: 'tpm2-eventlog' },
    enrichment: { ...original.enrichment!, trust: { ...original.enrichment!.trust, status: 'revoked' } },
  } as unknown as CanonicalEvent;
  const bytes = createEventCodec(newer).encode(written);

  const decoded = createEventCodec(EVENT_AVRO_TYPE, [newer]).decode(bytes);
  // Fields it does not know are skipped; the verdict it does not know reads as TrustStatus's default.
  assert.deepEqual(decoded, {
    ...original,
    payload: { ...original.payload, status: 'unknown' },
    enrichment: { ...original.enrichment!, trust: { ...original.enrichment!.trust, status: 'unknown' } },
  });
  assert.deepEqual(CanonicalEvent.parse(decoded), decoded);
});

test('a reader of a newer schema reads events written with the current one', () => {
  const original = fixture('trust.change');
  const decoded = createEventCodec(newer, [EVENT_AVRO_TYPE]).decode(encodeEvent(original));
  // The new optional field stays absent; the new field with a default gets it.
  assert.deepEqual(decoded, { ...original, payload: { ...original.payload, evidenceFormat: 'tpm2' } });
});

test('bytes written under every released schema decode into the current one', () => {
  assert.ok(RELEASED_EVENT_SCHEMAS.length >= 1);
  for (const released of RELEASED_EVENT_SCHEMAS) {
    const writer = createEventCodec(released.type);
    for (const type of EVENT_TYPES) {
      const event = fixture(type);
      const bytes = writer.encode(event);
      assert.equal(bytes.readBigUInt64LE(2), released.fingerprint);
      assert.deepEqual(decodeEvent(bytes), event, `v${released.version} ${type}`);
    }
  }
});

test('a new symbol in an enum without a default is refused by an older reader when its codec is made', () => {
  // FlavorKind has no default on purpose: such a change needs every reader upgraded first.
  const withNewFlavor = eventAvroType(evolve(current, { FlavorKind: (d) => (d.symbols as string[]).push('FIRMWARE') }));
  assert.throws(() => createEventCodec(EVENT_AVRO_TYPE, [withNewFlavor]), /cannot be resolved to trustwire\.Event/);
});
