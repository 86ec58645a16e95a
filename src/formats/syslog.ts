/**
 * Syslog messages and their framing:
 *
 * - RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`.
 *   TIMESTAMP is RFC 3339 in UTC with milliseconds (`2025-03-14T09:59:59.871Z`). HOSTNAME
 *   (≤255), APP-NAME (≤48), PROCID (≤128) and MSGID (≤32) are printable US-ASCII: any other
 *   character becomes `_`, an absent or empty one the NILVALUE `-`. SD-IDs and PARAM-NAMEs
 *   (≤32 printable US-ASCII without `=`, space, `]`, `"`) are sanitised the same way;
 *   PARAM-VALUEs escape `"`, `\` and `]` with a backslash (§6.3.3). MSG is UTF-8 and, by
 *   default, starts with the BOM that §6.4 requires of a UTF-8 MSG (`bom: false` for
 *   receivers that choke on it; see docs/formats.md).
 * - RFC 3164: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, the day padded with a space, the
 *   TAG reduced to at most 32 alphanumerics. The time is UTC by default (a pure function does
 *   not depend on the machine's zone; 3164 has no zone field, so say so to the receiver);
 *   `timeZone: 'local'` gives the sender's local time, as 3164 literally asks.
 * - Framing: octet counting (RFC 6587 §3.4.1, RFC 5425 §4.3: `MSG-LEN SP SYSLOG-MSG`, the
 *   length in bytes) and LF (non-transparent) framing, where a CR or LF inside the message
 *   becomes rsyslog's `#015` / `#012` so it cannot end the frame.
 * - `maxBytes` (UDP, RFC 5426: receivers must take 480 bytes, should take 2048; RFC 3164: at
 *   most 1024) shortens MSG at a character boundary so the whole message fits; a backslash
 *   left dangling by the cut (half of a CEF or SD escape) goes too.
 *
 * trustwire's severity 0-10 maps onto syslog's severity by `SYSLOG_SEVERITY_BY_TRUSTWIRE`.
 * The structured-data id is `trustwire@32473`: 32473 is the private enterprise number IANA
 * reserves for documentation (RFC 5612); a deployment with its own number passes `sdId`.
 */
import type { CanonicalEvent } from '../model/events.js';
import { severityLevel } from './describe.js';
import { isoTime, MONTHS, perSecond, timeValue } from './time.js';
import { truncateUtf8, utf8Length } from './text.js';

// ---- PRI ----------------------------------------------------------------------------------

/** RFC 5424 §6.2.1 facility codes. */
export const SYSLOG_FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, audit: 13, alert: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;

/** trustwire's events are audit records: `log audit` (13) unless the sink says otherwise. */
export const DEFAULT_SYSLOG_FACILITY = SYSLOG_FACILITIES.audit;

/**
 * Syslog severity (0 emergency … 7 debug) for trustwire severity 0-10, by index. Emergency
 * (the receiving system is unusable) is never used; 10 is `alert` (act now), 9 `critical`,
 * 7-8 `error`, 4-6 `warning`, 2-3 `notice`, 0-1 `informational`.
 */
export const SYSLOG_SEVERITY_BY_TRUSTWIRE: readonly number[] = Object.freeze([6, 6, 5, 5, 4, 4, 4, 3, 3, 2, 1]);

export function syslogSeverity(severity: number): number {
  return SYSLOG_SEVERITY_BY_TRUSTWIRE[severityLevel(severity)]!;
}

/** `facility * 8 + severity`, both checked. */
export function syslogPri(facility: number, severity: number): number {
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new RangeError(`syslog facility must be 0-23, got ${facility}`);
  if (!Number.isInteger(severity) || severity < 0 || severity > 7) throw new RangeError(`syslog severity must be 0-7, got ${severity}`);
  return facility * 8 + severity;
}

// ---- RFC 5424 -----------------------------------------------------------------------------

export const NILVALUE = '-';
export const UTF8_BOM = '\ufeff';
export const RFC5424_LIMITS = { hostname: 255, appName: 48, procId: 128, msgId: 32, sdName: 32 } as const;

const NOT_PRINTUSASCII = /[^\x21-\x7e]/gu;
const NOT_SD_NAME = /[^\x21-\x7e]|[=\]"]/gu;
const PARAM_VALUE_SPECIALS = /["\\\]]/g;

// The values are nearly always clean (host names, ids, event types): a scan decides, and only
// a value that needs it pays for the regex replace.

function isPrintUsAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function isSdNameClean(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x3d || c === 0x5d || c === 0x22) return false;
  }
  return true;
}

function hasParamValueSpecial(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x5d) return true;
  }
  return false;
}

/** A header field: printable US-ASCII only (others become `_`), at most `max`, `-` when empty. */
export function syslogHeaderField(value: string | undefined, max: number): string {
  if (value === undefined || value === '') return NILVALUE;
  const clean = isPrintUsAscii(value) ? value : value.replace(NOT_PRINTUSASCII, '_');
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** An SD-ID or PARAM-NAME: printable US-ASCII without `=`, space, `]`, `"`, at most 32. */
export function sdName(value: string): string {
  const clean = isSdNameClean(value) ? value : value.replace(NOT_SD_NAME, '_');
  const name = clean.length > RFC5424_LIMITS.sdName ? clean.slice(0, RFC5424_LIMITS.sdName) : clean;
  return name === '' ? '_' : name;
}

/** A PARAM-VALUE: `"`, `\` and `]` escaped with a backslash. */
export function escapeSdParamValue(value: string): string {
  return hasParamValueSpecial(value) ? value.replace(PARAM_VALUE_SPECIALS, '\\$&') : value;
}

export type SdParamValue = string | number | boolean | undefined;

/** An SD-ELEMENT: its id and its parameters in order (a name may repeat; undefined values are left out). */
export interface SdElement {
  id: string;
  params: ReadonlyArray<readonly [string, SdParamValue]>;
}

/** STRUCTURED-DATA: the elements in order, or `-` when there are none. */
export function formatStructuredData(elements: readonly SdElement[] | undefined): string {
  if (elements === undefined || elements.length === 0) return NILVALUE;
  let out = '';
  for (const element of elements) {
    out += `[${sdName(element.id)}`;
    for (const [name, value] of element.params) {
      if (value === undefined) continue;
      out += ` ${sdName(name)}="${escapeSdParamValue(String(value))}"`;
    }
    out += ']';
  }
  return out;
}

/** RFC 3339 in UTC with milliseconds; `-` when there is no valid time. */
export function rfc3339(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > 253402300799999) return NILVALUE;
  return isoTime(ms);
}

export interface Rfc5424Message {
  /** 0-23; `DEFAULT_SYSLOG_FACILITY` when absent. */
  facility?: number;
  /** Syslog severity 0-7 (see `syslogSeverity` for trustwire's 0-10). */
  severity: number;
  /** Epoch milliseconds; `-` when absent. */
  time?: number;
  hostname?: string;
  appName?: string;
  procId?: string;
  msgId?: string;
  structuredData?: readonly SdElement[];
  msg?: string;
  /** Start MSG with the UTF-8 BOM, as RFC 5424 §6.4 asks of a UTF-8 MSG. Default true. */
  bom?: boolean;
  /** Shorten MSG so the whole message takes at most this many bytes. */
  maxBytes?: number;
}

/** A trailing odd run of backslashes is half an escape sequence: drop its last backslash. */
function dropDanglingBackslash(value: string): string {
  let run = 0;
  while (run < value.length && value.charCodeAt(value.length - 1 - run) === 0x5c) run++;
  return run % 2 === 1 ? value.slice(0, -1) : value;
}

/** `value` cut to `maxBytes` of UTF-8 at a character boundary, with no dangling escape backslash. */
export function truncateSyslogMessage(value: string, maxBytes: number): string {
  const cut = truncateUtf8(value, maxBytes);
  return cut === value ? value : dropDanglingBackslash(cut);
}

/**
 * An RFC 5424 message in the pieces a writer puts on the wire: `head` (PRI to STRUCTURED-DATA,
 * with the SP before MSG when there is one), the UTF-8 BOM when `bom`, then `msg`.
 * `head + (bom ? UTF8_BOM : '') + msg` is the message `formatRfc5424` returns.
 *
 * Why apart: U+FEFF is the one character of a usual message outside Latin-1, and a JS string
 * holding it is stored as UTF-16, which Node measures and encodes to UTF-8 about five times
 * slower (a 1.4 kB message: 2.2 µs instead of 0.46 µs to measure, 3.4 µs instead of 0.4 µs to
 * write). Written as its 3 bytes between the two strings (`writeRfc5424Parts`), it costs nothing.
 */
export interface Rfc5424Parts {
  head: string;
  bom: boolean;
  msg: string;
}

/** EF BB BF: the UTF-8 encoding of the BOM. */
const UTF8_BOM_BYTES = Uint8Array.of(0xef, 0xbb, 0xbf);

/** One RFC 5424 message, without framing, as `Rfc5424Parts`. */
export function formatRfc5424Parts(message: Rfc5424Message): Rfc5424Parts {
  return rfc5424Parts(message, formatStructuredData(message.structuredData));
}

/** `formatRfc5424Parts` with the STRUCTURED-DATA already formatted (`message.structuredData` is not read). */
function rfc5424Parts(message: Rfc5424Message, structuredData: string): Rfc5424Parts {
  const pri = syslogPri(message.facility ?? DEFAULT_SYSLOG_FACILITY, message.severity);
  const header =
    `<${pri}>1 ${rfc3339(message.time)} ${syslogHeaderField(message.hostname, RFC5424_LIMITS.hostname)} ` +
    `${syslogHeaderField(message.appName, RFC5424_LIMITS.appName)} ${syslogHeaderField(message.procId, RFC5424_LIMITS.procId)} ` +
    `${syslogHeaderField(message.msgId, RFC5424_LIMITS.msgId)} `;
  let sd = structuredData;
  const bom = message.bom ?? true;
  let msg = message.msg ?? '';
  const { maxBytes } = message;
  if (maxBytes !== undefined) {
    let head = utf8Length(header) + utf8Length(sd);
    if (head > maxBytes && sd !== NILVALUE) {
      sd = NILVALUE; // structured data cut anywhere would not parse: leave it out instead
      head = utf8Length(header) + 1;
    }
    if (head > maxBytes) return { head: truncateUtf8(header + sd, maxBytes), bom: false, msg: '' };
    const budget = maxBytes - head - 1 - (bom ? UTF8_BOM_BYTES.length : 0);
    msg = budget > 0 ? truncateSyslogMessage(msg, budget) : '';
  }
  return msg === '' ? { head: header + sd, bom: false, msg } : { head: `${header}${sd} `, bom, msg };
}

/** The parts as one string: the message `formatRfc5424` returns. */
export function joinRfc5424Parts(parts: Rfc5424Parts): string {
  return parts.bom ? parts.head + UTF8_BOM + parts.msg : parts.head + parts.msg;
}

/** The UTF-8 length of the message the parts make, measured without joining them. */
export function rfc5424PartsLength(parts: Rfc5424Parts): number {
  return utf8Length(parts.head) + (parts.bom ? UTF8_BOM_BYTES.length : 0) + utf8Length(parts.msg);
}

/**
 * Writes the message the parts make into `target` at `offset` as UTF-8 and returns the offset
 * after it. `target` must have `rfc5424PartsLength(parts)` bytes free there: a connector
 * measures each message once, allocates one Buffer for the batch and writes into it.
 */
export function writeRfc5424Parts(target: Buffer, offset: number, parts: Rfc5424Parts): number {
  let at = offset + target.write(parts.head, offset, 'utf8');
  if (parts.bom) {
    target.set(UTF8_BOM_BYTES, at);
    at += UTF8_BOM_BYTES.length;
  }
  return at + target.write(parts.msg, at, 'utf8');
}

/** One RFC 5424 message, without framing. */
export function formatRfc5424(message: Rfc5424Message): string {
  return joinRfc5424Parts(formatRfc5424Parts(message));
}

// ---- RFC 3164 -----------------------------------------------------------------------------

export interface Rfc3164Message {
  facility?: number;
  severity: number;
  /** Epoch milliseconds. */
  time: number;
  hostname?: string;
  /** At most 32 alphanumerics; `trustwire` when absent or empty once reduced. */
  tag?: string;
  /** Appended to the tag as `[pid]`. */
  pid?: string | number;
  msg: string;
  /** `utc` (default) or the sender's `local` time. */
  timeZone?: 'utc' | 'local';
  maxBytes?: number;
}

const NOT_ALPHANUMERIC = /[^A-Za-z0-9]/g;

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

function rfc3164Text(ms: number, timeZone: 'utc' | 'local'): string {
  const d = new Date(ms);
  const utc = timeZone === 'utc';
  const day = utc ? d.getUTCDate() : d.getDate();
  return (
    `${MONTHS[utc ? d.getUTCMonth() : d.getMonth()]} ${day < 10 ? ` ${day}` : day} ` +
    `${pad2(utc ? d.getUTCHours() : d.getHours())}:${pad2(utc ? d.getUTCMinutes() : d.getMinutes())}:${pad2(utc ? d.getUTCSeconds() : d.getSeconds())}`
  );
}

// UTC only: a local time depends on TZ, which may change under a cached second.
const rfc3164UtcSecond = perSecond((ms) => rfc3164Text(ms, 'utc'));

/** `Mar  4 09:59:59`: month, day padded with a space, time; UTC or local. */
export function rfc3164Timestamp(ms: number, timeZone: 'utc' | 'local' = 'utc'): string {
  return timeZone === 'utc' ? rfc3164UtcSecond(timeValue(ms)) : rfc3164Text(ms, timeZone);
}

function isAlphanumeric(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

function alphanumerics(value: string): string {
  return isAlphanumeric(value) ? value : value.replace(NOT_ALPHANUMERIC, '');
}

/** An RFC 3164 TAG: alphanumerics only, at most 32. */
export function rfc3164Tag(value: string | undefined): string {
  const tag = alphanumerics(value ?? '').slice(0, 32);
  return tag === '' ? 'trustwire' : tag;
}

/** One RFC 3164 message, without framing. */
export function formatRfc3164(message: Rfc3164Message): string {
  const pri = syslogPri(message.facility ?? DEFAULT_SYSLOG_FACILITY, message.severity);
  const pid = message.pid === undefined ? '' : `[${alphanumerics(String(message.pid))}]`;
  const head =
    `<${pri}>${rfc3164Timestamp(message.time, message.timeZone)} ` +
    `${syslogHeaderField(message.hostname, RFC5424_LIMITS.hostname)} ${rfc3164Tag(message.tag)}${pid}: `;
  if (message.maxBytes === undefined) return head + message.msg;
  const budget = message.maxBytes - utf8Length(head);
  return budget <= 0 ? truncateUtf8(head, message.maxBytes) : head + truncateSyslogMessage(message.msg, budget);
}

// ---- framing ------------------------------------------------------------------------------

/** RFC 6587 §3.4.1 / RFC 5425: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function frameOctetCounting(message: string | Uint8Array): Buffer {
  // Measured once and written once, straight into the frame.
  const length = typeof message === 'string' ? utf8Length(message) : message.length;
  const prefix = `${length} `;
  const framed = Buffer.allocUnsafe(prefix.length + length);
  framed.write(prefix, 0, 'latin1');
  if (typeof message === 'string') framed.write(message, prefix.length, 'utf8');
  else framed.set(message, prefix.length);
  return framed;
}

/**
 * One syslog message, not yet framed: its text and that text's length in UTF-8 bytes, measured
 * once. For LF framing the text is already escaped (a CR or LF inside becomes `#015` / `#012`).
 * An RFC 5424 message carries its `parts` too, which `frameBatch` writes as they are: the BOM
 * as its 3 bytes between two Latin-1 strings, never inside a JS string (which V8 would then
 * hold as UTF-16, about five times slower to measure and write); its `text` joins them when read.
 */
export interface SyslogMessage {
  readonly text: string;
  bytes: number;
  readonly parts?: Rfc5424Parts;
}

/** An RFC 5424 message as its parts; `text` only for a sender that wants the string (RELP). */
export class PartsMessage implements SyslogMessage {
  constructor(
    readonly parts: Rfc5424Parts,
    readonly bytes: number,
  ) {}

  get text(): string {
    return joinRfc5424Parts(this.parts);
  }
}

/** Octet counting (RFC 6587 §3.4.1, RFC 5425), LF (§3.4.2), or none (a UDP datagram, a RELP frame: each carries its length). */
export type Framing = 'octet-counting' | 'lf' | 'none';

const LINE_BREAKS = /[\r\n]/g;
const lineBreakEscape = (char: string) => (char === '\n' ? '#012' : '#015');

/** `value` with each CR or LF as `#015` / `#012`, for LF framing. */
export function escapeLineBreaks(value: string): string {
  // indexOf runs in C++: on a 1 kB message (a rope, as CEF builds it) some 30× faster than a charCodeAt loop.
  return value.indexOf('\n') === -1 && value.indexOf('\r') === -1 ? value : value.replace(LINE_BREAKS, lineBreakEscape);
}

/** Decimal digits of a non-negative integer. */
export function digits(value: number): number {
  let count = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) count++;
  return count;
}

/**
 * The framed messages of one batch in one allocation: `LEN SP MSG` each (octet counting), `MSG
 * LF` each (LF framing, the text already escaped), or the bare messages back to back (for UDP,
 * which sends `subarray`s of it).
 */
export function frameBatch(messages: readonly SyslogMessage[], framing: Framing): Buffer {
  const counted = framing === 'octet-counting';
  const lf = framing === 'lf';
  let total = 0;
  for (const message of messages) total += message.bytes + (counted ? digits(message.bytes) + 1 : lf ? 1 : 0);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const message of messages) {
    if (counted) {
      at = writeDecimal(out, at, message.bytes);
      out[at++] = 0x20;
    }
    const parts = message.parts;
    at = parts === undefined ? at + out.write(message.text, at, message.bytes, 'utf8') : writeRfc5424Parts(out, at, parts);
    if (lf) out[at++] = 0x0a;
  }
  return out;
}

/** The decimal digits of a non-negative integer into `out` at `at`; the offset after them. */
function writeDecimal(out: Buffer, at: number, value: number): number {
  const end = at + digits(value);
  let rest = value;
  for (let i = end - 1; i >= at; i--) {
    out[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return end;
}

/** RFC 6587 §3.4.2 non-transparent framing: the message and a LF; CR and LF inside become `#015` / `#012`. */
export function frameLf(message: string): Buffer {
  const text = escapeLineBreaks(message);
  return frameBatch([{ text, bytes: utf8Length(text) }], 'lf');
}

// ---- canonical events ---------------------------------------------------------------------

/** 32473 is IANA's example enterprise number (RFC 5612): replace it with your own PEN. */
export const TRUSTWIRE_SD_ID = 'trustwire@32473';

/** `[trustwire@32473 id=.. type=.. severity=.. host=.. trust=.. tenant=..]`: what a receiver can filter on without parsing MSG. */
export function eventStructuredData(event: CanonicalEvent, sdId: string = TRUSTWIRE_SD_ID): SdElement {
  return {
    id: sdId,
    params: [
      ['id', event.id],
      ['type', event.type],
      ['severity', event.severity],
      ['host', event.host.id],
      ['trust', event.enrichment?.trust.status],
      ['tenant', event.tenant],
    ],
  };
}

export interface EventSyslogOptions {
  facility?: number;
  /** The sender (trustwire's host): receivers key log sources on it. `-` when absent. */
  hostname?: string;
  /** Default `trustwire`. */
  appName?: string;
  procId?: string;
  /** Default true. */
  bom?: boolean;
  /** Default `TRUSTWIRE_SD_ID`; `null` sends no structured data. */
  sdId?: string | null;
  maxBytes?: number;
}

/**
 * `formatStructuredData([eventStructuredData(event, sdId)])`, written directly: the element is
 * the same for every event but for its values, so only those are escaped.
 */
export function formatEventStructuredData(event: CanonicalEvent, sdId: string = TRUSTWIRE_SD_ID): string {
  const trust = event.enrichment?.trust.status;
  const tenant = event.tenant;
  return (
    `[${sdName(sdId)} id="${escapeSdParamValue(event.id)}" type="${escapeSdParamValue(event.type)}" severity="${event.severity}" ` +
    `host="${escapeSdParamValue(event.host.id)}"${trust === undefined ? '' : ` trust="${escapeSdParamValue(trust)}"`}` +
    `${tenant === undefined ? '' : ` tenant="${escapeSdParamValue(tenant)}"`}]`
  );
}

function eventRfc5424Parts(event: CanonicalEvent, msg: string, options: EventSyslogOptions): Rfc5424Parts {
  const sdId = options.sdId === undefined ? TRUSTWIRE_SD_ID : options.sdId;
  const message: Rfc5424Message = {
    facility: options.facility,
    severity: syslogSeverity(event.severity),
    time: event.time,
    hostname: options.hostname,
    appName: options.appName ?? 'trustwire',
    procId: options.procId,
    msgId: event.type,
    msg,
    bom: options.bom,
    maxBytes: options.maxBytes,
  };
  return rfc5424Parts(message, sdId === null ? NILVALUE : formatEventStructuredData(event, sdId));
}

/** An event's RFC 5424 message: its severity, time and type; `msg` is the body (CEF, LEEF, JSON ...). */
export function formatEventRfc5424(event: CanonicalEvent, msg: string, options: EventSyslogOptions = {}): string {
  return joinRfc5424Parts(eventRfc5424Parts(event, msg, options));
}

/**
 * The same message as `formatEventRfc5424`, in parts (`Rfc5424Parts`), for a sender that
 * builds one Buffer per batch: `rfc5424PartsLength` measures it (for the frame's length and
 * the size check), `writeRfc5424Parts` writes it, and the BOM never enters a JS string.
 */
export function formatEventRfc5424Parts(event: CanonicalEvent, msg: string, options: EventSyslogOptions = {}): Rfc5424Parts {
  return eventRfc5424Parts(event, msg, options);
}

/** An event's RFC 3164 message (UTC time, tag `trustwire`). */
export function formatEventRfc3164(
  event: CanonicalEvent,
  msg: string,
  options: Pick<EventSyslogOptions, 'facility' | 'hostname' | 'appName' | 'procId' | 'maxBytes'> & { timeZone?: 'utc' | 'local' } = {},
): string {
  return formatRfc3164({
    facility: options.facility,
    severity: syslogSeverity(event.severity),
    time: event.time,
    hostname: options.hostname,
    tag: options.appName ?? 'trustwire',
    pid: options.procId,
    msg,
    timeZone: options.timeZone,
    maxBytes: options.maxBytes,
  });
}
