import type { z } from 'zod';
import type { ConfigSnapshot, ServiceState } from '../model/payloads.js';
import { renderValue, type Rule } from './template.js';

type SnapshotPayload = z.output<typeof ConfigSnapshot>;
type Service = z.output<typeof ServiceState>;
type Scalar = string | number | boolean;
/** A value as a collector reports it: a setting's value or a service property. */
type Actual = Scalar | readonly string[];

/** What one rule found on one host, before waivers. */
export interface Verdict {
  result: 'pass' | 'fail' | 'error' | 'notchecked';
  /** The value found, as evidence text; absent when nothing was found. */
  actual?: string;
  message?: string;
}

/** The snapshot, indexed once per assessment. */
export interface SnapshotView {
  settings: SnapshotPayload['settings'];
  services: ReadonlyMap<string, Service>;
}

export function viewOf(snapshot: SnapshotPayload): SnapshotView {
  return { settings: snapshot.settings, services: new Map(snapshot.services.map((s) => [s.name, s])) };
}

/**
 * Checks one rule. Missing and empty are told apart: `exists` passes on a value that is present
 * and not empty ("" or []), `absent` on one that is missing or empty; every other operator needs
 * the value, and a missing one gives the rule's `whenMissing` (fail unless the template says
 * otherwise). A value of a type the operator cannot compare is an `error`, never a `fail`.
 */
export function checkRule(rule: Rule, view: SnapshotView): Verdict {
  const actual = actualValue(rule, view);
  const subject = rule.target.kind === 'service' ? `service ${rule.target.name}` : rule.target.name;
  const notFound =
    rule.target.kind === 'service'
      ? view.services.has(rule.target.name)
        ? `service ${rule.target.name} has no ${rule.target.property} in the snapshot`
        : `service ${rule.target.name} is not in the snapshot`
      : `${subject} is not in the snapshot`;

  if (rule.operator === 'exists' || rule.operator === 'absent') {
    const empty = actual !== undefined && isEmpty(actual);
    const present = actual !== undefined && !empty;
    const pass = rule.operator === 'exists' ? present : !present;
    const note = actual === undefined ? notFound : empty ? `${subject} is empty` : undefined;
    return withNote({ result: pass ? 'pass' : 'fail', actual: actual === undefined ? undefined : renderValue(actual) }, note);
  }

  if (actual === undefined) {
    switch (rule.whenMissing) {
      case 'fail':
        return { result: 'fail', message: notFound };
      case 'notchecked':
        return { result: 'notchecked', message: `${notFound}; the template leaves it unchecked when not collected` };
      case 'pass':
        return { result: 'pass', message: `${notFound}; the template accepts its absence` };
    }
  }

  const shown = renderValue(actual);
  const verdict = compare(rule, actual, subject);
  return withNote({ result: verdict.result, actual: shown }, verdict.message);
}

function withNote(verdict: Verdict, message: string | undefined): Verdict {
  return message === undefined ? verdict : { ...verdict, message };
}

function actualValue(rule: Rule, view: SnapshotView): Actual | undefined {
  const { target } = rule;
  if (target.kind === 'setting') return Object.hasOwn(view.settings, target.name) ? view.settings[target.name] : undefined;
  const service = view.services.get(target.name);
  return service?.[target.property];
}

function isEmpty(value: Actual): boolean {
  return value === '' || (Array.isArray(value) && value.length === 0);
}

type Outcome = { result: 'pass' | 'fail' | 'error'; message?: string };

function compare(rule: Rule, actual: Actual, subject: string): Outcome {
  const expected = rule.expected;
  const mismatch = (want: string): Outcome => ({
    result: 'error',
    message: `${subject} is ${kindOf(actual)}; ${rule.operator} needs ${want}`,
  });

  switch (rule.operator) {
    case 'eq':
    case 'neq': {
      const want = expected as Scalar | readonly string[];
      if (kindOf(actual) !== kindOf(want)) return mismatch(kindOf(want));
      const same = equal(actual, want);
      return { result: same === (rule.operator === 'eq') ? 'pass' : 'fail' };
    }
    case 'in': {
      const members = expected as readonly Scalar[];
      const memberKind = kindOf(members[0] as Scalar);
      if (Array.isArray(actual)) {
        if (memberKind !== 'a string') return mismatch(memberKind);
        const outside = actual.filter((value) => !members.includes(value));
        return outside.length === 0 ? { result: 'pass' } : { result: 'fail', message: `not allowed: ${renderValue(outside)}` };
      }
      if (kindOf(actual) !== memberKind) return mismatch(memberKind);
      return { result: members.includes(actual as Scalar) ? 'pass' : 'fail' };
    }
    case 'regex':
      if (typeof actual !== 'string') return mismatch('a string');
      return { result: (rule.regex as RegExp).test(actual) ? 'pass' : 'fail' };
    case 'min':
    case 'max':
    case 'range': {
      if (typeof actual !== 'number') return mismatch('a number');
      const [low, high] =
        rule.operator === 'min' ? [expected as number, Infinity] : rule.operator === 'max' ? [-Infinity, expected as number] : (expected as [number, number]);
      if (actual < low) return { result: 'fail', message: `${actual} is below ${low}` };
      if (actual > high) return { result: 'fail', message: `${actual} is above ${high}` };
      return { result: 'pass' };
    }
    default:
      throw new Error(`unreachable: operator ${rule.operator}`);
  }
}

function kindOf(value: Actual): string {
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** Lists compare as sets: a collector's order (NTP servers, ciphers) carries no meaning. */
function equal(a: Actual, b: Actual): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const left = new Set(a);
    const right = new Set(b);
    return left.size === right.size && [...left].every((v) => right.has(v));
  }
  return a === b;
}
