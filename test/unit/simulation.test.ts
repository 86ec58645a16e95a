import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadTemplates } from '../../src/compliance/load.js';
import { SimulationSettings, startSimulation, type SimulationStats } from '../../src/embedded/simulation.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent } from '../../src/model/avro.js';
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import { ProcessorRules } from '../../src/processor/state.js';
import { inMemoryPipeline } from '../helpers/stages-in-memory.js';
import { eventually } from '../helpers/eventually.js';
import { FUZZ_TOKEN, ingestServer } from '../helpers/ingest-server.js';

const TOKEN = FUZZ_TOKEN;
const T0 = Date.UTC(2026, 10, 26, 17, 0, 0);

/** The real server and ingest routes (auth, adapters, validation), listening, Kafka replaced by a recording producer. */
async function ingestService() {
  const server = await ingestServer();
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return { url, events: (): CanonicalEvent[] => server.producer.sent.map((record) => decodeEvent(record.value)), close: () => server.close() };
}

/** A clock that moves a second with every request, so a run of a few hundred requests spans minutes of event time. */
function clockedFetch(answer: (url: string, init: RequestInit) => Promise<Response>) {
  const calls: { url: string; body: string; status: number; at: number }[] = [];
  let clock = T0;
  const fetchAndTick = (async (input: string | URL | Request, init?: RequestInit) => {
    clock += 1000;
    const response = await answer(String(input), init!);
    calls.push({ url: String(input), body: String(init!.body), status: response.status, at: performance.now() });
    return response;
  }) as typeof fetch;
  return { fetch: fetchAndTick, now: () => clock, calls };
}

const until = (condition: () => boolean, what: string) => eventually(condition, what, 20_000, 5);

const settings = (overrides: Partial<SimulationSettings> = {}) => SimulationSettings.parse({ tickMs: 1, seed: 7, ...overrides });
const total = (stats: SimulationStats, field: keyof SimulationStats['admin.action']) => Object.values(stats).reduce((sum, counts) => sum + counts[field], 0);
const accepted = () => new Response(JSON.stringify({ accepted: 1, ids: [] }), { status: 202, headers: { 'content-type': 'application/json' } });

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

test('the defaults play three pools of four hosts, switchable off', () => {
  const defaults = SimulationSettings.parse({});
  assert.equal(defaults.enabled, true);
  assert.deepEqual(defaults.pools, ['tcp-gold-fra1', 'tcp-silver-fra1', 'general-fra1']);
  assert.equal(defaults.hostsPerPool, 4);
  assert.equal(defaults.compromiseEveryMs, 60_000);
  assert.equal(SimulationSettings.parse({ enabled: false }).enabled, false);
  assert.equal(SimulationSettings.safeParse({ pools: ['Gold Pool'] }).success, false);
  assert.equal(SimulationSettings.safeParse({ pools: ['a', 'a'] }).success, false);
  assert.equal(SimulationSettings.safeParse({ tickMs: 1000, extra: true }).success, false);
  for (const [name, field] of Object.entries(SimulationSettings.shape)) assert.ok(field.description, `${name} has a description`);
});

test('a seeded run through the real ingest is accepted whole and tells the whole story, alerts included', async () => {
  const service = await ingestService();
  const clock = clockedFetch((url, init) => fetch(url, init));
  const simulation = startSimulation({ url: service.url, token: TOKEN, settings: settings(), logger: silentLogger, fetch: clock.fetch, now: clock.now });
  try {
    await until(() => clock.calls.length >= 600, '600 requests');
  } finally {
    await simulation.stop();
    await service.close();
  }

  const refused = clock.calls.filter((call) => call.status >= 400);
  assert.deepEqual(refused.slice(0, 3), [], 'every document is accepted');
  const stats = simulation.stats();
  assert.equal(total(stats, 'refused') + total(stats, 'failed') + total(stats, 'retried'), 0);
  const events = service.events();
  // The request stop() aborted may have been ingested all the same.
  assert.ok(events.length - total(stats, 'posted') <= 1, `${events.length} ingested, ${total(stats, 'posted')} answered`);
  const ofType = <T extends CanonicalEvent['type']>(type: T) => events.filter((event): event is EventOf<T> => event.type === type);

  // The baseline: every host attests trusted with its asset tags, reports its configuration, and gets VMs.
  const baseline = events.slice(0, 12 + 12 + 18);
  const attested = baseline.filter((event): event is EventOf<'trust.change'> => event.type === 'trust.change');
  assert.equal(attested.length, 12);
  assert.ok(attested.every((event) => event.payload.status === 'trusted' && event.payload.attestationService === 'intel-secl-hvs'));
  assert.ok(attested.every((event) => event.payload.assetTags.country === 'DE' && event.payload.assetTags.classification !== undefined));
  const hosts = new Set(attested.map((event) => event.host.id));
  assert.equal(hosts.size, 12);
  const snapshots = baseline.filter((event): event is EventOf<'config.snapshot'> => event.type === 'config.snapshot');
  assert.deepEqual(new Set(snapshots.map((event) => event.host.id)), hosts);
  assert.deepEqual(new Set(snapshots.map((event) => event.payload.platform)), new Set(['esxi-8', 'linux-kvm']));
  const placed = baseline.filter((event): event is EventOf<'policy.decision'> => event.type === 'policy.decision');
  assert.equal(placed.length, 18);
  assert.ok(placed.every((event) => event.payload.action === 'vm.place' && event.payload.decision === 'permit' && hosts.has(event.host.id)));
  assert.ok(placed.some((event) => event.payload.resource.labels.includes('sensitive') && event.payload.trustRequirement === 'trusted'));

  // Then what happens in a pool.
  const decisions = ofType('policy.decision');
  assert.ok(decisions.every((event) => event.host.id === event.payload.targetHost?.id), 'a decision is reported by its target host');
  assert.ok(decisions.some((event) => event.payload.action === 'vm.migrate' && event.payload.decision === 'deny'), 'a denied migration');
  assert.ok(decisions.some((event) => event.payload.action === 'vm.migrate' && event.payload.decision === 'permit'), 'a permitted migration');
  const actions = ofType('admin.action');
  assert.ok(actions.some((event) => event.payload.outcome === 'denied'), 'a denied admin action');
  assert.ok(actions.some((event) => event.payload.outcome === 'failed' && event.payload.error !== undefined), 'a failed admin action');
  assert.ok(actions.some((event) => event.payload.outcome === 'success'), 'a successful admin action');
  assert.ok(ofType('config.snapshot').length > snapshots.length, 'snapshots after the baseline');

  // The compromise: the measured launch no longer matches.
  const untrusted = ofType('trust.change').filter((event) => event.payload.status === 'untrusted');
  const hvsFailures = untrusted.filter((event) => event.payload.attestationService === 'intel-secl-hvs');
  assert.ok(hvsFailures.length > 0, 'a host fails HVS attestation');
  for (const event of hvsFailures) {
    const faults = event.payload.flavors.flatMap((flavor) => flavor.faults.map((fault) => ({ ...fault, kind: flavor.kind })));
    assert.deepEqual(faults.map((fault) => [fault.kind, fault.pcrIndex, fault.pcrBank]), [['OS', 17, 'SHA256'], ['OS', 18, 'SHA256']]);
    for (const fault of faults) {
      assert.match(fault.expected!, /^[0-9a-f]{64}$/);
      assert.match(fault.actual!, /^[0-9a-f]{64}$/);
      assert.notEqual(fault.expected, fault.actual);
    }
  }
  const keylime = untrusted.filter((event) => event.payload.attestationService === 'keylime');
  assert.ok(keylime.length > 0, 'Keylime reports a KVM host');
  assert.equal(keylime[0]!.payload.flavors[0]!.faults[0]!.pcrIndex, 17);
  assert.ok(hosts.has(keylime[0]!.host.id), 'Keylime and HVS name the host alike');
  const reimaged = ofType('trust.change').filter((event) => event.payload.status === 'trusted' && untrusted.some((u) => u.host.id === event.host.id && u.time < event.time));
  assert.ok(reimaged.length > 0, 'a compromised host attests trusted again');

  // The processor, as the service runs it, raises the alerts the story is about and scores the snapshots differently.
  const compliance = { templates: loadTemplates(), waivers: [] };
  // As the pipeline runs it: the processor per host, then the by-user and by-workload stages for what it forwards.
  const pipeline = inMemoryPipeline(ProcessorRules.parse({}), compliance);
  const outputs = events.flatMap((event) => pipeline.process(event));
  const alerts = outputs.filter((event): event is EventOf<'alert'> => event.type === 'alert');
  const sensitive = alerts.filter((alert) => alert.payload.rule === 'trust.sensitive-workload-on-untrusted-host');
  assert.ok(sensitive.length > 0, 'a sensitive VM on a compromised host');
  assert.match(sensitive[0]!.payload.details.faults!, /PCR 17/);
  const denials = alerts.filter((alert) => alert.payload.rule === 'admin.repeated-denials');
  assert.ok(denials.some((alert) => alert.payload.details.user === 'mallory'), 'mallory is denied again and again');
  const assessments = outputs.filter((event): event is EventOf<'compliance.assessment'> => event.type === 'compliance.assessment');
  assert.deepEqual(new Set(assessments.map((event) => event.payload.compliant)), new Set([true, false]), 'some hosts compliant, some not');
  assert.ok(!alerts.some((alert) => alert.payload.rule === 'placement.asset-tag-mismatch'), 'the policy never lets a sensitive VM onto the wrong tags');
});

test('a seed repeats the run', async () => {
  const run = async () => {
    const clock = clockedFetch(async () => accepted());
    const simulation = startSimulation({ url: 'http://simulated', token: TOKEN, settings: settings({ seed: 42 }), logger: silentLogger, fetch: clock.fetch, now: clock.now });
    await until(() => clock.calls.length >= 60, '60 requests');
    await simulation.stop();
    return clock.calls.slice(0, 60).map((call) => [call.url, call.body]);
  };
  assert.deepEqual(await run(), await run());
});

test('a 503 or 429 is sent again, the same document, after Retry-After', async () => {
  let answered = 0;
  const clock = clockedFetch(async () => {
    answered += 1;
    if (answered === 1) return new Response('{"error":"Kafka did not acknowledge"}', { status: 503, headers: { 'retry-after': '0' } });
    if (answered === 2) return new Response('{"error":"over the rate"}', { status: 429, headers: { 'retry-after': '1' } });
    return accepted();
  });
  const simulation = startSimulation({ url: 'http://simulated/', token: TOKEN, settings: settings(), logger: silentLogger, fetch: clock.fetch, now: clock.now });
  await until(() => clock.calls.length >= 4, 'the baseline resent');
  await simulation.stop();
  const [first, second, third] = clock.calls;
  assert.equal(first!.url, 'http://simulated/v1/adapters/intel-secl-hvs');
  assert.equal(second!.body, first!.body);
  assert.equal(third!.body, first!.body);
  assert.ok(third!.at - second!.at >= 900, `waited ${Math.round(third!.at - second!.at)} ms of Retry-After: 1`);
  assert.deepEqual(simulation.stats()['intel-secl-hvs'], { posted: 12, refused: 0, failed: 0, retried: 24 });
});

test('a refusal is counted, logged once per kind, and the simulation goes on', async () => {
  const { logger, lines } = capturingLogger();
  const clock = clockedFetch(async () =>
    new Response(JSON.stringify({ error: 'invalid event', details: [{ path: 'payload.outcome', message: 'Invalid option' }] }), { status: 400 }),
  );
  const simulation = startSimulation({ url: 'http://simulated', token: TOKEN, settings: settings(), logger, fetch: clock.fetch, now: clock.now });
  await until(() => clock.calls.length >= 200, '200 requests');
  await simulation.stop();
  const stats = simulation.stats();
  const refusedKinds = Object.entries(stats).filter(([, counts]) => counts.refused > 0).map(([kind]) => kind);
  assert.equal(refusedKinds.length, 5, 'every kind was sent and refused');
  const logged = lines.filter((line) => line.level === 50 && String(line.msg).includes('refused'));
  assert.deepEqual(logged.map((line) => line.kind).sort(), [...refusedKinds].sort());
  assert.deepEqual(logged[0]!.details, [{ path: 'payload.outcome', message: 'Invalid option' }]);
});

test('stop() ends the run at once, whether it waits for a Retry-After or for an answer', async () => {
  const busy = clockedFetch(async () => new Response('{"error":"busy"}', { status: 503, headers: { 'retry-after': '3600' } }));
  const waiting = startSimulation({ url: 'http://simulated', token: TOKEN, settings: settings(), logger: silentLogger, fetch: busy.fetch, now: busy.now });
  await until(() => busy.calls.length >= 1, 'the first answer');

  let aborted = false;
  let asked = false;
  const silent = clockedFetch((_url, init) => {
    asked = true;
    return new Promise<Response>((_resolve, reject) =>
      init.signal!.addEventListener('abort', () => {
        aborted = true;
        reject(init.signal!.reason);
      }),
    );
  });
  const hanging = startSimulation({ url: 'http://simulated', token: TOKEN, settings: settings(), logger: silentLogger, fetch: silent.fetch, now: silent.now });
  await until(() => asked, 'a request in flight, unanswered');

  const started = performance.now();
  await Promise.all([waiting.stop(), hanging.stop()]);
  assert.ok(performance.now() - started < 500, 'stopped promptly');
  assert.ok(aborted, 'the request in flight was aborted');
  assert.equal(busy.calls.length, 1, 'nothing sent after stop');
  // Nothing is left behind: were a timer left, this file would not end.
});
