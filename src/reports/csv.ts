/**
 * The report as CSV for spreadsheets: RFC 4180 (CRLF line ends, a header row, a field quoted
 * when it holds a comma, quote, CR or LF, quotes doubled), a UTF-8 byte order mark first so that
 * Excel reads host names and rule text as UTF-8, and guarded against CSV (formula) injection.
 */
import type { ComplianceReport, HostCompliance, ReportRow } from './report.js';
import { citedReferences } from './report.js';

type Cell = string | number | boolean | undefined;

const BOM = '\uFEFF';
const CRLF = '\r\n';

/**
 * OWASP "CSV Injection": a cell a spreadsheet would read as a formula starts with =, +, -, @,
 * tab or carriage return; such a text cell gets a leading apostrophe, so that it is shown as the
 * text it is. Host names and rule evidence come from collectors, hence from anyone able to
 * rename a host. Numbers the report computes are never prefixed (none is negative).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One field of a record. */
export function csvField(value: Cell): string {
  if (value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csv(header: readonly string[], records: readonly (readonly Cell[])[]): string {
  const lines = [header.map(csvField).join(','), ...records.map((record) => record.map(csvField).join(','))];
  return BOM + lines.map((line) => line + CRLF).join('');
}

/** ISO 8601 in UTC: unambiguous in any locale a spreadsheet runs in. */
function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Lists inside a cell are space-separated: ids hold no space, and `;` is a column separator in some locales. */
function list(values: readonly string[]): string {
  return values.join(' ');
}

export const REPORT_CSV_COLUMNS = [
  'host_id',
  'host_name',
  'pool',
  'template_id',
  'template_version',
  'scoring_model',
  'score',
  'max_score',
  'percent',
  'score_without_waivers',
  'percent_without_waivers',
  'band',
  'status',
  'compliant',
  'trust_status',
  'trust_gated',
  'assessed_at',
  'pass',
  'fail',
  'error',
  'notapplicable',
  'notchecked',
  'waived',
  'failing_rules',
  'waived_rules',
  'assessment_event_id',
] as const;

function rowRecord(row: ReportRow): Cell[] {
  return [
    row.hostId,
    row.hostName,
    row.pool,
    row.templateId,
    row.templateVersion,
    row.scoringModel,
    row.score,
    row.maxScore,
    row.percent,
    row.scoreWithoutWaivers,
    row.percentWithoutWaivers,
    row.band,
    row.status,
    row.compliant,
    row.trustStatus,
    row.trustGated,
    isoTime(row.assessedAt),
    row.counts.pass,
    row.counts.fail,
    row.counts.error,
    row.counts.notapplicable,
    row.counts.notchecked,
    row.counts.waived,
    list(row.failingRuleIds),
    list(row.waivedRuleIds),
    row.eventId,
  ];
}

/** One record per host × template, in the report's order (host id, template id). */
export function reportCsv(report: ComplianceReport): string {
  return csv(REPORT_CSV_COLUMNS, report.rows.map(rowRecord));
}

export const RULES_CSV_COLUMNS = [
  'host_id',
  'host_name',
  'pool',
  'template_id',
  'template_version',
  'assessed_at',
  'rule_id',
  'title',
  'severity',
  'result',
  'waived',
  'expected',
  'actual',
  'message',
  'waiver_justification',
  'waiver_expires_at',
  'waiver_approved_by',
  'references',
] as const;

/**
 * One record per rule of each host's latest assessment per template: the evidence behind the
 * scores (expected and actual values, waivers), for one host's drill-down or several.
 */
export function reportRulesCsv(drillDowns: HostCompliance | readonly HostCompliance[]): string {
  const hosts: readonly HostCompliance[] = Array.isArray(drillDowns) ? drillDowns : [drillDowns as HostCompliance];
  const records: Cell[][] = [];
  for (const { host, templates } of hosts) {
    for (const t of templates) {
      for (const rule of t.rules) {
        records.push([
          host.id,
          host.name,
          host.pool,
          t.templateId,
          t.templateVersion,
          isoTime(t.assessedAt),
          rule.ruleId,
          rule.title,
          rule.severity,
          rule.result,
          rule.waiver !== undefined,
          rule.expected,
          rule.actual,
          rule.message,
          rule.waiver?.justification,
          isoTime(rule.waiver?.expiresAt),
          rule.waiver?.approvedBy,
          citedReferences(rule.references).join(' | '),
        ]);
      }
    }
  }
  return csv(RULES_CSV_COLUMNS, records);
}
