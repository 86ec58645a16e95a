import { z } from 'zod';
import { Name, Text, Timestamp } from '../model/primitives.js';

/**
 * An accepted deviation: a failing rule on one host, or on every host of a pool, that counts as
 * passed in `score` (never in `scoreWithoutWaivers`) until it expires. Every field is required:
 * a waiver nobody approved, or one that never ends, is not a waiver.
 */
export const Waiver = z.strictObject({
  ruleId: Name,
  /** Narrows the waiver to one template; absent: the rule id in any template. */
  templateId: Name.optional(),
  scope: z.union([z.strictObject({ hostId: Name }), z.strictObject({ pool: Name })], {
    error: 'must be {hostId: ...} or {pool: ...}',
  }),
  justification: Text.min(1),
  /** Epoch ms or RFC 3339; the waiver stops applying at this instant. */
  expiresAt: Timestamp,
  approvedBy: Name,
});
export type Waiver = z.output<typeof Waiver>;
export type WaiverInput = z.input<typeof Waiver>;

export interface WaiverMatch {
  /** The waiver in force, if one is. */
  active?: Waiver;
  /** The most recently expired waiver, when none is in force: the result says it was ignored. */
  expired?: Waiver;
}

/**
 * The waivers for a rule on a host. Among several in force, a host waiver wins over a pool one,
 * then the one that lasts longest: the narrowest, most durable decision is the one to show.
 */
export function findWaiver(
  waivers: readonly Waiver[],
  ruleId: string,
  templateId: string,
  host: { id: string; pool?: string | undefined },
  now: number,
): WaiverMatch {
  let active: Waiver | undefined;
  let expired: Waiver | undefined;
  for (const waiver of waivers) {
    if (waiver.ruleId !== ruleId) continue;
    if (waiver.templateId !== undefined && waiver.templateId !== templateId) continue;
    const scope = waiver.scope;
    const applies = 'hostId' in scope ? scope.hostId === host.id : host.pool !== undefined && scope.pool === host.pool;
    if (!applies) continue;
    if (waiver.expiresAt > now) {
      if (active === undefined || rank(waiver) > rank(active)) active = waiver;
    } else if (expired === undefined || waiver.expiresAt > expired.expiresAt) {
      expired = waiver;
    }
  }
  return active !== undefined ? { active } : expired !== undefined ? { expired } : {};
}

function rank(waiver: Waiver): number {
  // Host scope first (a larger offset than any epoch), then the later expiry.
  return ('hostId' in waiver.scope ? 1e15 : 0) + waiver.expiresAt;
}
