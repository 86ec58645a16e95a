import type { FastifyInstance, FastifyReply } from 'fastify';
import { assessmentsContainer } from '../reports/export.js';
import { buildReport, hostDrillDown, reportJson, type ReportFilters } from '../reports/report.js';
import { reportCsv, reportRulesCsv } from '../reports/csv.js';
import { hostHtml, reportHtml } from '../reports/html.js';
import type { Template } from '../compliance/template.js';
import type { ComplianceView } from '../reports/view.js';
import { Timestamp } from '../model/primitives.js';
import { HttpError } from './errors.js';
import { needs } from './auth.js';

type Query = { format?: string; template?: string; pool?: string; since?: string };
const FORMATS = ['json', 'csv', 'html', 'avro'] as const;

/**
 * What compliance teams pull: the fleet summary, one host's drill-down with every rule's
 * evidence and its score over time, and the report as JSON, CSV (for a spreadsheet), HTML (to
 * print) or an Avro container (for data teams).
 */
export async function complianceRoutes(app: FastifyInstance, options: { view: ComplianceView; templates: readonly Template[] }): Promise<void> {
  const { view, templates } = options;

  app.get<{ Querystring: Query }>('/v1/compliance/summary', needs('read'), async (request) => {
    const report = buildReport(view.latest(), filtersOf(request.query), Date.now(), { templates });
    const { rows: _rows, ...summary } = report;
    return summary;
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/v1/compliance/hosts/:id', needs('read'), async (request, reply) => {
    const host = view.host(request.params.id);
    if (host === undefined) throw new HttpError(404, `no assessment of host ${JSON.stringify(request.params.id)} is known`);
    const drillDown = hostDrillDown([...host.latest, ...host.history], { templates, now: Date.now() });
    const format = formatOf(request.query, ['json', 'csv', 'html']);
    if (format === 'html') return send(reply, 'text/html; charset=utf-8', hostHtml(drillDown));
    if (format === 'csv') return send(reply, 'text/csv; charset=utf-8; header=present', reportRulesCsv(drillDown), `compliance-${request.params.id}.csv`);
    return send(reply, 'application/json', reportJson(drillDown));
  });

  app.get<{ Querystring: Query }>('/v1/compliance/report', needs('read'), async (request, reply) => {
    const filters = filtersOf(request.query);
    const format = formatOf(request.query, FORMATS);
    if (format === 'avro') {
      const report = buildReport(view.latest(), filters, Date.now(), { templates });
      const keep = new Set(report.rows.map((row) => `${row.hostId}\u0000${row.templateId}`));
      const events = view.latest().filter((event) => keep.has(`${event.host.id}\u0000${event.payload.templateId}`));
      return send(reply, 'application/avro', assessmentsContainer(events), 'compliance-assessments.avro');
    }
    const report = buildReport(view.latest(), filters, Date.now(), { templates });
    if (format === 'csv') return send(reply, 'text/csv; charset=utf-8; header=present', reportCsv(report), 'compliance-report.csv');
    if (format === 'html') return send(reply, 'text/html; charset=utf-8', reportHtml(report, { hostHref: (id) => `/v1/compliance/hosts/${encodeURIComponent(id)}?format=html` }));
    return send(reply, 'application/json', reportJson(report));
  });
}

function send(reply: FastifyReply, type: string, body: string | Buffer, filename?: string) {
  if (filename !== undefined) void reply.header('content-disposition', `attachment; filename="${filename}"`);
  return reply.type(type).send(body);
}

function formatOf<F extends string>(query: Query, allowed: readonly F[]): F {
  const format = (query.format ?? 'json') as F;
  if (!allowed.includes(format)) {
    throw new HttpError(400, 'invalid query', [{ path: 'format', message: `must be one of ${allowed.join(', ')}, got ${JSON.stringify(query.format)}` }]);
  }
  return format;
}

function filtersOf(query: Query): ReportFilters {
  const filters: ReportFilters = {};
  if (query.template !== undefined) filters.template = query.template;
  if (query.pool !== undefined) filters.pool = query.pool;
  if (query.since !== undefined) {
    const since = Timestamp.safeParse(/^\d+$/.test(query.since) ? Number(query.since) : query.since);
    if (!since.success) throw new HttpError(400, 'invalid query', [{ path: 'since', message: since.error.issues[0]!.message }]);
    filters.since = since.data;
  }
  return filters;
}
