import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableEventId } from '../../src/model/stable-id.js';
import { eventAvroFieldErrors } from '../../src/model/avro.js';
import { CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { EventId } from '../../src/model/primitives.js';
import { geolocationOf } from '../../src/processor/enrichment.js';
import { byUserKey } from '../../src/processor/users.js';
import { processEvent, type LocateWorkload, type PartitionState, type ProcessResult } from '../../src/processor/logic.js';
import { HostState, SEEN_IDS_PER_HOST, ProcessorRules } from '../../src/processor/state.js';
import { eventFixture } from '../helpers/fixtures.js';

// ---- builders ------------------------------------------------------------------------------

const T0 = Date.UTC(2026, 2, 14, 10, 0, 0);
const MIN = 60_000;
const RULES = ProcessorRules.parse({
  deniedAttempts: { threshold: 3, windowMs: 10 * MIN },
  flapping: { threshold: 4, windowMs: 60 * MIN },
});

const TAGS = {
  'esx-fra1-01': { country: 'DE', State: 'HE', datacenter: 'FRA1', classification: 'pci' },
  'esx-fra1-02': { country: 'DE', region: 'HE', site: 'FRA1' },
  'esx-par1-01': { country: 'FR', site: 'PAR1' },
} as const;

interface Vm {
  id: string;
  name?: string;
  labels?: string[];
  requiredTags?: Record<string, string>;
}
const LEDGER: Vm = { id: 'vm-ledger', name: 'fin-ledger-db-02', labels: ['sensitive', 'pci'], requiredTags: { country: 'DE' } };
const WEB: Vm = { id: 'vm-web', name: 'shop-web-01' };
const HR: Vm = { id: 'vm-hr', name: 'hr-payroll-01', labels: ['sensitive'] };

/** A canonical event with a deterministic id made of its content, validated as ingest would. */
function canonical<T extends CanonicalEvent['type']>(
  event: { type: T; time: number; host: { id: string }; payload: unknown } & Record<string, unknown>,
): EventOf<T> {
  const { enrichment: _, ...rest } = event;
  const id = stableEventId(event.time, JSON.stringify([event.type, event.host.id, event.payload]));
  return CanonicalEvent.parse(JSON.parse(JSON.stringify({ ...rest, id, ingestTime: event.time + 40 }))) as EventOf<T>;
}

function hostOf(id: string) {
  return { id, name: `${id}.dc.example.net`, pool: 'tcp-gold-fra1' };
}

function trustChange(hostId: string, time: number, status: 'trusted' | 'untrusted', assetTags: Record<string, string> = {}) {
  const base = eventFixture('trust.change');
  // The fixture's flavors fail on PCR 17 (OS) and PCR 19 (HOST_UNIQUE): the measurements no longer match.
  const flavors = status === 'untrusted' ? base.payload.flavors : base.payload.flavors.map((f) => ({ ...f, trusted: true, faults: [] }));
  const { previousStatus: _, ...payload } = base.payload;
  return canonical({ ...base, host: hostOf(hostId), time, payload: { ...payload, status, flavors, assetTags } });
}

interface DecisionOptions {
  decision?: 'permit' | 'deny';
  source?: string;
  envelopeHost?: string;
}

function decision(time: number, action: string, vm: Vm, target: string, options: DecisionOptions = {}) {
  const base = eventFixture('policy.decision');
  return canonical({
    ...base,
    host: hostOf(options.envelopeHost ?? target),
    time,
    payload: {
      ...base.payload,
      decisionId: `dec-${time}`,
      action,
      decision: options.decision ?? 'permit',
      resource: { type: 'vm', labels: [], requiredTags: {}, ...vm },
      sourceHost: options.source === undefined ? undefined : { id: options.source },
      targetHost: { id: target },
    },
  });
}

interface AdminOptions {
  target?: { type: string; id: string };
  user?: string;
}

/** An admin action of jdoe reported under `hostId`, by default on that host itself. */
function adminAction(time: number, hostId: string, outcome: 'success' | 'denied' | 'failed', options: AdminOptions = {}) {
  const base = eventFixture('admin.action');
  const user = options.user ?? 'jdoe';
  const payload = { ...base.payload, user: { id: user, name: user }, target: options.target ?? { type: 'host', id: hostId }, outcome };
  return canonical({ ...base, host: hostOf(hostId), time, payload });
}

/** The state rules act on: hosts (not the seen ids, which every event adds to). */
function domainState(state: PartitionState) {
  return { hosts: state.hosts };
}

function freshState(): PartitionState {
  return { hosts: new Map(), seen: new Map() };
}

/**
 * Where each VM runs, as the by-workload stage would tell it through the fleet-wide view: filled
 * from the placements the processor forwards, so `locate` answers as it would in the service.
 */
const placedOn = new WeakMap<PartitionState, Map<string, string>>();
function locateIn(state: PartitionState): LocateWorkload {
  return (vmId) => {
    const hostId = placedOn.get(state)?.get(vmId);
    return hostId === undefined ? undefined : state.hosts.get(hostId);
  };
}

/** processEvent, holding every output to the contract: zod and the Avro schema the worker writes. */
function process(state: PartitionState, event: CanonicalEvent, locate: LocateWorkload = locateIn(state)): ProcessResult {
  const result = processEvent(event, state, RULES, locate);
  if (result.forward?.kind === 'placement' && event.type === 'policy.decision') {
    if (!placedOn.has(state)) placedOn.set(state, new Map());
    placedOn.get(state)!.set(event.payload.resource.id, event.host.id);
  }
  for (const output of result.outputs) {
    assert.deepEqual(CanonicalEvent.parse(output), output, `${output.type} ${output.id} is not canonical`);
    assert.deepEqual(eventAvroFieldErrors(output), [], `${output.type} ${output.id} does not fit the Avro schema`);
  }
  for (const host of state.hosts.values()) HostState.parse(host);
  return result;
}

function alertsOf(result: ProcessResult): EventOf<'alert'>[] {
  return result.outputs.slice(1).map((output) => {
    assert.equal(output.type, 'alert');
    return output as EventOf<'alert'>;
  });
}

function rulesOf(result: ProcessResult): string[] {
  return alertsOf(result).map((alert) => alert.payload.rule);
}

/** Three trusted hosts of a pool; the ledger and web VMs on fra1-01, the HR VM on fra1-02. */
function trustedPool(): { state: PartitionState; steps: ProcessResult[] } {
  const state = freshState();
  const steps = [
    trustChange('esx-fra1-01', T0, 'trusted', TAGS['esx-fra1-01']),
    trustChange('esx-fra1-02', T0 + 1, 'trusted', TAGS['esx-fra1-02']),
    trustChange('esx-par1-01', T0 + 2, 'trusted', TAGS['esx-par1-01']),
    decision(T0 + MIN, 'vm.place', LEDGER, 'esx-fra1-01'),
    decision(T0 + 2 * MIN, 'vm.place', WEB, 'esx-fra1-01'),
    decision(T0 + 3 * MIN, 'vm.place', HR, 'esx-fra1-02'),
  ].map((event) => process(state, event));
  return { state, steps };
}

// ---- state ---------------------------------------------------------------------------------

test('a host never seen before is unknown; its first trusted report makes it trusted since that event', () => {
  const state = freshState();
  const untouched = process(state, adminAction(T0, 'esx-new-01', 'success'));
  assert.deepEqual(untouched.outputs[0]!.enrichment, { hostId: 'esx-new-01', trust: { status: 'unknown', faultCount: 0 }, assetTags: {} });
  assert.deepEqual(untouched.changed, []);
  assert.equal(state.hosts.size, 0);

  const trusted = process(state, trustChange('esx-new-01', T0 + 5, 'trusted'));
  const trust = { status: 'trusted', since: T0 + 5, attestationService: 'intel-secl-hvs', faultCount: 0 };
  assert.deepEqual(trusted.outputs[0]!.enrichment?.trust, trust);
  assert.deepEqual(trusted.changed, ['esx-new-01']);
  assert.equal(state.hosts.get('esx-new-01')!.name, 'esx-new-01.dc.example.net');
});

test('an event resent with an id its host has seen is dropped: no output, no state change', () => {
  const state = freshState();
  const first = trustChange('esx-new-01', T0, 'untrusted');
  assert.equal(process(state, first).outputs.length > 0, true);
  const before = structuredClone(state.hosts.get('esx-new-01'));
  const again = process(state, { ...first, time: T0 + 5 });
  assert.deepEqual(again, { outputs: [], changed: [], duplicate: true });
  assert.deepEqual(state.hosts.get('esx-new-01'), before);
  // Only the last SEEN_IDS_PER_HOST ids are kept: the oldest falls out of the window.
  for (let i = 1; i <= SEEN_IDS_PER_HOST; i++) process(state, { ...first, id: `019ac1a2-0000-7000-8000-${String(i).padStart(12, '0')}`, time: T0 + i });
  assert.equal(state.seen.get('esx-new-01')!.length, SEEN_IDS_PER_HOST);
  assert.equal(process(state, first).duplicate, undefined, 'out of the window: processed again');
});

test('since stays when a report repeats the status, and moves when the status changes', () => {
  const state = freshState();
  process(state, trustChange('esx-fra1-01', T0, 'trusted'));
  assert.equal(process(state, trustChange('esx-fra1-01', T0 + MIN, 'trusted')).outputs[0]!.enrichment?.trust.since, T0);
  assert.equal(process(state, trustChange('esx-fra1-01', T0 + 2 * MIN, 'untrusted')).outputs[0]!.enrichment?.trust.since, T0 + 2 * MIN);
});

test('a report replaces the faults with those of all its flavors, each tagged with its flavor', () => {
  const state = freshState();
  process(state, trustChange('kvm-fra1-12', T0, 'untrusted'));
  assert.deepEqual(
    state.hosts.get('kvm-fra1-12')!.trust.faults.map((f) => [f.flavor, f.name, f.pcrIndex]),
    [
      ['OS', 'PcrValueMismatchSHA256', 17],
      ['HOST_UNIQUE', 'PcrEventLogContainsUnexpectedEntries', 19],
    ],
  );
  process(state, trustChange('kvm-fra1-12', T0 + MIN, 'trusted'));
  assert.deepEqual(state.hosts.get('kvm-fra1-12')!.trust.faults, []);
});

test('a report without asset tags keeps the tags and location the host had', () => {
  const state = freshState();
  process(state, trustChange('esx-fra1-01', T0, 'trusted', TAGS['esx-fra1-01']));
  const enrichment = process(state, trustChange('esx-fra1-01', T0 + MIN, 'trusted')).outputs[0]!.enrichment;
  assert.deepEqual(enrichment?.assetTags, TAGS['esx-fra1-01']);
  assert.deepEqual(enrichment?.geolocation, { country: 'DE', region: 'HE', site: 'FRA1' });
});

test('the geolocation comes from country, region/state, site/datacenter/city tags, in any case or namespace', () => {
  assert.deepEqual(geolocationOf({ Country: 'DE', State: 'HE', City: 'Frankfurt' }), { country: 'DE', region: 'HE', site: 'Frankfurt' });
  assert.deepEqual(geolocationOf({ 'geo.country': 'FR', 'location.Data-Center': 'PAR1' }), { country: 'FR', site: 'PAR1' });
  assert.deepEqual(geolocationOf({ city: 'Frankfurt', site: 'FRA1', region: 'HE', state: 'Hessen' }), { region: 'HE', site: 'FRA1' });
  assert.equal(geolocationOf({ classification: 'pci' }), undefined);
});

test('a permitted placement, migration or power-on touches its target host and goes to the by-workload stage', () => {
  const { state, steps } = trustedPool();
  assert.deepEqual(steps[3]!.changed, ['esx-fra1-01']);
  assert.deepEqual(steps[3]!.forward, { kind: 'placement' });
  const migration = process(state, decision(T0 + 4 * MIN, 'vm.migrate', HR, 'esx-fra1-01', { source: 'esx-fra1-02' }));
  // The source host's state is not the processor's to change: which VMs run where is kept by VM id.
  assert.deepEqual(migration.changed, ['esx-fra1-01']);
  assert.deepEqual(migration.forward, { kind: 'placement' });
  assert.deepEqual(process(state, decision(T0 + 5 * MIN, 'vm.power_on', LEDGER, 'esx-fra1-01')).forward, { kind: 'placement' });
  assert.equal(process(state, decision(T0 + 6 * MIN, 'vm.power_off', LEDGER, 'esx-fra1-01')).forward, undefined);
});

test('a host turning untrusted goes to the by-workload stage with the status it had; staying untrusted does not', () => {
  const { state } = trustedPool();
  assert.deepEqual(process(state, trustChange('esx-fra1-01', T0 + 10 * MIN, 'untrusted')).forward, { kind: 'untrusted', previous: 'trusted' });
  assert.equal(process(state, trustChange('esx-fra1-01', T0 + 11 * MIN, 'untrusted')).forward, undefined);
  assert.equal(process(state, trustChange('esx-fra1-01', T0 + 12 * MIN, 'trusted')).forward, undefined);
  assert.deepEqual(process(state, trustChange('esx-new-01', T0 + 13 * MIN, 'untrusted')).forward, { kind: 'untrusted', previous: 'unknown' });
});

test('a denied placement changes no state', () => {
  const { state } = trustedPool();
  const before = structuredClone(state);
  const result = process(state, decision(T0 + 4 * MIN, 'vm.migrate', HR, 'esx-par1-01', { source: 'esx-fra1-02', decision: 'deny' }));
  assert.deepEqual(result.changed, []);
  assert.equal(result.forward, undefined);
  assert.deepEqual(domainState(state), domainState(before), 'hosts and users unchanged (only the seen ids move)');
  assert.deepEqual(alertsOf(result), []);
  assert.equal(result.outputs[0]!.enrichment?.hostId, 'esx-par1-01');
});

test('a decision whose targetHost is not its host breaks the contract (its state would live in two partitions)', () => {
  assert.throws(
    () => decision(T0 + 4 * MIN, 'vm.place', WEB, 'esx-fra1-02', { envelopeHost: 'esx-fra1-01' }),
    (error: { issues?: Array<{ path: PropertyKey[] }> }) => {
      assert.deepEqual(
        error.issues?.map((issue) => issue.path.join('.')),
        ['payload.targetHost.id'],
      );
      return true;
    },
  );
});

test('a compliance assessment sets the host compliance, which enrichment then carries', () => {
  const state = freshState();
  const assessment = eventFixture('compliance.assessment');
  const result = process(state, canonical(assessment));
  assert.deepEqual(result.outputs[0]!.enrichment?.compliance, {
    templateId: 'vsphere8-scg-esxi',
    score: 80,
    maxScore: 100,
    compliant: false,
    assessedAt: assessment.time,
  });
  assert.deepEqual(result.changed, ['esx-fra1-07']);
});

test('a config snapshot records who the host is and nothing more', () => {
  const state = freshState();
  const snapshot = eventFixture('config.snapshot');
  const result = process(state, canonical(snapshot));
  const host = state.hosts.get('esx-fra1-07')!;
  assert.deepEqual({ ...snapshot.host, id: host.hostId }, { id: 'esx-fra1-07', name: host.name, ip: host.ip, pool: host.pool });
  assert.equal(host.trust.status, 'unknown');
  assert.deepEqual(alertsOf(result), []);
});

// ---- enrichment ----------------------------------------------------------------------------

test('enrichment of an event that already has one is overwritten', () => {
  const state = freshState();
  const stale = { ...trustChange('kvm-fra1-12', T0, 'trusted'), enrichment: eventFixture('trust.change').enrichment };
  const enrichment = process(state, stale).outputs[0]!.enrichment;
  assert.deepEqual(enrichment, {
    hostId: 'kvm-fra1-12',
    trust: { status: 'trusted', since: T0, attestationService: 'intel-secl-hvs', faultCount: 0 },
    assetTags: {},
  });
});

test('a decision about a VM that is no placement is enriched with the host the VM runs on', () => {
  const { state } = trustedPool();
  const powerOff = decision(T0 + 4 * MIN, 'vm.power_off', HR, 'esx-par1-01', { envelopeHost: 'esx-par1-01' });
  const result = process(state, powerOff);
  assert.equal(result.outputs[0]!.enrichment?.hostId, 'esx-fra1-02');
  assert.deepEqual(result.changed, []);
});

test('an admin action on a VM another partition holds is enriched with its host through locate', () => {
  const elsewhere = freshState();
  process(elsewhere, trustChange('kvm-ams1-01', T0, 'trusted', { country: 'NL' }));
  process(elsewhere, decision(T0 + MIN, 'vm.place', { id: 'vm-far' }, 'kvm-ams1-01'));
  const locate = locateIn(elsewhere);

  const { state } = trustedPool();
  const action = adminAction(T0 + 5 * MIN, 'esx-fra1-01', 'success', { target: { type: 'virtual-machine', id: 'vm-far' } });
  const enrichment = process(state, action, locate).outputs[0]!.enrichment;
  assert.equal(enrichment?.hostId, 'kvm-ams1-01');
  assert.deepEqual(enrichment?.geolocation, { country: 'NL' });
  // A VM nobody knows falls back to the event's host.
  const unknownVm = adminAction(T0 + 6 * MIN, 'esx-fra1-01', 'success', { target: { type: 'vm', id: 'vm-nowhere' } });
  assert.equal(process(state, unknownVm, locate).outputs[0]!.enrichment?.hostId, 'esx-fra1-01');
});

// ---- placement alerts ----------------------------------------------------------------------

test('a placement permitted onto an untrusted host raises placement.onto-untrusted-host', () => {
  const { state } = trustedPool();
  process(state, trustChange('esx-fra1-02', T0 + 10 * MIN, 'untrusted'));
  const placement = decision(T0 + 11 * MIN, 'vm.place', WEB, 'esx-fra1-02');
  const result = process(state, placement);
  assert.deepEqual(rulesOf(result), ['placement.onto-untrusted-host']);
  const [alert] = alertsOf(result);
  assert.equal(alert!.severity, 8);
  assert.equal(alert!.host.id, 'esx-fra1-02');
  assert.deepEqual(alert!.payload.relatedEventIds, [placement.id]);
  assert.equal(alert!.payload.details.trustStatus, 'untrusted');
});

test('a placement permitted onto a host of unknown trust raises the placement alert at a lower severity', () => {
  const { state } = trustedPool();
  const [alert] = alertsOf(process(state, decision(T0 + 11 * MIN, 'vm.place', WEB, 'esx-new-01')));
  assert.equal(alert!.payload.rule, 'placement.onto-untrusted-host');
  assert.equal(alert!.payload.details.trustStatus, 'unknown');
  assert.equal(alert!.severity, 6);
});

test('a power-on or a denied placement onto an untrusted host raises no placement alert', () => {
  const { state } = trustedPool();
  process(state, trustChange('esx-par1-01', T0 + 10 * MIN, 'untrusted'));
  assert.deepEqual(rulesOf(process(state, decision(T0 + 11 * MIN, 'vm.power_on', WEB, 'esx-par1-01'))), []);
  assert.deepEqual(rulesOf(process(state, decision(T0 + 12 * MIN, 'vm.place', HR, 'esx-par1-01', { decision: 'deny' }))), []);
});

test('a placement onto a host lacking the required asset tags raises placement.asset-tag-mismatch', () => {
  const { state } = trustedPool();
  const vm: Vm = { ...LEDGER, requiredTags: { country: 'DE', classification: 'pci', zone: 'a' } };
  const [alert, ...rest] = alertsOf(process(state, decision(T0 + 4 * MIN, 'vm.migrate', vm, 'esx-par1-01', { source: 'esx-fra1-01' })));
  assert.deepEqual(rest, []);
  assert.equal(alert!.payload.rule, 'placement.asset-tag-mismatch');
  assert.equal(alert!.severity, 7);
  assert.deepEqual(alert!.payload.details, {
    workload: LEDGER.id,
    workloadName: LEDGER.name,
    action: 'vm.migrate',
    decisionId: `dec-${T0 + 4 * MIN}`,
    policy: 'BoundaryControl-GeoFence-DE',
    tags: 'classification,country,zone',
    'expected.classification': 'pci',
    'expected.country': 'DE',
    'actual.country': 'FR',
    'expected.zone': 'a',
  });
});

test('a placement matching its required tags raises nothing', () => {
  const { state } = trustedPool();
  assert.deepEqual(rulesOf(process(state, decision(T0 + 4 * MIN, 'vm.migrate', LEDGER, 'esx-fra1-02', { source: 'esx-fra1-01' }))), []);
});

test('an untrusted target with mismatching tags raises both placement alerts, in rule order', () => {
  const { state } = trustedPool();
  process(state, trustChange('esx-par1-01', T0 + 10 * MIN, 'untrusted'));
  const result = process(state, decision(T0 + 11 * MIN, 'vm.place', LEDGER, 'esx-par1-01'));
  assert.equal(result.outputs[0]!.type, 'policy.decision');
  assert.deepEqual(rulesOf(result), ['placement.onto-untrusted-host', 'placement.asset-tag-mismatch']);
});

// ---- admin alerts --------------------------------------------------------------------------

test('an admin action succeeding on an untrusted host raises admin.success-on-untrusted-host', () => {
  const { state } = trustedPool();
  process(state, trustChange('esx-par1-01', T0 + 10 * MIN, 'untrusted'));
  const action = adminAction(T0 + 11 * MIN, 'esx-par1-01', 'success');
  const [alert, ...rest] = alertsOf(process(state, action));
  assert.deepEqual(rest, []);
  assert.equal(alert!.payload.rule, 'admin.success-on-untrusted-host');
  assert.equal(alert!.severity, 7);
  assert.deepEqual(alert!.payload.relatedEventIds, [action.id]);
  assert.equal(alert!.payload.details.faultCount, '2');
  // On a trusted host the same action is fine.
  assert.deepEqual(rulesOf(process(state, adminAction(T0 + 12 * MIN, 'esx-fra1-02', 'success'))), []);
});

test('an admin action on a VM is judged by the host the VM runs on, not the event host', () => {
  const { state } = trustedPool();
  process(state, trustChange('esx-fra1-02', T0 + 10 * MIN, 'untrusted'));
  // The gateway reports it under a trusted host; the HR VM runs on the untrusted fra1-02.
  const result = process(state, adminAction(T0 + 11 * MIN, 'esx-fra1-01', 'success', { target: { type: 'vm', id: HR.id } }));
  assert.equal(result.outputs[0]!.enrichment?.hostId, 'esx-fra1-02');
  const [alert] = alertsOf(result);
  assert.equal(alert!.payload.rule, 'admin.success-on-untrusted-host');
  assert.equal(alert!.host.id, 'esx-fra1-02');
  assert.equal(alert!.enrichment?.trust.status, 'untrusted');
});

test('a denied or failed admin action raises nothing in the processor: users are counted fleet-wide by the by-user stage', () => {
  const state = freshState();
  const results = [0, 1, 2, 3, 4].map((i) => process(state, adminAction(T0 + i * MIN, 'esx-fra1-01', i % 2 ? 'failed' : 'denied')));
  assert.deepEqual(results.map(rulesOf), [[], [], [], [], []]);
  assert.equal(byUserKey(results[0]!.outputs[0]!), 'jdoe');
  assert.equal(byUserKey(process(state, adminAction(T0 + 6 * MIN, 'esx-fra1-01', 'success')).outputs[0]!), undefined);
});

// ---- flapping ------------------------------------------------------------------------------

test('a host flapping between trusted and untrusted raises one alert at the threshold, not one per further flip', () => {
  const state = freshState();
  process(state, trustChange('esx-fra1-01', T0, 'trusted')); // unknown → trusted is no flip
  const statuses = ['untrusted', 'trusted', 'untrusted', 'trusted', 'untrusted', 'trusted'] as const;
  const results = statuses.map((status, i) => process(state, trustChange('esx-fra1-01', T0 + (i + 1) * MIN, status)));
  assert.deepEqual(results.map(rulesOf), [[], [], [], ['trust.flapping'], [], []]);
  const [alert] = alertsOf(results[3]!);
  assert.equal(alert!.payload.details.changes, '4');
  assert.equal(alert!.severity, 5);
});

test('flips spread wider than the flapping window raise nothing', () => {
  const state = freshState();
  process(state, trustChange('esx-fra1-01', T0, 'trusted'));
  const statuses = ['untrusted', 'trusted', 'untrusted', 'trusted', 'untrusted'] as const;
  const results = statuses.map((status, i) => process(state, trustChange('esx-fra1-01', T0 + (i + 1) * 25 * MIN, status)));
  assert.deepEqual(results.flatMap(rulesOf), []);
});

test('flapping raises again once threshold more flips gather after the alert', () => {
  const state = freshState();
  process(state, trustChange('esx-fra1-01', T0, 'trusted'));
  const flip = (i: number) => trustChange('esx-fra1-01', T0 + i * MIN, i % 2 ? 'untrusted' : 'trusted');
  const results = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => process(state, flip(i)));
  assert.deepEqual(results.map((r) => rulesOf(r).length), [0, 0, 0, 1, 0, 0, 0, 1]);
});

test('a flapping host turning untrusted raises the flapping alert and goes to the by-workload stage each time', () => {
  const state = freshState();
  process(state, decision(T0, 'vm.place', HR, 'esx-new-01'));
  // unknown → untrusted is no flip; the four flips after it are.
  const statuses = ['untrusted', 'trusted', 'untrusted', 'trusted', 'untrusted'] as const;
  const results = statuses.map((status, i) => process(state, trustChange('esx-new-01', T0 + (i + 1) * MIN, status)));
  assert.deepEqual(results.map(rulesOf), [[], [], [], [], ['trust.flapping']]);
  assert.deepEqual(results.map((result) => result.forward?.kind), ['untrusted', undefined, 'untrusted', undefined, 'untrusted']);
});

// ---- alert envelope, determinism -----------------------------------------------------------

test('an alert carries the trigger time, the processor as source, the host concerned and the tenant', () => {
  const { state } = trustedPool();
  process(state, trustChange('esx-fra1-01', T0 + 10 * MIN, 'untrusted'));
  const failing = decision(T0 + 11 * MIN, 'vm.place', WEB, 'esx-fra1-01');
  const [alert] = alertsOf(process(state, failing));
  assert.equal(alert!.time, failing.time);
  assert.equal(alert!.ingestTime, failing.ingestTime);
  assert.deepEqual(alert!.source, { system: 'trustwire', vendor: 'trustwire', product: 'trustwire-processor' });
  assert.deepEqual(alert!.host, hostOf('esx-fra1-01'));
  assert.equal(alert!.tenant, 'payments');
  assert.ok(EventId.safeParse(alert!.id).success);
  assert.equal(parseInt(alert!.id.replaceAll('-', '').slice(0, 12), 16), failing.time);
});

test('alert inputs are enriched and never raise alerts or change state', () => {
  const { state } = trustedPool();
  process(state, trustChange('esx-fra1-01', T0 + 10 * MIN, 'untrusted'));
  const before = structuredClone(state);
  const input = canonical({ ...eventFixture('alert'), host: hostOf('esx-fra1-01'), time: T0 + 11 * MIN });
  const result = process(state, input);
  assert.deepEqual(result.outputs.length, 1);
  assert.deepEqual(result.changed, []);
  assert.deepEqual(domainState(state), domainState(before), 'hosts and users unchanged (only the seen ids move)');
  assert.equal(result.outputs[0]!.enrichment?.trust.status, 'untrusted');
});

test('processing the same events twice from fresh state gives identical outputs, ids included', () => {
  const run = () => {
    const { state, steps } = trustedPool();
    const events = [
      decision(T0 + 4 * MIN, 'vm.migrate', HR, 'esx-fra1-01', { source: 'esx-fra1-02' }),
      trustChange('esx-fra1-01', T0 + 10 * MIN, 'untrusted'),
      decision(T0 + 11 * MIN, 'vm.place', LEDGER, 'esx-par1-01'),
      decision(T0 + 12 * MIN, 'vm.place', WEB, 'esx-fra1-01'),
      adminAction(T0 + 13 * MIN, 'esx-fra1-02', 'success', { target: { type: 'vm', id: HR.id } }),
      ...[14, 15, 16].map((m) => adminAction(T0 + m * MIN, 'esx-fra1-01', 'denied')),
    ];
    return [...steps, ...events.map((event) => process(state, event))];
  };
  const first = run();
  assert.deepEqual(first.flatMap(rulesOf), ['placement.asset-tag-mismatch', 'placement.onto-untrusted-host', 'admin.success-on-untrusted-host']);
  assert.deepEqual(run(), first);
});
