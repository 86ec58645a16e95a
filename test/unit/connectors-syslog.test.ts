import assert from 'node:assert/strict';
import { test } from 'node:test';
import syslog from '../../connectors/syslog/index.js';
import { createEncoder } from '../../connectors/syslog/encode.js';
import { conformanceSuite, sampleBatch } from '../../src/runtime/kit.js';
import { SyslogTlsReceiver } from '../helpers/syslog-receiver.js';
import { readFileSync } from 'node:fs';

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
  const stray = syslog.configSchema.safeParse({ host: 'h', transport: 'tcp', tls: { ca: '/ca.pem' } });
  assert.deepEqual(stray.error?.issues.map((i) => i.path.join('.')), ['tls']);
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
