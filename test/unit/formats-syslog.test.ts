import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCef } from '../../src/formats/cef.js';
import { createLeefFormatter } from '../../src/formats/leef.js';
import {
  escapeSdParamValue,
  eventStructuredData,
  formatEventRfc3164,
  formatEventRfc5424,
  formatRfc3164,
  formatRfc5424,
  formatStructuredData,
  frameLf,
  frameOctetCounting,
  rfc3164Timestamp,
  sdName,
  syslogPri,
  syslogSeverity,
  truncateSyslogMessage,
} from '../../src/formats/syslog.js';
import { eventFixture, readFixture } from '../helpers/fixtures.js';

const device = { vendor: 'trustwire', product: 'trustwire', version: '0.1.0' };
const BOM = '\ufeff';
const time = Date.UTC(2025, 2, 4, 9, 5, 7, 81);

/** The RFC 5424 header fields and the rest (SD and MSG), split at the first six spaces. */
function split5424(message: string): { pri: number; version: string; fields: string[]; rest: string } {
  const match = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) ([\s\S]*)$/.exec(message);
  assert.ok(match, message);
  return { pri: Number(match[1]), version: match[2]!, fields: match.slice(3, 8), rest: match[8]! };
}

/** SD-ELEMENTs read per RFC 5424 §6.3, undoing the escapes of `"`, `\` and `]`. */
function parseSd(sd: string): { id: string; params: [string, string][] }[] {
  const elements: { id: string; params: [string, string][] }[] = [];
  let i = 0;
  while (sd[i] === '[') {
    const idEnd = sd.slice(i + 1).search(/[ \]]/) + i + 1;
    const element = { id: sd.slice(i + 1, idEnd), params: [] as [string, string][] };
    i = idEnd;
    while (sd[i] === ' ') {
      const eq = sd.indexOf('="', i);
      const name = sd.slice(i + 1, eq);
      let value = '';
      let j = eq + 2;
      for (; sd[j] !== '"'; j++) value += sd[j] === '\\' && '"\\]'.includes(sd[j + 1]!) ? sd[++j] : sd[j];
      element.params.push([name, value]);
      i = j + 1;
    }
    assert.equal(sd[i], ']');
    i++;
    elements.push(element);
  }
  return elements;
}

// Checked by eye against RFC 5424 and RFC 3164 when written: `<107>1` = facility 13 (log
// audit) * 8 + severity 3 (error, for trustwire 8); TIMESTAMP 2025-03-14T09:59:59.871Z;
// HOSTNAME, APP-NAME trustwire, PROCID 4242, MSGID trust.change; one SD-ELEMENT
// [trustwire@32473 ...] with quoted values; SP, then the UTF-8 BOM EF BB BF, then the CEF
// line. 3164: `<108>` = 13 * 8 + 4 (warning, for trustwire 5), `Mar 14 10:00:05` (UTC),
// HOSTNAME, TAG `trustwire:`, the LEEF line with its tabs.
test('an untrusted host\'s CEF event as RFC 5424 matches its golden message', () => {
  const event = eventFixture('trust.change');
  const message = formatEventRfc5424(event, formatCef(event, { device }), { hostname: 'trustwire-1.dc.example.net', procId: '4242' });
  assert.equal(`${message}\n`, readFixture('formats/syslog/trust.change.rfc5424-cef.log'));
});

test('an admin action\'s LEEF event as RFC 3164 matches its golden message', () => {
  const event = eventFixture('admin.action');
  const message = formatEventRfc3164(event, createLeefFormatter({ device })(event), { hostname: 'trustwire-1' });
  assert.equal(`${message}\n`, readFixture('formats/syslog/admin.action.rfc3164-leef.log'));
});

// ---- PRI ----------------------------------------------------------------------------------

test('trustwire severity maps onto syslog severity by the documented table', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(syslogSeverity), [6, 6, 5, 5, 4, 4, 4, 3, 3, 2, 1]);
});

test('PRI is facility times 8 plus severity, both range-checked', () => {
  assert.equal(syslogPri(13, 3), 107);
  assert.equal(syslogPri(0, 0), 0);
  assert.equal(syslogPri(23, 7), 191);
  assert.throws(() => syslogPri(24, 0), RangeError);
  assert.throws(() => syslogPri(1, 8), RangeError);
  assert.throws(() => syslogPri(1.5, 1), RangeError);
});

// ---- RFC 5424 header ----------------------------------------------------------------------

test('the timestamp is RFC 3339 in UTC with milliseconds', () => {
  const { fields, version } = split5424(formatRfc5424({ severity: 6, time, msg: 'x' }));
  assert.equal(version, '1');
  assert.equal(fields[0], '2025-03-04T09:05:07.081Z');
});

test('absent or empty header fields and time are the NILVALUE', () => {
  assert.equal(formatRfc5424({ severity: 6 }), '<110>1 - - - - - -');
  assert.equal(formatRfc5424({ severity: 6, hostname: '', appName: '', procId: '', msgId: '' }), '<110>1 - - - - - -');
});

test('header fields keep printable US-ASCII only and their length limits', () => {
  const { fields } = split5424(
    formatRfc5424({
      severity: 6,
      hostname: `hö st\t${'h'.repeat(300)}`,
      appName: 'a'.repeat(60),
      procId: 'p'.repeat(200),
      msgId: 'm 中👍'.padEnd(40, 'm'),
    }),
  );
  assert.equal(fields[1], `h__st_${'h'.repeat(249)}`);
  assert.equal(fields[1]!.length, 255);
  assert.equal(fields[2], 'a'.repeat(48));
  assert.equal(fields[3], 'p'.repeat(128));
  assert.equal(fields[4], 'm___'.padEnd(32, 'm'));
});

// ---- structured data ----------------------------------------------------------------------

test('PARAM-VALUE escapes ", \\ and ] and reads back', () => {
  assert.equal(escapeSdParamValue('a"b\\c]d'), 'a\\"b\\\\c\\]d');
  const value = 'say "hi" \\ [x] ]] = ä 中 👍';
  const sd = formatStructuredData([{ id: 'trustwire@32473', params: [['v', value], ['n', 5], ['absent', undefined]] }]);
  assert.deepEqual(parseSd(sd), [{ id: 'trustwire@32473', params: [['v', value], ['n', '5']] }]);
});

test('SD-IDs and PARAM-NAMEs lose =, space, ] and " and keep at most 32 characters', () => {
  assert.equal(sdName('a=b c]d"e'), 'a_b_c_d_e');
  assert.equal(sdName('x'.repeat(40)), 'x'.repeat(32));
  assert.equal(sdName(''), '_');
  assert.equal(formatStructuredData([{ id: 'bad id]', params: [['na me', 'v']] }]), '[bad_id_ na_me="v"]');
  assert.equal(formatStructuredData([]), '-');
});

test('an event\'s structured data carries id, type, severity, host, trust and tenant', () => {
  const event = eventFixture('trust.change');
  assert.deepEqual(parseSd(formatStructuredData([eventStructuredData(event)])), [
    {
      id: 'trustwire@32473',
      params: [['id', event.id], ['type', 'trust.change'], ['severity', '8'], ['host', 'kvm-fra1-12'], ['trust', 'untrusted'], ['tenant', 'payments']],
    },
  ]);
  const noSd = split5424(formatEventRfc5424(event, 'x', { sdId: null, bom: false }));
  assert.equal(noSd.rest, '- x');
});

// ---- MSG and BOM --------------------------------------------------------------------------

test('MSG starts with the UTF-8 BOM by default and without it on request', () => {
  const withBom = Buffer.from(formatRfc5424({ severity: 6, msg: 'CEF:0|x' }));
  assert.ok(withBom.includes(Buffer.from([0x2d, 0x20, 0xef, 0xbb, 0xbf, 0x43, 0x45, 0x46])), 'SD "-", SP, BOM, "CEF"');
  assert.ok(formatRfc5424({ severity: 6, msg: 'CEF:0|x', bom: false }).endsWith(' - CEF:0|x'));
});

test('a message without MSG ends after the structured data, with no BOM and no space', () => {
  assert.equal(formatRfc5424({ severity: 6, msg: '' }), '<110>1 - - - - - -');
});

// ---- framing ------------------------------------------------------------------------------

test('octet counting counts bytes, not characters', () => {
  const message = formatRfc5424({ severity: 6, msg: 'ä中👍' });
  const framed = frameOctetCounting(message);
  const bytes = Buffer.byteLength(message, 'utf8');
  assert.equal(bytes, message.length + 1 + 2 + 2 + 2, 'BOM 3 bytes, ä 2, 中 3, 👍 4');
  assert.equal(framed.toString('utf8'), `${bytes} ${message}`);
  assert.equal(framed.length, String(bytes).length + 1 + bytes);
  assert.deepEqual(frameOctetCounting(Buffer.from('abc')), Buffer.from('3 abc'));
});

test('LF framing ends with one LF and escapes line breaks inside the message', () => {
  assert.deepEqual(frameLf('one\ntwo\r\nthree'), Buffer.from('one#012two#015#012three\n'));
  assert.deepEqual(frameLf('ä'), Buffer.from('ä\n'));
});

// ---- size limits --------------------------------------------------------------------------

test('truncation to a byte budget never splits a character', () => {
  const text = 'aä中👍🏽🇩🇪👨‍👩‍👧e\u0301z';
  for (let max = 0; max <= Buffer.byteLength(text); max++) {
    const cut = truncateSyslogMessage(text, max);
    assert.ok(Buffer.byteLength(cut) <= max, `${max}: ${cut}`);
    assert.ok(text.startsWith(cut));
    assert.equal(Buffer.from(cut, 'utf8').toString('utf8'), cut, 'no broken UTF-8');
    assert.ok(!/[\ud800-\udbff]$/.test(cut), 'no lone high surrogate');
    const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((s) => s.segment);
    const cutGraphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(cut)].map((s) => s.segment);
    assert.deepEqual(cutGraphemes, graphemes.slice(0, cutGraphemes.length), `${max}: whole characters only`);
  }
});

test('a cut that leaves half of a backslash escape drops the backslash', () => {
  assert.equal(truncateSyslogMessage('ab\\=cd', 3), 'ab');
  assert.equal(truncateSyslogMessage('ab\\\\cd', 4), 'ab\\\\');
  assert.equal(truncateSyslogMessage('ab\\\\\\=', 5), 'ab\\\\');
});

test('maxBytes shortens MSG so the whole RFC 5424 message fits', () => {
  const msg = `CEF:0|${'中'.repeat(1000)}`;
  for (const maxBytes of [480, 1024, 2048]) {
    const message = formatRfc5424({ severity: 3, time, hostname: 'h', appName: 'trustwire', msgId: 'trust.change', structuredData: [{ id: 'trustwire@32473', params: [['id', 'x']] }], msg, maxBytes });
    const bytes = Buffer.byteLength(message);
    assert.ok(bytes <= maxBytes && bytes > maxBytes - 3, `${maxBytes}: ${bytes}`);
    assert.ok(message.includes(`] ${BOM}CEF:0|中`));
  }
});

test('structured data too large for maxBytes is left out rather than cut', () => {
  const message = formatRfc5424({ severity: 3, structuredData: [{ id: 'big', params: [['v', 'x'.repeat(1000)]] }], msg: 'body', maxBytes: 480, bom: false });
  assert.equal(message, '<107>1 - - - - - - body');
});

// ---- RFC 3164 -----------------------------------------------------------------------------

test('the RFC 3164 timestamp pads the day with a space', () => {
  assert.equal(rfc3164Timestamp(time), 'Mar  4 09:05:07');
  assert.equal(rfc3164Timestamp(Date.UTC(2025, 11, 24, 23, 0, 0)), 'Dec 24 23:00:00');
});

test('RFC 3164 time is UTC by default and the sender\'s local time on request', () => {
  const zone = process.env.TZ;
  process.env.TZ = 'Asia/Kolkata'; // UTC+05:30 all year
  try {
    assert.equal(formatRfc3164({ severity: 6, time, hostname: 'h', msg: 'm' }), '<110>Mar  4 09:05:07 h trustwire: m');
    assert.equal(formatRfc3164({ severity: 6, time, hostname: 'h', msg: 'm', timeZone: 'local' }), '<110>Mar  4 14:35:07 h trustwire: m');
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

test('the RFC 3164 TAG keeps at most 32 alphanumerics, with an optional [pid]', () => {
  assert.equal(formatRfc3164({ severity: 6, time, hostname: 'h', tag: 'trust-wire_äpp', pid: 42, msg: 'm' }), '<110>Mar  4 09:05:07 h trustwirepp[42]: m');
  assert.ok(formatRfc3164({ severity: 6, time, hostname: 'h', tag: 'x'.repeat(40), msg: 'm' }).includes(` ${'x'.repeat(32)}: m`));
  assert.ok(formatRfc3164({ severity: 6, time, msg: 'm', tag: '---' }).includes(' - trustwire: m'));
});

test('maxBytes keeps an RFC 3164 message within 1024 bytes', () => {
  const message = formatRfc3164({ severity: 6, time, hostname: 'h', msg: '👍'.repeat(1000), maxBytes: 1024 });
  assert.ok(Buffer.byteLength(message) <= 1024);
  assert.ok(message.endsWith('👍'));
});
