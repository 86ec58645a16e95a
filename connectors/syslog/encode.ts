import { hostname as machineName } from 'node:os';
import { formatCef } from '../../src/formats/cef.js';
import { formatJson } from '../../src/formats/json.js';
import { createLeefFormatter } from '../../src/formats/leef.js';
import { formatEventRfc3164, formatEventRfc5424, frameLf, frameOctetCounting, SYSLOG_FACILITIES } from '../../src/formats/syslog.js';
import { utf8Length } from '../../src/formats/text.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import type { SyslogOptions } from './config.js';

export interface EncodedMessage {
  /** The syslog message, framed for the transport (UDP: the datagram). */
  bytes: Buffer;
  /** Set when the message was over maxMessageBytes and the options say dead-letter. */
  oversize?: number;
}

/** Builds the encoder once per connector: body format, syslog header, framing. */
export function createEncoder(options: SyslogOptions): (event: CanonicalEvent) => EncodedMessage {
  const leef = createLeefFormatter();
  const body = options.format === 'cef' ? (e: CanonicalEvent) => formatCef(e) : options.format === 'leef' ? leef : formatJson;
  const facility = SYSLOG_FACILITIES[options.facility];
  const hostname = options.hostname ?? machineName();
  const cut = options.oversize === 'truncate' ? options.maxMessageBytes : undefined;
  const header =
    options.protocol === 'rfc5424'
      ? (e: CanonicalEvent, msg: string) => formatEventRfc5424(e, msg, { facility, hostname, appName: options.appName, bom: options.bom, maxBytes: cut })
      : (e: CanonicalEvent, msg: string) => formatEventRfc3164(e, msg, { facility, hostname, appName: options.appName, maxBytes: cut });
  const frame =
    options.transport === 'udp' ? (m: string) => Buffer.from(m, 'utf8') : options.framing === 'lf' && options.transport === 'tcp' ? frameLf : frameOctetCounting;
  return (event) => {
    const message = header(event, body(event));
    const size = utf8Length(message);
    return size > options.maxMessageBytes ? { bytes: Buffer.alloc(0), oversize: size } : { bytes: frame(message) };
  };
}
