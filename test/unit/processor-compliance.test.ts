import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadTemplates } from '../../src/compliance/load.js';
import { CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { processEvent, type ComplianceSettings, type PartitionState } from '../../src/processor/logic.js';
import { ProcessorRules } from '../../src/processor/state.js';

const rules = ProcessorRules.parse({});
const compliance: ComplianceSettings = { templates: loadTemplates(), waivers: [] };
const snapshot = (name: string, time: number): EventOf<'config.snapshot'> => {
  const event = JSON.parse(readFileSync(new URL(`../fixtures/compliance/${name}.json`, import.meta.url), 'utf8'));
  // One host throughout, whichever fixture it reports.
  return CanonicalEvent.parse({ ...event, host: { id: 'esx-fra1-19', name: 'esx-fra1-19.dc.example.net', pool: 'tcp-gold-fra1' }, id: `019ac1a2-${String(time % 10000).padStart(4, '0')}-7000-8000-000000000001`, time, ingestTime: time }) as EventOf<'config.snapshot'>;
};
const fresh = (): PartitionState => ({ hosts: new Map(), seen: new Map() });
const kinds = (outputs: CanonicalEvent[]) => outputs.map((o) => (o.type === 'alert' ? `alert:${o.payload.rule}` : o.type));

test('a snapshot yields its assessment against each applicable template, then the alert when it falls below the threshold', () => {
  const state = fresh();
  const { outputs } = processEvent(snapshot('esxi-8-default-install', 1_000), state, rules, undefined, compliance);
  assert.deepEqual(kinds(outputs), ['config.snapshot', 'compliance.assessment', 'alert:compliance.below-threshold']);
  const assessment = outputs[1] as EventOf<'compliance.assessment'>;
  assert.equal(assessment.payload.templateId, 'esxi-8-stig');
  assert.equal(assessment.payload.snapshotEventId, outputs[0]!.id);
  assert.equal(assessment.payload.compliant, false);
  assert.deepEqual(
    { pass: assessment.payload.counts.pass, fail: assessment.payload.counts.fail },
    { pass: 19, fail: 24 },
  );
  assert.equal(outputs[0]!.enrichment?.compliance?.score, assessment.payload.score, 'the snapshot is enriched with its own score');
  for (const output of outputs) assert.ok(CanonicalEvent.safeParse(output).success);
});

test('hardening the host clears the alert condition; weakening it again raises both compliance alerts', () => {
  const state = fresh();
  processEvent(snapshot('esxi-8-default-install', 1_000), state, rules, undefined, compliance);
  const hardened = processEvent(snapshot('esxi-8-hardened', 2_000), state, rules, undefined, compliance);
  assert.deepEqual(kinds(hardened.outputs), ['config.snapshot', 'compliance.assessment']);
  const better = hardened.outputs[1] as EventOf<'compliance.assessment'>;
  assert.equal(better.payload.compliant, true);
  assert.ok(better.payload.drift!.newlyPassing.length >= 20);

  // The default install, and someone let community-supported VIBs in (a CAT I rule).
  const worse = snapshot('esxi-8-default-install', 3_000);
  const weakened = processEvent(
    { ...worse, payload: { ...worse.payload, settings: { ...worse.payload.settings, 'software.acceptance.level': 'CommunitySupported' } } },
    state,
    rules,
    undefined,
    compliance,
  );
  const rulesRaised = kinds(weakened.outputs).filter((k) => k.startsWith('alert:'));
  assert.deepEqual(rulesRaised.sort(), ['alert:compliance.below-threshold', 'alert:compliance.high-severity-regression']);
  const regression = weakened.outputs.find((o) => o.type === 'alert' && o.payload.rule === 'compliance.high-severity-regression') as EventOf<'alert'>;
  assert.match(regression.payload.details.evidence!, /expected .*, actual /);
});

test('a second snapshot that is still below the threshold raises no new threshold alert', () => {
  const state = fresh();
  processEvent(snapshot('esxi-8-default-install', 1_000), state, rules, undefined, compliance);
  const again = processEvent(snapshot('esxi-8-default-install', 2_000), state, rules, undefined, compliance);
  assert.deepEqual(kinds(again.outputs), ['config.snapshot', 'compliance.assessment']);
});

test('an untrusted host is never reported compliant, however hardened', () => {
  const state = fresh();
  const hardened = snapshot('esxi-8-hardened', 2_000);
  const base = JSON.parse(readFileSync(new URL('../../src/kit/events/trust.change.json', import.meta.url), 'utf8'));
  processEvent(CanonicalEvent.parse({ ...base, host: hardened.host, time: 1_000, ingestTime: 1_000, enrichment: undefined }), state, rules);
  const { outputs } = processEvent(hardened, state, rules, undefined, compliance);
  const assessment = outputs[1] as EventOf<'compliance.assessment'>;
  assert.equal(assessment.payload.compliant, false);
  assert.deepEqual(assessment.payload.trustGate, { applied: true, trustStatus: 'untrusted' });
  assert.equal(assessment.severity, 7);
});

test('the same snapshot processed twice from the same state gives the same assessment id', () => {
  const a = processEvent(snapshot('esxi-8-default-install', 1_000), fresh(), rules, undefined, compliance);
  const b = processEvent(snapshot('esxi-8-default-install', 1_000), fresh(), rules, undefined, compliance);
  assert.deepEqual(
    a.outputs.map((o) => o.id),
    b.outputs.map((o) => o.id),
  );
});
