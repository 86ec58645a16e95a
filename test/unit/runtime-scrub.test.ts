import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import http from '../../connectors/http/index.js';
import epo from '../../connectors/epo/index.js';
import { SendError, type SinkConnector } from '../../src/runtime/contract.js';
import { RepeatLog } from '../../src/runtime/repeats.js';
import { guardSecrets, Scrubber, secretsOfOptions } from '../../src/runtime/scrub.js';
import { captureLogger } from '../../src/kit/index.js';

test('the secrets of parsed options: every Secret, URL credentials, and the forms they travel in', () => {
  const options = http.configSchema.parse({ url: 'https://alice:pa55-w0rd@siem.example.net/hook?apikey=k-8812&x=1' });
  const secrets = secretsOfOptions(options);
  for (const value of ['pa55-w0rd', 'k-8812', Buffer.from('alice:pa55-w0rd').toString('base64')]) assert.ok(secrets.includes(value), value);
  assert.ok(!secrets.includes('alice'));
  const basic = epo.configSchema.parse({ url: 'https://epo.example.net:8443', username: 'svc', password: 'Epo-Pass-77' });
  assert.ok(secretsOfOptions(basic).includes(Buffer.from('svc:Epo-Pass-77').toString('base64')));
});

test('a scrubber: longer values first, URL credentials, schemed tokens; errors in place, causes too', () => {
  const scrubber = new Scrubber(['abc', 'abc123']);
  assert.equal(scrubber.text('echo abc123 and abc at https://u:p@x.example/?token=t'), 'echo [redacted] and [redacted] at https://u:[redacted]@x.example/?token=[redacted]');
  assert.equal(scrubber.text('authorization: Splunk 0f1e2d3c-aaaa'), 'authorization: Splunk [redacted]');
  const error = new SendError('answered 401: abc123', true, { cause: new Error('echo abc') });
  assert.equal(scrubber.error(error), error);
  assert.doesNotMatch(inspect(error, { depth: 6 }), /abc/);
});

test('guardSecrets: what the connector answers, throws and logs is scrubbed, as the runner runs it', async () => {
  const secret = 'tw-guard-secret-4411';
  const inner: SinkConnector = {
    async start(ctx) {
      ctx.logger.child({ url: `https://x:${secret}@h/` }).warn({ echo: secret }, `said ${secret}`);
    },
    async send() {
      return { kind: 'retry', error: new SendError(`busy: ${secret}`, true) };
    },
    async stop() {
      throw new Error(`closing ${secret}`);
    },
  };
  const log = captureLogger();
  const connector = guardSecrets(inner, new Scrubber([secret]));
  await connector.start({ name: 't', logger: log.logger, kafka: { produce: async () => {} } });
  const result = await connector.send([], new AbortController().signal);
  const stopped = await connector.stop().catch((error: Error) => error.message);
  const texts = [...log.lines(), (result as { error: Error }).error.message, String(stopped)];
  for (const text of texts) assert.ok(!text.includes(secret), text);
  assert.equal(log.lines().length, 1);
});

test('a repeat is said once: the same problem again goes to debug, another is said, a success resets', () => {
  const log = captureLogger();
  const repeats = new RepeatLog(log.logger);
  assert.equal(repeats.problem('send', 'a', 'warn', {}, 'failed: a'), true);
  assert.equal(repeats.problem('send', 'a', 'warn', {}, 'failed: a'), false);
  assert.equal(repeats.problem('send', 'b', 'warn', {}, 'failed: b'), true);
  assert.equal(repeats.resolved('send', {}, 'ok again'), true);
  assert.equal(repeats.resolved('send', {}, 'ok again'), false);
  assert.equal(repeats.problem('send', 'b', 'warn', {}, 'failed: b'), true);
  assert.deepEqual(log.records().filter((r) => r.level >= 30).map((r) => r.msg), ['failed: a', 'failed: b', 'ok again', 'failed: b']);
});
