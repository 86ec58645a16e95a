/**
 * Hostile input at the ingest edge (security issue 11): each probe the issue measured, answered
 * with a 400/415 in the one `{error, details[]}` shape, naming the field and the reason, quickly,
 * in a small answer, and with nothing produced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adapt } from '../../src/ingest/adapters/registry.js';
import { parseJsonDocument } from '../../src/ingest/body.js';
import { MAX_FIELD_ERRORS, MORE_PATH, ValidationError } from '../../src/model/validation.js';
import { ingestFixture, readFixture } from '../helpers/fixtures.js';
import { ingestServer, MAX_ANSWER_BYTES, post, type IngestServer } from '../helpers/ingest-server.js';

let server: IngestServer;
before(async () => {
  server = await ingestServer();
});
after(() => server.close());

interface Answer {
  error: string;
  details: Array<{ path: string; message: string; line?: number; index?: number }>;
}

/** POSTs, checks the refusal produced nothing and has the error shape, and returns it. */
async function refused(url: string, body: string | Buffer, expectedStatus = 400, contentType = 'application/json'): Promise<Answer> {
  const before = server.producer.sent.length;
  const response = await post(server.app, url, body, contentType);
  assert.equal(response.statusCode, expectedStatus, response.body.slice(0, 500));
  assert.equal(server.producer.sent.length, before, 'a refused request produced nothing');
  const answer = response.json() as Answer;
  assert.equal(typeof answer.error, 'string');
  assert.ok(Array.isArray(answer.details));
  return answer;
}

function detailAt(answer: Answer, path: string) {
  const detail = answer.details.find((d) => d.path === path);
  assert.ok(detail, `no detail at ${path} in ${JSON.stringify(answer.details).slice(0, 500)}`);
  return detail;
}

const event = (patch: Record<string, unknown> = {}) => ({ ...ingestFixture('trust.change'), ...patch });
const withPayload = (type: Parameters<typeof ingestFixture>[0], patch: Record<string, unknown>) => {
  const base = ingestFixture(type);
  return { ...base, payload: { ...(base.payload as object), ...patch } };
};

/** A Keylime webhook whose notification has `context` replaced by raw JSON text. */
function keylimeWithContext(contextJson: string): string {
  const webhook = JSON.parse(readFixture('adapters/keylime-pcr-mismatch.json')) as { msg: string; signature: string };
  const msg = JSON.parse(webhook.msg) as Record<string, unknown>;
  msg.context = 'CONTEXT';
  return JSON.stringify({ ...webhook, msg: JSON.stringify(msg).replace('"CONTEXT"', contextJson) });
}

describe('nesting is bounded before anything recursive runs', () => {
  const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;

  test('a Keylime context nested 10,000 deep: 400 naming where, not a 500', async () => {
    const answer = await refused('/v1/adapters/keylime', keylimeWithContext(`{"error": ${deep}}`));
    assert.equal(answer.details.length, 1);
    assert.match(answer.details[0]!.path, /^msg\.context\.error(\[0\])+$/);
    assert.match(answer.details[0]!.message, /nested more than 32 levels deep/);
  });

  test('the same document handed to the adapter (trustwire emit --from keylime): a ValidationError with the path', () => {
    assert.throws(
      () => adapt('keylime', parseJsonDocument(keylimeWithContext(`{"error": ${deep}}`))),
      (error: unknown) => error instanceof ValidationError && /^msg\.context\.error/.test(error.details[0]!.path),
    );
  });

  test('an event nested 10,000 deep: 400 at the field', async () => {
    const body = JSON.stringify(event({ payload: 'DEEP' })).replace('"DEEP"', deep);
    const answer = await refused('/v1/events', body);
    assert.match(detailAt(answer, `payload${'[0]'.repeat(31)}`).message, /more than 32 levels/);
  });
});

describe('a garbage body gets a small answer, fast', () => {
  test('600 KB of NDJSON garbage: the first 100 problems and where checking stopped, in under 64 KiB', async () => {
    let garbage = '';
    while (garbage.length < 600_000) garbage += 'x{]\n';
    const started = performance.now();
    const answer = await refused('/v1/events', garbage, 400, 'application/x-ndjson');
    const took = performance.now() - started;
    assert.ok(took < 1_000, `took ${Math.round(took)} ms`);
    assert.ok(JSON.stringify(answer).length < MAX_ANSWER_BYTES);
    assert.equal(answer.details.length, MAX_FIELD_ERRORS + 1);
    assert.equal(answer.details[0]!.line, 1);
    assert.deepEqual(answer.details.at(-1), { path: MORE_PATH, message: 'checking stopped there: lines 101-150001 were not checked' });
  });

  test('a batch with more problems than are listed counts the rest', async () => {
    const events = Array.from({ length: 30 }, () => event({ severity: 'high', host: 5, source: 7, time: 'now' }));
    const answer = await refused('/v1/events', JSON.stringify(events));
    assert.equal(answer.details.length, MAX_FIELD_ERRORS + 1);
    assert.equal(answer.details.at(-1)!.path, MORE_PATH);
    assert.match(answer.details.at(-1)!.message, /checking stopped there: events \[25\]-\[29\] were not checked/);
  });
});

describe('strings, keys and objects are bounded', () => {
  test('a string over 64 KiB: 400 naming its field and length', async () => {
    const answer = await refused('/v1/events', JSON.stringify(event({ tenant: 'x'.repeat(70_000) })));
    assert.match(detailAt(answer, 'tenant').message, /70,000 characters long; at most 65,536/);
  });

  test('an object of more than 10,000 keys: 400 naming it', async () => {
    const settings = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, true]));
    const answer = await refused('/v1/events', JSON.stringify(withPayload('config.snapshot', { settings })));
    assert.match(detailAt(answer, 'payload.settings').message, /10,001 keys; at most 10,000/);
  });
});

describe('text must be Unicode, as UTF-8', () => {
  test('invalid UTF-8 in host.id: 400 naming the byte offset, not stored as U+FFFD', async () => {
    const text = JSON.stringify(event({ host: { id: 'HOST' } }));
    const offset = Buffer.byteLength(text.slice(0, text.indexOf('HOST')));
    const body = Buffer.concat([Buffer.from(text.slice(0, text.indexOf('HOST'))), Buffer.from([0x6b, 0xff, 0x6d]), Buffer.from(text.slice(text.indexOf('HOST') + 4))]);
    const answer = await refused('/v1/events', body);
    assert.match(detailAt(answer, '(body)').message, new RegExp(`not UTF-8: the byte 0xff at offset ${offset + 1} \\(line 1\\)`));
  });

  test('a lone surrogate written as a JSON escape: 400, it cannot be written as UTF-8 either', async () => {
    const body = JSON.stringify(event({ host: { id: 'HOST' } })).replace('HOST', '\\ud800');
    const answer = await refused('/v1/events', body);
    assert.match(detailAt(answer, 'host.id').message, /lone surrogate \(U\+D800 at index 0\)/);
  });

  test('a charset other than UTF-8: 415 naming it', async () => {
    const answer = await refused('/v1/events', JSON.stringify(event()), 415, 'application/json; charset=utf-16');
    assert.match(answer.error, /unsupported charset "utf-16"/);
    assert.equal(detailAt(answer, 'content-type').message, 'charset "utf-16" is not UTF-8');
  });

  test('charset=utf-8, in any case and quoted, and no charset at all are taken', async () => {
    for (const contentType of ['application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json']) {
      const response = await post(server.app, '/v1/events', JSON.stringify(event()), contentType);
      assert.equal(response.statusCode, 202, `${contentType}: ${response.body}`);
    }
  });

  test('an NDJSON content type in capitals is still NDJSON', async () => {
    const line = JSON.stringify(event());
    const response = await post(server.app, '/v1/events', `${line}\n${line}\n`, 'Application/X-NDJSON');
    assert.equal(response.statusCode, 202, response.body);
  });
});

describe('control characters are refused in ids and keys, allowed in free text', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['NUL as host.id', () => event({ host: { id: '\u0000' } }), 'host.id'],
    ['DEL in an event source', () => event({ source: { system: 'attestation', vendor: 'Intel\u007f', product: 'HVS' } }), 'source.vendor'],
    ['C1 (NEL) in a user id', () => withPayload('admin.action', { user: { id: 'jana\u0085' } }), 'payload.user.id'],
    ['a tab in a VM id', () => withPayload('policy.decision', { resource: { type: 'vm', id: 'vm\t42' } }), 'payload.resource.id'],
    ['ESC in a label', () => withPayload('policy.decision', { resource: { type: 'vm', id: 'vm-42', labels: ['\u001b[31m'] } }), 'payload.resource.labels[0]'],
  ];
  for (const [name, body, path] of cases) {
    test(`${name}: 400 at ${path}`, async () => {
      const answer = await refused('/v1/events', JSON.stringify(body()));
      assert.match(detailAt(answer, path).message, /must not contain control characters: U\+00[0-9A-F]{2} at index \d+/);
    });
  }

  test('a control character in an asset tag key: 400 naming the key, escaped', async () => {
    const answer = await refused('/v1/events', JSON.stringify(withPayload('trust.change', { assetTags: { 'site\u0000': 'FRA1' } })));
    assert.match(detailAt(answer, 'payload.assetTags["site\\u0000"]').message, /control character \(U\+0000 at index 4\)/);
  });

  test('a control character in a message is taken: the sinks escape it', async () => {
    const response = await post(server.app, '/v1/events', JSON.stringify(withPayload('admin.action', { error: 'line 1\nline 2\u0000' })));
    assert.equal(response.statusCode, 202, response.body);
  });

  test('a Keylime agent id with a control character: 400 at msg.agent_id', async () => {
    const webhook = JSON.parse(readFixture('adapters/keylime-pcr-mismatch.json')) as { msg: string };
    const msg = { ...(JSON.parse(webhook.msg) as object), agent_id: 'agent\u0000' };
    const answer = await refused('/v1/adapters/keylime', JSON.stringify({ ...webhook, msg: JSON.stringify(msg) }));
    assert.match(detailAt(answer, 'msg.agent_id').message, /control characters/);
  });
});

describe('dates must exist', () => {
  test('2024-02-30T00:00:00Z: 400 at time', async () => {
    const answer = await refused('/v1/events', JSON.stringify(event({ time: '2024-02-30T00:00:00Z' })));
    assert.match(detailAt(answer, 'time').message, /RFC 3339 date-time with a zone that exists, got "2024-02-30T00:00:00Z"/);
  });

  test('an hour of 24 or an offset of +24:00: 400', async () => {
    for (const time of ['2024-03-01T24:00:00Z', '2024-03-01T10:00:00+24:00']) {
      await refused('/v1/events', JSON.stringify(event({ time })));
    }
  });

  test('a leap day and a zone offset are taken', async () => {
    const response = await post(server.app, '/v1/events', JSON.stringify([event({ time: '2024-02-29T23:59:59.5Z' }), event({ time: '2024-03-01T01:00:00+02:00' })]));
    assert.equal(response.statusCode, 202, response.body);
  });

  test('a HVS report created on a day that does not exist: 400 at created', async () => {
    const report = { ...(JSON.parse(readFixture('adapters/hvs-report-trusted-asset-tags.json')) as object), created: '2025-02-29T10:00:00Z' };
    const answer = await refused('/v1/adapters/intel-secl-hvs', JSON.stringify(report));
    assert.match(detailAt(answer, 'created').message, /that exists/);
  });
});

describe('keys JavaScript objects treat as their prototype are refused, not dropped', () => {
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    test(`${key} in assetTags: 400 naming the path`, async () => {
      const body = JSON.stringify(withPayload('trust.change', { assetTags: { country: 'DE', KEY: 'x' } })).replace('"KEY"', JSON.stringify(key));
      const answer = await refused('/v1/events', body);
      assert.match(detailAt(answer, `payload.assetTags.${key}`).message, /not allowed as a key/);
    });
  }

  test('__proto__ in config.snapshot settings: 400 naming the path', async () => {
    const body = JSON.stringify(withPayload('config.snapshot', { settings: { KEY: { polluted: true } } })).replace('"KEY"', '"__proto__"');
    const answer = await refused('/v1/events', body);
    detailAt(answer, 'payload.settings.__proto__');
  });
});

describe('an adapter body that holds no event is refused', () => {
  const cases: Array<[string, string, string, string, RegExp]> = [
    ['HVS {"reports":null}', 'intel-secl-hvs', '{"reports":null}', 'reports', /holds no report \(null\)/],
    ['HVS {"reports":[]}', 'intel-secl-hvs', '{"reports":[]}', 'reports', /holds no report \(an empty array\)/],
    ['HVS []', 'intel-secl-hvs', '[]', '(root)', /the array holds no report/],
    ['Keylime without the notification', 'keylime', '{"signature": ""}', 'msg', /required/],
  ];
  for (const [name, adapter, body, path, message] of cases) {
    test(`${name}: 400 at ${path}`, async () => {
      const answer = await refused(`/v1/adapters/${adapter}`, body);
      assert.match(detailAt(answer, path).message, message);
    });
  }
});
