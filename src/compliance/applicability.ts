import type { z } from 'zod';
import type { ConfigSnapshot } from '../model/payloads.js';
import type { PlatformConstraint, Template } from './template.js';

type SnapshotPayload = z.output<typeof ConfigSnapshot>;

/** `8.0.3 build-24022510` → [8, 0, 3]; undefined when the text does not start with a version. */
export function parseVersion(text: string | undefined): number[] | undefined {
  const match = text === undefined ? null : /^\s*v?(\d+(?:\.\d+)*)/i.exec(text);
  return match?.[1] === undefined ? undefined : match[1].split('.').map(Number);
}

/**
 * Whether a host on `platform` (`platformVersion` as its collector reported it) falls under one
 * of the constraints. A constraint with a version bound never matches a host whose version is
 * unknown: a rule for 8.0.3 is not applied to a host that may be older.
 */
export function matchesPlatform(constraints: readonly PlatformConstraint[], platform: string, platformVersion: string | undefined): boolean {
  return constraints.some((constraint) => constraint.id === platform && versionWithin(constraint, platformVersion));
}

function versionWithin(constraint: PlatformConstraint, platformVersion: string | undefined): boolean {
  if (constraint.minVersion === undefined && constraint.maxVersion === undefined) return true;
  const version = parseVersion(platformVersion);
  if (version === undefined) return false;
  if (constraint.minVersion !== undefined && compare(version, parseVersion(constraint.minVersion) ?? []) < 0) return false;
  if (constraint.maxVersion !== undefined) {
    const max = parseVersion(constraint.maxVersion) ?? [];
    // `maxVersion: 8.0.2` takes 8.0.2 and its patch builds (8.0.2.1): compare as many parts as the bound has.
    if (compare(version.slice(0, max.length), max) > 0) return false;
  }
  return true;
}

/** Compares dotted versions part by part, a missing part counting as 0. */
function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The templates whose platforms take the snapshot's host, in the order given. */
export function applicableTemplates<T extends Pick<Template, 'platforms'>>(snapshot: { payload: SnapshotPayload }, templates: readonly T[]): T[] {
  const { platform, platformVersion } = snapshot.payload;
  return templates.filter((template) => matchesPlatform(template.platforms, platform, platformVersion));
}

/** `esxi-8 ≥ 8.0.3`, `esxi-8 8.0.0..8.0.2`, `linux-kvm`: for notapplicable messages. */
export function describeConstraints(constraints: readonly PlatformConstraint[]): string {
  return constraints
    .map((c) => {
      if (c.minVersion !== undefined && c.maxVersion !== undefined) return `${c.id} ${c.minVersion}..${c.maxVersion}`;
      if (c.minVersion !== undefined) return `${c.id} ≥ ${c.minVersion}`;
      if (c.maxVersion !== undefined) return `${c.id} ≤ ${c.maxVersion}`;
      return c.id;
    })
    .join(' or ');
}
