import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafka from '../../connectors/kafka/index.js';
import { encodeRecords } from '../../connectors/kafka/encode.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent } from '../../src/model/avro.js';
import type { KafkaAccess } from '../../src/runtime/contract.js';
import { conformanceSuite, sampleBatch, sampleEvents, type ConformanceHarness, type SinkBehaviour } from '../../src/kit/index.js';

type Produced = Parameters<KafkaAccess['produce']>[1][number];

/**
 * The runtime's producer, faked: it keeps what is produced, fails like a broker that is away,
 * or never answers. The real broker is the integration test's; a producer never rejects single
 * records for good here, so the rejection checks are skipped.
 */
class FakeKafka implements ConformanceHarness, KafkaAccess {
  readonly topics = new Map<string, Produced[]>();
  #behaviour: SinkBehaviour = { kind: 'ok' };
  #failuresLeft = 0;
  #hanging: Array<(error: Error) => void> = [];

  async produce(topic: string, records: readonly Produced[]): Promise<void> {
    switch (this.#behaviour.kind) {
      case 'hang':
        return new Promise((_, reject) => this.#hanging.push(reject));
      case 'transient':
        if (this.#failuresLeft > 0) {
          this.#failuresLeft--;
          throw new Error('KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED 127.0.0.1:19092');
        }
        break;
      case 'permanent':
      case 'reject':
        throw new Error('a producer has no permanent rejection of single records');
      case 'ok':
        break;
    }
    this.topics.set(topic, [...(this.topics.get(topic) ?? []), ...records]);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.#release();
  }

  behave(mode: SinkBehaviour): void {
    this.#behaviour = mode;
    this.#failuresLeft = mode.kind === 'transient' ? (mode.times ?? Infinity) : 0;
    if (mode.kind !== 'hang') this.#release();
  }

  async received(): Promise<string[]> {
    return (this.topics.get('soc.events') ?? []).map((record) => {
      const value = record.value;
      return value[0] === 0xc3 && value[1] === 0x01 ? decodeEvent(value).id : (JSON.parse(value.toString('utf8')) as { id: string }).id;
    });
  }

  reset(): void {
    this.behave({ kind: 'ok' });
    this.topics.clear();
  }

  #release(): void {
    for (const reject of this.#hanging) reject(new Error('the broker went away'));
    this.#hanging = [];
  }
}

for (const format of ['avro', 'json'] as const) {
  const broker = new FakeKafka();
  conformanceSuite({
    definition: kafka,
    label: format,
    options: () => ({ topic: 'soc.events', format }),
    harness: broker,
    kafka: broker,
    permanent: false,
  });
}

test('each event becomes one record keyed by its host id, with its kind in a header', () => {
  const events = sampleEvents();
  const records = encodeRecords(events, 'avro');
  assert.deepEqual(
    records.map((record) => record.key),
    events.map((event) => event.host.id),
  );
  assert.deepEqual(
    records.map((record) => record.headers['trustwire-type']),
    events.map((event) => event.type),
  );
  for (const [i, record] of records.entries()) assert.deepEqual(decodeEvent(record.value), events[i], `${events[i]!.type} round-trips through Avro`);
  assert.deepEqual(JSON.parse(encodeRecords(events, 'json')[0]!.value.toString('utf8')), events[0]);
});

test('a produce error answers retry with the topic and the cause', async () => {
  const broker = new FakeKafka();
  broker.behave({ kind: 'transient' });
  const connector = kafka.create(kafka.configSchema.parse({ topic: 'soc.events' }));
  await connector.start({ name: 'test', logger: silentLogger, kafka: broker });
  const result = await connector.send(sampleBatch(4), new AbortController().signal);
  assert.equal(result.kind, 'retry');
  assert.match((result as { error: Error }).error.message, /^producing 4 records to soc\.events failed: KafkaJSNumberOfRetriesExceeded/);
});

test('the options want a valid topic name', () => {
  assert.equal(kafka.configSchema.safeParse({ topic: 'has space' }).success, false);
  assert.equal(kafka.configSchema.safeParse({}).success, false);
  assert.deepEqual(kafka.configSchema.parse({ topic: 'a.b' }), { topic: 'a.b', format: 'avro' });
});
