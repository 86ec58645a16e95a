import { hostname as machineName } from 'node:os';
import { formatCef } from '../../src/formats/cef.js';
import { formatJson } from '../../src/formats/json.js';
import { createLeefFormatter } from '../../src/formats/leef.js';
import {
  escapeLineBreaks,
  formatEventRfc3164,
  formatEventRfc5424Parts,
  frameBatch,
  PartsMessage,
  rfc5424PartsLength,
  SYSLOG_FACILITIES,
  type Framing,
  type SyslogMessage,
} from '../../src/formats/syslog.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import type { SyslogOptions } from './config.js';

// The framing is the format's (src/formats/syslog.ts); the connector names it for its senders and the bench.
export { frameBatch, type Framing, type SyslogMessage };

/** A message over maxMessageBytes when the options say dead-letter: its size. */
export interface OversizeMessage {
  oversize: number;
}

/** How the transport frames messages: UDP and RELP carry them bare (a datagram, a RELP frame with its own length). */
export function framingOf(options: Pick<SyslogOptions, 'transport' | 'framing'>): Framing {
  if (options.transport === 'udp' || options.transport === 'relp') return 'none';
  return options.framing === 'lf' && options.transport === 'tcp' ? 'lf' : 'octet-counting';
}

/** Builds the encoder once per connector: body format, syslog header, the size check. */
export function createMessageEncoder(options: SyslogOptions): (event: CanonicalEvent) => SyslogMessage | OversizeMessage {
  const leef = createLeefFormatter();
  const body = options.format === 'cef' ? (e: CanonicalEvent) => formatCef(e) : options.format === 'leef' ? leef : formatJson;
  const facility = SYSLOG_FACILITIES[options.facility];
  const hostname = options.hostname ?? machineName();
  const cut = options.oversize === 'truncate' ? options.maxMessageBytes : undefined;
  const max = options.maxMessageBytes;
  const lf = framingOf(options) === 'lf';

  if (options.protocol === 'rfc5424') {
    const header = { facility, hostname, appName: options.appName, bom: options.bom, maxBytes: cut };
    return (event) => {
      const parts = formatEventRfc5424Parts(event, body(event), header);
      const bytes = rfc5424PartsLength(parts);
      if (bytes > max) return { oversize: bytes };
      if (!lf) return new PartsMessage(parts, bytes);
      // A CR or LF is never the BOM: escaping the two strings apart escapes the message.
      const head = escapeLineBreaks(parts.head);
      const msg = escapeLineBreaks(parts.msg);
      if (head === parts.head && msg === parts.msg) return new PartsMessage(parts, bytes);
      const escaped = { head, bom: parts.bom, msg };
      return new PartsMessage(escaped, rfc5424PartsLength(escaped));
    };
  }
  const header = { facility, hostname, appName: options.appName, maxBytes: cut };
  return (event) => {
    const text = formatEventRfc3164(event, body(event), header);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > max) return { oversize: bytes };
    if (!lf) return { text, bytes };
    const escaped = escapeLineBreaks(text);
    return escaped === text ? { text, bytes } : { text: escaped, bytes: Buffer.byteLength(escaped, 'utf8') };
  };
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
