import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EPO_CUSTOM_FIELDS, epoSeverity, escapeXmlAttribute, escapeXmlText, formatEpoEvent, formatEpoEvents } from '../../src/formats/epo-xml.js';
import { EVENT_TYPES, type CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { eventFixture, readFixture } from '../helpers/fixtures.js';

const device = { vendor: 'trustwire', product: 'trustwire', version: '0.1.0' };

// ---- a strict little XML reader for what the formatter writes (elements, attributes, text) ----

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const XML_CHAR = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function decode(text: string): string {
  assert.ok(!/[<>]/.test(text), `raw < or > in ${JSON.stringify(text)}`);
  return text.replace(/&(?:(amp|lt|gt|quot|apos)|#(\d+));|&/g, (_match, name: string | undefined, code: string | undefined) => {
    if (name !== undefined) return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[name]!;
    if (code !== undefined) return String.fromCodePoint(Number(code));
    assert.fail(`a bare & in ${JSON.stringify(text)}`);
  });
}

/** One document: the XML declaration, then exactly one root element; throws on anything malformed. */
function parseXml(document: string): XmlElement {
  assert.ok(XML_CHAR.test(document), 'only characters XML 1.0 allows');
  const declaration = '<?xml version="1.0" encoding="UTF-8"?>';
  assert.ok(document.startsWith(declaration));
  const tokens = /<(\/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[A-Za-z]+="[^"<]*")*)\s*>|([^<]+)/gy;
  const stack: XmlElement[] = [{ name: '#document', attributes: {}, children: [], text: '' }];
  tokens.lastIndex = declaration.length;
  let match: RegExpExecArray | null;
  while (tokens.lastIndex < document.length && (match = tokens.exec(document)) !== null) {
    const [, closing, name, attributes, text] = match;
    const top = stack.at(-1)!;
    if (text !== undefined) {
      top.text += decode(text);
    } else if (closing === '/') {
      assert.equal(top.name, name, 'elements nest');
      stack.pop();
    } else {
      const element: XmlElement = { name: name!, attributes: {}, children: [], text: '' };
      for (const [, key, value] of attributes!.matchAll(/([A-Za-z]+)="([^"]*)"/g)) element.attributes[key!] = decode(value!);
      top.children.push(element);
      stack.push(element);
    }
  }
  assert.equal(tokens.lastIndex, document.length, 'the whole document is read');
  assert.equal(stack.length, 1, 'every element is closed');
  assert.equal(stack[0]!.children.length, 1, 'one root');
  return stack[0]!.children[0]!;
}

function child(element: XmlElement, ...path: string[]): XmlElement {
  let at = element;
  for (const name of path) {
    const next = at.children.find((c) => c.name === name);
    assert.ok(next !== undefined, `${at.name} has no ${name}`);
    at = next;
  }
  return at;
}

function withPayload<T extends CanonicalEvent['type']>(type: T, change: (event: EventOf<T>) => void): EventOf<T> {
  const event = eventFixture(type) as EventOf<T>;
  change(event);
  return event;
}

// Checked by eye when written, against events ePO forwards (EPOEvent > MachineInfo,
// SoftwareInfo[ProductName, ProductVersion, ProductFamily] > CommonFields (Analyzer...), Event >
// EventID, Severity, GMTTime as YYYY-MM-DDTHH:MM:SS, CommonFields (ThreatCategory,
// ThreatEventID, ThreatSeverity, ThreatName, ThreatType, DetectedUTC, ...), CustomFields
// [target]); pretty-printed with python's xml.dom.minidom to confirm it parses, GMTTime
// 2025-03-14T09:59:59 for 1741946399871, ä written as UTF-8, no field the event lacks.
for (const type of EVENT_TYPES) {
  test(`the ${type} fixture renders as its golden ePO document`, () => {
    assert.equal(`${formatEpoEvent(eventFixture(type), { device })}\n`, readFixture(`formats/epo/${type}.xml`));
  });
}

test('every golden document is well-formed with the ePO structure', () => {
  for (const type of EVENT_TYPES) {
    const event = eventFixture(type);
    const root = parseXml(formatEpoEvent(event, { device }));
    assert.equal(root.name, 'EPOEvent');
    assert.deepEqual(root.children.map((c) => c.name), ['MachineInfo', 'SoftwareInfo']);
    const software = child(root, 'SoftwareInfo');
    assert.deepEqual(software.attributes, { ProductName: 'trustwire', ProductVersion: '0.1.0', ProductFamily: 'Security' });
    assert.deepEqual(software.children.map((c) => c.name), ['CommonFields', 'Event']);
    const ev = child(software, 'Event');
    assert.deepEqual(ev.children.map((c) => c.name), ['EventID', 'Severity', 'GMTTime', 'CommonFields', 'CustomFields']);
    assert.match(child(ev, 'GMTTime').text, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    assert.equal(child(ev, 'GMTTime').text, new Date(event.time).toISOString().slice(0, 19));
    assert.equal(child(ev, 'CustomFields').attributes.target, 'TrustwireEventMT');
    assert.equal(child(ev, 'CustomFields', 'EventId').text, event.id);
  }
});

test('ThreatCategory names the kind and its result', () => {
  const category = (event: CanonicalEvent) => child(parseXml(formatEpoEvent(event)), 'SoftwareInfo', 'Event', 'CommonFields', 'ThreatCategory').text;
  assert.equal(category(eventFixture('trust.change')), 'trust.untrusted');
  assert.equal(category(eventFixture('policy.decision')), 'policy.permit');
  assert.equal(category(withPayload('policy.decision', (e) => (e.payload.decision = 'deny'))), 'policy.deny');
  assert.equal(category(eventFixture('admin.action')), 'admin.activity');
  assert.equal(category(eventFixture('compliance.assessment')), 'compliance.assessment');
  assert.equal(category(eventFixture('alert')), 'alert.sensitive-workload-on-untrusted-host');
});

test('the custom fields of every kind carry the host enrichment', () => {
  for (const type of EVENT_TYPES) {
    const keys = new Set(EPO_CUSTOM_FIELDS[type].map((row) => row.key));
    for (const key of ['HostTrustStatus', 'HostTrustStatusSince', 'HostComplianceScore', 'HostAssetTags', 'HostGeolocation']) assert.ok(keys.has(key), `${type} lacks ${key}`);
  }
  const custom = child(parseXml(formatEpoEvent(eventFixture('trust.change'))), 'SoftwareInfo', 'Event', 'CustomFields');
  assert.equal(child(custom, 'HostTrustStatus').text, 'untrusted');
  assert.match(child(custom, 'PCRFaults').text, /^OS: PcrValueMismatchSHA256 \(PCR 17 SHA256, expected c4ea/);
});

test('XML specials in text and attributes are escaped and read back', () => {
  assert.equal(escapeXmlText(`a & b < c > d " e ' f`), 'a &amp; b &lt; c &gt; d &quot; e &apos; f');
  assert.equal(escapeXmlAttribute('tab\tlf\ncr\r"'), 'tab&#9;lf&#10;cr&#13;&quot;');
  const hostile = `</UserName><Injected attr="1">&amp; 'x' "y"`;
  const event = withPayload('admin.action', (e) => {
    e.payload.user.name = hostile;
  });
  const root = parseXml(formatEpoEvent(event, { device: { vendor: 'v', product: 'trust"wire<&>', version: "1'\t2" } }));
  assert.equal(child(root, 'MachineInfo', 'UserName').text, hostile);
  assert.deepEqual(child(root, 'SoftwareInfo').attributes, { ProductName: 'trust"wire<&>', ProductVersion: "1'\t2", ProductFamily: 'Security' });
});

test('characters XML 1.0 forbids are removed; tab, LF and CR survive', () => {
  assert.equal(escapeXmlText('a\x00b\x07c\x1bd\x0be\x0cf\ufffeg\uffffh\ud800i\udc00j'), 'abcdefghij');
  const event = withPayload('admin.action', (e) => {
    e.payload.error = 'tab\there\nline\r\nbell\x07 nul\x00 😀 lone\udfff';
  });
  const error = child(parseXml(formatEpoEvent(event)), 'SoftwareInfo', 'Event', 'CustomFields', 'Error').text;
  assert.equal(error, 'tab\there\nline\r\nbell nul 😀 lone');
});

test('non-ASCII text passes unchanged; over-long text is cut without splitting a character', () => {
  const event = withPayload('admin.action', (e) => {
    e.payload.user.name = `${'中'.repeat(127)}👍🏽`;
    e.payload.error = 'ä'.repeat(5000);
  });
  const root = parseXml(formatEpoEvent(event));
  assert.equal(child(root, 'MachineInfo', 'UserName').text, '中'.repeat(127));
  assert.equal(child(root, 'SoftwareInfo', 'Event', 'CustomFields', 'Error').text, 'ä'.repeat(4000));
});

test('ePO severity is 0-4 and ThreatSeverity the syslog scale', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(epoSeverity), [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  const root = parseXml(formatEpoEvent(eventFixture('alert')));
  assert.equal(child(root, 'SoftwareInfo', 'Event', 'Severity').text, '4');
  assert.equal(child(root, 'SoftwareInfo', 'Event', 'CommonFields', 'ThreatSeverity').text, '2');
});

test('a batch is one document per event, in order', () => {
  const events = EVENT_TYPES.map((type) => eventFixture(type));
  const documents = formatEpoEvents(events, { device });
  assert.equal(documents.length, events.length);
  documents.forEach((document, i) => {
    assert.equal(document, formatEpoEvent(events[i]!, { device }));
    assert.equal(parseXml(document).name, 'EPOEvent');
  });
  assert.deepEqual(formatEpoEvents([]), []);
});
