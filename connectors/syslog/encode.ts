import { hostname as machineName } from 'node:os';
import { formatCef } from '../../src/formats/cef.js';
import { formatJson } from '../../src/formats/json.js';
import { createLeefFormatter } from '../../src/formats/leef.js';
import { formatEventRfc3164, formatEventRfc5424, SYSLOG_FACILITIES } from '../../src/formats/syslog.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import type { SyslogOptions } from './config.js';

/**
 * One syslog message, not yet framed: its text and that text's length in UTF-8 bytes, measured
 * once. For LF framing the text is already escaped (a CR or LF inside becomes `#015` / `#012`).
 */
export interface SyslogMessage {
  text: string;
  bytes: number;
}

/** A message over maxMessageBytes when the options say dead-letter: its size. */
export interface OversizeMessage {
  oversize: number;
}

export type Framing = 'octet-counting' | 'lf' | 'none';

/** How the transport frames messages: UDP and RELP carry them bare (a datagram, a RELP frame with its own length). */
export function framingOf(options: Pick<SyslogOptions, 'transport' | 'framing'>): Framing {
  if (options.transport === 'udp' || options.transport === 'relp') return 'none';
  return options.framing === 'lf' && options.transport === 'tcp' ? 'lf' : 'octet-counting';
}

const LINE_BREAKS = /[\r\n]/g;
const HAS_LINE_BREAK = /[\r\n]/;
const lineBreakEscape = (char: string) => (char === '\n' ? '#012' : '#015');

/** Builds the encoder once per connector: body format, syslog header, the size check. */
export function createMessageEncoder(options: SyslogOptions): (event: CanonicalEvent) => SyslogMessage | OversizeMessage {
  const leef = createLeefFormatter();
  const body = options.format === 'cef' ? (e: CanonicalEvent) => formatCef(e) : options.format === 'leef' ? leef : formatJson;
  const facility = SYSLOG_FACILITIES[options.facility];
  const hostname = options.hostname ?? machineName();
  const cut = options.oversize === 'truncate' ? options.maxMessageBytes : undefined;
  const header =
    options.protocol === 'rfc5424'
      ? (e: CanonicalEvent, msg: string) => formatEventRfc5424(e, msg, { facility, hostname, appName: options.appName, bom: options.bom, maxBytes: cut })
      : (e: CanonicalEvent, msg: string) => formatEventRfc3164(e, msg, { facility, hostname, appName: options.appName, maxBytes: cut });
  const lf = framingOf(options) === 'lf';
  return (event) => {
    const text = header(event, body(event));
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > options.maxMessageBytes) return { oversize: bytes };
    if (!lf) return { text, bytes };
    if (!HAS_LINE_BREAK.test(text)) return { text, bytes };
    const escaped = text.replace(LINE_BREAKS, lineBreakEscape);
    return { text: escaped, bytes: Buffer.byteLength(escaped, 'utf8') };
  };
}

/** Decimal digits of a non-negative integer. */
export function digits(value: number): number {
  let count = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) count++;
  return count;
}

/**
 * The framed messages of one batch in one allocation: `LEN SP MSG` each (octet counting, RFC
 * 6587 §3.4.1 / RFC 5425), `MSG LF` each (LF framing), or the bare messages back to back (for
 * UDP, which sends `subarray`s of it).
 */
export function frameBatch(messages: readonly SyslogMessage[], framing: Framing): Buffer {
  let total = 0;
  for (const message of messages) total += message.bytes + (framing === 'octet-counting' ? digits(message.bytes) + 1 : framing === 'lf' ? 1 : 0);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const message of messages) {
    if (framing === 'octet-counting') {
      at += out.write(String(message.bytes), at, 'latin1');
      out[at++] = 0x20;
    }
    at += out.write(message.text, at, message.bytes, 'utf8');
    if (framing === 'lf') out[at++] = 0x0a;
  }
  return out;
}

export interface EncodedMessage {
  /** The syslog message, framed for the transport (UDP, RELP: the bare message). */
  bytes: Buffer;
  /** Set when the message was over maxMessageBytes and the options say dead-letter. */
  oversize?: number;
}

/** One event at a time, framed: what a batch of one would carry. */
export function createEncoder(options: SyslogOptions): (event: CanonicalEvent) => EncodedMessage {
  const encode = createMessageEncoder(options);
  const framing = framingOf(options);
  return (event) => {
    const message = encode(event);
    return 'oversize' in message ? { bytes: Buffer.alloc(0), oversize: message.oversize } : { bytes: frameBatch([message], framing) };
  };
}
