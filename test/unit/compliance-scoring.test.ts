import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assess, meetsThreshold, parseTemplate, scoreRules, Waiver, type AssessOptions, type WaiverInput } from '../../src/compliance/index.js';
import { CanonicalEvent, type EventOf } from '../../src/model/events.js';
import { ComplianceAssessment } from '../../src/model/payloads.js';

/**
 * Six rules, one of each kind of outcome on the base snapshot below:
 *
 *   rule  severity  weight  base snapshot                  result
 *   a     high      10      a: 1                           pass
 *   b     medium     5      b: 0                           fail
 *   c     medium     5      c: "1" (a string, not 1)       error
 *   d     low        1      d: 1                           pass
 *   e     medium     5      (rule needs test-os ≥ 2.0)     notapplicable  (host runs 1.0)
 *   f     low        1      (missing; whenMissing: notchecked)  notchecked
 */
const TEMPLATE = parseTemplate(`
id: score-test
version: "2"
title: Scoring test
platforms: [{ id: test-os }]
threshold: 80
rules:
  - { id: a, title: A, setting: a, operator: eq, expected: 1, severity: high, rationale: r, remediation: m }
  - { id: b, title: B, setting: b, operator: eq, expected: 1, severity: medium, rationale: r, remediation: m }
  - { id: c, title: C, setting: c, operator: eq, expected: 1, severity: medium, rationale: r, remediation: m }
  - { id: d, title: D, setting: d, operator: eq, expected: 1, severity: low, rationale: r, remediation: m }
  - { id: e, title: E, setting: e, operator: eq, expected: 1, severity: medium, rationale: r, remediation: m, platforms: [{ id: test-os, minVersion: "2.0" }] }
  - { id: f, title: F, setting: f, operator: eq, expected: 1, severity: low, rationale: r, remediation: m, whenMissing: notchecked }
`);

type Settings = EventOf<'config.snapshot'>['payload']['settings'];
const BASE: Settings = { a: 1, b: 0, c: '1', d: 1 };
const NOW = Date.UTC(2025, 2, 24, 12, 0, 0);
const DAY = 86_400_000;

function snapshot(settings: Settings, host: { id: string; pool?: string } = { id: 'h1', pool: 'p1' }, platform = 'test-os'): EventOf<'config.snapshot'> {
  return {
    id: '0195a2c4-1e00-7a31-9c4e-2f6d8b1a0f02',
    type: 'config.snapshot',
    time: NOW,
    ingestTime: NOW,
    source: { system: 'config-collector', vendor: 'trustwire', product: 'test' },
    host,
    severity: 1,
    payload: { platform, platformVersion: '1.0', collectedAt: NOW, settings, services: [] },
  };
}

function run(settings: Settings, options: Partial<AssessOptions> = {}, host?: { id: string; pool?: string }) {
  return assess(snapshot(settings, host), TEMPLATE, { trustStatus: 'trusted', now: NOW, ...options });
}

function waiver(input: Partial<WaiverInput> = {}): Waiver {
  return Waiver.parse({
    ruleId: 'b',
    scope: { hostId: 'h1' },
    justification: 'Change CHG0042117: b is being migrated',
    expiresAt: NOW + DAY,
    approvedBy: 'ciso-office@corp.example.net',
    ...input,
  });
}

const scores = (a: ReturnType<typeof run>) => ({ score: a.score, maxScore: a.maxScore, scoreWithoutWaivers: a.scoreWithoutWaivers, compliant: a.compliant });

describe('which results count', () => {
  it('gives each rule its result and counts them', () => {
    const a = run(BASE);
    assert.deepEqual(
      a.results.map((r) => [r.ruleId, r.result]),
      [
        ['a', 'pass'],
        ['b', 'fail'],
        ['c', 'error'],
        ['d', 'pass'],
        ['e', 'notapplicable'],
        ['f', 'notchecked'],
      ],
    );
    assert.deepEqual(a.counts, { pass: 2, fail: 1, error: 1, notapplicable: 1, notchecked: 1, waived: 0 });
  });

  it('explains notapplicable and notchecked results', () => {
    const a = run(BASE);
    assert.equal(a.results[4]!.message, 'applies to test-os ≥ 2.0; the host is test-os 1.0');
    assert.equal(a.results[5]!.message, 'f is not in the snapshot; the template leaves it unchecked when not collected');
  });

  it('counts pass, fail and error (an error scoring as a failure) and leaves notapplicable and notchecked out', () => {
    // Counted: a (10, pass), b (5, fail), c (5, error), d (1, pass). e and f are out.
    const scored = [
      { result: 'pass', weight: 10, waived: false },
      { result: 'fail', weight: 5, waived: false },
      { result: 'error', weight: 5, waived: false },
      { result: 'pass', weight: 1, waived: false },
      { result: 'notapplicable', weight: 5, waived: false },
      { result: 'notchecked', weight: 1, waived: false },
    ] as const;
    // flat: s = 10 + 1 = 11, m = 10 + 5 + 5 + 1 = 21
    assert.deepEqual(scoreRules('urn:xccdf:scoring:flat', scored, true), { score: 11, maxScore: 21, numerator: 11, denominator: 21 });
  });
});

describe('scoring models, by hand', () => {
  it('default: 100 × Σw(pass) / Σw(counted) = 100 × 11 / 21 = 52.38', () => {
    // 1100 / 21 = 52.380952... → 52.38
    assert.deepEqual(scores(run(BASE)), { score: 52.38, maxScore: 100, scoreWithoutWaivers: 52.38, compliant: false });
    assert.equal(run(BASE).scoringModel, 'urn:xccdf:scoring:default');
  });

  it('flat: Σw(pass) = 10 + 1 = 11 of Σw(counted) = 21', () => {
    const a = run(BASE, { model: 'urn:xccdf:scoring:flat' });
    assert.deepEqual(scores(a), { score: 11, maxScore: 21, scoreWithoutWaivers: 11, compliant: false });
    assert.equal(a.scoringModel, 'urn:xccdf:scoring:flat');
  });

  it('flat-unweighted: 2 passed (a, d) of 4 counted (a, b, c, d)', () => {
    assert.deepEqual(scores(run(BASE, { model: 'flat-unweighted' })), { score: 2, maxScore: 4, scoreWithoutWaivers: 2, compliant: false });
  });

  it('absolute: 0 of 1, since b failed and c erred', () => {
    assert.deepEqual(scores(run(BASE, { model: 'absolute' })), { score: 0, maxScore: 1, scoreWithoutWaivers: 0, compliant: false });
  });

  it('every model gives full marks when every counted rule passes', () => {
    // Counted: a 10, b 5, c 5, d 1, f 1 (now present) = 22, all passing.
    const all = { a: 1, b: 1, c: 1, d: 1, f: 1 };
    assert.deepEqual(scores(run(all)), { score: 100, maxScore: 100, scoreWithoutWaivers: 100, compliant: true });
    assert.deepEqual(scores(run(all, { model: 'flat' })), { score: 22, maxScore: 22, scoreWithoutWaivers: 22, compliant: true });
    assert.deepEqual(scores(run(all, { model: 'flat-unweighted' })), { score: 5, maxScore: 5, scoreWithoutWaivers: 5, compliant: true });
    assert.deepEqual(scores(run(all, { model: 'absolute' })), { score: 1, maxScore: 1, scoreWithoutWaivers: 1, compliant: true });
  });

  it('all failing: default 0 of 100, flat 0 of 22, flat-unweighted 0 of 5, absolute 0 of 1', () => {
    const none = { a: 0, b: 0, c: 0, d: 0, f: 0 };
    assert.deepEqual(scores(run(none)), { score: 0, maxScore: 100, scoreWithoutWaivers: 0, compliant: false });
    assert.deepEqual(scores(run(none, { model: 'flat' })), { score: 0, maxScore: 22, scoreWithoutWaivers: 0, compliant: false });
    assert.deepEqual(scores(run(none, { model: 'flat-unweighted' })), { score: 0, maxScore: 5, scoreWithoutWaivers: 0, compliant: false });
    assert.deepEqual(scores(run(none, { model: 'absolute' })), { score: 0, maxScore: 1, scoreWithoutWaivers: 0, compliant: false });
  });

  it('errors score as failures: only c erring gives default 100 × (22 − 5) / 22 = 77.27', () => {
    // a, b, d, f pass (10 + 5 + 1 + 1 = 17); c is a string: error. 1700 / 22 = 77.2727... → 77.27
    const a = run({ a: 1, b: 1, c: 'one', d: 1, f: 1 });
    assert.deepEqual(a.counts, { pass: 4, fail: 0, error: 1, notapplicable: 1, notchecked: 0, waived: 0 });
    assert.deepEqual(scores(a), { score: 77.27, maxScore: 100, scoreWithoutWaivers: 77.27, compliant: false });
    assert.equal(run({ a: 1, b: 1, c: 'one', d: 1, f: 1 }, { model: 'absolute' }).score, 0);
  });

  it('uses the model the template recommends when none is asked for', () => {
    const flat = parseTemplate(`
id: flat-test
version: "1"
title: T
platforms: [{ id: test-os }]
threshold: 50
scoringModel: flat
rules:
  - { id: a, title: A, setting: a, operator: eq, expected: 1, severity: high, rationale: r, remediation: m }
`);
    const a = assess(snapshot({ a: 1 }), flat, { trustStatus: 'trusted', now: NOW });
    assert.equal(a.scoringModel, 'urn:xccdf:scoring:flat');
    assert.deepEqual([a.score, a.maxScore], [10, 10]);
  });
});

describe('nothing applicable', () => {
  const elsewhere = (model?: AssessOptions['model']) =>
    assess(snapshot(BASE, { id: 'h9' }, 'other-os'), TEMPLATE, { trustStatus: 'trusted', now: NOW, ...(model ? { model } : {}) });

  it('makes every rule notapplicable on a platform the template does not cover', () => {
    const a = elsewhere();
    assert.deepEqual(a.counts, { pass: 0, fail: 0, error: 0, notapplicable: 6, notchecked: 0, waived: 0 });
    assert.equal(a.results[0]!.message, 'applies to test-os; the host is other-os 1.0');
  });

  it('default: 0 of 100 (no rule counted, nothing to average)', () => {
    assert.deepEqual(scores(elsewhere()), { score: 0, maxScore: 100, scoreWithoutWaivers: 0, compliant: false });
  });

  it('flat and flat-unweighted: 0 of 0, not compliant', () => {
    assert.deepEqual(scores(elsewhere('flat')), { score: 0, maxScore: 0, scoreWithoutWaivers: 0, compliant: false });
    assert.deepEqual(scores(elsewhere('flat-unweighted')), { score: 0, maxScore: 0, scoreWithoutWaivers: 0, compliant: false });
  });

  it('absolute: 0, where the spec (s = m = 0) would give 1: no evidence is not compliance', () => {
    assert.deepEqual(scores(elsewhere('absolute')), { score: 0, maxScore: 1, scoreWithoutWaivers: 0, compliant: false });
  });
});

describe('waivers', () => {
  it('count a waived failure as passed in score and as failed in scoreWithoutWaivers', () => {
    // default with b waived: 100 × (10 + 5 + 1) / 21 = 1600 / 21 = 76.190... → 76.19; without: 52.38
    const a = run(BASE, { waivers: [waiver()] });
    assert.deepEqual(scores(a), { score: 76.19, maxScore: 100, scoreWithoutWaivers: 52.38, compliant: false });
    assert.deepEqual(a.counts, { pass: 2, fail: 1, error: 1, notapplicable: 1, notchecked: 1, waived: 1 });
  });

  it('show the waiver on the failing result, which stays a fail', () => {
    const b = run(BASE, { waivers: [waiver()] }).results[1]!;
    assert.equal(b.result, 'fail');
    assert.deepEqual(b.waiver, {
      justification: 'Change CHG0042117: b is being migrated',
      expiresAt: NOW + DAY,
      approvedBy: 'ciso-office@corp.example.net',
    });
    assert.equal(b.message, 'waived until 2025-03-25T12:00:00.000Z');
  });

  it('apply under every model', () => {
    // flat: 10 + 5 + 1 = 16 of 21 (11 without); flat-unweighted: 3 of 4 (2 without); absolute: c still errs, 0.
    assert.deepEqual(scores(run(BASE, { waivers: [waiver()], model: 'flat' })), { score: 16, maxScore: 21, scoreWithoutWaivers: 11, compliant: false });
    assert.deepEqual(scores(run(BASE, { waivers: [waiver()], model: 'flat-unweighted' })), { score: 3, maxScore: 4, scoreWithoutWaivers: 2, compliant: false });
    assert.deepEqual(scores(run(BASE, { waivers: [waiver()], model: 'absolute' })), { score: 0, maxScore: 1, scoreWithoutWaivers: 0, compliant: false });
  });

  it('can make a host compliant: with c fixed, 100 with the waiver, 76.19 without', () => {
    // c fixed (c: 1): counted a 10, b 5 (waived), c 5, d 1 = 21. With: 21 / 21; without: 16 / 21 = 76.19.
    const a = run({ ...BASE, c: 1 }, { waivers: [waiver()] });
    assert.deepEqual(scores(a), { score: 100, maxScore: 100, scoreWithoutWaivers: 76.19, compliant: true });
    assert.deepEqual(scores(run({ ...BASE, c: 1 }, { waivers: [waiver()], model: 'absolute' })), { score: 1, maxScore: 1, scoreWithoutWaivers: 0, compliant: true });
  });

  it('ignore an expired waiver, and say so on the result', () => {
    const expired = waiver({ expiresAt: NOW - DAY });
    const a = run(BASE, { waivers: [expired] });
    assert.deepEqual(scores(a), { score: 52.38, maxScore: 100, scoreWithoutWaivers: 52.38, compliant: false });
    assert.equal(a.counts.waived, 0);
    assert.equal(a.results[1]!.waiver, undefined);
    assert.equal(
      a.results[1]!.message,
      'waiver expired 2025-03-23T12:00:00.000Z (approved by ciso-office@corp.example.net: Change CHG0042117: b is being migrated); ignored',
    );
  });

  it('expire at the instant given: a waiver expiring now is no longer in force', () => {
    assert.equal(run(BASE, { waivers: [waiver({ expiresAt: NOW })] }).counts.waived, 0);
    assert.equal(run(BASE, { waivers: [waiver({ expiresAt: NOW + 1 })] }).counts.waived, 1);
  });

  it('do not cover an error: a waiver accepts a known failure, not an unevaluated rule', () => {
    const a = run(BASE, { waivers: [waiver({ ruleId: 'c' })] });
    assert.equal(a.counts.waived, 0);
    assert.equal(a.score, 52.38);
    assert.equal(a.results[2]!.message, 'c is a string; eq needs a number; waiver not applied: a waiver accepts a known failure, and this rule could not be evaluated');
  });

  it('apply to every host of a pool, and only to that pool', () => {
    const pool = waiver({ scope: { pool: 'p1' } });
    assert.equal(run(BASE, { waivers: [pool] }, { id: 'h2', pool: 'p1' }).counts.waived, 1);
    assert.equal(run(BASE, { waivers: [pool] }, { id: 'h3', pool: 'p2' }).counts.waived, 0);
    assert.equal(run(BASE, { waivers: [pool] }, { id: 'h4' }).counts.waived, 0);
  });

  it('apply to the host named only', () => {
    assert.equal(run(BASE, { waivers: [waiver()] }, { id: 'h2', pool: 'p1' }).counts.waived, 0);
  });

  it('prefer a host waiver over a pool waiver', () => {
    const pool = waiver({ scope: { pool: 'p1' }, justification: 'pool-wide', expiresAt: NOW + 30 * DAY });
    const host = waiver({ justification: 'this host' });
    assert.equal(run(BASE, { waivers: [pool, host] }).results[1]!.waiver?.justification, 'this host');
  });

  it('for another template do not apply', () => {
    assert.equal(run(BASE, { waivers: [waiver({ templateId: 'esxi-8-stig' })] }).counts.waived, 0);
    assert.equal(run(BASE, { waivers: [waiver({ templateId: 'score-test' })] }).counts.waived, 1);
  });

  it('are refused without an expiry or an approver, and take RFC 3339 times', () => {
    assert.throws(() => Waiver.parse({ ruleId: 'b', scope: { hostId: 'h1' }, justification: 'x', approvedBy: 'y' }));
    assert.throws(() => Waiver.parse({ ruleId: 'b', scope: { hostId: 'h1' }, justification: 'x', expiresAt: NOW }));
    assert.throws(() => Waiver.parse({ ruleId: 'b', scope: {}, justification: 'x', expiresAt: NOW, approvedBy: 'y' }));
    assert.equal(waiver({ expiresAt: '2025-03-25T12:00:00Z' }).expiresAt, NOW + DAY);
  });
});

describe('the trust gate', () => {
  const all = { a: 1, b: 1, c: 1, d: 1, f: 1 };

  it('never reports an untrusted host compliant, whatever its settings', () => {
    const a = run(all, { trustStatus: 'untrusted' });
    assert.deepEqual(scores(a), { score: 100, maxScore: 100, scoreWithoutWaivers: 100, compliant: false });
    assert.deepEqual(a.trustGate, { applied: true, trustStatus: 'untrusted' });
  });

  it('holds under every model', () => {
    for (const model of ['flat', 'flat-unweighted', 'absolute'] as const) assert.equal(run(all, { trustStatus: 'untrusted', model }).compliant, false);
  });

  it('is not applied to trusted hosts or to hosts not yet attested', () => {
    assert.deepEqual(run(all).trustGate, { applied: false, trustStatus: 'trusted' });
    const unknown = run(all, { trustStatus: 'unknown' });
    assert.deepEqual(unknown.trustGate, { applied: false, trustStatus: 'unknown' });
    assert.equal(unknown.compliant, true);
  });
});

describe('the threshold', () => {
  it('is met at exactly the threshold, compared on the exact fraction', () => {
    // 100 × 4 / 5 = 80 ≥ 80; 100 × 7 / 9 = 77.78 < 80; nothing counted is never compliant.
    assert.equal(meetsThreshold({ score: 80, maxScore: 100, numerator: 4, denominator: 5 }, 80), true);
    assert.equal(meetsThreshold({ score: 77.78, maxScore: 100, numerator: 7, denominator: 9 }, 80), false);
    assert.equal(meetsThreshold({ score: 0, maxScore: 0, numerator: 0, denominator: 0 }, 0), false);
  });

  it('is a percentage of the model maximum, the same verdict under default and flat', () => {
    const exact = parseTemplate(`
id: threshold-test
version: "1"
title: T
platforms: [{ id: test-os }]
threshold: 80
rules:
  - { id: x, title: X, setting: x, operator: eq, expected: 1, severity: medium, weight: 4, rationale: r, remediation: m }
  - { id: y, title: Y, setting: y, operator: eq, expected: 1, severity: medium, weight: 1, rationale: r, remediation: m }
`);
    // x passes (4), y fails (1): default 100 × 4 / 5 = 80; flat 4 of 5 = 80 %.
    const at = (model: AssessOptions['model']) => assess(snapshot({ x: 1, y: 0 }), exact, { trustStatus: 'trusted', now: NOW, model });
    assert.deepEqual([at('default').score, at('default').compliant], [80, true]);
    assert.deepEqual([at('flat').score, at('flat').maxScore, at('flat').compliant], [4, 5, true]);
  });
});

describe('drift', () => {
  // Before: a 0 (fail), b 1, c 1, d 1, f 1 (pass). Counted 22, passed 12: 100 × 12 / 22 = 54.55.
  const previous = run({ a: 0, b: 1, c: 1, d: 1, f: 1 });

  it('names the rules newly failing (fail or error) and newly passing, with the previous score', () => {
    assert.equal(previous.score, 54.55);
    // Now: a pass (was fail), b fail (was pass), c error (was pass), f notchecked (was pass: neither).
    assert.deepEqual(run(BASE, { previous }).drift, { previousScore: 54.55, newlyFailing: ['b', 'c'], newlyPassing: ['a'] });
  });

  it('counts a waived failure as failing: a waiver changes the score, not the host', () => {
    assert.deepEqual(run(BASE, { previous, waivers: [waiver()] }).drift?.newlyFailing, ['b', 'c']);
  });

  it('leaves the previous score out when it was computed under another model', () => {
    assert.deepEqual(run(BASE, { previous, model: 'flat' }).drift, { newlyFailing: ['b', 'c'], newlyPassing: ['a'] });
  });

  it('is absent without a previous assessment, or when that was of another template', () => {
    assert.equal(run(BASE).drift, undefined);
    assert.equal(run(BASE, { previous: { ...previous, templateId: 'esxi-8-stig' } }).drift, undefined);
  });

  it('is empty when nothing changed', () => {
    assert.deepEqual(run(BASE, { previous: run(BASE) }).drift, { previousScore: 52.38, newlyFailing: [], newlyPassing: [] });
  });
});

describe('the assessment payload', () => {
  it('holds to the compliance.assessment contract', () => {
    const payload = run(BASE, { waivers: [waiver(), waiver({ ruleId: 'a', expiresAt: NOW - DAY })], previous: run({ a: 0, b: 1, c: 1, d: 1, f: 1 }) });
    assert.deepEqual(ComplianceAssessment.parse(payload), payload);
    const event = CanonicalEvent.parse({
      id: '0195a2c4-1e00-7a31-9c4e-2f6d8b1a0f03',
      type: 'compliance.assessment',
      time: NOW,
      ingestTime: NOW,
      source: { system: 'processor', vendor: 'trustwire', product: 'trustwire' },
      host: { id: 'h1', pool: 'p1' },
      severity: 6,
      payload,
    });
    assert.equal(event.type, 'compliance.assessment');
  });

  it('names the template, its version and the snapshot scored', () => {
    const a = run(BASE);
    assert.deepEqual([a.templateId, a.templateVersion, a.snapshotEventId], ['score-test', '2', '0195a2c4-1e00-7a31-9c4e-2f6d8b1a0f02']);
  });

  it('carries expected and actual values as evidence text', () => {
    const [a, b, c] = run(BASE).results;
    assert.deepEqual(a, { ruleId: 'a', title: 'A', severity: 'high', result: 'pass', expected: 'a eq 1', actual: '1' });
    assert.deepEqual(b, { ruleId: 'b', title: 'B', severity: 'medium', result: 'fail', expected: 'b eq 1', actual: '0' });
    assert.deepEqual(c, { ruleId: 'c', title: 'C', severity: 'medium', result: 'error', expected: 'c eq 1', actual: '1', message: 'c is a string; eq needs a number' });
  });

  it('clips evidence to the contract limit of 4096 characters', () => {
    const long = 'x'.repeat(5000);
    const actual = run({ ...BASE, b: long }).results[1]!.actual!;
    assert.equal(actual.length, 4096);
    assert.ok(actual.endsWith('…'));
  });

  it('refuses an unknown scoring model', () => {
    assert.throws(() => run(BASE, { model: 'best' as AssessOptions['model'] }), /unknown scoring model "best"/);
  });
});
