import { isIP } from 'node:net';
import { z } from 'zod';
import { codePoint, controlCharacterAt, quoted } from './validation.js';

/** Trust verdict of a host, as the attestation service reports it. */
export const TrustStatus = z.enum(['trusted', 'untrusted', 'unknown']);
export type TrustStatus = z.infer<typeof TrustStatus>;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

/** Event id: stable through the whole pipeline so a SIEM can de-duplicate on it. */
export const EventId = z
  .string()
  .refine((value) => UUID_V7.test(value) || ULID.test(value), { message: 'must be a UUIDv7 or a ULID' });

// RFC 3339 with an explicit offset: a timestamp without a zone is ambiguous across a fleet.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/i;
const MAX_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Epoch milliseconds of an RFC 3339 date-time with a zone, or NaN. `Date.parse` rolls an
 * impossible date over (`2024-02-30` is March 1st): the fields must come back as written.
 */
export function rfc3339Millis(text: string): number {
  const match = RFC3339.exec(text);
  if (match === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const wall = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    wall.getUTCFullYear() !== year ||
    wall.getUTCMonth() !== month - 1 ||
    wall.getUTCDate() !== day ||
    wall.getUTCHours() !== hour ||
    wall.getUTCMinutes() !== minute ||
    wall.getUTCSeconds() !== second ||
    (match[9] !== undefined && (Number(match[9]) > 23 || Number(match[10]) > 59))
  ) {
    return Number.NaN;
  }
  return Date.parse(text);
}

/**
 * A point in time. At the edges it may be epoch milliseconds or an RFC 3339 string with a
 * zone; inside the pipeline it is always epoch milliseconds.
 */
export const Timestamp = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : rfc3339Millis(value);
  if (Number.isInteger(ms) && ms >= 0 && ms <= MAX_EPOCH_MS) return ms;
  ctx.addIssue({
    code: 'custom',
    message: `must be epoch milliseconds (a non-negative integer) or an RFC 3339 date-time with a zone that exists, got ${typeof value === 'string' ? quoted(value) : value}`,
  });
  return z.NEVER;
});

/** Epoch milliseconds, as stored in canonical events. */
export const EpochMillis = z.number().int().nonnegative();

export const IpAddress = z.string().refine((value) => isIP(value) !== 0, { message: 'must be an IPv4 or IPv6 address' });

/** A zod check refusing C0, DEL and C1 characters: they hide in a table and forge lines in a log. */
export function refuseControlCharacters(ctx: z.core.ParsePayload<string>): void {
  const at = controlCharacterAt(ctx.value);
  if (at >= 0) ctx.issues.push({ code: 'custom', input: ctx.value, message: `must not contain control characters: ${codePoint(ctx.value, at)} at index ${at}` });
}

/**
 * An id or a name: host ids (the Kafka key), user, VM and policy ids, map keys. Free text
 * (`Text`) may hold control characters; the sinks escape them.
 */
export const Name = z.string().min(1).max(256).check(refuseControlCharacters);
export const Text = z.string().max(4096);
export const Labels = z.array(Name).max(64);
/** Key → value tags (asset tags, required placement tags, details). */
export const Tags = z.record(Name, z.string().max(1024));

export const Severity = z.number().int().min(0).max(10);
