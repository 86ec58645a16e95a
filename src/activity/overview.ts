import { bandOf, SCORE_BANDS, type ScoreBand } from '../reports/report.js';
import type { EventOf } from '../model/events.js';
import type { TrustStatus } from '../model/primitives.js';
import { SENSITIVE_LABEL } from '../processor/alerts.js';
import type { HostView } from '../processor/host-view.js';
import type { ConnectorStatus } from '../runtime/runner.js';
import type { AlertItem } from './items.js';

type TrustCounts = Record<TrustStatus, number>;

/** The dashboard's first screen: the fleet's trust, what sensitive runs where, alerts, compliance, sinks. */
export interface Overview {
  generatedAt: number;
  hosts: {
    total: number;
    byTrust: TrustCounts;
    /** Sorted by pool; hosts that name none are under `pool: null`, last. */
    byPool: Array<{ pool: string | null; total: number } & TrustCounts>;
  };
  sensitiveWorkloads: Array<{ id: string; name?: string; labels: string[]; hostId: string; hostName?: string; pool?: string; hostTrust: TrustStatus }>;
  alerts: { open: number; recent: AlertItem[] };
  compliance: Array<{ templateId: string; hosts: number; compliant: number; bands: Record<ScoreBand, number> }>;
  connectors: Array<Pick<ConnectorStatus, 'name' | 'type' | 'state' | 'delivered' | 'retries' | 'deadLettered' | 'lag'>>;
}

export interface OverviewSources {
  hosts: readonly HostView[];
  openAlerts: number;
  /** Newest first; the overview shows RECENT_ALERTS of them. */
  recentAlerts: readonly AlertItem[];
  /** The latest assessment of each host against each template. */
  assessments: readonly EventOf<'compliance.assessment'>[];
  connectors: readonly ConnectorStatus[];
}

export const RECENT_ALERTS = 20;

const noTrust = (): TrustCounts => ({ trusted: 0, untrusted: 0, unknown: 0 });

export function overviewOf(sources: OverviewSources, now: number): Overview {
  const byTrust = noTrust();
  const pools = new Map<string | null, TrustCounts & { total: number }>();
  const sensitiveWorkloads: Overview['sensitiveWorkloads'] = [];
  for (const host of sources.hosts) {
    const status = host.trust.status;
    byTrust[status]++;
    const pool = host.pool ?? null;
    const counts = pools.get(pool) ?? { total: 0, ...noTrust() };
    counts.total++;
    counts[status]++;
    pools.set(pool, counts);
    for (const workload of host.workloads) {
      if (!workload.labels.includes(SENSITIVE_LABEL)) continue;
      sensitiveWorkloads.push({
        id: workload.id,
        ...(workload.name !== undefined && { name: workload.name }),
        labels: workload.labels,
        hostId: host.hostId,
        ...(host.name !== undefined && { hostName: host.name }),
        ...(host.pool !== undefined && { pool: host.pool }),
        hostTrust: status,
      });
    }
  }
  const byPool = [...pools.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
    .map(([pool, { total, trusted, untrusted, unknown }]) => ({ pool, total, trusted, untrusted, unknown }));
  // Untrusted hosts first: those are the sensitive workloads at risk.
  const risk: Record<TrustStatus, number> = { untrusted: 0, unknown: 1, trusted: 2 };
  sensitiveWorkloads.sort((a, b) => risk[a.hostTrust] - risk[b.hostTrust] || (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0) || (a.id < b.id ? -1 : 1));

  return {
    generatedAt: now,
    hosts: { total: sources.hosts.length, byTrust, byPool },
    sensitiveWorkloads,
    alerts: { open: sources.openAlerts, recent: sources.recentAlerts.slice(0, RECENT_ALERTS) },
    compliance: complianceByTemplate(sources.assessments),
    connectors: sources.connectors.map(({ name, type, state, delivered, retries, deadLettered, lag }) => ({ name, type, state, delivered, retries, deadLettered, lag })),
  };
}

/** Per template: hosts assessed, compliant, and in each score band (the compliance report's bands). */
function complianceByTemplate(assessments: OverviewSources['assessments']): Overview['compliance'] {
  const templates = new Map<string, Overview['compliance'][number]>();
  for (const { payload } of assessments) {
    let summary = templates.get(payload.templateId);
    if (summary === undefined) {
      summary = { templateId: payload.templateId, hosts: 0, compliant: 0, bands: Object.fromEntries(SCORE_BANDS.map(({ band }) => [band, 0])) as Record<ScoreBand, number> };
      templates.set(payload.templateId, summary);
    }
    summary.hosts++;
    if (payload.compliant) summary.compliant++;
    // Rounded to 2 decimals as the report does, so a host lands in the same band in both.
    const percent = payload.maxScore > 0 ? Math.round(((100 * payload.score) / payload.maxScore) * 100) / 100 : 0;
    summary.bands[bandOf(percent)]++;
  }
  return [...templates.values()].sort((a, b) => (a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0));
}
