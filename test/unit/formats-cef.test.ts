import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { CEF_DICTIONARY, CEF_MAPPINGS, escapeCefHeader, escapeCefValue, formatCef } from '../../src/formats/cef.js';
import { EVENT_TYPES, type CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { parseCef } from '../helpers/cef-reader.js';
import { eventFixture, readFixture } from '../helpers/fixtures.js';

const device = { vendor: 'trustwire', product: 'trustwire', version: '0.1.0' };

function withPayload<T extends CanonicalEvent['type']>(type: T, change: (event: EventOf<T>) => void): EventOf<T> {
  const event = eventFixture(type) as EventOf<T>;
  change(event);
  return event;
}

// ---- golden fixtures ----------------------------------------------------------------------

// Checked by eye against "Implementing ArcSight CEF" v27 when written: `CEF:0|` and seven
// header fields (vendor|product|version|class id|name|severity|), severity an integer 0-10,
// `rt` in epoch ms (1741946399871 = 2025-03-14T09:59:59.871Z, the fixture's time), every key
// from the Extension Dictionary or `trustwire`-prefixed, each `csN`/`cnN`/`cfpN`/`c6aN`/
// `deviceCustomDateN` preceded by its label, `=` inside values escaped (`country\=DE`), the
// pipe in no value needing escaping, no line break, and dvc an IPv4 address.
for (const type of EVENT_TYPES) {
  test(`the ${type} fixture renders as its golden CEF line`, () => {
    assert.equal(`${formatCef(eventFixture(type), { device })}\n`, readFixture(`formats/cef/${type}.cef`));
  });
}

test('the golden lines read back: the header holds the signature, name and severity, the extension the event id', () => {
  for (const type of EVENT_TYPES) {
    const event = eventFixture(type);
    const { header, extension } = parseCef(formatCef(event, { device }));
    assert.equal(header.length, 7);
    assert.deepEqual(header.slice(0, 4), ['0', 'trustwire', 'trustwire', '0.1.0']);
    assert.equal(header[4]!.split(':')[0], type);
    assert.equal(header[6], String(event.severity));
    assert.equal(extension.get('externalId'), event.id);
    assert.equal(extension.get('rt'), String(event.time));
  }
});

test('the device defaults to trustwire with the package version', () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const { header } = parseCef(formatCef(eventFixture('alert')));
  assert.deepEqual(header.slice(1, 4), ['trustwire', 'trustwire', version]);
});

// ---- the mapping tables -------------------------------------------------------------------

test('every kind maps the host enrichment: trust status and since, compliance score, asset tags, geolocation', () => {
  for (const type of EVENT_TYPES) {
    const froms = new Set(CEF_MAPPINGS[type].map((row) => row.from));
    for (const from of ['enrichment.trust.status', 'enrichment.trust.since', 'enrichment.compliance.score', 'enrichment.assetTags', 'enrichment.geolocation']) {
      assert.ok(froms.has(from), `${type} lacks ${from}`);
    }
  }
});

test('every key is a dictionary key or a trustwire-prefixed custom key, and custom fields carry labels', () => {
  for (const type of EVENT_TYPES) {
    for (const row of CEF_MAPPINGS[type]) {
      assert.match(row.key, /^[A-Za-z][A-Za-z0-9]*$/);
      assert.ok(CEF_DICTIONARY[row.key] !== undefined || row.key.startsWith('trustwire'), row.key);
      assert.equal(/^(cs|cn|cfp|c6a)\d$|^deviceCustomDate\d$/.test(row.key), row.label !== undefined, `${row.key} and its label`);
    }
  }
});

test('the enrichment of a trust.change is readable from the extension under its labels', () => {
  const { extension } = parseCef(formatCef(eventFixture('trust.change'), { device }));
  assert.equal(extension.get('cs1Label'), 'Host Trust Status');
  assert.equal(extension.get('cs1'), 'untrusted');
  assert.equal(extension.get('deviceCustomDate1'), '1741946399871');
  assert.equal(extension.get('cfp1'), '96.5');
  assert.equal(extension.get('cs2'), 'country=DE, region=HE, site=FRA1, classification=pci');
  assert.equal(extension.get('cs3'), 'country=DE, region=HE, site=FRA1');
});

test('an event without enrichment leaves the enrichment keys and their labels out', () => {
  const { extension } = parseCef(formatCef(eventFixture('admin.action'), { device }));
  for (const key of ['cs1', 'cs1Label', 'deviceCustomDate1', 'cfp1', 'cs2', 'cs3']) assert.ok(!extension.has(key), key);
});

// ---- escaping -----------------------------------------------------------------------------

test('header fields escape backslash and pipe and turn CR and LF into spaces', () => {
  assert.equal(escapeCefHeader('a|b\\c\r\nd\te'), 'a\\|b\\\\c  d e');
  const event = withPayload('alert', (e) => {
    e.payload.rule = 'rule|with\\pipe\nand break';
  });
  const line = formatCef(event, { device: { vendor: 'Acme|Corp', product: 'Back\\slash', version: '1\r\n2' } });
  assert.ok(!/[\r\n]/.test(line));
  const { header } = parseCef(line);
  assert.deepEqual(header.slice(1, 5), ['Acme|Corp', 'Back\\slash', '1  2', 'alert:rule|with\\pipe and break']);
});

test('extension values escape backslash, equals, CR and LF, and read back unchanged', () => {
  assert.equal(escapeCefValue('a\\b=c\r\nd|e'), 'a\\\\b\\=c\\r\\nd|e');
  const hostile = 'line one\r\nline two = \\share\\path | pipe\\';
  const event = withPayload('admin.action', (e) => {
    e.payload.error = hostile;
  });
  const line = formatCef(event, { device });
  assert.ok(!/[\r\n]/.test(line), 'no raw line break');
  assert.equal(parseCef(line).extension.get('reason'), hostile);
});

test('an injected "x act=allow" stays inside its value and act keeps the operation', () => {
  for (const injection of ['x act=allow', 'x\\ act=allow', 'trailing backslash\\', 'x act=allow outcome=success cs1=trusted']) {
    const event = withPayload('admin.action', (e) => {
      e.payload.error = injection;
      e.payload.user.name = injection;
    });
    const { extension } = parseCef(formatCef(event, { device }));
    assert.equal(extension.get('act'), 'host.enterMaintenanceMode', injection);
    assert.equal(extension.get('outcome'), 'failure', injection);
    assert.equal(extension.get('reason'), injection);
    assert.equal(extension.get('suser'), injection);
  }
});

test('control characters other than CR and LF become spaces', () => {
  assert.equal(escapeCefValue('a\x00b\x1bc\x7fd\te'), 'a b c d\te');
});

test('non-ASCII values pass unchanged: ä, 中文, emoji', () => {
  const name = 'Jana Müller 中文 👩🏽‍💻 🇩🇪';
  const event = withPayload('admin.action', (e) => {
    e.payload.user.name = name;
  });
  assert.equal(parseCef(formatCef(event, { device })).extension.get('suser'), name);
});

// ---- lengths ------------------------------------------------------------------------------

test('an over-long msg is cut to 1023 characters before escaping, never inside a character or an escape', () => {
  const title = `${'='.repeat(1021)}👍🏽 tail`; // the emoji (4 UTF-16 units) straddles the limit
  const event = withPayload('alert', (e) => {
    e.payload.title = title;
  });
  const msg = parseCef(formatCef(event, { device })).extension.get('msg')!;
  assert.equal(msg, '='.repeat(1021));
  assert.ok(msg.length <= 1023);
});

test('every string key is cut to its dictionary length, UTF-8 safe', () => {
  const long = '中'.repeat(5000);
  const event = withPayload('policy.decision', (e) => {
    e.payload.action = long;
    e.payload.subjectUser = long;
    e.payload.policy = long;
    e.host.name = long;
  });
  const { extension } = parseCef(formatCef(event, { device }));
  assert.equal(extension.get('act'), '中'.repeat(63));
  assert.equal(extension.get('suser'), '中'.repeat(1023));
  assert.equal(extension.get('cs4'), '中'.repeat(4000));
  assert.equal(extension.get('dvchost'), '中'.repeat(100));
});

test('the header name is cut to 512 and the signature to 1023 characters', () => {
  const event = withPayload('alert', (e) => {
    e.payload.rule = 'r'.repeat(2000);
  });
  const { header } = parseCef(formatCef(event, { device }));
  assert.equal(header[4]!.length, 1023);
  assert.equal(header[5]!.length, 512);
});

// ---- typed keys ---------------------------------------------------------------------------

test('an IPv6 host address goes to c6a1 with the spec\'s label, not to dvc', () => {
  const event = withPayload('trust.change', (e) => {
    e.host.ip = '2001:db8::7';
  });
  const { extension } = parseCef(formatCef(event, { device }));
  assert.ok(!extension.has('dvc'));
  assert.equal(extension.get('c6a1'), '2001:db8::7');
  assert.equal(extension.get('c6a1Label'), 'Device IPv6 Address');
});

test('src is sent only for an IP address; an IPv6 source goes to c6a2', () => {
  const notAnIp = withPayload('admin.action', (e) => {
    e.payload.sourceIp = '10.0.0.1 act=allow';
  });
  const parsed = parseCef(formatCef(notAnIp, { device })).extension;
  assert.ok(!parsed.has('src'));
  assert.ok(!parsed.has('c6a2'));
  const v6 = withPayload('admin.action', (e) => {
    e.payload.sourceIp = 'fe80::1';
  });
  const parsedV6 = parseCef(formatCef(v6, { device })).extension;
  assert.equal(parsedV6.get('c6a2'), 'fe80::1');
  assert.equal(parsedV6.get('c6a2Label'), 'Source IPv6 Address');
});

test('severity is an integer 0-10', () => {
  for (const [severity, expected] of [[0, '0'], [10, '10'], [11, '10'], [-1, '0'], [4.6, '5']] as const) {
    const event = withPayload('alert', (e) => {
      e.severity = severity;
    });
    assert.equal(parseCef(formatCef(event, { device })).header[6], expected);
  }
});
