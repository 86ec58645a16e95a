/**
 * Renders the mapping tables of docs/formats.md from the tables the formats run on: each
 * format's keys with the source and note of the catalogue's field (`fields.ts`) they carry. The
 * generated parts sit between `<!-- BEGIN GENERATED name -->` and `<!-- END GENERATED name -->`;
 * the prose around them is written by hand. `test/unit/formats-docs.test.ts` fails when the
 * file and the code differ;
 *
 *   node --import tsx src/formats/docs.ts
 *
 * rewrites the generated parts in place.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_TYPES } from '../model/events.js';
import { CEF_DICTIONARY, CEF_MAPPINGS } from './cef.js';
import { EVENT_SIGNATURES, severityLevel } from './describe.js';
import { EPO_ANALYZER, EPO_COMMON_FIELDS, EPO_CUSTOM_FIELDS, EPO_EVENT_IDS, EPO_MACHINE_INFO } from './epo-xml.js';
import { LEEF_MAPPINGS, leefSeverity } from './leef.js';
import type { FieldMapping, KindMappings } from './mapping.js';
import { SYSLOG_SEVERITY_BY_TRUSTWIRE } from './syslog.js';

export const FORMATS_DOC = new URL('../../docs/formats.md', import.meta.url);

const SYSLOG_SEVERITY_NAMES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function fromCell(row: FieldMapping): string {
  return row.from.startsWith('(') ? row.from : code(row.from);
}

function cefKeyCell(row: FieldMapping): string {
  const custom = CEF_DICTIONARY[row.key] === undefined ? ' (custom)' : '';
  return row.label === undefined ? `${code(row.key)}${custom}` : `${code(row.key)}, ${code(`${row.key}Label`)}=${row.label}`;
}

function perKind(mappings: KindMappings, keyCell: (row: FieldMapping) => string, keyHeader: string): string {
  return EVENT_TYPES.map((type) => {
    const rows = (mappings[type] as readonly FieldMapping[]).map((row) => [keyCell(row), fromCell(row), row.note ?? '']);
    return `#### ${type}\n\n${table([keyHeader, 'from', 'note'], rows)}`;
  }).join('\n\n');
}

function rowsTable(rows: readonly FieldMapping[], keyHeader: string): string {
  return table(
    [keyHeader, 'from', 'note'],
    rows.map((row) => [code(row.key), fromCell(row), row.note ?? '']),
  );
}

/** Every generated section by name. */
export function generatedSections(): Map<string, string> {
  const signatures = table(
    ['signature (CEF Device Event Class ID)', 'name (CEF Name, ePO ThreatName)', 'LEEF EventID / cat', 'ePO EventID'],
    EVENT_SIGNATURES.map((s) => [
      code(`${s.type}:${s.result}`),
      s.name,
      `${code(s.type)} / ${code(s.result)}`,
      String(EPO_EVENT_IDS[`${s.type}:${s.result}`] ?? EPO_EVENT_IDS[s.type]),
    ]),
  );
  const severities = table(
    ['trustwire severity', 'syslog severity', 'LEEF sev', 'CEF severity'],
    SYSLOG_SEVERITY_BY_TRUSTWIRE.map((syslog, trustwire) => [
      String(trustwire),
      `${syslog} (${SYSLOG_SEVERITY_NAMES[syslog]})`,
      String(leefSeverity(trustwire)),
      String(severityLevel(trustwire)),
    ]),
  );
  return new Map([
    ['signatures', signatures],
    ['severities', severities],
    ['cef-mappings', perKind(CEF_MAPPINGS, cefKeyCell, 'CEF key')],
    ['leef-mappings', perKind(LEEF_MAPPINGS, (row) => code(row.key), 'LEEF attribute')],
    [
      'epo-fixed',
      [
        `\`<MachineInfo>\`\n\n${rowsTable(EPO_MACHINE_INFO, 'element')}`,
        `\`<SoftwareInfo><CommonFields>\`\n\n${rowsTable(EPO_ANALYZER, 'element')}`,
        `\`<Event><CommonFields>\`\n\n${rowsTable(EPO_COMMON_FIELDS, 'element')}`,
      ].join('\n\n'),
    ],
    ['epo-custom-fields', perKind(EPO_CUSTOM_FIELDS, (row) => code(row.key), 'element')],
  ]);
}

const SECTION = /(<!-- BEGIN GENERATED ([a-z-]+)[^>]*-->\n)[\s\S]*?(<!-- END GENERATED \2 -->)/g;

/** `text` with every generated section replaced by what the code renders now. */
export function regenerate(text: string): string {
  const sections = generatedSections();
  const seen = new Set<string>();
  const out = text.replace(SECTION, (_match, begin: string, name: string, end: string) => {
    const body = sections.get(name);
    if (body === undefined) throw new Error(`docs/formats.md: unknown generated section ${name}`);
    seen.add(name);
    return `${begin}${body}\n${end}`;
  });
  const missing = [...sections.keys()].filter((name) => !seen.has(name));
  if (missing.length > 0) throw new Error(`docs/formats.md lacks the generated sections ${missing.join(', ')}`);
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const before = readFileSync(FORMATS_DOC, 'utf8');
  const after = regenerate(before);
  if (after !== before) writeFileSync(FORMATS_DOC, after);
  process.stdout.write(after === before ? 'docs/formats.md is up to date\n' : 'docs/formats.md regenerated\n');
}
