import { writeFileSync } from 'node:fs';
import { assessmentsContainer } from '../reports/export.js';
import { buildReport, reportJson, type ReportFilters } from '../reports/report.js';
import { reportCsv } from '../reports/csv.js';
import { reportHtml } from '../reports/html.js';
import { complianceSettings } from '../config/compliance.js';
import { ComplianceView } from '../reports/view.js';
import { createKafkaClient } from '../kafka/client.js';
import { readRecords } from '../kafka/reader.js';
import { silentLogger } from '../log.js';
import { Timestamp } from '../model/primitives.js';
import { decodeValue } from '../model/avro.js';
import { CliError } from './errors.js';
import { clientConfig, parseOptions } from './options.js';

/**
 * `trustwire report [--format json|csv|html|avro] [--out FILE] [--template ID] [--pool P] [--since TIME]`:
 * the compliance report, as GET /v1/compliance/report serves it, from the assessments on the
 * enriched topic.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    format: { type: 'string', default: 'json' },
    out: { type: 'string' },
    template: { type: 'string' },
    pool: { type: 'string' },
    since: { type: 'string' },
    config: { type: 'string', default: process.env.TRUSTWIRE_CONFIG },
    brokers: { type: 'string' },
  });
  const format = values.format!;
  if (!['json', 'csv', 'html', 'avro'].includes(format)) throw new CliError(`--format must be json, csv, html or avro, got ${format}`, 2);
  const filters: ReportFilters = {};
  if (values.template !== undefined) filters.template = values.template;
  if (values.pool !== undefined) filters.pool = values.pool;
  if (values.since !== undefined) {
    const since = Timestamp.safeParse(/^\d+$/.test(values.since) ? Number(values.since) : values.since);
    if (!since.success) throw new CliError(`--since ${since.error.issues[0]?.message}`, 2);
    filters.since = since.data;
  }
  const config = clientConfig(values);
  const client = createKafkaClient({ ...config.kafka, clientId: `${config.kafka.clientId}-report` }, silentLogger);
  const view = new ComplianceView();
  const records = await readRecords(client, { topic: config.kafka.topics.enriched, limit: Number.MAX_SAFE_INTEGER, idleMs: 2000, timeoutMs: 10 * 60_000 });
  for (const record of records) {
    if (record.headers['trustwire-type'] !== 'compliance.assessment') continue;
    try {
      view.apply(decodeValue(record.value));
    } catch {
      // not an event this report can read: the processor's DLQ says why
    }
  }
  const { templates } = complianceSettings(config);
  const report = buildReport(view.latest(), filters, Date.now(), { templates });
  let output: string | Buffer;
  if (format === 'avro') {
    const keep = new Set(report.rows.map((row) => row.eventId));
    output = assessmentsContainer(view.latest().filter((event) => keep.has(event.id)));
  } else output = format === 'csv' ? reportCsv(report) : format === 'html' ? reportHtml(report) : reportJson(report);
  if (values.out !== undefined) {
    writeFileSync(values.out, output);
    process.stderr.write(`${report.rows.length} assessment(s) of ${report.summary.hosts} host(s) written to ${values.out}\n`);
  } else process.stdout.write(output);
  return 0;
}
