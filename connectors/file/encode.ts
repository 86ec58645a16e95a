import { formatCef } from '../../src/formats/cef.js';
import { formatJson } from '../../src/formats/json.js';
import type { CanonicalEvent } from '../../src/model/events.js';

/** A batch as lines, one event a line, every line ending in \n: JSON lines, or CEF (no syslog header). */
export function encodeLines(batch: readonly CanonicalEvent[], format: 'json' | 'cef' = 'json'): Buffer {
  const line = format === 'cef' ? formatCef : formatJson;
  let text = '';
  for (const event of batch) text += `${line(event)}\n`;
  return Buffer.from(text, 'utf8');
}
