import { z } from 'zod';
import { ScoringModel } from './models.js';

/**
 * A hardening template as written in YAML under `templates/`, and the compiled form the scorer
 * uses (regexes compiled, service targets split out, weights resolved, evidence text rendered).
 * `templates/README.md` is the author's guide; this module is its single source of truth.
 */

export const OPERATORS = ['eq', 'neq', 'in', 'regex', 'min', 'max', 'range', 'exists', 'absent'] as const;
export const Operator = z.enum(OPERATORS, {
  error: (issue) => `unknown operator ${JSON.stringify(issue.input)}: expected one of ${OPERATORS.join(', ')}`,
});
export type Operator = z.infer<typeof Operator>;

/** DISA CAT I / II / III. */
export const Severity = z.enum(['high', 'medium', 'low']);
export type Severity = z.infer<typeof Severity>;

/**
 * XCCDF-style weights per severity: a CAT I finding weighs ten CAT III ones, a CAT II five.
 * XCCDF itself leaves weights to the benchmark (default 1.0); a rule may still set `weight`.
 */
export const SEVERITY_WEIGHTS: Readonly<Record<Severity, number>> = { high: 10, medium: 5, low: 1 };

/** What a rule may do when its setting (or service) is not in the snapshot at all. */
export const WhenMissing = z.enum(['fail', 'notchecked', 'pass']);
export type WhenMissing = z.infer<typeof WhenMissing>;

/** Service properties a rule can check through `setting: service:<name>`. */
export const ServiceProperty = z.enum(['running', 'startupPolicy']);
export type ServiceProperty = z.infer<typeof ServiceProperty>;
const STARTUP_POLICIES = ['on', 'off', 'automatic'] as const;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const DOTTED_VERSION = /^\d+(\.\d+)*$/;

/** A string field YAML might read as a number (`version: 1.10` is 1.1): refuse it, never coerce. */
function quotedString(what: string) {
  return z.string({
    error: (issue) =>
      typeof issue.input === 'number' || typeof issue.input === 'boolean'
        ? `must be a string, YAML read ${JSON.stringify(issue.input)}: quote the ${what}`
        : undefined,
  });
}

const TemplateId = z.string().max(128).regex(ID, 'must start with a letter or digit and hold only letters, digits, . _ : -');
const RuleId = TemplateId;
const VersionText = quotedString('version').regex(DOTTED_VERSION, 'must be a dotted version such as "8.0.3"');

/** A platform id (`esxi-8`, `linux-kvm`) with an optional inclusive version range. */
export const PlatformConstraint = z.strictObject({
  id: z.string().min(1).max(256),
  /** The host's version, zero-padded, must be at least this: `8.0.2` takes 8.0.2, 8.0.3, 8.1. */
  minVersion: VersionText.optional(),
  /** The host's version, cut to as many parts as this has, must be at most this: `8.0` takes every 8.0.x. */
  maxVersion: VersionText.optional(),
});
export type PlatformConstraint = z.infer<typeof PlatformConstraint>;

/** Where a rule comes from. CIS section numbers mean nothing without the benchmark and its version. */
export const Reference = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('stig'),
      id: z.string().regex(/^[A-Z][A-Z0-9]*-\d{2}-\d{6}$/, 'must be a STIG id such as ESXI-80-000005'),
      benchmark: z.string().min(1).optional(),
    }),
    z.strictObject({ type: z.literal('vuln'), id: z.string().regex(/^V-\d+$/, 'must be a DISA vulnerability id such as V-258728') }),
    z.strictObject({
      type: z.literal('cis'),
      id: quotedString('recommendation number').regex(/^\d+(\.\d+)*$/, 'must be a CIS recommendation number such as 3.3.8'),
      benchmark: z.string().min(1),
    }),
    z.strictObject({ type: z.literal('cci'), id: z.string().regex(/^CCI-\d{6}$/, 'must be a CCI id such as CCI-000044') }),
    z.strictObject({ type: z.literal('nist'), id: z.string().min(1).max(64) }),
    z.strictObject({ type: z.literal('url'), id: z.url() }),
  ],
  {
    error: (issue) => {
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return type === undefined ? 'required: type (stig, vuln, cis, cci, nist or url)' : `unknown reference type ${JSON.stringify(type)}: expected stig, vuln, cis, cci, nist or url`;
    },
  },
);
export type Reference = z.infer<typeof Reference>;

/** A scalar a rule may expect; lists appear only as `eq`/`neq` values and `in` sets. */
type Scalar = string | number | boolean;
/** What `expected` holds once checked against its operator. */
export type Expected = Scalar | readonly string[] | readonly Scalar[] | readonly [number, number] | undefined;

/** Where a rule reads its actual value. */
export type RuleTarget = { kind: 'setting'; name: string } | { kind: 'service'; name: string; property: ServiceProperty };

const RuleInput = z.strictObject({
  id: RuleId,
  title: z.string().min(1).max(1024),
  /** A key of `config.snapshot` settings, or `service:<name>` for a service's `property`. */
  setting: z.string().min(1).max(256),
  property: ServiceProperty.optional(),
  operator: Operator,
  expected: z.unknown().optional(),
  severity: Severity,
  /** Overrides the severity's weight. */
  weight: z.number().positive().finite().optional(),
  whenMissing: WhenMissing.optional(),
  rationale: z.string().min(1),
  remediation: z.string().min(1),
  references: z.array(Reference).max(64).default([]),
  /** Narrows the template's platforms for this rule; absent: the template's. */
  platforms: z.array(PlatformConstraint).min(1).max(16).optional(),
});

/** One rule, compiled. */
export const Rule = RuleInput.transform((input, ctx) => {
  let refused = false;
  const issue = (path: PropertyKey[], message: string) => {
    refused = true;
    ctx.addIssue({ code: 'custom', path, message, input });
  };
  const { operator } = input;

  let target: RuleTarget;
  if (input.setting.startsWith('service:')) {
    const name = input.setting.slice('service:'.length);
    if (name === '') issue(['setting'], 'service: needs a service name, e.g. service:TSM-SSH');
    target = { kind: 'service', name, property: input.property ?? 'running' };
  } else {
    if (input.property !== undefined) issue(['property'], 'only a service:<name> setting has a property');
    target = { kind: 'setting', name: input.setting };
  }

  if (input.whenMissing !== undefined && (operator === 'exists' || operator === 'absent')) {
    issue(['whenMissing'], `${operator} decides itself what a missing setting means; whenMissing does not apply`);
  }

  const problem = expectedProblem(operator, input.expected, target);
  if (problem !== undefined) issue(['expected'], problem);

  let regex: RegExp | undefined;
  if (operator === 'regex' && typeof input.expected === 'string') {
    try {
      regex = new RegExp(input.expected);
    } catch (error) {
      issue(['expected'], `invalid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
  }
  if (refused) return z.NEVER;

  const expected = input.expected as Expected;
  return {
    id: input.id,
    title: input.title,
    severity: input.severity,
    weight: input.weight ?? SEVERITY_WEIGHTS[input.severity],
    setting: input.setting,
    target,
    operator,
    expected,
    regex,
    whenMissing: input.whenMissing ?? ('fail' as WhenMissing),
    rationale: input.rationale,
    remediation: input.remediation,
    references: input.references,
    platforms: input.platforms,
    /** The evidence line a reviewer reads: `Security.AccountLockFailures eq 3`. */
    expectedText: describeExpectation(target, operator, expected),
  };
});
export type Rule = z.output<typeof Rule>;

/** Why `expected` does not fit the operator (and the target), or undefined when it does. */
function expectedProblem(operator: Operator, expected: unknown, target: RuleTarget): string | undefined {
  const kind = describeKind(expected);
  if (operator === 'exists' || operator === 'absent') {
    return expected === undefined ? undefined : `${operator} takes no expected value`;
  }
  if (expected === undefined) return `required for operator ${operator}`;

  if (target.kind === 'service') {
    if (!['eq', 'neq', 'in'].includes(operator)) return `a service's ${target.property} is checked with eq, neq, in, exists or absent, not ${operator}`;
    const fits = target.property === 'running' ? (v: unknown) => typeof v === 'boolean' : (v: unknown) => (STARTUP_POLICIES as readonly unknown[]).includes(v);
    const want = target.property === 'running' ? 'true or false' : STARTUP_POLICIES.join(', ');
    const values = operator === 'in' ? expected : [expected];
    if (!Array.isArray(values) || values.length === 0) return `in needs a non-empty list of ${want}`;
    const bad = values.find((v) => !fits(v));
    return bad === undefined ? undefined : `${target.property} is ${want}, not ${JSON.stringify(bad)}`;
  }

  switch (operator) {
    case 'eq':
    case 'neq':
      if (isScalar(expected)) return undefined;
      if (Array.isArray(expected) && expected.every((v) => typeof v === 'string')) return undefined;
      return `${operator} needs a string, number, boolean or list of strings, not ${kind}`;
    case 'in': {
      if (!Array.isArray(expected) || expected.length === 0) return `in needs a non-empty list, not ${kind}`;
      if (!expected.every(isScalar)) return 'in needs a list of strings, numbers or booleans';
      const types = new Set(expected.map((v) => typeof v));
      return types.size === 1 ? undefined : 'in needs members of one type (all strings, all numbers or all booleans)';
    }
    case 'regex':
      return typeof expected === 'string' ? undefined : `regex needs a pattern string, not ${kind}`;
    case 'min':
    case 'max':
      return typeof expected === 'number' && Number.isFinite(expected) ? undefined : `${operator} needs a number, not ${kind}`;
    case 'range': {
      const ok = Array.isArray(expected) && expected.length === 2 && expected.every((v) => typeof v === 'number' && Number.isFinite(v));
      if (!ok) return `range needs [low, high] (two numbers), not ${kind}`;
      const [low, high] = expected as [number, number];
      return low <= high ? undefined : `range low ${low} is above high ${high}`;
    }
  }
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean';
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list (${JSON.stringify(value).slice(0, 80)})`;
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}

/** `Security.AccountLockFailures eq 3`, `service TSM-SSH running eq false`, `X range 1..600`. */
function describeExpectation(target: RuleTarget, operator: Operator, expected: Expected): string {
  const subject = target.kind === 'service' ? `service ${target.name} ${target.property}` : target.name;
  switch (operator) {
    case 'exists':
    case 'absent':
      return `${subject} ${operator}`;
    case 'range': {
      const [low, high] = expected as readonly [number, number];
      return `${subject} range ${low}..${high}`;
    }
    default:
      return `${subject} ${operator} ${renderValue(expected as Scalar | readonly Scalar[])}`;
  }
}

/**
 * A value as evidence text: strings as they are (quoted only when empty or padded, so that
 * `""` and `" x"` stay visible), lists in brackets.
 */
export function renderValue(value: Scalar | readonly Scalar[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => renderValue(v as Scalar)).join(', ')}]`;
  if (typeof value === 'string') return value === '' || value.trim() !== value ? JSON.stringify(value) : value;
  return String(value);
}

/** A template file. */
export const Template = z
  .strictObject({
    id: TemplateId,
    version: quotedString('version').min(1).max(64),
    title: z.string().min(1).max(1024),
    description: z.string().optional(),
    /** The public documents the rules come from. */
    sources: z.array(z.string().min(1)).default([]),
    /** Which hosts the template applies to. */
    platforms: z.array(PlatformConstraint).min(1).max(16),
    /** Percent of the scoring model's maximum below which the host is not compliant (an alert is due). */
    threshold: z.number().min(0).max(100),
    /** The scoring model the template recommends (XCCDF `<model>`); assess() may choose another. */
    scoringModel: ScoringModel.optional(),
    rules: z.array(Rule).min(1).max(2048),
  })
  .transform((template, ctx) => {
    const ids = new Set(template.platforms.map((p) => p.id));
    template.rules.forEach((rule, index) => {
      rule.platforms?.forEach((platform, p) => {
        if (!ids.has(platform.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', index, 'platforms', p, 'id'],
            message: `${platform.id} is not one of the template's platforms (${[...ids].join(', ')}): the rule could never apply`,
            input: platform,
          });
        }
      });
    });
    return template;
  });
export type Template = z.output<typeof Template>;
