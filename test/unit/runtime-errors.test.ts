import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HecRequestError } from '../../connectors/splunk-hec/client.js';
import { TransportError as SyslogTransportError } from '../../src/runtime/socket.js';
import { RelpProtocolError } from '../../connectors/syslog/relp.js';
import { HttpError } from '../../src/api/errors.js';
import { CliError } from '../../src/cli/errors.js';
import { ConfigError } from '../../src/config/load.js';
import { isRetriable, TransportError, TrustwireError } from '../../src/errors.js';
import { KafkaSettingRefused } from '../../src/kafka/client.js';
import { KafkaUnavailable } from '../../src/kafka/errors.js';
import { ValidationError } from '../../src/model/validation.js';
import { SendError, type SinkConnector } from '../../src/runtime/contract.js';
import { deliver } from '../../src/runtime/deliver.js';
import { sampleBatch } from '../../src/kit/index.js';
import { ConnectorRefused } from '../../src/runtime/registry.js';

test('every error class derives from TrustwireError, keeping its own name; retriable says whether to try again', () => {
  const errors: Array<[TrustwireError, string, boolean]> = [
    [new SendError('busy', true), 'SendError', true],
    [new SendError('refused', false), 'SendError', false],
    [new TransportError('reset'), 'TransportError', true],
    [new KafkaUnavailable('no leader'), 'KafkaUnavailable', true],
    [new KafkaSettingRefused('kafka.sasl', 'wrong password'), 'KafkaSettingRefused', false],
    [new ValidationError('invalid event', []), 'ValidationError', false],
    [new ConfigError('f.yaml', []), 'ConfigError', false],
    [new HttpError(400, 'bad'), 'HttpError', false],
    [new CliError('usage'), 'CliError', false],
    [new ConnectorRefused('c', 'options.url', 'bad'), 'ConnectorRefused', false],
    [new RelpProtocolError('bad frame'), 'RelpProtocolError', false],
    [new HecRequestError('down', { kind: 'network', reason: 'ECONNREFUSED' }), 'HecRequestError', true],
  ];
  for (const [error, name, retriable] of errors) {
    assert.ok(error instanceof TrustwireError, name);
    assert.equal(error.name, name);
    assert.equal(error.retriable, retriable, name);
    assert.equal(isRetriable(error), retriable, name);
  }
  assert.equal(SyslogTransportError, TransportError, 'one TransportError');
});

test('the runtime adds the stage and attempt to a send error', async () => {
  const refusing: SinkConnector = {
    async start() {},
    async send() {
      return { kind: 'permanent', error: new SendError('refused', false) };
    },
    async stop() {},
  };
  const retry = { maxAttempts: 3, initialMs: 1, maxMs: 1, multiplier: 1, jitter: 0 };
  const outcome = await deliver(refusing, sampleBatch(2), { retry, timeoutMs: 1000, signal: new AbortController().signal, isStale: () => false });
  assert.equal(outcome.kind, 'done');
  const [first] = (outcome as { deadLetters: Array<{ error: Error }> }).deadLetters;
  assert.deepEqual((first!.error as TrustwireError).context, { stage: 'send', attempt: 1 });
  assert.deepEqual(new TrustwireError('x', { context: { component: 'c' } }).within({ stage: 's' }).context, { component: 'c', stage: 's' });
});
