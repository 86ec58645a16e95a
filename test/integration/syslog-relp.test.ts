/**
 * The syslog connector's RELP transport against a real rsyslog imrelp (test/services/rsyslog.ts):
 * the conformance kit (through a proxy that makes the receiver refuse or hang on request), a
 * stream of 5,000 events with several sends in flight while rsyslog is SIGKILLed and restarted
 * (every event arrives, at least once), and sessions handing over to the next one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import syslog from '../../connectors/syslog/index.js';
import { RelpSender } from '../../connectors/syslog/relp.js';
import { silentLogger } from '../../src/log.js';
import { deliver } from '../../src/runtime/deliver.js';
import { conformanceSuite, sampleBatch, type ConformanceHarness, type SinkBehaviour } from '../../src/kit/index.js';
import { eventually } from '../helpers/eventually.js';
import { startRsyslog, type RunningRsyslog } from '../services/rsyslog.js';

const dir = mkdtempSync(join(tmpdir(), 'trustwire-relp-'));
let rsyslog: RunningRsyslog;

before(async () => {
  rsyslog = await startRsyslog(dir);
});
after(async () => {
  await rsyslog.stop();
  rmSync(dir, { recursive: true, force: true });
});

const idOf = (sd: string) => /^\[trustwire@32473 id="([^"]+)"/.exec(sd)?.[1] ?? `(no id in ${sd.slice(0, 40)})`;

/**
 * rsyslog's imrelp behind a TCP proxy: `ok` passes connections through; `transient` resets new
 * ones (a receiver that is down); `hang` accepts them and never passes a byte (a receiver that
 * stopped answering); any change cuts the connections there are. Received: what rsyslog wrote.
 */
class RsyslogRelpHarness implements ConformanceHarness {
  #server: Server | undefined;
  #behaviour: SinkBehaviour = { kind: 'ok' };
  #refuseLeft = 0;
  #baseline = 0;
  readonly #sockets = new Set<Socket>();

  get port(): number {
    return (this.#server!.address() as { port: number }).port;
  }

  async start(): Promise<void> {
    this.#server = createServer((client) => {
      this.#track(client);
      if (this.#refuseLeft > 0) {
        this.#refuseLeft--;
        client.resetAndDestroy();
        return;
      }
      if (this.#behaviour.kind === 'hang') return;
      const upstream = this.#track(createConnection({ host: '127.0.0.1', port: rsyslog.ports.relp }));
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  #track(socket: Socket): Socket {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    return socket;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  behave(mode: SinkBehaviour): void {
    this.#behaviour = mode;
    this.#refuseLeft = mode.kind === 'transient' ? (mode.times ?? Number.MAX_SAFE_INTEGER) : 0;
    if (mode.kind !== 'ok') for (const socket of this.#sockets) socket.destroy();
  }

  async received(): Promise<string[]> {
    // imrelp answers once the message is written (Direct queue, synchronous omfile): no waiting.
    return rsyslog
      .received('relp')
      .slice(this.#baseline)
      .map((message) => idOf(message.sd));
  }

  reset(): void {
    this.behave({ kind: 'ok' });
    this.#baseline = rsyslog.received('relp').length;
  }
}

const harness = new RsyslogRelpHarness();
conformanceSuite({
  definition: syslog,
  label: 'RELP against rsyslog imrelp',
  options: () => ({ host: '127.0.0.1', port: harness.port, transport: 'relp', connectTimeoutMs: 2000 }),
  harness,
  // imrelp answers every message 200 once it is handed to the ruleset: it never refuses one.
  permanent: false,
});

test('5,000 events, 4 sends in flight, rsyslog SIGKILLed and restarted mid-stream: every event arrives', async (t) => {
  const sink = syslog.create(syslog.configSchema.parse({ host: '127.0.0.1', port: rsyslog.ports.relp, transport: 'relp', connectTimeoutMs: 1000 }));
  await sink.start({ name: 'relp-kill', logger: silentLogger, kafka: { produce: async () => {} } });
  const events = sampleBatch(5000, 0x5e1);
  const batches = Array.from({ length: events.length / 100 }, (_, i) => events.slice(i * 100, i * 100 + 100));
  const before = rsyslog.received('relp').length;
  let next = 0;
  let delivered = 0;
  let attempts = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const outcome = await deliver(sink, batch, {
        retry: { initialMs: 20, maxMs: 200, multiplier: 2, jitter: 0, maxAttempts: 0 },
        timeoutMs: 5000,
        signal: new AbortController().signal,
        isStale: () => false,
      });
      assert.equal(outcome.kind, 'done');
      assert.deepEqual(outcome.kind === 'done' ? outcome.deadLetters : [], []);
      if (outcome.kind === 'done') attempts += outcome.attempts;
      delivered += batch.length;
    }
  };
  const crash = (async () => {
    await eventually(() => delivered >= 1500, '1,500 events acknowledged', 20_000, 5);
    const pid = rsyslog.pid;
    await rsyslog.kill();
    const atKill = delivered;
    await rsyslog.restart();
    t.diagnostic(`rsyslogd ${pid} SIGKILLed with ${atKill} events acknowledged; restarted as ${rsyslog.pid}`);
  })();
  try {
    await Promise.all([worker(), worker(), worker(), worker(), crash]);
  } finally {
    await sink.stop();
  }
  const counts = new Map<string, number>();
  for (const message of rsyslog.received('relp').slice(before)) counts.set(idOf(message.sd), (counts.get(idOf(message.sd)) ?? 0) + 1);
  const missing = events.filter((event) => !counts.has(event.id)).map((event) => event.id);
  assert.deepEqual(missing, [], `${missing.length} of ${events.length} acknowledged events are not in rsyslog's output`);
  const duplicates = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
  const strays = [...counts.keys()].filter((id) => !events.some((event) => event.id === id));
  assert.deepEqual(strays, []);
  t.diagnostic(`every one of ${events.length} events arrived; ${duplicates} duplicates (resent after the crash); ${attempts} attempts for ${batches.length} batches`);
  assert.ok(attempts > batches.length, 'the crash made some sends fail and be resent');
});

test('sessions hand over: a session at its frame budget closes after its last answer, the next one carries on, nothing lost', async () => {
  const relp = new RelpSender({ protocol: 'tcp', host: '127.0.0.1', port: rsyslog.ports.relp, connectTimeoutMs: 2000, windowSize: 16, framesPerSession: 50 });
  const before = rsyslog.received('relp').length;
  const texts = Array.from({ length: 4 }, (_, b) =>
    Array.from({ length: 40 }, (_, i) => {
      const text = `<110>1 2025-03-14T09:59:59.871Z trustwire-test trustwire - handover [trustwire@32473 id="handover-${b}-${i}"] \ufeffbatch ${b} message ${i}`;
      return { text, bytes: Buffer.byteLength(text) };
    }),
  );
  try {
    const outcomes = await Promise.all(texts.map((batch) => relp.send(batch, AbortSignal.timeout(10_000))));
    for (const outcome of outcomes) assert.deepEqual(outcome.answers.map((a) => a?.code), new Array(40).fill(200));
  } finally {
    await relp.close();
  }
  const ids = rsyslog
    .received('relp')
    .slice(before)
    .map((message) => idOf(message.sd));
  // Each batch has its own session here (40 + 40 is over the budget of 50), and rsyslog serves
  // sessions side by side: each batch in order, the batches interleaved.
  assert.deepEqual([...ids].sort(), texts.flatMap((batch, b) => batch.map((_, i) => `handover-${b}-${i}`)).sort(), 'every message once');
  for (let b = 0; b < texts.length; b++) {
    assert.deepEqual(
      ids.filter((id) => id.startsWith(`handover-${b}-`)),
      texts[b]!.map((_, i) => `handover-${b}-${i}`),
      `batch ${b} in order`,
    );
  }
});
