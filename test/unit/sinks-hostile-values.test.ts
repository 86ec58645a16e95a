/**
 * Hostile values in every sink (issue 11, "no value steers a sink"): a host name, pool, user,
 * tenant or asset tag written to add a field, split a record, forge another one or address
 * another system. Each test reads the output the way the receiver does (RFC 5424 header and
 * SD, CEF split at unescaped pipes, LEEF at its delimiter, XML parsed, lines split, HEC's
 * concatenated objects, ePO's names list) and checks that exactly one record came through per
 * event, with the original value in its one field.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import epo from '../../connectors/epo/index.js';
import { encodeEvents } from '../../connectors/epo/encode.js';
import { encodeLines } from '../../connectors/file/encode.js';
import http from '../../connectors/http/index.js';
import { encodeRecords, TYPE_HEADER } from '../../connectors/kafka/encode.js';
import { createEncoder as createHecEncoder } from '../../connectors/splunk-hec/encode.js';
import splunkHec from '../../connectors/splunk-hec/index.js';
import { createMessageEncoder, frameBatch, framingOf, type SyslogMessage } from '../../connectors/syslog/encode.js';
import syslog from '../../connectors/syslog/index.js';
import { formatCef } from '../../src/formats/cef.js';
import { createLeefFormatter } from '../../src/formats/leef.js';
import { formatEventRfc5424 } from '../../src/formats/syslog.js';
import { silentLogger } from '../../src/log.js';
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import type { SendError, SinkConnector } from '../../src/runtime/contract.js';
import { EpoReceiver, readEpoEvents, systemNames } from '../helpers/epo-receiver.js';
import { parseCef } from '../helpers/cef-reader.js';
import { eventFixture } from '../helpers/fixtures.js';
import { parseConcatenated } from '../helpers/hec-receiver.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// ---- the hostile values -------------------------------------------------------------------

/** Every structural character of every format: a comma (ePO's names), pipes, `=`, backslashes, quotes, `]`, XML markup; under CEF's 100 for dvchost. */
const NAME = 'x,db-prod-01|act=forged \\ cs1=trusted "] [f@1 a="b" </MachineName><MachineName>db &amp;';
/** A line break, then what a forged syslog record and CEF line would look like. */
const POOL = 'gold\r\n<13>1 2025-03-14T10:00:00Z db-prod-01 trustwire - trust.change - CEF:0|trustwire|trustwire|1|trust.change:trusted|x|0|act=forged\n';
/** Would close the SD-PARAM and open others, or a JSON string. */
const TENANT = 'acme" id="01959418-0000-7000-8000-000000000000" host="db-prod-01"] [x@1 y="z';
/** LEEF's delimiter, and the Unicode line breaks that Java's `\R` and Python's `splitlines` end a line at. */
const USER = 'root\tusrName=admin\u2028msg=forged\u0085sev=10\u2029';
const TAG_VALUE = 'internal\n|owner=forged\\';

/** What a reader that splits on every Unicode line break sees as lines (Java's `\R`, Python's `str.splitlines`). */
const ANY_LINE_BREAK = /\r\n|[\n\x0b\x0c\r\x1c-\x1e\x85\u2028\u2029]/;

const HOSTILE = { name: NAME, pool: POOL, tenant: TENANT, user: USER, tag: TAG_VALUE };
/** The same fields with harmless values: what the record must look like, but for the values. */
const PLAIN = { name: 'esx-01', pool: 'gold', tenant: 'acme', user: 'root', tag: 'internal' };

function hostile<T extends 'trust.change' | 'admin.action'>(type: T, values: typeof HOSTILE = HOSTILE): EventOf<T> {
  const event: CanonicalEvent = eventFixture(type);
  event.id = randomUUID();
  event.host.name = values.name;
  event.host.pool = values.pool;
  event.tenant = values.tenant;
  if (event.type === 'admin.action') event.payload.user.name = values.user;
  if (event.enrichment !== undefined) event.enrichment.assetTags = { owner: values.tag };
  return event as EventOf<T>;
}

function plain<T extends 'trust.change' | 'admin.action'>(type: T): EventOf<T> {
  return hostile(type, PLAIN);
}

// ---- readers, written from the specs, independent of the writers ----------------------------

/** LEEF 2.0: five header fields after `LEEF:2.0|`, then attributes split at the delimiter, each split at its first `=`. */
function parseLeef(line: string): { header: string[]; attributes: Map<string, string> } {
  assert.ok(line.startsWith('LEEF:2.0|'), line);
  const fields = line.slice('LEEF:2.0|'.length).split('|');
  const header = fields.slice(0, 5);
  const delimiterField = header[4]!;
  const delimiter = /^x[0-9A-F]{2}$/i.test(delimiterField) ? String.fromCharCode(Number.parseInt(delimiterField.slice(1), 16)) : delimiterField;
  const attributes = new Map<string, string>();
  for (const attribute of fields.slice(5).join('|').split(delimiter)) {
    const eq = attribute.indexOf('=');
    assert.ok(eq > 0, `an attribute without a key: ${JSON.stringify(attribute)}`);
    const key = attribute.slice(0, eq);
    assert.ok(!attributes.has(key), `attribute ${key} appears twice`);
    attributes.set(key, attribute.slice(eq + 1));
  }
  return { header, attributes };
}

interface Rfc5424 {
  header: string[];
  sd: Array<{ id: string; params: Array<[string, string]> }>;
  msg: string;
}

/** RFC 5424 §6: `<PRI>1` and five space-separated header fields, STRUCTURED-DATA (`-` or elements), then SP MSG. */
function parseRfc5424(message: string): Rfc5424 {
  const head = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(message);
  assert.ok(head !== null, `not an RFC 5424 header: ${JSON.stringify(message.slice(0, 120))}`);
  const header = head.slice(2);
  const limits = [Infinity, 255, 48, 128, 32];
  header.forEach((field, i) => {
    assert.match(field, /^[\x21-\x7e]+$/, `header field ${i} is PRINTUSASCII`);
    assert.ok(field.length <= limits[i]!, `header field ${i} is at most ${limits[i]}`);
  });
  let at = head[0].length;
  const sd: Rfc5424['sd'] = [];
  if (message[at] === '-') at++;
  else {
    while (message[at] === '[') {
      const id = /^[^\s=\]"]{1,32}/.exec(message.slice(at + 1));
      assert.ok(id !== null, 'an SD-ID');
      at += 1 + id[0].length;
      const params: Array<[string, string]> = [];
      while (message[at] === ' ') {
        const name = /^([^\s=\]"]{1,32})="/.exec(message.slice(at + 1));
        assert.ok(name !== null, `an SD-PARAM at ${at}: ${JSON.stringify(message.slice(at, at + 40))}`);
        at += 1 + name[0].length;
        let value = '';
        for (; message[at] !== '"'; at++) {
          assert.ok(at < message.length, 'a PARAM-VALUE is never closed');
          if (message[at] === '\\' && '"\\]'.includes(message[at + 1]!)) at++;
          else assert.notEqual(message[at], ']', 'an unescaped ] inside a PARAM-VALUE');
          value += message[at];
        }
        at++;
        params.push([name[1]!, value]);
      }
      assert.equal(message[at], ']', `the SD-ELEMENT ${id[0]} is closed`);
      at++;
      sd.push({ id: id[0], params });
    }
  }
  if (at === message.length) return { header, sd, msg: '' };
  assert.equal(message[at], ' ', 'SP before MSG');
  return { header, sd, msg: message.slice(at + 1).replace(/^\ufeff/, '') };
}

/** Octet-counted frames (RFC 6587 §3.4.1): `LEN SP MSG`, back to back; the whole stream must be frames. */
function readOctetCounted(stream: Buffer): string[] {
  const messages: string[] = [];
  let at = 0;
  while (at < stream.length) {
    const space = stream.indexOf(0x20, at);
    const length = Number(stream.subarray(at, space).toString('latin1'));
    assert.ok(Number.isInteger(length) && space > at, `a frame length at byte ${at}`);
    messages.push(stream.subarray(space + 1, space + 1 + length).toString('utf8'));
    at = space + 1 + length;
  }
  return messages;
}

// ---- ePO tags: the Web API's names parameter ------------------------------------------------

describe('epo tags with hostile host names, against a receiver that reads names as ePO does', () => {
  const receiver = new EpoReceiver();
  const running: SinkConnector[] = [];
  const never = new AbortController().signal;
  before(() => receiver.start());
  after(async () => {
    for (const connector of running) await connector.stop();
    await receiver.stop();
  });

  async function started(): Promise<SinkConnector> {
    receiver.reset();
    const options = epo.configSchema.parse({ url: receiver.url, username: receiver.username, password: receiver.password, tls: { ca: receiver.caFile } });
    const connector = epo.create(options);
    await connector.start({ name: 'epo-hostile', logger: silentLogger, kafka: { produce: async () => {} } });
    running.push(connector);
    return connector;
  }

  function turnsTrusted(name: string | undefined, id = 'kvm-fra1-12'): EventOf<'trust.change'> {
    const event = eventFixture('trust.change');
    event.id = randomUUID();
    event.host = { ...event.host, id };
    if (name === undefined) delete event.host.name;
    else event.host.name = name;
    event.payload.previousStatus = 'untrusted';
    event.payload.status = 'trusted';
    return event;
  }

  /** db-prod-01 is untrusted in the console before each hostile send. */
  function untrustedDbProd(): void {
    receiver.tags.set('db-prod-01', new Set(['TXT: Untrusted']));
  }

  function permanentFailure(result: Awaited<ReturnType<SinkConnector['send']>>, index: number): SendError {
    assert.equal(result.kind, 'partial', JSON.stringify(result));
    const failure = (result as { failed: ReadonlyMap<number, SendError> }).failed.get(index);
    assert.ok(failure !== undefined, `event ${index} is reported failed`);
    assert.equal(failure.retriable, false, 'a permanent failure: dead-lettered, not retried');
    return failure;
  }

  test('the test receiver reads names as ePO does: split at commas, each name trimmed', () => {
    assert.deepEqual(systemNames(' a , b,,'), ['a', 'b']);
    assert.deepEqual(systemNames('x,db-prod-01'), ['x', 'db-prod-01']);
  });

  test('a host named "x,db-prod-01" never changes the tags of db-prod-01', async () => {
    const connector = await started();
    untrustedDbProd();
    await connector.send([turnsTrusted('x,db-prod-01')], never);
    assert.deepEqual(receiver.tagsOf('db-prod-01'), ['TXT: Untrusted']);
    assert.deepEqual(receiver.tagsOf('x'), []);
    assert.deepEqual(receiver.webApiCalls, [], 'no tag command was sent for it');
  });

  test('the tag change of a host named "x,db-prod-01" is a permanent failure whose reason names the field and the comma', async () => {
    const connector = await started();
    const result = await connector.send([turnsTrusted('x,db-prod-01')], never);
    const failure = permanentFailure(result, 0);
    assert.match(failure.message, /host\.name "x,db-prod-01" holds a comma, which ePO's names parameter splits into two systems/);
  });

  test('the event of a refused host name is still posted once, with its name whole', async () => {
    const connector = await started();
    const event = turnsTrusted('x,db-prod-01');
    await connector.send([event], never);
    assert.deepEqual(
      receiver.events.map((received) => [received.id, received.machine.MachineName]),
      [[event.id, 'x,db-prod-01']],
    );
  });

  test('a host name with leading or trailing whitespace is refused, not trimmed onto db-prod-01', async () => {
    const connector = await started();
    untrustedDbProd();
    const result = await connector.send([turnsTrusted(' db-prod-01', 'h1'), turnsTrusted('db-prod-01\t', 'h2')], never);
    assert.match(permanentFailure(result, 0).message, /host\.name " db-prod-01" starts with whitespace, which ePO trims .* "db-prod-01"/);
    assert.match(permanentFailure(result, 1).message, /host\.name "db-prod-01\\t" ends with whitespace, which ePO trims .* "db-prod-01"/);
    assert.deepEqual(receiver.tagsOf('db-prod-01'), ['TXT: Untrusted']);
    assert.deepEqual(receiver.webApiCalls, []);
  });

  test('a host name holding a control character is refused, never sent', async () => {
    const connector = await started();
    const result = await connector.send([turnsTrusted('db-prod-01\u0000x')], never);
    assert.match(permanentFailure(result, 0).message, /host\.name "db-prod-01\\u0000x" holds the control character U\+0000/);
    assert.deepEqual(receiver.webApiCalls, []);
  });

  test('a host name holding a lone surrogate is refused instead of failing the send', async () => {
    const connector = await started();
    const result = await connector.send([turnsTrusted('db-prod-01\ud800')], never);
    assert.match(permanentFailure(result, 0).message, /holds a lone surrogate \(U\+D800\)/);
  });

  test('a host without a name is addressed by host.id, and a hostile host.id is refused by that name', async () => {
    const connector = await started();
    untrustedDbProd();
    const result = await connector.send([turnsTrusted(undefined, 'x,db-prod-01')], never);
    assert.match(permanentFailure(result, 0).message, /host\.id "x,db-prod-01" holds a comma/);
    assert.deepEqual(receiver.tagsOf('db-prod-01'), ['TXT: Untrusted']);
  });

  test('only the hostile host of a batch is refused: the others are tagged', async () => {
    const connector = await started();
    untrustedDbProd();
    const result = await connector.send([turnsTrusted('x,db-prod-01', 'h1'), turnsTrusted('KVM FRA1 #12 (lab; rack=3)', 'h2')], never);
    permanentFailure(result, 0);
    assert.equal((result as { failed: ReadonlyMap<number, SendError> }).failed.has(1), false);
    assert.deepEqual(receiver.tagsOf('KVM FRA1 #12 (lab; rack=3)'), ['TXT: Trusted'], 'inner spaces and punctuation address one system');
    assert.deepEqual(receiver.tagsOf('db-prod-01'), ['TXT: Untrusted']);
  });
});

// ---- ePO XML --------------------------------------------------------------------------------

test('ePO XML: hostile values add no element nor attribute and read back whole, one EPOEvent each', () => {
  const batch = [hostile('admin.action'), hostile('trust.change')];
  const read = readEpoEvents(encodeEvents(batch).toString('utf8'));
  assert.deepEqual(
    read.map((event) => event.id),
    batch.map((event) => event.id),
  );
  const calm = readEpoEvents(encodeEvents([plain('admin.action')]).toString('utf8'))[0]!;
  const [admin] = read;
  assert.deepEqual(Object.keys(admin!.machine), Object.keys(calm.machine));
  assert.deepEqual(Object.keys(admin!.common), Object.keys(calm.common));
  assert.deepEqual(Object.keys(admin!.custom), Object.keys(calm.custom));
  assert.deepEqual(admin!.software, calm.software);
  assert.equal(admin!.machine.MachineName, NAME);
  assert.equal(admin!.machine.UserName, USER);
  assert.equal(admin!.custom.Pool, POOL);
  assert.equal(admin!.custom.Tenant, TENANT);
  assert.deepEqual(parseTagsText(read[1]!.custom.HostAssetTags!), { owner: TAG_VALUE });
});

test('ePO XML: a document holds no raw line break of any kind, so a line-based carrier cannot split it', () => {
  const body = encodeEvents([hostile('admin.action'), hostile('trust.change')]).toString('utf8');
  assert.deepEqual(body.split(ANY_LINE_BREAK), [body]);
});

// ---- CEF ------------------------------------------------------------------------------------

test('CEF: hostile host name, pool, tenant, user and asset tag add no header field nor key, and read back as sent', () => {
  const event = hostile('admin.action');
  const { header, extension } = parseCef(formatCef(event));
  assert.equal(header.length, 7);
  assert.equal(header[6], String(event.severity));
  assert.deepEqual([...extension.keys()], [...parseCef(formatCef(plain('admin.action'))).extension.keys()]);
  assert.equal(extension.get('dvchost'), NAME);
  assert.equal(extension.get('trustwirePool'), POOL);
  assert.equal(extension.get('trustwireTenant'), TENANT);
  assert.equal(extension.get('act'), event.payload.operation);
  // The Unicode line breaks become spaces (CEF has no escape for them); the tab stays.
  assert.equal(extension.get('suser'), 'root\tusrName=admin msg=forged sev=10 ');
  const trust = parseCef(formatCef(hostile('trust.change'))).extension;
  assert.deepEqual(parseTagsText(trust.get('cs2')!), { owner: TAG_VALUE });
  assert.equal(trust.get('cs1'), 'untrusted');
});

test('asset tags text: a tag value cannot forge a second tag for whoever splits `key=value, ...`', () => {
  const event = eventFixture('trust.change');
  event.enrichment!.assetTags = { owner: 'x, classification=public', 'weird, key=': 'a\\b=c', list: 'sensitive,pci' };
  const cs2 = parseCef(formatCef(event)).extension.get('cs2')!;
  assert.deepEqual(parseTagsText(cs2), { owner: 'x, classification=public', 'weird, key=': 'a\\b=c', list: 'sensitive,pci' });
});

/** `key=value, ...` as a reader splits it: at unescaped `, ` and a key's first unescaped `=`, then `\x` → `x`. */
function parseTagsText(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  const pairs: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') current += text[i]! + (text[++i] ?? '');
    else if (text[i] === ',' && text[i + 1] === ' ') (pairs.push(current), (current = ''), i++);
    else current += text[i];
  }
  pairs.push(current);
  for (const pair of pairs) {
    let key = '';
    let i = 0;
    for (; i < pair.length && pair[i] !== '='; i++) key += pair[i] === '\\' ? pair[++i] : pair[i];
    tags[key] = pair.slice(i + 1).replace(/\\(.)/gs, '$1');
  }
  return tags;
}

test('CEF: a hostile value cannot end the line, for a reader that splits on any Unicode line break', () => {
  for (const event of [hostile('admin.action'), hostile('trust.change')]) {
    const line = formatCef(event);
    assert.deepEqual(line.split(ANY_LINE_BREAK), [line]);
  }
});

// ---- LEEF -----------------------------------------------------------------------------------

for (const delimiter of ['\t', '^']) {
  test(`LEEF (delimiter ${JSON.stringify(delimiter)}): hostile values add no attribute and end no record`, () => {
    const leef = createLeefFormatter({ delimiter });
    const event = hostile('admin.action');
    event.host.pool = `gold${delimiter}sev=1${delimiter}cat=forged|x\n`;
    const line = leef(event);
    assert.deepEqual(line.split(ANY_LINE_BREAK), [line]);
    const { header, attributes } = parseLeef(line);
    assert.equal(header.length, 5);
    assert.deepEqual([header[0], header[1], header[3]], ['trustwire', 'trustwire', 'admin.action']);
    assert.deepEqual([...attributes.keys()], [...parseLeef(leef(plain('admin.action'))).attributes.keys()]);
    // LEEF has no escapes: the delimiter, control characters and line breaks become spaces, a pipe `¦`; `=` stays.
    assert.equal(attributes.get('pool'), 'gold sev=1 cat=forged¦x ');
    assert.equal(attributes.get('identHostName'), NAME.replaceAll('|', '¦'));
    assert.equal(attributes.get('usrName'), 'root usrName=admin msg=forged sev=10 ');
    assert.equal(attributes.get('tenant'), TENANT.replaceAll('|', '¦'));
    assert.equal(attributes.get('sev'), String(event.severity));
  });
}

// ---- syslog ---------------------------------------------------------------------------------

test('RFC 5424: a hostile host id and tenant stay inside their SD-PARAMs: one element, each value as sent', () => {
  const event = hostile('admin.action');
  event.host.id = 'esx"] [forged@1 id="x" host="db-prod-01\\';
  const { sd, header } = parseRfc5424(formatEventRfc5424(event, formatCef(event)));
  assert.equal(header[4], 'admin.action');
  assert.equal(sd.length, 1);
  assert.equal(sd[0]!.id, 'trustwire@32473');
  assert.deepEqual(
    sd[0]!.params.map(([name]) => name),
    ['id', 'type', 'severity', 'host', 'trust', 'tenant'].filter((name) => name !== 'trust' || event.enrichment !== undefined),
  );
  const params = new Map(sd[0]!.params);
  assert.equal(params.get('id'), event.id);
  assert.equal(params.get('host'), event.host.id);
  assert.equal(params.get('tenant'), TENANT);
});

test('RFC 5424: hostile hostname and app name options stay one PRINTUSASCII token each', () => {
  const event = hostile('trust.change');
  const message = formatEventRfc5424(event, 'msg', { hostname: 'evil host\n<13>1 x', appName: 'app name]', procId: 'p id' });
  const { header, sd, msg } = parseRfc5424(message);
  assert.deepEqual(header.slice(1, 4), ['evil_host_<13>1_x', 'app_name]', 'p_id']);
  assert.equal(sd.length, 1);
  assert.equal(msg, 'msg');
});

for (const protocol of ['rfc5424', 'rfc3164'] as const) {
  test(`syslog ${protocol}, LF framing: hostile values cannot end a frame early: one message per event`, () => {
    const options = syslog.configSchema.parse({ host: 'siem', transport: 'tcp', framing: 'lf', protocol, format: 'json' });
    const encode = createMessageEncoder(options);
    const batch = [hostile('admin.action'), hostile('trust.change')];
    for (const event of batch) event.host.id = 'esx\n<13>1 forged\r\n';
    const stream = frameBatch(batch.map((event) => encode(event) as SyslogMessage), framingOf(options)).toString('utf8');
    const frames = stream.split('\n');
    assert.equal(frames.pop(), '');
    assert.equal(frames.length, batch.length);
    frames.forEach((frame, i) => {
      const body = protocol === 'rfc5424' ? parseRfc5424(frame).msg : frame.slice(frame.indexOf(': ') + 2);
      const parsed = JSON.parse(body) as CanonicalEvent;
      assert.equal(parsed.id, batch[i]!.id);
      assert.equal(parsed.host.name, NAME);
      assert.equal(parsed.host.pool, POOL);
      assert.equal(parsed.tenant, TENANT);
    });
  });
}

test('syslog octet counting: a hostile value cannot forge a second frame', () => {
  const options = syslog.configSchema.parse({ host: 'siem', transport: 'tls', format: 'cef' });
  const encode = createMessageEncoder(options);
  const batch = [hostile('admin.action'), hostile('trust.change')];
  for (const event of batch) event.host.id = '12 <13>1 forged\n99 x';
  const messages = readOctetCounted(frameBatch(batch.map((event) => encode(event) as SyslogMessage), framingOf(options)));
  assert.equal(messages.length, batch.length);
  messages.forEach((message, i) => {
    const { sd, msg } = parseRfc5424(message);
    assert.equal(new Map(sd[0]!.params).get('id'), batch[i]!.id);
    assert.equal(parseCef(msg).extension.get('dvchost'), NAME);
  });
});

// ---- file -----------------------------------------------------------------------------------

for (const format of ['json', 'cef'] as const) {
  test(`file ${format} lines: hostile values stay on their event's line, for a reader that splits on any Unicode line break`, () => {
    const batch = [hostile('admin.action'), hostile('trust.change'), eventFixture('alert')];
    const text = encodeLines(batch, format).toString('utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split(ANY_LINE_BREAK);
    assert.equal(lines.length, batch.length);
    lines.forEach((line, i) => {
      if (format === 'json') {
        const parsed = JSON.parse(line) as CanonicalEvent;
        assert.deepEqual([parsed.id, parsed.host.name, parsed.host.pool, parsed.tenant], [batch[i]!.id, batch[i]!.host.name, batch[i]!.host.pool, batch[i]!.tenant]);
        if (parsed.type === 'admin.action') assert.equal(parsed.payload.user.name, USER, 'U+2028, NEL and U+2029 escaped, not lost');
      } else {
        const { extension } = parseCef(line);
        assert.deepEqual([extension.get('externalId'), extension.get('dvchost'), extension.get('trustwirePool')], [batch[i]!.id, batch[i]!.host.name, batch[i]!.host.pool]);
      }
    });
  });
}

// ---- Splunk HEC -----------------------------------------------------------------------------

test('HEC: hostile host, pool, tenant and source system stay JSON strings: one event object each, metadata from the options', () => {
  const options = splunkHec.configSchema.parse({ urls: ['https://hec.example.net:8088'], token: 't', index: 'trustwire', sourcetype: 'trustwire:event' });
  const encode = createHecEncoder(options);
  const batch = [hostile('admin.action'), hostile('trust.change')];
  for (const event of batch) {
    event.host.name = '","index":"main","sourcetype":"forged"}{"event":"forged","host":"db-prod-01';
    event.source = { ...event.source, system: 'x","index":"main' };
  }
  const { objects, error } = parseConcatenated(Buffer.concat(batch.map((event) => encode(event).bytes)).toString('utf8'));
  assert.equal(error, undefined);
  assert.equal(objects.length, batch.length);
  objects.forEach((object, i) => {
    const event = batch[i]!;
    assert.deepEqual(Object.keys(object), ['time', 'host', 'source', 'sourcetype', 'index', 'event', 'fields']);
    assert.equal(object.host, event.host.name);
    assert.equal(object.source, `trustwire:${event.source.system}`);
    assert.equal(object.index, 'trustwire');
    assert.equal(object.sourcetype, 'trustwire:event');
    assert.equal((object.event as CanonicalEvent).id, event.id);
    const fields = object.fields as Record<string, unknown>;
    assert.equal(fields.tw_pool, POOL);
    assert.equal(fields.tw_tenant, TENANT);
  });
  assert.deepEqual((objects[1]!.fields as Record<string, unknown>).tw_asset_tag, [`owner=${TAG_VALUE}`], 'one indexed value per tag');
});

// ---- Kafka ----------------------------------------------------------------------------------

test('Kafka: the key is the host id as it is, the headers carry the event type only, the JSON value parses back', () => {
  const event = hostile('admin.action');
  event.host.id = 'esx,db-prod-01\n\u0000';
  const [record] = encodeRecords([event], 'json');
  assert.equal(record!.key, event.host.id);
  assert.deepEqual(record!.headers, { [TYPE_HEADER]: 'admin.action' });
  const parsed = JSON.parse(record!.value.toString('utf8')) as EventOf<'admin.action'>;
  assert.deepEqual([parsed.host.name, parsed.host.pool, parsed.tenant, parsed.payload.user.name], [NAME, POOL, TENANT, USER]);
});

// ---- http -----------------------------------------------------------------------------------

describe('http with hostile values', () => {
  const receiver = new WebhookReceiver();
  before(() => receiver.start());
  after(() => receiver.stop());

  test('no event value reaches the URL or a request header; the body holds each event once', async () => {
    const connector = http.create(http.configSchema.parse({ url: receiver.url, format: 'ndjson', headers: { 'X-Source': 'trustwire' } }));
    await connector.start({ name: 'http-hostile', logger: silentLogger, kafka: { produce: async () => {} } });
    const batch = [hostile('admin.action'), hostile('trust.change')];
    assert.deepEqual(await connector.send(batch, new AbortController().signal), { kind: 'ok' });
    await connector.stop();
    const [request] = receiver.requests;
    assert.equal(request!.path, '/hook');
    for (const value of Object.values(request!.headers)) {
      for (const marker of ['db-prod-01', 'forged', 'acme', 'root']) assert.ok(!String(value).includes(marker), `${marker} in a header: ${String(value)}`);
    }
    const lines = request!.text.split('\n').filter((line) => line !== '');
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as CanonicalEvent).id),
      batch.map((event) => event.id),
    );
  });
});
