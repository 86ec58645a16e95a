// The page's state lives in the URL's hash (`#pool=tcp-gold&outcome=denied&open=esx-03`), so a
// link restores the filters and the open host. The hash never reaches the server's logs.

/** The filters, in the order the form shows them. */
export const FILTER_NAMES = ['q', 'host', 'pool', 'user', 'outcome', 'range', 'since', 'until'];

/** Presets of the time range, relative to now. */
export const RANGES = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

/** `{ filters: {q, host, ...}, open }` from a hash; unknown names are ignored, absent ones are ''. */
export function readState(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const filters = {};
  for (const name of FILTER_NAMES) filters[name] = params.get(name)?.trim() ?? '';
  if (filters.range !== '' && filters.range !== 'custom' && !(filters.range in RANGES)) filters.range = '';
  for (const name of ['since', 'until']) if (filters[name] !== '' && Number.isNaN(Date.parse(filters[name]))) filters[name] = '';
  if ((filters.since !== '' || filters.until !== '') && filters.range === '') filters.range = 'custom';
  const open = params.get('open') ?? '';
  return { filters, open };
}

/** The hash of a state: only the filters that are set, then the open host. */
export function stateHash({ filters, open }) {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) if (filters[name]) params.set(name, filters[name]);
  if (open) params.set('open', open);
  const text = params.toString();
  return text === '' ? '#' : `#${text}`;
}

/**
 * Writes the state to the URL. Opening or leaving a host is a new history entry (Back returns);
 * a change of filters replaces the current one (typing does not fill the history).
 */
export function writeState(state, { push = false } = {}) {
  const hash = stateHash(state);
  if (hash === (location.hash || '#')) return;
  const url = `${location.pathname}${location.search}${hash}`;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

/** The time window of the filters as epoch ms, `{since?, until?}`. */
export function timeWindow(filters, now = Date.now()) {
  if (filters.range in RANGES) return { since: now - RANGES[filters.range] };
  const window = {};
  if (filters.since) window.since = Date.parse(filters.since);
  if (filters.until) window.until = Date.parse(filters.until);
  return window;
}

/** The query of GET /v1/activity for the filters. */
export function activityQuery(filters, now = Date.now()) {
  const { since, until } = timeWindow(filters, now);
  return { q: filters.q, host: filters.host, pool: filters.pool, user: filters.user, outcome: filters.outcome, since, until, limit: 100 };
}

/** The query of GET /v1/alerts: open alerts of the host, pool and time filters. */
export function alertsQuery(filters, now = Date.now()) {
  const { since, until } = timeWindow(filters, now);
  return { host: filters.host, pool: filters.pool, since, until, state: 'open', limit: 100 };
}

const lower = (value) => String(value ?? '').toLowerCase();
const contains = (values, needle) => values.some((value) => lower(value).includes(needle));
/** The host and user filters name one host or user, by id or by name, as the API reads them. */
const names = (values, wanted) => values.some((value) => value !== undefined && value !== null && String(value) === wanted);

/** Whether a host (from GET /v1/hosts) passes the host, pool and search filters. */
export function hostMatches(host, filters) {
  if (filters.pool && host.pool !== filters.pool) return false;
  if (filters.host && !names([host.hostId, host.name], filters.host)) return false;
  if (filters.q && !contains([host.hostId, host.name, host.pool], lower(filters.q))) return false;
  return true;
}

/** Whether an activity item passes the filters; for lists the API did not filter (a host's history). */
export function activityMatches(item, filters, now = Date.now()) {
  const { since, until } = timeWindow(filters, now);
  if (since !== undefined && item.time < since) return false;
  if (until !== undefined && item.time > until) return false;
  if (filters.outcome && item.outcome !== filters.outcome) return false;
  if (filters.host && !names([item.hostId, item.hostName], filters.host)) return false;
  if (filters.pool && item.pool !== filters.pool) return false;
  if (filters.user && !names([item.user?.id, item.user?.name], filters.user)) return false;
  if (filters.q && !contains([item.hostName, item.hostId, item.user?.id, item.user?.name, item.operation, item.target], lower(filters.q))) return false;
  return true;
}

// ---- the time inputs: datetime-local in UTC <-> RFC 3339 in the URL --------------------------

/** `2026-11-26T10:00:00Z` → `2026-11-26T10:00:00` for a datetime-local input (read as UTC). */
export function toInputValue(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString().slice(0, 19);
}

/** A datetime-local value, read as UTC → RFC 3339, or '' when empty or invalid. */
export function fromInputValue(value) {
  if (!value) return '';
  const ms = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString().replace('.000Z', 'Z');
}
