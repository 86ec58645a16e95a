// The dashboard's wiring: sign-in, loading each part of the page, the live stream, and moving
// between the overview and a host's drill-down as the URL says. Plain ES modules, no build:
//   api.js           the token (sessionStorage) and the calls to the read API
//   stream.js        GET /v1/stream read with fetch: the SSE parser, reconnects with backoff
//   url-state.js     filters and the open host <-> the URL's hash; the API queries they make
//   filters-form.js  the filter form <-> the filters
//   overview-view.js host-view.js   what each view shows
//   charts.js        SVG charts with their text alternatives
//   dom.js           building elements from data (text only, never HTML), badges, tables
// Served by src/api/dashboard.ts, which lists these files.

import { api, AuthError, authError, session } from './api.js';
import { fill, formatTime, h, preservingFocus } from './dom.js';
import { bindForm, offerChoices, writeForm } from './filters-form.js';
import { renderHost } from './host-view.js';
import * as overview from './overview-view.js';
import { followStream } from './stream.js';
import { activityQuery, alertsQuery, readState, stateHash, writeState } from './url-state.js';

const $ = (id) => document.getElementById(id);
/** Redraws the container `id` with `render(container)`, the keyboard focus kept where it was. */
const redraw = (id, render) => preservingFocus($(id), () => render($(id)));
const form = $('filters');
const LIVE_LOG_SIZE = 8;
const FRESH_MS = 15_000;

/** Everything the page holds; the URL holds `state`. */
const page = {
  state: readState(),
  overview: undefined,
  hosts: [],
  activity: undefined,
  alerts: [],
  connectors: undefined,
  /** The open host's data: `{ hostId, host, history, compliance }`. */
  host: undefined,
  /** Ids that arrived live, marked for a while. */
  fresh: new Set(),
  /** Trust changes the stream told of and the hosts list may not show yet: hostId → { time, status, faultCount }. */
  trustPatches: new Map(),
  stream: undefined,
  problems: new Map(),
};

const ctx = { hostHref: (hostId) => stateHash({ filters: page.state.filters, open: hostId }), fresh: page.fresh };

// ---- sign-in --------------------------------------------------------------------------------

function showLogin(reason = '') {
  page.stream?.close();
  page.stream = undefined;
  $('app').hidden = true;
  $('session').hidden = true;
  $('login').hidden = false;
  $('login-reason').textContent = reason;
  const input = $('token-input');
  input.value = '';
  input.setAttribute('aria-invalid', reason === '' ? 'false' : 'true');
  input.focus();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token-input').value.trim();
  if (token === '') return showLogin('Enter a token.');
  session.signIn(token);
  void enter();
});

$('sign-out').addEventListener('click', () => {
  session.signOut();
  showLogin('Signed out.');
});

/** Any call that met a 401/403 ends here: the token is asked for again, the reason shown. */
function failed(name, error) {
  if (error instanceof AuthError) return showLogin(error.message);
  if (error?.name === 'AbortError') return;
  page.problems.set(name, `${name}: ${error instanceof Error ? error.message : String(error)}`);
  showProblems();
}

function succeeded(name) {
  if (page.problems.delete(name)) showProblems();
}

function showProblems() {
  const box = $('problems');
  box.hidden = page.problems.size === 0;
  fill(box, page.problems.size === 0 ? '' : [h('strong', {}, 'Some data could not be loaded: '), h('ul', {}, [...page.problems.values()].map((text) => h('li', {}, text)))]);
}

// ---- loading --------------------------------------------------------------------------------

/** Each part of the page, loaded and rendered; a newer load of a part wins over an older one. */
const loaders = {
  async overview() {
    page.overview = await api.overview();
    renderOverview();
  },
  async hosts() {
    page.hosts = (await api.hosts()).hosts ?? [];
    renderHosts();
  },
  async activity() {
    const previous = page.activity;
    const items = (await api.activity(activityQuery(page.state.filters))).items ?? [];
    // What was not there before came while the page was open: marked as new.
    if (previous !== undefined) {
      const seen = new Set(previous.map((item) => item.id));
      for (const item of items) if (!seen.has(item.id)) markFresh(item.id);
    }
    page.activity = items;
    redraw('activity', (el) => overview.renderActivity(el, items, ctx));
  },
  async alerts() {
    page.alerts = (await api.alerts(alertsQuery(page.state.filters))).items ?? [];
    redraw('alerts', (el) => overview.renderAlerts(el, page.alerts, ctx));
  },
  async connectors() {
    page.connectors = (await api.connectors()).connectors ?? [];
    redraw('connectors', (el) => overview.renderConnectors(el, page.connectors));
  },
  async host() {
    const hostId = page.state.open;
    if (!hostId) return;
    const [host, history, compliance] = await Promise.all([api.host(hostId), api.hostHistory(hostId), api.hostCompliance(hostId)]);
    if (page.state.open !== hostId) return;
    page.host = { hostId, host, history, compliance };
    renderOpenHost();
  },
};

const generations = {};
async function load(name) {
  const generation = (generations[name] ?? 0) + 1;
  generations[name] = generation;
  try {
    await loaders[name]();
    if (generations[name] === generation) succeeded(name);
  } catch (error) {
    if (generations[name] === generation) failed(name, error);
  }
}

const timers = {};
/** Loads a part soon, once however many events asked for it meanwhile. */
function schedule(name, delayMs = 300) {
  if (timers[name] !== undefined) return;
  timers[name] = setTimeout(() => {
    timers[name] = undefined;
    void load(name);
  }, delayMs);
}

function markFresh(id) {
  page.fresh.add(id);
  setTimeout(() => page.fresh.delete(id), FRESH_MS);
}

// ---- rendering ------------------------------------------------------------------------------

function renderOverview() {
  const data = page.overview;
  if (data === undefined) return;
  overview.renderGenerated($('overview-generated'), data);
  overview.renderCards($('cards'), data);
  redraw('pools', (el) => overview.renderPools(el, data));
  redraw('compliance', (el) => overview.renderCompliance(el, data));
  redraw('sensitive', (el) => overview.renderSensitive(el, data, page.state.filters, ctx));
  if (page.connectors === undefined && Array.isArray(data.connectors)) redraw('connectors', (el) => overview.renderConnectors(el, data.connectors));
  offerChoices(form, { pools: (data.hosts?.byPool ?? []).map((p) => p.pool).filter(Boolean), hosts: page.hosts });
}

function renderHosts() {
  const hosts = page.hosts.map((host) => {
    const patch = page.trustPatches.get(host.hostId);
    if (patch === undefined) return host;
    if ((host.trust?.since ?? 0) >= patch.time) {
      page.trustPatches.delete(host.hostId);
      return host;
    }
    return { ...host, trust: { ...host.trust, status: patch.status, since: patch.time, faultCount: patch.faultCount } };
  });
  redraw('hosts', (el) => overview.renderHosts(el, hosts, page.state.filters, ctx));
  offerChoices(form, { pools: [...(page.overview?.hosts?.byPool ?? []).map((p) => p.pool), ...hosts.map((host) => host.pool)].filter(Boolean), hosts });
}

function renderOpenHost() {
  const data = page.host;
  if (data === undefined || data.hostId !== page.state.open) return;
  const name = data.host?.name ?? data.compliance?.host?.name ?? data.hostId;
  $('host-title').textContent = `Host ${name}`;
  document.title = `${name} · Platform trust · trustwire`;
  const known = data.host !== undefined || data.history !== undefined || data.compliance !== undefined;
  if (!known) return fill($('host-body'), h('p', {}, `Nothing is known of host ${data.hostId}.`));
  redraw('host-body', (el) => renderHost(el, data, page.state.filters, ctx));
}

/** Everything that depends on the filters but not on a new load. */
function renderFiltered() {
  renderHosts();
  if (page.overview) redraw('sensitive', (el) => overview.renderSensitive(el, page.overview, page.state.filters, ctx));
  renderOpenHost();
  $('back').setAttribute('href', stateHash({ filters: page.state.filters, open: '' }));
}

// ---- live updates ---------------------------------------------------------------------------

function announce(parts) {
  const log = $('live-log');
  const now = Date.now();
  log.prepend(h('li', {}, h('time', { datetime: new Date(now).toISOString() }, formatTime(now).slice(11, 19)), ' ', parts));
  while (log.children.length > LIVE_LOG_SIZE) log.lastElementChild.remove();
  $('live-empty').hidden = true;
}

const hostName = (event) => overview.hostLink(ctx, event.hostId, event.hostName);

const onMessage = {
  overview(data) {
    page.overview = data;
    renderOverview();
    schedule('hosts');
    schedule('connectors');
  },
  trust(data) {
    page.trustPatches.set(data.hostId, { time: data.time, status: data.current, faultCount: data.faults?.length ?? 0 });
    renderHosts();
    schedule('hosts', 1000);
    schedule('alerts');
    if (data.previous !== data.current) {
      const faults = data.faults?.length ? ` (${data.faults.length} attestation fault${data.faults.length === 1 ? '' : 's'})` : '';
      announce([h('strong', {}, hostName(data)), ` is now ${data.current}${faults}.`]);
    }
    if (data.hostId === page.state.open) schedule('host', 500);
  },
  activity(data) {
    markFresh(data.id);
    schedule('activity');
    if (data.highlight) announce([h('strong', {}, data.outcome), ` — ${data.user?.name ?? data.user?.id ?? 'someone'}: ${data.operation} on ${data.target ?? '?'} (`, hostName(data), ').']);
    if (data.hostId === page.state.open) schedule('host', 500);
  },
  alert(data) {
    markFresh(data.id);
    schedule('alerts');
    announce([h('strong', {}, 'Alert'), `: ${data.title ?? data.rule} (`, hostName(data), ').']);
    if (data.hostId === page.state.open) schedule('host', 500);
  },
  compliance(data) {
    schedule('hosts', 1000);
    if (data.hostId === page.state.open) schedule('host', 500);
  },
};

const CONNECTION = {
  connecting: () => 'Connecting to live updates…',
  live: () => 'Live: updates as they happen',
  waiting: ({ ms }) => `Live updates interrupted; reconnecting in ${Math.ceil(ms / 1000)} s`,
  closed: () => 'Live updates stopped',
};

function startStream() {
  page.stream?.close();
  let wasLive = false;
  page.stream = followStream({
    headers: () => session.headers(),
    onMessage: (type, data) => onMessage[type]?.(data),
    onState: (state, detail) => {
      $('connection').textContent = CONNECTION[state](detail);
      $('connection').dataset.state = state;
      // After a gap, what was missed is loaded again.
      if (state === 'live' && wasLive) for (const name of ['activity', 'alerts', 'hosts', 'host']) schedule(name, 100);
      if (state === 'live') wasLive = true;
    },
    onAuthError: async (response) => showLogin((await authError(response)).message),
  });
}

// ---- the URL: filters and the open host -----------------------------------------------------

function applyFilters(filters) {
  page.state = { ...page.state, filters };
  page.activity = undefined; // another selection: nothing in it is "new"

  writeState(page.state);
  renderFiltered();
  void load('activity');
  void load('alerts');
}

/** Shows the view the URL names; `focus` moves the keyboard focus to it (after a navigation). */
function route({ focus = false } = {}) {
  const open = page.state.open;
  const wasOpen = page.host?.hostId;
  $('overview').hidden = open !== '';
  $('host').hidden = open === '';
  $('back').setAttribute('href', stateHash({ filters: page.state.filters, open: '' }));
  if (open === '') {
    document.title = 'Platform trust · trustwire';
    page.host = undefined;
    if (focus) {
      const link = wasOpen ? [...document.querySelectorAll('#overview a.host-link')].find((a) => a.dataset.hostId === wasOpen) : undefined;
      (link ?? $('overview-title')).focus();
    }
    return;
  }
  if (page.host?.hostId !== open) {
    page.host = undefined;
    $('host-title').textContent = `Host ${open}`;
    fill($('host-body'), h('p', { class: 'muted' }, 'Loading…'));
  }
  if (focus) $('host-title').focus();
  void load('host');
}

window.addEventListener('hashchange', () => {
  page.state = readState();
  page.activity = undefined;
  writeForm(form, page.state.filters);
  renderFiltered();
  void load('activity');
  void load('alerts');
  route({ focus: true });
});

bindForm(form, applyFilters);

// The skip link moves the focus itself: as a fragment (#main) it would be read as page state.
document.querySelector('a.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  $('main').focus();
});

// ---- start ----------------------------------------------------------------------------------

async function enter() {
  writeForm(form, page.state.filters);
  try {
    // The first call tells whether the token is good before the rest is asked for.
    page.overview = await api.overview();
    succeeded('overview');
  } catch (error) {
    failed('overview', error);
    if (error instanceof AuthError) return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('session').hidden = false;
  renderOverview();
  route({ focus: page.state.open !== '' });
  startStream();
  await Promise.all(['hosts', 'activity', 'alerts', 'connectors'].map(load));
}

if (session.token() === '') showLogin();
else void enter();
