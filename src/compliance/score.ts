import type { z } from 'zod';
import type { EventOf } from '../model/events.js';
import type { ComplianceAssessment, RuleResult, RuleResultKind } from '../model/payloads.js';
import type { TrustStatus } from '../model/primitives.js';
import { describeConstraints, matchesPlatform } from './applicability.js';
import { checkRule, viewOf } from './check.js';
import { DEFAULT_SCORING_MODEL, resolveScoringModel, type ScoringModelId, type ScoringModelName } from './models.js';
import type { Template } from './template.js';
import { findWaiver, type Waiver } from './waivers.js';

export type AssessmentPayload = z.output<typeof ComplianceAssessment>;
type RuleResultPayload = z.output<typeof RuleResult>;
type ResultKind = z.output<typeof RuleResultKind>;

/** One rule's result as the scoring models see it. */
export interface ScoredRule {
  result: ResultKind;
  weight: number;
  /** A failure covered by a waiver in force. */
  waived: boolean;
}

export interface Score {
  score: number;
  maxScore: number;
  /**
   * score / maxScore as an exact fraction (numerator, denominator), so that the threshold is
   * compared without rounding: 100 × numerator ≥ threshold × denominator. denominator 0: nothing
   * was counted.
   */
  numerator: number;
  denominator: number;
}

/**
 * Results that count, per XCCDF 1.2 (NISTIR 7275 r4, 7.3.2, Tables 40 and 41): every result
 * except notapplicable, notchecked, informational and notselected. Of the results trustwire
 * produces, pass, fail and error count; an error scores as a failure (only pass scores).
 */
const COUNTED: ReadonlySet<ResultKind> = new Set(['pass', 'fail', 'error']);

/**
 * Scores rule results under one model. `withWaivers` makes a waived failure count as a pass.
 *
 * - default (7.3.2.2): a flat rule list is one Group level, so the score is the weighted mean of
 *   rule scores (100 or 0): 100 × Σw(passed) / Σw(counted); maximum 100. Nothing counted: 0.
 * - flat (7.3.2.3): Σw(passed), maximum Σw(counted).
 * - flat-unweighted (7.3.2.4): passed, maximum counted (every positive weight taken as 1).
 * - absolute (7.3.2.5): 1 when every counted rule passed, else 0; maximum 1. The spec gives 1
 *   when nothing was counted (s = m = 0); trustwire gives 0: no evidence is not compliance.
 */
export function scoreRules(model: ScoringModelId, rules: readonly ScoredRule[], withWaivers: boolean): Score {
  let weight = 0;
  let passedWeight = 0;
  let count = 0;
  let passed = 0;
  for (const rule of rules) {
    if (!COUNTED.has(rule.result)) continue;
    const pass = rule.result === 'pass' || (withWaivers && rule.waived && rule.result === 'fail');
    weight += rule.weight;
    count += 1;
    if (pass) {
      passedWeight += rule.weight;
      passed += 1;
    }
  }
  switch (model) {
    case 'urn:xccdf:scoring:default':
      return { score: weight === 0 ? 0 : (100 * passedWeight) / weight, maxScore: 100, numerator: passedWeight, denominator: weight };
    case 'urn:xccdf:scoring:flat':
      return { score: passedWeight, maxScore: weight, numerator: passedWeight, denominator: weight };
    case 'urn:xccdf:scoring:flat-unweighted':
      return { score: passed, maxScore: count, numerator: passed, denominator: count };
    case 'urn:xccdf:scoring:absolute': {
      const all = count > 0 && passed === count ? 1 : 0;
      return { score: all, maxScore: 1, numerator: all, denominator: count > 0 ? 1 : 0 };
    }
  }
}

/** Whether a score reaches a threshold given in percent of the model's maximum; never when nothing counted. */
export function meetsThreshold(score: Score, thresholdPercent: number): boolean {
  return score.denominator > 0 && 100 * score.numerator >= thresholdPercent * score.denominator;
}

/** What drift needs of an earlier assessment; a full AssessmentPayload is one. */
export interface PreviousAssessment {
  templateId: string;
  scoringModel: string;
  score: number;
  compliant: boolean;
  results: ReadonlyArray<{ ruleId: string; result: AssessmentPayload['results'][number]['result'] }>;
}

export interface AssessOptions {
  /** URI or short name; absent: the template's recommendation, else the XCCDF default model. */
  model?: ScoringModelName;
  waivers?: readonly Waiver[];
  /** The host's trust status from attestation; `untrusted` is never reported compliant. */
  trustStatus: TrustStatus;
  /** The host's previous assessment against the same template, for drift (only what drift reads). */
  previous?: PreviousAssessment;
  /** Epoch ms; decides which waivers are in force. */
  now: number;
}

const TEXT_MAX = 4096;

/**
 * Scores one config snapshot against one template: the `compliance.assessment` payload.
 *
 * `compliant` = the trust gate is not applied and score ≥ threshold % of the model's maximum
 * (with at least one rule counted). A template that does not apply to the snapshot's platform
 * gives every rule `notapplicable`, hence not compliant.
 */
export function assess(snapshot: EventOf<'config.snapshot'>, template: Template, options: AssessOptions): AssessmentPayload {
  const model = chooseModel(options.model, template);
  const { platform, platformVersion } = snapshot.payload;
  const templateApplies = matchesPlatform(template.platforms, platform, platformVersion);
  const view = viewOf(snapshot.payload);
  const waivers = options.waivers ?? [];
  const hostText = platformVersion === undefined ? platform : `${platform} ${platformVersion}`;

  const results: RuleResultPayload[] = [];
  const scored: ScoredRule[] = [];
  for (const rule of template.rules) {
    const base = { ruleId: rule.id, title: clip(rule.title), severity: rule.severity, expected: clip(rule.expectedText) };
    const constraints = rule.platforms ?? template.platforms;
    if (!templateApplies || !matchesPlatform(constraints, platform, platformVersion)) {
      const message = `applies to ${describeConstraints(constraints)}; the host is ${hostText}`;
      results.push({ ...base, result: 'notapplicable', message: clip(message) });
      scored.push({ result: 'notapplicable', weight: rule.weight, waived: false });
      continue;
    }

    const verdict = checkRule(rule, view);
    const result: RuleResultPayload = { ...base, result: verdict.result };
    if (verdict.actual !== undefined) result.actual = clip(verdict.actual);
    const notes: string[] = verdict.message === undefined ? [] : [verdict.message];

    let waived = false;
    if (verdict.result !== 'pass') {
      const match = findWaiver(waivers, rule.id, template.id, snapshot.host, options.now);
      if (match.active !== undefined && verdict.result === 'fail') {
        waived = true;
        const w = match.active;
        result.waiver = { justification: clip(w.justification), expiresAt: w.expiresAt, approvedBy: w.approvedBy };
        notes.push(`waived until ${new Date(w.expiresAt).toISOString()}`);
      } else if (match.active !== undefined) {
        notes.push(`waiver not applied: a waiver accepts a known failure, and this rule could not be evaluated`);
      } else if (match.expired !== undefined) {
        const w = match.expired;
        notes.push(`waiver expired ${new Date(w.expiresAt).toISOString()} (approved by ${w.approvedBy}: ${w.justification}); ignored`);
      }
    }
    if (notes.length > 0) result.message = clip(notes.join('; '));
    results.push(result);
    scored.push({ result: verdict.result, weight: rule.weight, waived });
  }

  const withWaivers = scoreRules(model, scored, true);
  const withoutWaivers = scoreRules(model, scored, false);
  const gated = options.trustStatus === 'untrusted';

  const payload: AssessmentPayload = {
    templateId: template.id,
    templateVersion: template.version,
    scoringModel: model,
    score: round(withWaivers.score),
    maxScore: round(withWaivers.maxScore),
    scoreWithoutWaivers: round(withoutWaivers.score),
    compliant: !gated && meetsThreshold(withWaivers, template.threshold),
    counts: countResults(scored),
    results,
    snapshotEventId: snapshot.id,
    trustGate: { applied: gated, trustStatus: options.trustStatus },
  };
  const drift = driftFrom(options.previous, template.id, model, results);
  if (drift !== undefined) payload.drift = drift;
  return payload;
}

function chooseModel(requested: ScoringModelName | undefined, template: Template): ScoringModelId {
  if (requested === undefined) return template.scoringModel ?? DEFAULT_SCORING_MODEL;
  const model = resolveScoringModel(requested);
  if (model === undefined) throw new TypeError(`unknown scoring model ${JSON.stringify(requested)}`);
  return model;
}

function countResults(rules: readonly ScoredRule[]): AssessmentPayload['counts'] {
  const counts = { pass: 0, fail: 0, error: 0, notapplicable: 0, notchecked: 0, waived: 0 };
  for (const rule of rules) {
    counts[rule.result] += 1;
    if (rule.waived) counts.waived += 1;
  }
  return counts;
}

const FAILING: ReadonlySet<ResultKind> = new Set(['fail', 'error']);

/**
 * Drift against the previous assessment of the same template. Failing is fail or error,
 * waived or not (a waiver changes the score, not what the host does). A rule is newly failing
 * when it fails now and did not before (including a rule the previous assessment lacked);
 * newly passing when it passes now and failed before. The previous score is given only when it
 * was computed under the same model.
 */
function driftFrom(
  previous: PreviousAssessment | undefined,
  templateId: string,
  model: ScoringModelId,
  results: readonly RuleResultPayload[],
): AssessmentPayload['drift'] {
  if (previous === undefined || previous.templateId !== templateId) return undefined;
  const before = new Map(previous.results.map((r) => [r.ruleId, r.result]));
  const newlyFailing: string[] = [];
  const newlyPassing: string[] = [];
  for (const { ruleId, result } of results) {
    const was = before.get(ruleId);
    const wasFailing = was !== undefined && FAILING.has(was);
    if (FAILING.has(result) && !wasFailing) newlyFailing.push(ruleId);
    if (result === 'pass' && wasFailing) newlyPassing.push(ruleId);
  }
  const drift: NonNullable<AssessmentPayload['drift']> = { newlyFailing, newlyPassing };
  if (resolveScoringModel(previous.scoringModel) === model) drift.previousScore = previous.score;
  return drift;
}

/** Scores are reported to 2 decimals; the compliance verdict is taken on the exact fraction. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function clip(text: string): string {
  return text.length <= TEXT_MAX ? text : `${text.slice(0, TEXT_MAX - 1)}…`;
}

/** What scoring needs: the hardening templates, the waivers in force, the scoring model. */
export interface ComplianceSettings {
  templates: readonly Template[];
  waivers: readonly Waiver[];
  model?: ScoringModelName;
}
