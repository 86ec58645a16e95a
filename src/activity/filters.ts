import { z } from 'zod';
import { Name, Timestamp } from '../model/primitives.js';
import type { ActivityItem, AlertItem } from './items.js';

/** A query-string time: epoch milliseconds or RFC 3339 with a zone. */
const QueryTime = z
  .string()
  .transform((text) => (/^\d+$/.test(text) ? Number(text) : text))
  .pipe(Timestamp);

const Limit = z
  .string()
  .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
  .transform(Number)
  .pipe(z.number().min(1, 'must be a whole number from 1 to 1000').max(1000, 'must be a whole number from 1 to 1000'))
  .default(100);

function sinceNotAfterUntil(query: { since?: number | undefined; until?: number | undefined }, ctx: z.RefinementCtx): void {
  if (query.since !== undefined && query.until !== undefined && query.since > query.until) {
    ctx.addIssue({ code: 'custom', path: ['until'], message: 'must not be before since' });
  }
}

/** `GET /v1/activity`'s query. Unknown parameters are refused: a misspelt filter would silently show everything. */
export const ActivityQuery = z
  .strictObject({
    host: Name.optional().describe('host id or name'),
    pool: Name.optional(),
    user: Name.optional().describe('user id or name'),
    outcome: z.enum(['success', 'denied', 'failed', 'permit', 'deny']).optional(),
    type: z.enum(['admin.action', 'policy.decision']).optional(),
    since: QueryTime.optional(),
    until: QueryTime.optional(),
    q: z.string().min(1).max(256).optional().describe('text in the host name, user, operation or target, case ignored'),
    limit: Limit,
  })
  .superRefine(sinceNotAfterUntil);
export type ActivityFilters = z.infer<typeof ActivityQuery>;

/** `GET /v1/alerts`'s query. */
export const AlertQuery = z
  .strictObject({
    host: Name.optional().describe('host id or name'),
    pool: Name.optional(),
    rule: Name.optional(),
    state: z.enum(['open', 'all']).default('all'),
    since: QueryTime.optional(),
    until: QueryTime.optional(),
    limit: Limit,
  })
  .superRefine(sinceNotAfterUntil);
export type AlertFilters = z.infer<typeof AlertQuery>;

const within = (time: number, filters: { since?: number | undefined; until?: number | undefined }) =>
  (filters.since === undefined || time >= filters.since) && (filters.until === undefined || time <= filters.until);

const names = (item: { hostId: string; hostName?: string | undefined }, host: string) => item.hostId === host || item.hostName === host;

/** Whether an item passes the filters; `limit` is the caller's to apply. */
export function activityMatches(item: ActivityItem, filters: Omit<ActivityFilters, 'limit'>): boolean {
  if (filters.host !== undefined && !names(item, filters.host)) return false;
  if (filters.pool !== undefined && item.pool !== filters.pool) return false;
  if (filters.user !== undefined && item.user?.id !== filters.user && item.user?.name !== filters.user) return false;
  if (filters.outcome !== undefined && item.outcome !== filters.outcome) return false;
  if (filters.type !== undefined && item.type !== filters.type) return false;
  if (!within(item.time, filters)) return false;
  if (filters.q !== undefined) {
    const needle = filters.q.toLowerCase();
    const haystack = [item.hostId, item.hostName, item.user?.id, item.user?.name, item.operation, item.target];
    if (!haystack.some((text) => text !== undefined && text.toLowerCase().includes(needle))) return false;
  }
  return true;
}

export function alertMatches(alert: AlertItem, filters: Omit<AlertFilters, 'limit'>): boolean {
  if (filters.host !== undefined && !names(alert, filters.host)) return false;
  if (filters.pool !== undefined && alert.pool !== filters.pool) return false;
  if (filters.rule !== undefined && alert.rule !== filters.rule) return false;
  if (filters.state === 'open' && !alert.open) return false;
  return within(alert.time, filters);
}
