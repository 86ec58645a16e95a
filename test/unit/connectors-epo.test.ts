import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import epo from '../../connectors/epo/index.js';
import { Scrubber } from '../../src/runtime/scrub.js';
import { CredentialsRefused, parseWebApiBody, resultOfAnswer } from '../../connectors/epo/client.js';
import { encodeEvents, tagChanges, tagSteps } from '../../connectors/epo/encode.js';
import { formatEpoEvent } from '../../src/formats/epo-xml.js';
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import { SinkRefused, type SendResult, type SinkConnector } from '../../src/runtime/contract.js';
import { RetryLog } from '../../src/runtime/repeats.js';
import { captureLogger, conformanceSuite, sampleBatch, sampleEvent, sampleEvents, type CapturedLogger } from '../../src/kit/index.js';
import { silentLogger } from '../../src/log.js';
import { EpoReceiver, readEpoEvents } from '../helpers/epo-receiver.js';

const basicOf = (receiver: EpoReceiver) => Buffer.from(`${receiver.username}:${receiver.password}`).toString('base64');

const kit = new EpoReceiver();
conformanceSuite({
  definition: epo,
  label: 'HTTPS verified against the test CA, Basic auth',
  options: () => ({ url: kit.url, username: kit.username, password: kit.password, tls: { ca: kit.caFile } }),
  harness: kit,
  secrets: [kit.password, basicOf(kit)],
  partial: false,
});

// ---- events of the kinds the tags follow --------------------------------------------------

const KVM = 'kvm-fra1-12.dc.example.net';
const ESX = 'esx-fra1-07.dc.example.net';

function trustChange(status: 'trusted' | 'untrusted' | 'unknown', previous: 'trusted' | 'untrusted' | 'unknown'): EventOf<'trust.change'> {
  const event = sampleEvent('trust.change');
  event.id = randomUUID();
  event.payload.status = status;
  event.payload.previousStatus = previous;
  if (event.enrichment !== undefined) event.enrichment.trust.status = status;
  return event;
}

function assessment(compliant: boolean): EventOf<'compliance.assessment'> {
  const event = sampleEvent('compliance.assessment');
  event.id = randomUUID();
  event.payload.compliant = compliant;
  return event;
}

// ---- on the wire --------------------------------------------------------------------------

describe('epo connector against an ePO-style server', () => {
  const receiver = new EpoReceiver();
  const running: SinkConnector[] = [];
  const never = new AbortController().signal;
  before(() => receiver.start());
  after(async () => {
    for (const connector of running) await connector.stop();
    await receiver.stop();
  });

  async function started(overrides: Record<string, unknown> = {}, log: CapturedLogger | undefined = undefined, now?: () => number): Promise<SinkConnector> {
    receiver.reset();
    const options = epo.configSchema.parse({ url: receiver.url, username: receiver.username, password: receiver.password, tls: { ca: receiver.caFile }, ...overrides });
    const connector = epo.create(options);
    await connector.start({ name: 'epo-test', logger: log?.logger ?? silentLogger, kafka: { produce: async () => {} }, ...(now && { now }) });
    running.push(connector);
    return connector;
  }

  test('each event kind goes as an EPOEvent with its ThreatCategory and CustomFields, one <EPOEvents> document per batch', async () => {
    const connector = await started();
    const deny = sampleEvent('policy.decision');
    deny.payload.decision = 'deny';
    const batch: CanonicalEvent[] = [...sampleEvents().filter((event) => event.type !== 'policy.decision'), deny];
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });

    const [request] = receiver.requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.path, '/remote/trustwire.events');
    assert.equal(request!.headers['content-type'], 'application/xml; charset=utf-8');
    const declaration = '<?xml version="1.0" encoding="UTF-8"?>';
    assert.equal(request!.body, `${declaration}<EPOEvents count="6">${batch.map((event) => formatEpoEvent(event).slice(declaration.length)).join('')}</EPOEvents>`);

    const byType = new Map(receiver.events.map((received, i) => [batch[i]!.type, received]));
    for (const received of receiver.events) {
      assert.equal(received.software.ProductName, 'trustwire');
      assert.equal(received.customTarget, 'TrustwireEventMT');
    }
    const trust = byType.get('trust.change')!;
    assert.equal(trust.machine.MachineName, KVM);
    assert.equal(trust.eventId, 47002);
    assert.equal(trust.gmtTime, '2025-03-14T09:59:59');
    assert.equal(trust.common.ThreatCategory, 'trust.untrusted');
    assert.equal(trust.custom.TrustStatus, 'untrusted');
    assert.match(trust.custom.PCRFaults!, /^OS: PcrValueMismatchSHA256 \(PCR 17 SHA256, expected c4eab375/);
    assert.equal(byType.get('policy.decision')!.common.ThreatCategory, 'policy.deny');
    assert.equal(byType.get('policy.decision')!.custom.Outcome, 'deny');
    const admin = byType.get('admin.action')!;
    assert.equal(admin.common.ThreatCategory, 'admin.activity');
    assert.deepEqual([admin.custom.UserId, admin.custom.Operation, admin.custom.Outcome].map(Boolean), [true, true, true]);
    const compliance = byType.get('compliance.assessment')!;
    assert.equal(compliance.common.ThreatCategory, 'compliance.assessment');
    assert.deepEqual([compliance.custom.Score, compliance.custom.MaxScore, compliance.custom.Compliant], ['80', '100', 'false']);
    assert.equal(byType.get('alert')!.common.ThreatCategory, `alert.${sampleEvent('alert').payload.rule}`);
    assert.equal(byType.get('config.snapshot')!.common.ThreatCategory, 'config.snapshot');
  });

  test('a host turning untrusted gets TXT: Untrusted applied, then TXT: Trusted cleared; trusted again, the reverse', async () => {
    const connector = await started();
    assert.deepEqual(await connector.send([trustChange('trusted', 'unknown')], never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(KVM), ['TXT: Trusted']);

    receiver.webApiCalls.length = 0;
    receiver.requests.length = 0;
    assert.deepEqual(await connector.send([trustChange('untrusted', 'trusted')], never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(KVM), ['TXT: Untrusted']);
    assert.deepEqual(
      receiver.webApiCalls.map(({ command, system, tag }) => [command, system, tag]),
      [
        ['system.applyTag', KVM, 'TXT: Untrusted'],
        ['system.clearTag', KVM, 'TXT: Trusted'],
      ],
    );
    const apply = receiver.requests.find((request) => request.path.startsWith('/remote/system.applyTag'))!;
    assert.equal(apply.method, 'GET');
    assert.equal(apply.path, `/remote/system.applyTag?names=${encodeURIComponent(KVM)}&tagName=TXT%3A%20Untrusted&:output=json`);

    assert.deepEqual(await connector.send([trustChange('trusted', 'untrusted')], never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(KVM), ['TXT: Trusted']);
  });

  test('a compliance assessment applies Compliance: Pass or Compliance: Fail and clears the other', async () => {
    const connector = await started();
    assert.deepEqual(await connector.send([assessment(false)], never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(ESX), ['Compliance: Fail']);
    assert.deepEqual(await connector.send([assessment(true)], never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(ESX), ['Compliance: Pass']);
    assert.deepEqual(await connector.send([assessment(false)], never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(ESX), ['Compliance: Fail']);
  });

  test('an unknown trust status clears both TXT tags', async () => {
    const connector = await started();
    await connector.send([trustChange('untrusted', 'trusted')], never);
    assert.deepEqual(await connector.send([trustChange('unknown', 'untrusted')], never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(KVM), []);
  });

  test("tags are sent only when a host's state differs from what the connector last set", async () => {
    const connector = await started();
    await connector.send([trustChange('untrusted', 'trusted'), assessment(false)], never);
    receiver.webApiCalls.length = 0;
    assert.deepEqual(await connector.send([trustChange('untrusted', 'untrusted'), assessment(false)], never), { kind: 'ok' });
    assert.deepEqual(receiver.webApiCalls, [], 'the same states again: no Web API call');
    // Within a batch the last event of a host wins: one change, to trusted.
    assert.deepEqual(await connector.send([trustChange('trusted', 'untrusted'), trustChange('untrusted', 'trusted'), trustChange('trusted', 'untrusted')], never), { kind: 'ok' });
    assert.deepEqual(
      receiver.webApiCalls.map(({ command, tag }) => `${command} ${tag}`),
      ['system.applyTag TXT: Trusted', 'system.clearTag TXT: Untrusted'],
    );
  });

  test('an `Error 0 :` answered with HTTP 200 is not success: retried, and the retry sets the tag without posting the events again', async () => {
    const connector = await started();
    receiver.failWebApi({ body: 'Error 0 :\r\nDatabase connection lost' });
    const batch = [trustChange('untrusted', 'trusted'), sampleEvent('admin.action')];
    const first = await connector.send(batch, never);
    assert.equal(first.kind, 'retry');
    assert.match((first as { error: Error }).error.message, /system\.applyTag "TXT: Untrusted" on kvm-fra1-12\.dc\.example\.net .*answered 200 with Error 0: Database connection lost/);
    assert.deepEqual(receiver.tagsOf(KVM), []);
    assert.equal(receiver.events.length, 2, 'the events were accepted');

    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    assert.deepEqual(receiver.tagsOf(KVM), ['TXT: Untrusted']);
    assert.deepEqual(await receiver.received(), batch.map((event) => event.id), 'each event posted once');
  });

  test('accepted events whose tags failed are remembered for an hour: a resend after that posts them again rather than lose them', async () => {
    let ahead = 0;
    const connector = await started({}, undefined, () => Date.now() + ahead);
    receiver.failWebApi({ body: 'Error 0 :\r\nDatabase connection lost', times: 2 });
    const batch = [trustChange('untrusted', 'trusted'), sampleEvent('admin.action')];
    assert.equal((await connector.send(batch, never)).kind, 'retry');
    assert.equal((await connector.send(batch, never)).kind, 'retry');
    assert.equal(receiver.events.length, 2, 'within the hour, a resend only redoes the tags');
    ahead = 60 * 60 * 1000; // the connector's clock, an hour on
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    assert.equal(receiver.events.length, 4, 'past it, the ids are forgotten and the events posted again: a duplicate, never a loss');
    assert.deepEqual(receiver.tagsOf(KVM), ['TXT: Untrusted']);
  });

  test('an unknown tag (`Error 2 :` with HTTP 200) dead-letters the events that asked for it; the others are delivered', async () => {
    const connector = await started();
    receiver.definedTags.delete('TXT: Untrusted');
    const batch = sampleBatch(6);
    const result = await connector.send(batch, never);
    assert.equal(result.kind, 'partial');
    const failed = (result as Extract<SendResult, { kind: 'partial' }>).failed;
    assert.deepEqual([...failed.keys()], [batch.findIndex((event) => event.type === 'trust.change')]);
    assert.equal(failed.get(0)!.retriable, false);
    assert.match(failed.get(0)!.message, /cannot be set: .*Error 2: No tag named "TXT: Untrusted"/);
    assert.deepEqual(receiver.tagsOf(ESX), ['Compliance: Fail'], 'the compliance tag went through');
  });

  test('every request carries Basic username:password, and the password is in no log line, error or status', async () => {
    const log = captureLogger();
    const good = await started({}, log);
    await good.send(sampleBatch(6), never);
    const expected = `Basic ${basicOf(receiver)}`;
    assert.ok(receiver.requests.length > 1);
    for (const request of receiver.requests) assert.equal(request.headers.authorization, expected, request.path);

    const wrongPassword = 'not-the-Passw0rd-3e9a';
    const refused = await started({ password: wrongPassword }, log);
    const errors: Error[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await refused.send(sampleBatch(6, i + 1), never);
      assert.equal(result.kind, 'retry');
      errors.push((result as { error: Error }).error);
    }
    assert.ok(errors.every((error) => error instanceof CredentialsRefused && error instanceof SinkRefused));
    assert.match(errors[0]!.message, /answered 401: the server refused trustwire's credentials; check username and password/);
    // What the runner does with each retry's error: a refusal is said once, loudly.
    const retries = new RetryLog(log.logger);
    for (const error of errors) retries.failed(error, error.message, {});
    const loud = log.records().filter((record) => record.level >= 50);
    assert.equal(loud.length, 1, 'said once, not at every attempt');
    assert.match(String(loud[0]!.msg), /the sink refuses trustwire/);

    const texts = [...log.lines(), ...errors.flatMap((error) => [error.message, inspect(error, { depth: 6 })])];
    for (const secret of [receiver.password, basicOf(receiver), wrongPassword, Buffer.from(`${receiver.username}:${wrongPassword}`).toString('base64')]) {
      for (const text of texts) assert.ok(!text.includes(secret), `a credential in: ${text.slice(0, 120)}`);
    }
  });

  test("TLS verification is on by default: a server whose CA is not given answers retry, and nothing is sent", async () => {
    const connector = await started({ tls: {} });
    const result = await connector.send(sampleBatch(4), never);
    assert.equal(result.kind, 'retry');
    assert.match((result as { error: Error }).error.message, /^POST https:\/\/127\.0\.0\.1:\d+\/remote\/trustwire\.events failed: \w+.*give its CA in tls\.ca/);
    assert.deepEqual(receiver.requests, []);
  });

  test('a 429 from a tag command is retried after its Retry-After', async () => {
    const connector = await started();
    receiver.failWebApi({ status: 429, body: 'Too many requests', retryAfter: '3' });
    const result = await connector.send([assessment(true)], never);
    assert.equal(result.kind, 'retry');
    assert.equal((result as { retryAfterMs?: number }).retryAfterMs, 3000);
  });
});

// ---- options ------------------------------------------------------------------------------

test('http:// is refused unless allowInsecureHttp: true, for the events and the Web API alike', () => {
  const base = { username: 'u', password: 'p' };
  const refused = epo.configSchema.safeParse({ ...base, url: 'http://epo.lab:8080' });
  assert.equal(refused.success, false);
  assert.match(JSON.stringify(refused.error?.issues), /in the clear/);
  assert.equal(epo.configSchema.safeParse({ ...base, url: 'http://epo.lab:8080', allowInsecureHttp: true }).success, true);
  assert.equal(epo.configSchema.safeParse({ ...base, url: 'https://epo.lab', tags: { url: 'http://epo.lab:8443' } }).success, false);
  assert.equal(epo.configSchema.safeParse({ ...base, url: 'https://epo.lab/remote' }).success, false, 'the path goes in eventsPath');
  assert.equal(epo.configSchema.safeParse({ ...base, url: 'https://admin:pw@epo.lab' }).success, false, 'credentials go in username and password');
});

test('the defaults: the TXT and Compliance tags, verification on, TLS 1.2 at least, /remote/trustwire.events', () => {
  const options = epo.configSchema.parse({ url: 'https://epo.example.net:8443', username: 'u', password: 'p' });
  assert.deepEqual(
    { ...options.tags },
    { enabled: true, trusted: 'TXT: Trusted', untrusted: 'TXT: Untrusted', compliant: 'Compliance: Pass', noncompliant: 'Compliance: Fail' },
  );
  assert.deepEqual(options.permanentErrorCodes, [1, 2, 3]);
  assert.deepEqual(options.tls, { verify: true, minVersion: 'TLSv1.2' });
  assert.equal(options.eventsPath, '/remote/trustwire.events');
});

// ---- pure parts ---------------------------------------------------------------------------

test('the Web API body: `OK:` then the result, or `Error N :` then the message', () => {
  assert.deepEqual(parseWebApiBody('OK:\r\n{"accepted":3}'), { kind: 'ok', result: '{"accepted":3}' });
  assert.deepEqual(parseWebApiBody('OK:\r\n1'), { kind: 'ok', result: '1' });
  assert.deepEqual(parseWebApiBody('Error 0 :\r\nInternal error'), { kind: 'error', code: 0, message: 'Internal error' });
  assert.deepEqual(parseWebApiBody('Error 17 : No tag named "x"\r\n'), { kind: 'error', code: 17, message: 'No tag named "x"' });
  assert.deepEqual(parseWebApiBody('<html><body>Login</body></html>'), { kind: 'unrecognized' });
  assert.deepEqual(parseWebApiBody('ok: lowercase is not ePO'), { kind: 'unrecognized' });
});

test('answers: 200 counts only with OK:; Error N per the permanent codes; status codes sorted like the http connector', () => {
  const context = { what: 'POST https://epo/remote/trustwire.events', permanentCodes: [1, 2, 3], batch: { events: 5, bytes: 4096 } };
  const answer = (status: number, body = '', retryAfter: string | null = null) => resultOfAnswer({ status, body, retryAfter }, context, Date.parse('2026-11-26T12:00:00Z'));
  assert.deepEqual(answer(200, 'OK:\r\n{"accepted":5}'), { kind: 'ok' });
  assert.equal(answer(200, 'Error 0 :\r\nbusy').kind, 'retry');
  for (const code of [1, 2, 3]) assert.equal(answer(200, `Error ${code} :\r\nno`).kind, 'permanent', String(code));
  assert.equal(answer(200, 'Error 9 :\r\nsomething else').kind, 'retry');
  // The client scrubs the body with the connector's secrets (src/runtime/scrub.ts) before it comes here.
  const proxied = new Scrubber(['s3cret']).error((answer(200, '<html>proxy login, echoing s3cret</html>') as { error: Error }).error);
  assert.match(proxied.message, /answered 200 without "OK:".*echoing \[redacted\]/);
  assert.equal(answer(204).kind, 'retry', 'a 2xx without OK: is not success');
  for (const status of [401, 403]) assert.ok((answer(status) as { error: Error }).error instanceof CredentialsRefused);
  for (const status of [400, 404, 415, 422]) assert.equal(answer(status, 'Error 1 :\r\nbad').kind, 'permanent', String(status));
  assert.match((answer(413) as { error: Error }).error.message, /batch of 5 events \(4096 bytes\) is too large.*lower batch\.maxEvents or batch\.maxBytes/);
  assert.equal(answer(302).kind, 'permanent');
  for (const status of [408, 500, 502, 503, 504]) assert.equal(answer(status).kind, 'retry', String(status));
  assert.equal((answer(429, '', '7') as { retryAfterMs?: number }).retryAfterMs, 7000);
  assert.equal((answer(503, '', 'Thu, 26 Nov 2026 12:00:30 GMT') as { retryAfterMs?: number }).retryAfterMs, 30_000);
});

test('the tag plan: the last event of a host wins, and the warning tag is applied before the other is cleared', () => {
  const names = { trusted: 'T', untrusted: 'U', compliant: 'P', noncompliant: 'F' };
  const batch: CanonicalEvent[] = [trustChange('untrusted', 'trusted'), sampleEvent('admin.action'), assessment(true), trustChange('trusted', 'untrusted')];
  assert.deepEqual(
    tagChanges(batch).map(({ system, aspect, state, indexes }) => [system, aspect, state, indexes]),
    [
      [KVM, 'trust', 'trusted', [0, 3]],
      [ESX, 'compliance', 'pass', [2]],
    ],
  );
  assert.deepEqual(tagSteps('untrusted', names), [
    { command: 'system.applyTag', tag: 'U' },
    { command: 'system.clearTag', tag: 'T' },
  ]);
  assert.deepEqual(tagSteps('unknown', names), [
    { command: 'system.clearTag', tag: 'T' },
    { command: 'system.clearTag', tag: 'U' },
  ]);
  assert.deepEqual(tagSteps('fail', names), [
    { command: 'system.applyTag', tag: 'F' },
    { command: 'system.clearTag', tag: 'P' },
  ]);
  const noName = trustChange('untrusted', 'trusted');
  delete noName.host.name;
  assert.equal(tagChanges([noName])[0]!.system, 'kvm-fra1-12', 'host.id when the host has no name');
});

test('the batch envelope reads back: one EPOEvents root, its count, each EPOEvent whole', () => {
  const batch = sampleBatch(6);
  const read = readEpoEvents(encodeEvents(batch).toString('utf8'));
  assert.deepEqual(
    read.map((event) => event.id),
    batch.map((event) => event.id),
  );
});
