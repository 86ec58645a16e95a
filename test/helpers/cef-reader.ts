/**
 * A small CEF reader, written from the spec (ArcSight CEF, "Common Event Format"), independent
 * of trustwire's formatter: what the format tests and the hostile-value tests read lines with.
 */
import assert from 'node:assert/strict';

export interface ParsedCef {
  header: string[];
  extension: Map<string, string>;
}

function unescapeHeader(field: string): string {
  return field.replace(/\\([\\|])/g, '$1');
}

function unescapeValue(value: string): string {
  return value.replace(/\\([\\=nr])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

/** Header: version and 6 fields split at unescaped pipes. Extension: keys end at unescaped `=`; a value runs to the space before the next key. */
export function parseCef(line: string): ParsedCef {
  assert.ok(line.startsWith('CEF:'), line);
  const header: string[] = [];
  let field = '';
  let i = 4;
  for (; header.length < 7; i++) {
    const c = line[i];
    assert.ok(c !== undefined, `header ends early: ${line}`);
    if (c === '\\') {
      field += c + line[++i];
    } else if (c === '|') {
      header.push(unescapeHeader(field));
      field = '';
    } else {
      field += c;
    }
  }
  const ext = line.slice(i);
  const equals: number[] = [];
  for (let j = 0; j < ext.length; j++) {
    if (ext[j] === '\\') j++;
    else if (ext[j] === '=') equals.push(j);
  }
  const extension = new Map<string, string>();
  let keyStart = 0;
  equals.forEach((eq, k) => {
    const key = ext.slice(keyStart, eq);
    assert.match(key, /^[A-Za-z0-9]+$/, `a key made of letters and digits, got ${JSON.stringify(key)}`);
    assert.ok(!extension.has(key), `key ${key} appears twice`);
    const next = equals[k + 1];
    const end = next === undefined ? ext.length : ext.lastIndexOf(' ', next);
    extension.set(key, unescapeValue(ext.slice(eq + 1, end)));
    keyStart = end + 1;
  });
  return { header, extension };
}
