import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CEF_MAPPINGS } from '../../src/formats/cef.js';
import { createLeefFormatter, formatLeef, LEEF_MAPPINGS, leefDevTime, sanitizeLeefHeader } from '../../src/formats/leef.js';
import { EVENT_TYPES, type CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { eventFixture, readFixture } from '../helpers/fixtures.js';

const device = { vendor: 'trustwire', product: 'trustwire', version: '0.1.0' };
const leef = createLeefFormatter({ device });

/** LEEF 2.0 as the guide describes it: 6 pipe-delimited header fields, then key=value split at the delimiter, each at its first `=`. */
function parseLeef(line: string): { header: string[]; attributes: Map<string, string> } {
  const parts = line.split('|');
  const header = parts.slice(0, 6);
  assert.equal(header[0], 'LEEF:2.0');
  const delimiterField = header[5]!;
  const delimiter = /^x[0-9A-Fa-f]{1,4}$/.test(delimiterField) ? String.fromCharCode(parseInt(delimiterField.slice(1), 16)) : delimiterField;
  const attributes = new Map<string, string>();
  for (const pair of parts.slice(6).join('|').split(delimiter)) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq);
    assert.match(key, /^[A-Za-z][A-Za-z0-9]*$/, `a key, got ${JSON.stringify(key)}`);
    assert.ok(!attributes.has(key), `key ${key} appears twice`);
    attributes.set(key, pair.slice(eq + 1));
  }
  return { header, attributes };
}

function withPayload<T extends CanonicalEvent['type']>(type: T, change: (event: EventOf<T>) => void): EventOf<T> {
  const event = eventFixture(type) as EventOf<T>;
  change(event);
  return event;
}

// Checked by eye against the QRadar LEEF 2.0 guide when written: `LEEF:2.0|Vendor|Product|
// Version|EventID|` then the delimiter field (`x09`, the guide's hex form of a tab), attributes
// key=value separated by tabs, predefined keys spelt as in the guide (devTime, devTimeFormat,
// sev 1-10, cat, src, dst, usrName, accountName, role, policy, resource, identSrc,
// identHostName), devTime matching its devTimeFormat (`Mar 14 2025 09:59:59.871 GMT` for
// 1741946399871), no key twice, no raw line break.
for (const type of EVENT_TYPES) {
  test(`the ${type} fixture renders as its golden LEEF line`, () => {
    assert.equal(`${leef(eventFixture(type))}\n`, readFixture(`formats/leef/${type}.leef`));
  });
}

test('the header names trustwire, the event type and a tab delimiter; cat holds the result', () => {
  const { header, attributes } = parseLeef(formatLeef(eventFixture('trust.change')));
  assert.deepEqual(header, ['LEEF:2.0', 'trustwire', 'trustwire', '0.1.0', 'trust.change', 'x09']);
  assert.equal(attributes.get('cat'), 'untrusted');
  assert.equal(attributes.get('sev'), '8');
  assert.equal(attributes.get('hostTrustStatus'), 'untrusted');
});

test('devTime follows devTimeFormat in GMT', () => {
  assert.equal(leefDevTime(1741946399871), 'Mar 14 2025 09:59:59.871 GMT');
  assert.equal(leefDevTime(Date.UTC(2026, 0, 5, 3, 4, 5, 6)), 'Jan 05 2026 03:04:05.006 GMT');
  const { attributes } = parseLeef(leef(eventFixture('alert')));
  assert.equal(attributes.get('devTimeFormat'), 'MMM dd yyyy HH:mm:ss.SSS z');
});

test('severity 0 becomes LEEF\'s minimum 1', () => {
  const event = withPayload('config.snapshot', (e) => {
    e.severity = 0;
  });
  assert.equal(parseLeef(leef(event)).attributes.get('sev'), '1');
});

test('LEEF carries the same parts of the event as CEF, kind for kind', () => {
  for (const type of EVENT_TYPES) {
    const cef = new Set(CEF_MAPPINGS[type].map((row) => row.from));
    const leefFroms = new Set(LEEF_MAPPINGS[type].map((row) => row.from).filter((from) => from !== '(constant)' && from !== 'severity' && from !== '(result)'));
    assert.deepEqual([...leefFroms].sort(), [...cef].filter((from) => from !== 'type').sort(), type);
  }
});

test('a tab and an injected attribute inside a value stay inside it', () => {
  const event = withPayload('admin.action', (e) => {
    e.payload.error = 'x\tsev=1\tusrName=root';
    e.payload.user.name = 'x act=allow';
  });
  const { attributes } = parseLeef(leef(event));
  assert.equal(attributes.get('sev'), '5');
  assert.equal(attributes.get('usrName'), 'x act=allow');
  assert.equal(attributes.get('reason'), 'x sev=1 usrName=root');
});

test('CR, LF and other control characters in values become spaces: one event, one line', () => {
  const event = withPayload('admin.action', (e) => {
    e.payload.error = 'one\r\ntwo\x00three\x1b';
  });
  const line = leef(event);
  assert.ok(!/[\r\n\x00\x1b]/.test(line));
  assert.equal(parseLeef(line).attributes.get('reason'), 'one  two three ');
});

test('a pipe becomes ¦ in the header and in values; backslashes and equals pass unchanged', () => {
  assert.equal(sanitizeLeefHeader('Acme|Corp\n'), 'Acme\u00a6Corp ');
  const event = withPayload('admin.action', (e) => {
    e.payload.error = 'a|b \\share c=d';
  });
  const line = createLeefFormatter({ device: { vendor: 'Acme|Corp', product: 'p', version: '1' } })(event);
  const { header, attributes } = parseLeef(line);
  assert.equal(header[1], 'Acme\u00a6Corp');
  assert.equal(attributes.get('reason'), 'a\u00a6b \\share c=d');
});

test('another delimiter is written in the header and replaced inside values', () => {
  const caret = createLeefFormatter({ device, delimiter: '^' });
  const event = withPayload('admin.action', (e) => {
    e.payload.error = 'x^sev=1';
  });
  const line = caret(event);
  assert.ok(line.startsWith('LEEF:2.0|trustwire|trustwire|0.1.0|admin.action|^|devTime='));
  const { attributes } = parseLeef(line);
  assert.equal(attributes.get('sev'), '5');
  assert.equal(attributes.get('reason'), 'x sev=1');
});

test('a delimiter that could not be told apart from content is refused', () => {
  for (const delimiter of ['=', '|', 'a', '7', ' ', '\\', '\n', '', '^^']) {
    assert.throws(() => createLeefFormatter({ delimiter }), /LEEF delimiter/, JSON.stringify(delimiter));
  }
});

test('non-ASCII values pass unchanged; usrName is cut to 255 characters without splitting an emoji', () => {
  const event = withPayload('admin.action', (e) => {
    e.payload.user.name = `${'ä'.repeat(253)}👍🏽中文`;
    e.payload.error = 'Jana Müller 中文 🇩🇪';
  });
  const { attributes } = parseLeef(leef(event));
  assert.equal(attributes.get('usrName'), 'ä'.repeat(253));
  assert.equal(attributes.get('reason'), 'Jana Müller 中文 🇩🇪');
});

test('a long alert rule is cut to 1023 characters in cat; the EventID stays the type', () => {
  const event = withPayload('alert', (e) => {
    e.payload.rule = 'r'.repeat(2000);
  });
  const { header, attributes } = parseLeef(leef(event));
  assert.equal(header[4], 'alert');
  assert.equal(attributes.get('cat')!.length, 1023);
});
