import { hostname } from 'node:os';
import { formatCef } from '../../src/formats/cef.js';
import { formatJson } from '../../src/formats/json.js';
import { formatEventRfc5424 } from '../../src/formats/syslog.js';
import type { CanonicalEvent } from '../../src/model/events.js';

export type FileFormat = 'json' | 'cef' | 'syslog-cef';

/** The sender a syslog line names, as a syslog daemon would write it. */
const SENDER = hostname();

const LINE: Record<FileFormat, (event: CanonicalEvent) => string> = {
  json: formatJson,
  cef: formatCef,
  // What a SIEM's syslog collector writes to its file: the RFC 5424 header (no BOM) before each CEF record.
  'syslog-cef': (event) => formatEventRfc5424(event, formatCef(event), { hostname: SENDER, bom: false }),
};

/** A batch as lines, one event a line, every line ending in \n: JSON lines, CEF, or CEF under an RFC 5424 header. */
export function encodeLines(batch: readonly CanonicalEvent[], format: FileFormat = 'json'): Buffer {
  const line = LINE[format];
  let text = '';
  for (const event of batch) text += `${line(event)}\n`;
  return Buffer.from(text, 'utf8');
}
