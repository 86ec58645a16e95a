import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { ActivityQuery, AlertQuery } from '../activity/filters.js';
import { overviewOf, RECENT_ALERTS, type Overview } from '../activity/overview.js';
import type { ActivityView } from '../activity/view.js';
import type { ComplianceView } from '../reports/view.js';
import { fieldErrors, quoted } from '../model/validation.js';
import type { HostStateView } from '../processor/host-view.js';
import type { ConnectorHost } from '../runtime/host.js';
import { needs } from './auth.js';
import { HttpError } from './errors.js';
import { streamRoutes, type StreamLimits } from './stream.js';

/** What the dashboard's routes read: every view the service keeps, and the connectors' statuses. */
export interface DashboardSources {
  activity: ActivityView;
  hosts: HostStateView;
  compliance: ComplianceView;
  connectors: ConnectorHost;
}

export function currentOverview(sources: DashboardSources, now = Date.now()): Overview {
  return overviewOf(
    {
      hosts: sources.hosts.hosts(),
      openAlerts: sources.activity.openAlerts(now),
      recentAlerts: sources.activity.alerts({ state: 'all', limit: RECENT_ALERTS }, now),
      assessments: sources.compliance.latest(),
      connectors: sources.connectors.statuses(),
    },
    now,
  );
}

/** A query parsed by its schema, or a 400 naming each parameter and what is wrong with it. */
function queryOf<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const details = fieldErrors(parsed.error).map((detail) => (detail.message === 'unknown field' ? { ...detail, message: 'unknown parameter' } : detail));
  throw new HttpError(400, 'invalid query', details);
}

/**
 * The dashboard's API (docs/dashboard-api.md): `GET /v1/overview`, `/v1/activity`,
 * `/v1/alerts`, `/v1/hosts/:id/history` and the `/v1/stream` of server-sent events.
 */
export async function activityRoutes(app: FastifyInstance, options: DashboardSources & { streamLimits?: Partial<StreamLimits> }): Promise<void> {
  const { activity, hosts, compliance } = options;

  app.get('/v1/overview', needs('read'), async () => currentOverview(options));

  app.get('/v1/activity', needs('read'), async (request) => ({ items: activity.activity(queryOf(ActivityQuery, request.query)) }));

  app.get('/v1/alerts', needs('read'), async (request) => ({ items: activity.alerts(queryOf(AlertQuery, request.query)) }));

  app.get<{ Params: { id: string } }>('/v1/hosts/:id/history', needs('read'), async (request) => {
    const hostId = request.params.id;
    const own = activity.history(hostId);
    const assessed = compliance.host(hostId);
    if (own === undefined && assessed === undefined && hosts.host(hostId) === undefined) {
      throw new HttpError(404, `nothing is known of host ${quoted(hostId)}`);
    }
    return {
      hostId,
      trust: own?.trust ?? [],
      activity: own?.activity ?? [],
      alerts: own?.alerts ?? [],
      scores: (assessed?.history ?? []).map(({ time, payload: { templateId, score, maxScore, compliant } }) => ({ templateId, time, score, maxScore, compliant })),
    };
  });

  await app.register(streamRoutes, { activity, overview: () => currentOverview(options), ...(options.streamLimits !== undefined && { limits: options.streamLimits }) });
}
