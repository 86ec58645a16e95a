/**
 * The formats skip their escaping and date formatting when a value needs none (issue 10). Here
 * each fast path is held to the straightforward version it replaced (regex replaces, `Date`
 * methods, `Buffer.from`), over generated values full of the characters that matter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeCefHeader, escapeCefValue, formatCef } from '../../src/formats/cef.js';
import { formatJson } from '../../src/formats/json.js';
import { createLeefFormatter, leefDevTime, sanitizeLeefHeader } from '../../src/formats/leef.js';
import {
  escapeSdParamValue,
  eventStructuredData,
  formatEventRfc5424,
  formatEventRfc5424Parts,
  formatEventStructuredData,
  formatStructuredData,
  frameLf,
  frameOctetCounting,
  rfc3164Tag,
  rfc3164Timestamp,
  rfc3339,
  rfc5424PartsLength,
  sdName,
  syslogHeaderField,
  writeRfc5424Parts,
  type EventSyslogOptions,
} from '../../src/formats/syslog.js';
import { isoTime } from '../../src/formats/time.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { eventFixture } from '../helpers/fixtures.js';

// ---- generated values -----------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'Z', '0', ' ', '-', '.', '=', '|', '\\', ']', '"', '\t', '\r', '\n', '\u0000', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', '\u00a0', '\u2028', '\u2029', 'ä', 'ß', '\u00a6', '中', '👍', '\ud800', '\udc00', '\ufeff', 'host-01.example.net'];

function values(count: number, seed = 1): string[] {
  const next = random(seed);
  const out = ['', 'plain', 'x'.repeat(40)];
  for (let i = 0; i < count; i++) {
    let value = '';
    const length = Math.floor(next() * 12);
    for (let j = 0; j < length; j++) value += PIECES[Math.floor(next() * PIECES.length)];
    out.push(value);
  }
  return out;
}

const VALUES = values(2000);

// ---- the straightforward versions ---------------------------------------------------------

const reference = {
  cefHeader: (v: string) => v.replace(/[\\|\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => (c === '\\' ? '\\\\' : c === '|' ? '\\|' : ' ')),
  cefValue: (v: string) =>
    v.replace(/[\\=\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => ({ '\\': '\\\\', '=': '\\=', '\r': '\\r', '\n': '\\n' })[c] ?? ' '),
  leefHeader: (v: string) => v.replace(/[|\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => (c === '|' ? '\u00a6' : ' ')),
  headerField: (v: string | undefined, max: number) => (v === undefined || v === '' ? '-' : v.replace(/[^\x21-\x7e]/gu, '_').slice(0, max)),
  sdName: (v: string) => v.replace(/[^\x21-\x7e]|[=\]"]/gu, '_').slice(0, 32) || '_',
  sdParamValue: (v: string) => v.replace(/["\\\]]/g, '\\$&'),
  rfc3164Tag: (v: string) => v.replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || 'trustwire',
  frameOctetCounting: (m: string) => Buffer.from(`${Buffer.byteLength(m)} ${m}`),
  frameLf: (m: string) => Buffer.from(`${m.replace(/[\r\n]/g, (c) => (c === '\n' ? '#012' : '#015'))}\n`),
};

test('CEF escaping matches the regex escaping it replaced', () => {
  for (const value of VALUES) {
    assert.equal(escapeCefHeader(value), reference.cefHeader(value), JSON.stringify(value));
    assert.equal(escapeCefValue(value), reference.cefValue(value), JSON.stringify(value));
  }
});

test('LEEF sanitising matches the regex replace it replaced, in the header and in values', () => {
  for (const value of VALUES) assert.equal(sanitizeLeefHeader(value), reference.leefHeader(value), JSON.stringify(value));
  const base = eventFixture('alert');
  for (const delimiter of ['\t', '^']) {
    const leef = createLeefFormatter({ delimiter });
    const special = new RegExp(`[|\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u${delimiter.charCodeAt(0).toString(16).padStart(4, '0')}]`, 'g');
    for (const value of VALUES.slice(0, 300)) {
      if (value === '') continue;
      const line = leef({ ...base, payload: { ...base.payload, rule: value.slice(0, 255) } } as CanonicalEvent);
      const expected = value.slice(0, 255).replace(special, (c) => (c === '|' ? '\u00a6' : ' '));
      assert.ok(line.includes(`${delimiter}alertRule=${expected}`), JSON.stringify(value));
    }
  }
});

test('RFC 5424 header fields, SD names, PARAM-VALUEs and RFC 3164 tags match the regex versions', () => {
  for (const value of VALUES) {
    assert.equal(syslogHeaderField(value, 48), reference.headerField(value, 48), JSON.stringify(value));
    assert.equal(sdName(value), reference.sdName(value), JSON.stringify(value));
    assert.equal(escapeSdParamValue(value), reference.sdParamValue(value), JSON.stringify(value));
    assert.equal(rfc3164Tag(value), reference.rfc3164Tag(value), JSON.stringify(value));
  }
  for (let c = 0; c < 0x180; c++) assert.equal(rfc3164Tag(`a${String.fromCharCode(c)}`), reference.rfc3164Tag(`a${String.fromCharCode(c)}`), String(c));
  assert.equal(syslogHeaderField(undefined, 10), '-');
  assert.equal(syslogHeaderField('x'.repeat(300), 255), 'x'.repeat(255));
});

test('framing matches Buffer.from of the framed text', () => {
  for (const value of VALUES) {
    assert.deepEqual(frameOctetCounting(value), reference.frameOctetCounting(value), JSON.stringify(value));
    assert.deepEqual(frameLf(value), reference.frameLf(value), JSON.stringify(value));
  }
});

test('JSON strings are what JSON.stringify writes, NEL, U+2028 and U+2029 escaped too', () => {
  const base = eventFixture('admin.action');
  const stringify = (v: string) => JSON.stringify(v).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  for (const value of VALUES) {
    const event = { ...base, payload: { ...base.payload, error: value } } as CanonicalEvent;
    const line = formatJson(event);
    assert.ok(line.includes(`"error":${stringify(value)}`), JSON.stringify(value));
    assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(event)));
  }
});

// ---- timestamps ---------------------------------------------------------------------------

function times(): number[] {
  const next = random(7);
  const out = [0, 1, 999, 1000, 1741946399871, 1741946399999, 1741946400000, 253402300799999, 1.5, 999.999, 1741946399871.9];
  // Runs within one second and across seconds, in order and back and forth: the per-second cache.
  for (let ms = 1741946398990; ms < 1741946401010; ms += 7) out.push(ms);
  for (let i = 0; i < 2000; i++) out.push(Math.floor(next() * 253402300799999), 1741946400000 + Math.floor(next() * 5000) * (next() < 0.5 ? 1 : -1));
  return out;
}

test('timestamps match the Date methods they replaced, within and across seconds', () => {
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  for (const ms of times()) {
    const d = new Date(ms);
    assert.equal(isoTime(ms), d.toISOString(), String(ms));
    assert.equal(rfc3339(ms), d.toISOString(), String(ms));
    const leef = `${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} GMT`;
    assert.equal(leefDevTime(ms), leef, String(ms));
    const day = d.getUTCDate();
    const rfc3164 = `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    assert.equal(rfc3164Timestamp(ms), rfc3164, String(ms));
  }
  assert.throws(() => isoTime(Number.NaN), RangeError);
  assert.equal(rfc3339(Number.NaN), '-');
  assert.match(leefDevTime(Number.NaN), /^undefined NaN NaN NaN:NaN:NaN\.NaN GMT$/);
});

// ---- RFC 5424 in parts --------------------------------------------------------------------

test('an event\'s RFC 5424 parts make the message formatEventRfc5424 returns, measured and written without joining', () => {
  const options: EventSyslogOptions[] = [
    {},
    { hostname: 'sink-01.example.net', procId: '4242', facility: 16 },
    { bom: false },
    { sdId: null },
    { sdId: 'ex ample@1]' },
    { maxBytes: 480 },
    { maxBytes: 120 },
    { maxBytes: 40 },
  ];
  for (const type of ['trust.change', 'admin.action', 'alert'] as const) {
    const event = eventFixture(type);
    for (const msg of ['', formatCef(event), 'ä中👍 '.repeat(200)]) {
      for (const option of options) {
        const message = formatEventRfc5424(event, msg, option);
        const parts = formatEventRfc5424Parts(event, msg, option);
        assert.equal(parts.head + (parts.bom ? '\ufeff' : '') + parts.msg, message);
        assert.equal(rfc5424PartsLength(parts), Buffer.byteLength(message));
        const target = Buffer.alloc(rfc5424PartsLength(parts) + 4, 0x2a);
        assert.equal(writeRfc5424Parts(target, 2, parts), 2 + rfc5424PartsLength(parts));
        assert.deepEqual(target.subarray(2, -2), Buffer.from(message));
      }
    }
  }
});

test('an event\'s structured data, written directly, is formatStructuredData of eventStructuredData', () => {
  for (const type of ['trust.change', 'admin.action', 'policy.decision', 'alert'] as const) {
    const event = eventFixture(type);
    for (const sdId of [undefined, 'other@1', 'bad id="x"']) {
      assert.equal(formatEventStructuredData(event, sdId), formatStructuredData([eventStructuredData(event, sdId)]));
    }
    for (const value of VALUES.slice(0, 200)) {
      const odd = { ...event, id: value, tenant: value || undefined, host: { ...event.host, id: value } } as CanonicalEvent;
      assert.equal(formatEventStructuredData(odd), formatStructuredData([eventStructuredData(odd)]), JSON.stringify(value));
    }
  }
});
