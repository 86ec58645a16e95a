/**
 * The syslog connector against a real rsyslog (test/services/rsyslog.ts): UDP, TCP
 * octet-counted, TCP LF-framed, TLS with a client certificate, RELP and RELP over TLS. Hostile
 * values must arrive as one message each, their CEF escaping intact. A receiver killed inside
 * the settle window makes a TCP send fail. RELP's own faults are in syslog-relp.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import syslog from '../../connectors/syslog/index.js';
import { silentLogger } from '../../src/log.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import type { SinkConnector } from '../../src/runtime/contract.js';
import { parseConfig } from '../../src/config/load.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { encodeEvent } from '../../src/model/avro.js';
import { startConnectors } from '../../src/runtime/host.js';
import { ConnectorMetrics } from '../../src/runtime/metrics.js';
import { trustwireTopics } from '../../src/service.js';
import { startRsyslog, type Listener, type RunningRsyslog } from '../services/rsyslog.js';
import { dropTopics, testClient, testConfig } from '../helpers/kafka.js';
import { eventFixture } from '../helpers/fixtures.js';
import { eventually } from '../helpers/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'trustwire-rsyslog-'));
let rsyslog: RunningRsyslog;

before(async () => {
  rsyslog = await startRsyslog(dir, { requireClientCert: true });
});
after(async () => {
  await rsyslog.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HOSTILE = {
  operation: 'vm.reconfigure|x act=allow',
  error: 'denied\\by=policy\r\nCEF:0|forged|header|1|x|y|10| act=allow',
  userName: 'Jürgen 中文 😀 | \\ =',
};

function hostileEvents(tag: string): CanonicalEvent[] {
  const base = eventFixture('admin.action');
  return Array.from({ length: 4 }, (_, i) => ({
    ...base,
    id: `019ac1a2-5${tag}-7000-8000-${String(i).padStart(12, '0')}`,
    payload: {
      ...base.payload,
      operation: i === 0 ? HOSTILE.operation : `host.op${i}`,
      error: i === 1 ? HOSTILE.error : base.payload.error,
      user: { ...base.payload.user, name: i === 2 ? HOSTILE.userName : base.payload.user.name },
    },
  })) as CanonicalEvent[];
}

/** A CEF extension back into its keys and values, undoing the escaping. */
function cefExtension(cef: string): Map<string, string> {
  // Seven unescaped pipes end the header.
  let pipes = 0;
  let start = 0;
  for (let i = 0; i < cef.length && pipes < 7; i++) {
    if (cef[i] === '\\') i++;
    else if (cef[i] === '|') (pipes++, (start = i + 1));
  }
  const extension = cef.slice(start);
  const fields = new Map<string, string>();
  const keyAt = /(?:^| )([A-Za-z0-9_]+)=/g;
  const marks: Array<{ key: string; from: number; valueFrom: number }> = [];
  for (let match = keyAt.exec(extension); match; match = keyAt.exec(extension)) {
    // A key starts only where the preceding backslashes (if any) are an even number.
    let slashes = 0;
    for (let j = match.index + match[0].length - 2 - match[1]!.length; j >= 0 && extension[j] === '\\'; j--) slashes++;
    if (slashes % 2 === 0) marks.push({ key: match[1]!, from: match.index, valueFrom: match.index + match[0].length });
  }
  marks.forEach((mark, index) => {
    const raw = extension.slice(mark.valueFrom, index + 1 < marks.length ? marks[index + 1]!.from : extension.length);
    fields.set(mark.key, raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c)));
  });
  return fields;
}

async function deliver(listener: Listener, options: Record<string, unknown>, events: CanonicalEvent[]): Promise<void> {
  const parsed = syslog.configSchema.parse({ host: '127.0.0.1', port: rsyslog.ports[listener], settleMs: 20, ...options });
  const connector: SinkConnector = syslog.create(parsed);
  await connector.start({ name: `syslog-${listener}`, logger: silentLogger, kafka: { produce: async () => {} } });
  try {
    const result = await connector.send(events, AbortSignal.timeout(10_000));
    assert.deepEqual(result, { kind: 'ok' });
  } finally {
    await connector.stop();
  }
  await eventually(() => rsyslog.received(listener).length >= events.length, `${events.length} messages on the ${listener} listener`, 10_000);
}

function checkArrived(listener: Listener, events: CanonicalEvent[]): void {
  const messages = rsyslog.received(listener);
  assert.equal(messages.length, events.length, `${listener}: one message per event, none split, none merged`);
  for (const [i, message] of messages.entries()) {
    const event = events[i]!;
    assert.equal(message.app, 'trustwire');
    assert.equal(message.msgid, 'admin.action');
    assert.match(message.sd, new RegExp(`^\\[trustwire@32473 id="${event.id}" type="admin\\.action"`));
    const cef = message.msg.replace(/^\ufeff/, '');
    assert.match(cef, /^CEF:0\|trustwire\|trustwire\|/);
    const fields = cefExtension(cef);
    assert.equal(fields.get('externalId'), event.id);
    assert.equal(fields.get('act'), event.type === 'admin.action' ? event.payload.operation : undefined, 'the injected act=allow stayed inside its value');
    if (event.type === 'admin.action' && event.payload.error !== undefined) assert.equal(fields.get('reason'), event.payload.error);
    if (event.type === 'admin.action') assert.equal(fields.get('suser'), event.payload.user.name ?? event.payload.user.id);
  }
}

test('UDP: each event one datagram, hostile values escaped', async () => {
  const events = hostileEvents('001');
  await deliver('udp', { transport: 'udp' }, events);
  checkArrived('udp', events);
});

test('TCP with octet counting: each event one message, hostile values escaped', async () => {
  const events = hostileEvents('002');
  await deliver('tcp', { transport: 'tcp' }, events);
  checkArrived('tcp', events);
});

test('TCP with LF framing: a CR/LF inside a value cannot split the message', async () => {
  const events = hostileEvents('003');
  await deliver('tcpLf', { transport: 'tcp', framing: 'lf' }, events);
  checkArrived('tcpLf', events);
});

test('TLS with a client certificate, verifying the receiver', async () => {
  const events = hostileEvents('004');
  await deliver('tls', { transport: 'tls', tls: { ca: rsyslog.tls.ca, cert: rsyslog.tls.clientCert, key: { file: rsyslog.tls.clientKey }, serverName: 'localhost' } }, events);
  checkArrived('tls', events);
});

test('RELP: each event one message, acknowledged, hostile values escaped', async () => {
  const events = hostileEvents('008');
  await deliver('relp', { transport: 'relp' }, events);
  checkArrived('relp', events);
});

test('RELP over TLS with a client certificate, verifying the receiver', async () => {
  const events = hostileEvents('009');
  const tls = { ca: rsyslog.tls.ca, cert: rsyslog.tls.clientCert, key: { file: rsyslog.tls.clientKey }, serverName: 'localhost' };
  await deliver('relpTls', { transport: 'relp', relp: { tls: true }, tls }, events);
  checkArrived('relpTls', events);
});

test('through Kafka: events on the enriched topic reach rsyslog over TLS, every one', async () => {
  const config = testConfig();
  await ensureTopics(testClient(), trustwireTopics(config.kafka), silentLogger);
  const producer = await createRecordProducer(testClient());
  const events = hostileEvents('006').concat(hostileEvents('007').map((e, i) => ({ ...e, host: { id: `esx-k${i}` } })));
  const [settings] = parseConfig(
    [
      'connectors:',
      `  - name: siem`,
      `    type: syslog`,
      `    options: { host: 127.0.0.1, port: ${rsyslog.ports.tls}, transport: tls, settleMs: 10,`,
      `               tls: { ca: ${JSON.stringify(rsyslog.tls.ca)}, cert: ${JSON.stringify(rsyslog.tls.clientCert)}, key: { file: ${JSON.stringify(rsyslog.tls.clientKey)} }, serverName: localhost } }`,
    ].join('\n'),
  ).connectors;
  const before = rsyslog.received('tls').length;
  await producer.send(config.kafka.topics.enriched, events.map((event) => ({ key: event.host.id, value: encodeEvent(event) })));
  const host = await startConnectors([settings!], {
    client: testClient(),
    producer,
    topics: config.kafka.topics,
    metrics: new ConnectorMetrics(),
    logger: silentLogger,
    baseDir: process.cwd(),
    groupPrefix: config.kafka.groupPrefix,
  });
  try {
    await eventually(() => rsyslog.received('tls').length >= before + events.length, 'every event in rsyslog', 30_000, 200);
  } finally {
    await host.stop(1000);
    await producer.disconnect();
    await dropTopics(config);
  }
  const ids = rsyslog
    .received('tls')
    .slice(before)
    .map((message) => cefExtension(message.msg.replace(/^\ufeff/, '')).get('externalId'));
  assert.deepEqual([...ids].sort(), events.map((event) => event.id).sort());
});

test('TLS refuses a receiver whose certificate it cannot verify, and answers retry', async () => {
  const parsed = syslog.configSchema.parse({ host: '127.0.0.1', port: rsyslog.ports.tls, transport: 'tls', tls: { serverName: 'localhost' } });
  const connector = syslog.create(parsed);
  await connector.start({ name: 'syslog-untrusted', logger: silentLogger, kafka: { produce: async () => {} } });
  try {
    const result = await connector.send(hostileEvents('005'), AbortSignal.timeout(10_000));
    assert.equal(result.kind, 'retry');
    assert.match(result.kind === 'retry' ? result.error.message : '', /certificate/i);
  } finally {
    await connector.stop();
  }
});

test('TCP: a receiver killed inside the settle window fails the send; the resend delivers, nothing acknowledged is lost', async (t) => {
  const options = syslog.configSchema.parse({ host: '127.0.0.1', port: rsyslog.ports.tcp, transport: 'tcp', settleMs: 5000, connectTimeoutMs: 1000 });
  const connector = syslog.create(options);
  await connector.start({ name: 'syslog-settle', logger: silentLogger, kafka: { produce: async () => {} } });
  const events = hostileEvents('00a');
  const before = rsyslog.received('tcp').length;
  try {
    const started = performance.now();
    const pending = connector.send(events, AbortSignal.timeout(10_000));
    // rsyslog has written every message (its Direct queue writes before it reads on), so the
    // bytes were flushed: the batch now only waits out its settle window. Kill the receiver in it.
    await eventually(() => rsyslog.received('tcp').length >= before + events.length, 'rsyslog to write the batch', 5000, 10);
    await rsyslog.kill();
    const result = await pending;
    const elapsed = performance.now() - started;
    assert.equal(result.kind, 'retry', 'a connection lost inside the settle window is a failure');
    assert.match(result.kind === 'retry' ? result.error.message : '', /tcp:\/\/127\.0\.0\.1:\d+ failed before the batch settled/);
    assert.ok(elapsed < 4000, `the failure was reported when the connection went (${Math.round(elapsed)} ms), not at the settle deadline`);
    await rsyslog.restart();
    const again = syslog.create({ ...options, settleMs: 20 });
    await again.start({ name: 'syslog-settle-2', logger: silentLogger, kafka: { produce: async () => {} } });
    try {
      assert.deepEqual(await again.send(events, AbortSignal.timeout(10_000)), { kind: 'ok' });
    } finally {
      await again.stop();
    }
    await eventually(() => rsyslog.received('tcp').length >= before + 2 * events.length, 'the resent batch', 10_000);
  } finally {
    await connector.stop();
    if (!rsyslog.running) await rsyslog.restart();
  }
  const ids = rsyslog
    .received('tcp')
    .slice(before)
    .map((message) => cefExtension(message.msg.replace(/^\ufeff/, '')).get('externalId'));
  for (const event of events) assert.ok(ids.includes(event.id), `${event.id} arrived`);
  t.diagnostic(`${ids.length} messages for ${events.length} events: the first write arrived, then the resend`);
});
