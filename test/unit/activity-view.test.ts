/**
 * The dashboard's feeds: how each enriched event reads in them, the filters, when an alert is
 * open, and the bounds that keep a long-running view (and a slow stream client) small.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ActivityQuery, AlertQuery } from '../../src/activity/filters.js';
import { ALERT_OPEN_MS, MAX_FAULTS_KEPT, activityItemOf, raisedAlertOf, trustItemOf } from '../../src/activity/items.js';
import { overviewOf } from '../../src/activity/overview.js';
import { ActivityView, type ViewMessage } from '../../src/activity/view.js';
import { sseMessage, StreamHub, type StreamSink } from '../../src/api/stream.js';
import type { EventOf } from '../../src/model/events.js';
import type { HostView } from '../../src/processor/host-view.js';
import type { PlacedWorkload } from '../../src/processor/state.js';
import { eventFixture } from '../helpers/fixtures.js';

const HOUR = 60 * 60_000;
const T0 = Date.UTC(2026, 0, 12, 9, 0, 0);
let sequence = 0;
const nextId = () => `0195a000-0000-7000-8000-${String(++sequence).padStart(12, '0')}`;

function admin(over: { host?: string; hostName?: string; user?: string; outcome?: 'success' | 'denied' | 'failed'; time?: number; operation?: string } = {}): EventOf<'admin.action'> {
  const base = eventFixture('admin.action');
  const host = over.host ?? base.host.id;
  return {
    ...base,
    id: nextId(),
    time: over.time ?? T0,
    host: { ...base.host, id: host, name: over.hostName ?? `${host}.dc.example.net` },
    payload: {
      ...base.payload,
      user: over.user === undefined ? base.payload.user : { id: over.user, name: over.user },
      outcome: over.outcome ?? base.payload.outcome,
      operation: over.operation ?? base.payload.operation,
      target: { type: 'host', id: host },
      ...(over.outcome === 'success' && { error: undefined }),
    },
  };
}

function decision(over: { host?: string; decision?: 'permit' | 'deny'; time?: number } = {}): EventOf<'policy.decision'> {
  const base = eventFixture('policy.decision');
  const host = over.host ?? base.host.id;
  return { ...base, id: nextId(), time: over.time ?? T0, host: { ...base.host, id: host }, payload: { ...base.payload, decision: over.decision ?? 'permit', targetHost: { id: host } } };
}

function trust(host: string, status: 'trusted' | 'untrusted' | 'unknown', time: number, previousStatus?: 'trusted' | 'untrusted'): EventOf<'trust.change'> {
  const base = eventFixture('trust.change');
  const { previousStatus: _reported, ...payload } = base.payload;
  return {
    ...base,
    id: nextId(),
    time,
    host: { ...base.host, id: host },
    payload: { ...payload, ...(previousStatus !== undefined && { previousStatus }), status, flavors: status === 'trusted' ? [] : base.payload.flavors },
  };
}

function alert(host: string, rule: string, time: number): EventOf<'alert'> {
  const base = eventFixture('alert');
  return { ...base, id: nextId(), time, host: { ...base.host, id: host }, payload: { ...base.payload, rule } };
}

const all = (query: Record<string, string> = {}) => ActivityQuery.parse(query);
const alertsOf = (query: Record<string, string> = {}) => AlertQuery.parse(query);

describe('each event reads in the feeds as a person wants it', () => {
  test('a denied admin action: who, what, on which target, highlighted, with the error', () => {
    const event = eventFixture('admin.action');
    assert.deepEqual(activityItemOf(event), {
      id: event.id,
      time: event.time,
      type: 'admin.action',
      hostId: 'esx-fra1-07',
      hostName: 'esx-fra1-07.dc.example.net',
      pool: 'tcp-gold-fra1',
      user: { id: 'S-1-5-21-3623811015-3361044348-30300820-1107', name: 'Jana Müller' },
      operation: 'host.enterMaintenanceMode',
      target: 'esx-fra1-07.dc.example.net',
      outcome: 'denied',
      highlight: true,
      detail: event.payload.error,
    });
  });

  test('a permitted placement: the action and the VM, the reasons as its detail, not highlighted', () => {
    const item = activityItemOf(eventFixture('policy.decision'));
    assert.equal(item.operation, 'vm.place');
    assert.equal(item.target, 'fin-ledger-db-02');
    assert.deepEqual(item.user, { id: 'jmueller@corp.example.net' });
    assert.equal(item.outcome, 'permit');
    assert.equal(item.highlight, false);
    assert.match(item.detail!, /is trusted .*; target host carries the required asset tags/);
    assert.equal(activityItemOf(decision({ decision: 'deny' })).highlight, true);
  });

  test('a trust change lists each fault with its flavor, PCR and the expected and actual values', () => {
    const item = trustItemOf(eventFixture('trust.change'), 'trusted');
    assert.equal(item.previous, 'trusted');
    assert.equal(item.current, 'untrusted');
    assert.equal(item.service, 'intel-secl-hvs');
    assert.equal(item.faultCount, 2);
    assert.deepEqual(item.faults[0], {
      flavor: 'OS',
      name: 'PcrValueMismatchSHA256',
      description: 'PCR 17 (Intel TXT measured launch: SINIT ACM and MLE) does not match the OS flavor',
      pcr: { index: 17, bank: 'SHA256' },
      expected: 'c4eab375799b2d0aa503ef442455841b969f19a32333e18b7af034d8f52e51ba',
      actual: '8621855ece15bdbcfb42c2072fc6e1d827f6e7d153038827acb21fbba6a66241',
    });
    assert.equal(item.faults[1]!.flavor, 'HOST_UNIQUE');
  });

  test('an alert keeps its rule, title, severity, details and related events', () => {
    const event = eventFixture('alert');
    const item = raisedAlertOf(event);
    assert.equal(item.rule, event.payload.rule);
    assert.equal(item.severity, 9);
    assert.equal(item.hostName, 'kvm-fra1-12.dc.example.net');
    assert.deepEqual(item.details, event.payload.details);
    assert.deepEqual(item.relatedEventIds, ['01959418-ad00-7a1c-9e4b-2f6d8a0c31b5']);
  });

  test("the previous status is the one the view saw last, not the reporter's claim", () => {
    const view = new ActivityView();
    view.apply(trust('h1', 'untrusted', T0, 'trusted'));
    view.apply(trust('h1', 'trusted', T0 + 1000, 'trusted'));
    assert.deepEqual(
      view.history('h1')!.trust.map((t) => [t.previous, t.current]),
      [
        ['trusted', 'untrusted'], // the first one: only the reporter can say
        ['untrusted', 'trusted'],
      ],
    );
  });
});

describe('the activity feed filters', () => {
  const view = new ActivityView();
  view.apply(admin({ host: 'esx-01', user: 'mallory', outcome: 'denied', time: T0 + 1 }));
  view.apply(admin({ host: 'esx-02', user: 'anna', outcome: 'success', time: T0 + 2, operation: 'vm.snapshot' }));
  view.apply(decision({ host: 'esx-02', decision: 'deny', time: T0 + 3 }));
  view.apply(admin({ host: 'esx-03', user: 'anna', outcome: 'failed', time: T0 + 4 }));

  const hosts = (query: Record<string, string>) => view.activity(all(query)).map((item) => `${item.hostId}:${item.outcome}`);

  test('newest first, by outcome, type, host id or name, user, pool and time', () => {
    assert.deepEqual(hosts({}), ['esx-03:failed', 'esx-02:deny', 'esx-02:success', 'esx-01:denied']);
    assert.deepEqual(hosts({ outcome: 'denied' }), ['esx-01:denied']);
    assert.deepEqual(hosts({ type: 'policy.decision' }), ['esx-02:deny']);
    assert.deepEqual(hosts({ host: 'esx-02.dc.example.net', type: 'admin.action' }), ['esx-02:success']);
    assert.deepEqual(hosts({ user: 'anna' }), ['esx-03:failed', 'esx-02:success']);
    assert.deepEqual(hosts({ pool: 'no-such-pool' }), []);
    assert.deepEqual(hosts({ since: String(T0 + 2), until: new Date(T0 + 3).toISOString() }), ['esx-02:deny', 'esx-02:success']);
    assert.deepEqual(hosts({ limit: '2' }), ['esx-03:failed', 'esx-02:deny']);
  });

  test('q searches host names, users, operations and targets, case ignored', () => {
    assert.deepEqual(hosts({ q: 'SNAPSHOT' }), ['esx-02:success']);
    assert.deepEqual(hosts({ q: 'mallo' }), ['esx-01:denied']);
    assert.deepEqual(hosts({ q: 'fin-ledger' }), ['esx-02:deny']);
  });

  test('a bad filter is refused with its parameter named', () => {
    const problems = (query: Record<string, unknown>) => {
      const parsed = ActivityQuery.safeParse(query);
      assert.equal(parsed.success, false);
      return parsed.error!.issues.map((issue) => [issue.path.join('.') || (issue as { keys?: string[] }).keys?.join(','), issue.message]);
    };
    assert.deepEqual(problems({ limit: '0' }), [['limit', 'must be a whole number from 1 to 1000']]);
    assert.deepEqual(problems({ limit: 'ten' }), [['limit', 'must be a whole number from 1 to 1000']]);
    assert.equal(problems({ outcome: 'maybe' })[0]![0], 'outcome');
    assert.match(String(problems({ since: 'yesterday' })[0]![1]), /epoch milliseconds .* RFC 3339/);
    assert.deepEqual(problems({ since: String(T0 + 10), until: String(T0) }), [['until', 'must not be before since']]);
    assert.equal(problems({ outcom: 'denied' })[0]![0], 'outcom');
  });
});

describe('an alert is open while its host is still in the state that raised it', () => {
  test('a trust alert closes when its host attests trusted again, and only then', () => {
    const view = new ActivityView();
    view.apply(trust('esx-01', 'trusted', T0));
    view.apply(trust('esx-01', 'untrusted', T0 + 60_000));
    view.apply(alert('esx-01', 'trust.sensitive-workload-on-untrusted-host', T0 + 60_000));
    const now = T0 + 5 * HOUR;
    assert.deepEqual(view.alerts(alertsOf({ state: 'open' }), now).map((a) => a.rule), ['trust.sensitive-workload-on-untrusted-host'], 'hours later, still open');
    assert.equal(view.openAlerts(now), 1);
    view.apply(trust('esx-01', 'trusted', T0 + 6 * HOUR));
    assert.deepEqual(view.alerts(alertsOf({ state: 'open' }), now + HOUR), []);
    assert.deepEqual(view.alerts(alertsOf(), now + HOUR).map((a) => a.open), [false]);
    assert.equal(view.history('esx-01', now)!.alerts[0]!.open, false);
  });

  test("the host-state view's trust closes it too, when this view has not seen the attestation", () => {
    const states = new Map<string, { status: 'trusted' | 'untrusted'; since: number }>([['esx-02', { status: 'untrusted', since: T0 }]]);
    const view = new ActivityView({ hostTrust: (id) => states.get(id) });
    view.apply(alert('esx-02', 'placement.onto-untrusted-host', T0 + 1000));
    assert.equal(view.openAlerts(T0 + 2000), 1);
    states.set('esx-02', { status: 'trusted', since: T0 + 5000 });
    assert.equal(view.openAlerts(T0 + 6000), 0);
  });

  test('any other alert (flapping included) stays open for an hour after it was raised', () => {
    const view = new ActivityView();
    view.apply(alert('esx-03', 'admin.repeated-denials', T0));
    view.apply(alert('esx-03', 'trust.flapping', T0));
    view.apply(trust('esx-03', 'trusted', T0 + 1000));
    assert.equal(view.openAlerts(T0 + ALERT_OPEN_MS - 1), 2);
    assert.equal(view.openAlerts(T0 + ALERT_OPEN_MS), 0);
  });

  test('the alerts route filters by host, rule, state and time', () => {
    const view = new ActivityView();
    view.apply(alert('esx-01', 'admin.repeated-denials', T0));
    view.apply(alert('esx-02', 'admin.repeated-denials', T0 + HOUR));
    view.apply(alert('esx-02', 'placement.asset-tag-mismatch', T0 + 2 * HOUR));
    const now = T0 + 2 * HOUR + 1;
    const rules = (query: Record<string, string>) => view.alerts(alertsOf(query), now).map((a) => `${a.hostId}:${a.rule}`);
    assert.deepEqual(rules({ host: 'esx-02', rule: 'admin.repeated-denials' }), ['esx-02:admin.repeated-denials']);
    assert.deepEqual(rules({ state: 'open' }), ['esx-02:placement.asset-tag-mismatch']);
    assert.deepEqual(rules({ until: String(T0 + HOUR) }), ['esx-02:admin.repeated-denials', 'esx-01:admin.repeated-denials']);
  });
});

describe('the view keeps bounded memory', () => {
  test('the fleet feed keeps the newest N; a late older event does not push a newer one out', () => {
    const view = new ActivityView({ limits: { activity: 3 } });
    for (let i = 0; i < 5; i++) view.apply(admin({ time: T0 + 1000 * i }));
    view.apply(admin({ time: T0 - 1 }));
    assert.deepEqual(
      view.activity(all({ limit: '1000' })).map((item) => item.time),
      [T0 + 4000, T0 + 3000, T0 + 2000],
    );
  });

  test('a host keeps its last perHost of each kind, the oldest trust change first', () => {
    const view = new ActivityView({ limits: { perHost: 2 } });
    for (let i = 0; i < 4; i++) view.apply(trust('h1', i % 2 === 0 ? 'untrusted' : 'trusted', T0 + i));
    for (let i = 0; i < 4; i++) view.apply(alert('h1', 'admin.repeated-denials', T0 + i));
    const history = view.history('h1', T0)!;
    assert.deepEqual(history.trust.map((t) => t.time), [T0 + 2, T0 + 3]);
    assert.deepEqual(history.alerts.map((a) => a.time), [T0 + 3, T0 + 2]);
  });

  test('past the fleet-wide history bound, the host quiet the longest loses its history, not its trust', () => {
    const view = new ActivityView({ limits: { historyItems: 4 } });
    view.apply(trust('quiet', 'untrusted', T0));
    view.apply(alert('quiet', 'trust.sensitive-workload-on-untrusted-host', T0));
    for (let i = 0; i < 3; i++) view.apply(admin({ host: 'busy', time: T0 + 1 + i }));
    assert.deepEqual(view.history('quiet', T0), { trust: [], activity: [], alerts: [] });
    assert.equal(view.history('busy', T0)!.activity.length, 3);
    assert.equal(view.alerts(alertsOf({ state: 'open' }), T0).length, 1, 'the alert is still in the fleet feed, open');
  });

  test('a trust change keeps at most MAX_FAULTS_KEPT faults and counts them all', () => {
    const event = trust('h1', 'untrusted', T0);
    const fault = event.payload.flavors[1]!.faults[0]!;
    event.payload.flavors = [{ kind: 'OS', trusted: false, faults: Array.from({ length: 200 }, () => fault) }];
    const item = trustItemOf(event, 'trusted');
    assert.equal(item.faults.length, MAX_FAULTS_KEPT);
    assert.equal(item.faultCount, 200);
  });

  test('an event applied twice is kept and told to subscribers once', () => {
    const view = new ActivityView();
    const heard: ViewMessage[] = [];
    view.subscribe((message) => heard.push(message));
    const events = [admin(), alert('h1', 'admin.repeated-denials', T0), trust('h1', 'untrusted', T0)];
    for (const event of [...events, ...events]) view.apply(event);
    assert.deepEqual(
      heard.map((m) => m.kind),
      ['activity', 'alert', 'trust'],
    );
    assert.equal(view.activity(all()).length, 1);
    assert.equal(view.alerts(alertsOf()).length, 1);
    assert.equal(view.history('h1')!.trust.length, 1);
  });

  test('an assessment is told to subscribers as its score, and not kept (the compliance view keeps those)', () => {
    const view = new ActivityView();
    const heard: ViewMessage[] = [];
    view.subscribe((message) => heard.push(message));
    const event = eventFixture('compliance.assessment');
    view.apply(event);
    assert.deepEqual(heard, [
      {
        kind: 'compliance',
        item: { id: event.id, time: event.time, hostId: 'esx-fra1-07', hostName: 'esx-fra1-07.dc.example.net', pool: 'tcp-gold-fra1', templateId: 'vsphere8-scg-esxi', score: 80, maxScore: 100, compliant: false },
      },
    ]);
    assert.equal(view.history('esx-fra1-07'), undefined);
  });
});

describe('the overview', () => {
  const host = (hostId: string, pool: string | undefined, status: 'trusted' | 'untrusted' | 'unknown', workloads: PlacedWorkload[] = []): HostView => ({
    hostId,
    name: `${hostId}.dc`,
    ...(pool !== undefined && { pool }),
    trust: { status, faults: [], recentChanges: [] },
    assetTags: {},
    assessments: {},
    workloads,
    lastEventId: 'e',
    updatedAt: T0,
  });
  const vm = (id: string, labels: string[]) => ({ id, name: `${id}-name`, labels, requiredTags: {}, since: T0, decisionId: 'd' });
  const assessment = (hostId: string, score: number, compliant: boolean) => {
    const base = eventFixture('compliance.assessment');
    return { ...base, host: { id: hostId }, payload: { ...base.payload, templateId: 'esxi-8-stig', score, maxScore: 100, compliant } };
  };

  test('counts hosts by trust and pool, lists sensitive workloads (untrusted hosts first) and compliance bands', () => {
    const overview = overviewOf(
      {
        hosts: [host('a', 'gold', 'trusted', [vm('vm-1', ['sensitive']), vm('vm-2', [])]), host('b', 'gold', 'untrusted', [vm('vm-3', ['sensitive', 'pci'])]), host('c', undefined, 'unknown')],
        openAlerts: 1,
        recentAlerts: [],
        assessments: [assessment('a', 95, true), assessment('b', 80, false), assessment('c', 74.996, false)],
        connectors: [],
      },
      T0,
    );
    assert.deepEqual(overview.hosts, {
      total: 3,
      byTrust: { trusted: 1, untrusted: 1, unknown: 1 },
      byPool: [
        { pool: 'gold', total: 2, trusted: 1, untrusted: 1, unknown: 0 },
        { pool: null, total: 1, trusted: 0, untrusted: 0, unknown: 1 },
      ],
    });
    assert.deepEqual(
      overview.sensitiveWorkloads.map((w) => [w.id, w.hostId, w.hostTrust]),
      [
        ['vm-3', 'b', 'untrusted'],
        ['vm-1', 'a', 'trusted'],
      ],
    );
    // 74.996 % rounds to 75 % in the compliance report, and so here.
    assert.deepEqual(overview.compliance, [{ templateId: 'esxi-8-stig', hosts: 3, compliant: 1, bands: { '90-100': 1, '75-90': 2, '50-75': 0, '0-50': 0 } }]);
  });
});

describe('the stream', () => {
  class Sink implements StreamSink {
    chunks: string[] = [];
    writableLength = 0;
    destroyed = false;
    ended = false;
    write(chunk: string) {
      this.chunks.push(chunk);
      return true;
    }
    end() {
      this.ended = true;
    }
    destroy() {
      this.destroyed = true;
    }
  }
  // The hub's own timers would tick at the wall clock's time: the tests tick it themselves.
  const manual = { heartbeatMs: HOUR, overviewMs: HOUR };
  const overview = (generatedAt: number, open = 0) => overviewOf({ hosts: [], openAlerts: open, recentAlerts: [], assessments: [], connectors: [] }, generatedAt);

  test('a client gets the overview on connect, then each event with its id', () => {
    const view = new ActivityView();
    const hub = new StreamHub({ subscribe: (listener) => view.subscribe(listener), overview: () => overview(T0) }, manual);
    const sink = new Sink();
    const end = hub.add(sink, 'reader', T0);
    const event = admin({ outcome: 'denied' });
    view.apply(event);
    assert.equal(sink.chunks[0], sseMessage('overview', `overview-${T0}`, overview(T0)));
    assert.equal(sink.chunks[1], sseMessage('activity', event.id, activityItemOf(event)));
    assert.match(sink.chunks[1]!, /^id: \S+\nevent: activity\ndata: \{.*\}\n\n$/);
    end();
    view.apply(admin());
    assert.equal(sink.chunks.length, 2, 'nothing after the client left');
  });

  test('the overview is sent again only when it changed', () => {
    let open = 0;
    let now = T0;
    const hub = new StreamHub({ subscribe: () => () => {}, overview: () => overview(now, open) }, manual);
    const sink = new Sink();
    hub.add(sink);
    hub.refreshOverview();
    now += 2000;
    hub.refreshOverview();
    open = 1;
    now += 2000;
    hub.refreshOverview();
    assert.deepEqual(
      sink.chunks.map((chunk) => /^id: (\S+)/.exec(chunk)![1]),
      [`overview-${T0}`, `overview-${T0}`, `overview-${T0 + 4000}`],
    );
    hub.close();
    assert.equal(sink.ended, true, 'closing the server ends the streams');
  });

  test('a client whose buffer stays over the bound is disconnected; one that catches up is not', () => {
    const hub = new StreamHub({ subscribe: () => () => {}, overview: () => overview(T0) }, { ...manual, softBufferBytes: 100, stallMs: 10_000, hardBufferBytes: 10_000 });
    const stalled = new Sink();
    const slow = new Sink();
    hub.add(stalled, 'stalled', T0);
    hub.add(slow, 'slow', T0);
    stalled.writableLength = 500;
    slow.writableLength = 500;
    hub.heartbeat(T0 + 1000);
    slow.writableLength = 0;
    hub.heartbeat(T0 + 5000);
    slow.writableLength = 500;
    hub.heartbeat(T0 + 11_000);
    assert.equal(stalled.destroyed, true);
    assert.equal(slow.destroyed, false);
    assert.equal(hub.clients, 1);
    hub.close();
  });

  test('a buffer over the hard bound disconnects at once', () => {
    const hub = new StreamHub({ subscribe: () => () => {}, overview: () => overview(T0) }, { ...manual, hardBufferBytes: 1000 });
    const sink = new Sink();
    hub.add(sink);
    sink.writableLength = 2000;
    hub.heartbeat();
    assert.equal(sink.destroyed, true);
    assert.equal(hub.clients, 0);
  });
});
