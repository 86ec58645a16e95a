import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import syslog from '../../connectors/syslog/index.js';
import { createEncoder, createMessageEncoder, frameBatch, framingOf } from '../../connectors/syslog/encode.js';
import { formatCef } from '../../src/formats/cef.js';
import { formatJson } from '../../src/formats/json.js';
import { createLeefFormatter } from '../../src/formats/leef.js';
import { formatEventRfc3164, formatEventRfc5424, SYSLOG_FACILITIES } from '../../src/formats/syslog.js';
import { conformanceSuite, sampleBatch } from '../../src/kit/index.js';
import { SyslogTlsReceiver } from '../helpers/syslog-receiver.js';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { loadConnector } from '../../src/runtime/registry.js';
import { ConnectorInstanceSettings } from '../../src/runtime/settings.js';
import { StreamSender } from '../../src/runtime/socket.js';
import { silentLogger } from '../../src/log.js';
import { eventually } from '../helpers/eventually.js';

/** A real PEM: TLS file options are read and parsed when the options load. */
const EXAMPLE_CA = fileURLToPath(new URL('../fixtures/tls/example.pem', import.meta.url));

const receiver = new SyslogTlsReceiver();
conformanceSuite({
  definition: syslog,
  label: 'TLS with a client key',
  options: () => ({
    host: '127.0.0.1',
    port: receiver.port,
    transport: 'tls',
    settleMs: 20,
    connectTimeoutMs: 2000,
    tls: { ca: receiver.certs.ca, cert: receiver.certs.clientCert, key: readFileSync(receiver.certs.clientKey, 'utf8'), serverName: 'localhost' },
  }),
  harness: receiver,
  secrets: [readFileSync(receiver.certs.clientKey, 'utf8').split('\n')[1]!],
  permanent: false,
});

test('tls refuses LF framing, and TLS settings without tls transport', () => {
  const lf = syslog.configSchema.safeParse({ host: 'h', transport: 'tls', framing: 'lf' });
  assert.deepEqual(lf.error?.issues.map((i) => [i.path.join('.'), i.message]), [['framing', 'tls carries octet-counted frames only (RFC 5425)']]);
  const stray = syslog.configSchema.safeParse({ host: 'h', transport: 'tcp', tls: { ca: EXAMPLE_CA } });
  assert.deepEqual(stray.error?.issues.map((i) => i.path.join('.')), ['tls']);
});

test("waits inside an attempt (connecting, settling) not below the instance's timeoutMs are refused at their option; udp has none", async () => {
  const load = (options: object) =>
    loadConnector(ConnectorInstanceSettings.parse({ name: 'siem', type: 'syslog', timeoutMs: 1000, options: { host: '127.0.0.1', ...options } }), 'connectors[0]', process.cwd());
  await assert.rejects(load({ transport: 'tcp', connectTimeoutMs: 500, settleMs: 1000 }), /connectors\[0\]\.options\.settleMs: 1000 ms must be below the instance's timeoutMs \(1000 ms\)/);
  await assert.rejects(load({ transport: 'tls', settleMs: 1000 }), /options\.connectTimeoutMs: 5000 ms must be below .*; connectors\[0\]\.options\.settleMs: 1000 ms must be below/, 'every wait named at once');
  await assert.rejects(load({ transport: 'relp', connectTimeoutMs: 5000 }), /connectors\[0\]\.options\.connectTimeoutMs: 5000 ms must be below/);
  assert.equal((await load({ transport: 'relp', connectTimeoutMs: 900, settleMs: 1000 })).definition.type, 'syslog', 'relp waits for answers, not a settle time');
  assert.equal((await load({ transport: 'udp', connectTimeoutMs: 5000, settleMs: 1000 })).definition.type, 'syslog');
});

test('a message over maxMessageBytes is cut UTF-8 safe, or dead-lettered, never split', () => {
  const [event] = sampleBatch(1);
  const big = { ...event!, host: { ...event!.host, name: 'ä'.repeat(2000) } };
  const cut = createEncoder(syslog.configSchema.parse({ host: 'h', transport: 'udp', maxMessageBytes: 600 }))(big);
  assert.equal(cut.oversize, undefined);
  assert.ok(cut.bytes.length <= 600, `${cut.bytes.length} bytes`);
  assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(cut.bytes));
  const dead = createEncoder(syslog.configSchema.parse({ host: 'h', transport: 'udp', maxMessageBytes: 600, oversize: 'dead-letter' }))(big);
  assert.ok(dead.oversize! > 600);
});

test('octet counting counts bytes, not characters', () => {
  const [event] = sampleBatch(1);
  const framed = createEncoder(syslog.configSchema.parse({ host: 'h', transport: 'tcp' }))({ ...event!, host: { ...event!.host, name: '中文😀' } }).bytes;
  const space = framed.indexOf(0x20);
  assert.equal(Number(framed.subarray(0, space).toString()), framed.length - space - 1);
});

// ---- the stream sender: concurrent sends, the settle window, backpressure -------------------

/** A plain TCP receiver keeping every byte per connection; `pause` stops reading. */
class ByteReceiver {
  readonly server: Server = createServer((socket) => {
    const chunks: Buffer[] = [];
    this.#chunks.push(chunks);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    if (this.paused) socket.pause();
    this.onConnection?.(socket);
  });
  readonly sockets = new Set<Socket>();
  readonly #chunks: Buffer[][] = [];
  paused = false;

  /** What each connection received so far. */
  get connections(): Buffer[] {
    return this.#chunks.map((chunks) => Buffer.concat(chunks));
  }
  /** Bytes received on connection `index`. */
  bytes(index: number): number {
    return (this.#chunks[index] ?? []).reduce((sum, chunk) => sum + chunk.length, 0);
  }
  onConnection: ((socket: Socket) => void) | undefined;

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Octet-counted frames back out of a byte stream. */
function octetFrames(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const space = bytes.indexOf(0x20, at);
    const length = Number(bytes.subarray(at, space).toString('latin1'));
    out.push(bytes.subarray(space + 1, space + 1 + length).toString('utf8'));
    at = space + 1 + length;
  }
  return out;
}

const NEVER = new AbortController().signal;

test('tcp: concurrent sends share one connection, settle side by side, and never interleave', async () => {
  const receiver = new ByteReceiver();
  await receiver.listen();
  const connector = syslog.create(syslog.configSchema.parse({ host: '127.0.0.1', port: receiver.port, transport: 'tcp', settleMs: 300 }));
  await connector.start({ name: 'tcp-concurrent', logger: silentLogger, kafka: { produce: async () => {} } });
  try {
    const batches = Array.from({ length: 12 }, (_, b) => sampleBatch(40, b + 1));
    const started = performance.now();
    const results = await Promise.all(batches.map((batch) => connector.send(batch, NEVER)));
    const elapsed = performance.now() - started;
    assert.ok(results.every((r) => r.kind === 'ok'));
    assert.ok(elapsed < 12 * 300, `12 sends with settleMs 300 took ${Math.round(elapsed)} ms: their settle windows overlap`);
    assert.equal(receiver.connections.length, 1, 'one connection, opened once for every send');
    const ids = octetFrames(receiver.connections[0]!).map((m) => /id="([^"]+)"/.exec(m)![1]);
    assert.deepEqual(ids, batches.flat().map((e) => e.id), 'every message whole, batch after batch, in the order of the sends');
  } finally {
    await connector.stop();
    await receiver.close();
  }
});

test('tcp: a connection lost inside the settle window fails every batch still settling, at once', async () => {
  const receiver = new ByteReceiver();
  await receiver.listen();
  const connector = syslog.create(syslog.configSchema.parse({ host: '127.0.0.1', port: receiver.port, transport: 'tcp', settleMs: 1000 }));
  await connector.start({ name: 'tcp-settle', logger: silentLogger, kafka: { produce: async () => {} } });
  try {
    const started = performance.now();
    const pending = [1, 2, 3].map((seed) => connector.send(sampleBatch(6, seed), NEVER));
    await eventually(() => receiver.connections.length === 1 && octetFrames(receiver.connections[0]!).length === 18, 'every frame at the receiver', 5000, 10);
    for (const socket of receiver.sockets) socket.destroy();
    const results = await Promise.all(pending);
    assert.deepEqual(results.map((r) => r.kind), ['retry', 'retry', 'retry']);
    assert.ok(performance.now() - started < 900, 'reported when the connection went, not at the deadline');
    // The resends reconnect, once for all of them, and settle.
    const resends = await Promise.all([4, 5, 6].map((seed) => connector.send(sampleBatch(6, seed), AbortSignal.timeout(5000))));
    assert.deepEqual(resends.map((r) => r.kind), ['ok', 'ok', 'ok']);
    assert.equal(receiver.connections.length, 2, 'one reconnect shared by the three sends');
  } finally {
    await connector.stop();
    await receiver.close();
  }
});

test('tcp: a receiver that stops reading holds the writes back (drain), and they all go once it reads again', async () => {
  const receiver = new ByteReceiver();
  receiver.paused = true;
  await receiver.listen();
  const sender = new StreamSender({ protocol: 'tcp', host: '127.0.0.1', port: receiver.port, connectTimeoutMs: 2000, settleMs: 0 });
  try {
    const chunk = (i: number) => Buffer.alloc(1 << 20, 0x61 + (i % 26));
    const writes = Array.from({ length: 16 }, (_, i) => sender.write(chunk(i), NEVER));
    let settled = 0;
    for (const write of writes) void write.then(() => settled++);
    await eventually(() => receiver.sockets.size === 1 && sender.writableLength > 0, 'the connection, and bytes waiting in it');
    // The kernel takes a few MiB; past that the socket reports false and the sender waits for
    // 'drain' instead of piling every batch into memory.
    let most = 0;
    await eventually(() => ((most = Math.max(most, sender.writableLength)), settled < 16 && sender.writableLength > 0), 'a blocked socket', 5000, 10);
    assert.ok(most <= 2 * (1 << 20), `${most} bytes buffered in the socket at most; 16 MiB were handed over`);
    assert.ok(settled < 16);
    for (const socket of receiver.sockets) socket.resume();
    await Promise.all(writes);
    await eventually(() => receiver.bytes(0) === 16 << 20, 'every byte at the receiver');
    const got = receiver.connections[0]!;
    for (let i = 0; i < 16; i++) assert.equal(got[i << 20], 0x61 + (i % 26), `write ${i} in place`);
  } finally {
    await sender.close();
    await receiver.close();
  }
});

// ---- the messages in parts: the same bytes as the joined strings ---------------------------

test('frameBatch writes the bytes the joined messages made, for every protocol, framing, BOM and cut', () => {
  const base = sampleBatch(12, 3);
  const hostile = ['line\r\nbreaks\rand\nmore', 'Jürgen 中文 😀 \\ = |', '\ufeffa BOM inside', 'x'.repeat(3000), '\u2028\u0085'];
  const events = [
    ...base,
    ...base.slice(0, hostile.length).map((event, i) => ({ ...event, host: { ...event.host, name: hostile[i]! }, tenant: i === 0 ? 'ten\nant' : event.tenant })),
  ];
  /** The encoder before the parts: one string per message, measured, escaped for LF framing, framed alone. */
  function joined(options: ReturnType<typeof syslog.configSchema.parse>) {
    const cut = options.oversize === 'truncate' ? options.maxMessageBytes : undefined;
    const common = { facility: SYSLOG_FACILITIES[options.facility], hostname: options.hostname, appName: options.appName, maxBytes: cut };
    const leef = createLeefFormatter();
    const body = (e: (typeof events)[number]) => (options.format === 'cef' ? formatCef(e) : options.format === 'leef' ? leef(e) : formatJson(e));
    return (e: (typeof events)[number]) => {
      const text = options.protocol === 'rfc5424' ? formatEventRfc5424(e, body(e), { ...common, bom: options.bom }) : formatEventRfc3164(e, body(e), common);
      const bytes = Buffer.byteLength(text);
      if (bytes > options.maxMessageBytes) return { oversize: bytes };
      const framing = framingOf(options);
      const escaped = framing === 'lf' ? text.replace(/[\r\n]/g, (c) => (c === '\n' ? '#012' : '#015')) : text;
      const length = Buffer.byteLength(escaped);
      const frame = framing === 'octet-counting' ? `${length} ${escaped}` : framing === 'lf' ? `${escaped}\n` : escaped;
      return { text: escaped, bytes: length, frame: Buffer.from(frame) };
    };
  }
  let compared = 0;
  for (const transport of ['tcp', 'udp', 'relp'] as const) {
    for (const framing of transport === 'tcp' ? (['octet-counting', 'lf'] as const) : [undefined]) {
      for (const protocol of ['rfc5424', 'rfc3164'] as const) {
        for (const bom of [true, false]) {
          for (const [maxMessageBytes, oversize] of [[65536, 'truncate'], [700, 'truncate'], [700, 'dead-letter']] as const) {
            for (const format of ['cef', 'leef', 'json'] as const) {
              const options = syslog.configSchema.parse({ host: 'h', hostname: 'sink-01.example.net', transport, framing, protocol, bom, maxMessageBytes, oversize, format });
              const label = JSON.stringify({ transport, framing, protocol, bom, maxMessageBytes, oversize, format });
              const encode = createMessageEncoder(options);
              const reference = joined(options);
              const messages = [];
              const expected: Buffer[] = [];
              for (const event of events) {
                const now = encode(event);
                const before = reference(event);
                if ('oversize' in before) {
                  assert.deepEqual(now, before, label);
                  continue;
                }
                assert.ok(!('oversize' in now), label);
                assert.equal(now.bytes, before.bytes, label);
                assert.equal(now.text, before.text, label); // what RELP sends
                messages.push(now);
                expected.push(before.frame);
                compared++;
              }
              assert.ok(frameBatch(messages, framingOf(options)).equals(Buffer.concat(expected)), label);
              for (const [i, message] of messages.entries()) assert.ok(frameBatch([message], framingOf(options)).equals(expected[i]!), `${label} #${i}`);
            }
          }
        }
      }
    }
  }
  assert.ok(compared > 1000, `${compared}`);
});

test('TLS files are read and parsed as the options load: a missing CA, and a key given as a path, are refused at their option', () => {
  const missing = syslog.configSchema.safeParse({ host: 'h', transport: 'tls', tls: { ca: '/nonexistent/siem-ca.pem' } });
  assert.deepEqual(missing.error?.issues.map((i) => [i.path.join('.'), i.message]), [['tls.ca', 'cannot read /nonexistent/siem-ca.pem: ENOENT']]);
  const pathAsKey = syslog.configSchema.safeParse({ host: 'h', transport: 'tls', tls: { cert: EXAMPLE_CA, key: '/etc/trustwire/client.key' } });
  assert.deepEqual(pathAsKey.error?.issues.map((i) => [i.path.join('.'), i.message]), [['tls.key', 'is not PEM but looks like a path: to read a file write {file: "/etc/trustwire/client.key"}']]);
  const certAsCa = syslog.configSchema.safeParse({ host: 'h', transport: 'tls', tls: { ca: fileURLToPath(new URL('../fixtures/tls/example.key', import.meta.url)) } });
  assert.match(certAsCa.error?.issues[0]?.message ?? '', /example\.key does not parse as a certificate/);
});
