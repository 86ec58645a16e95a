import { clampText } from '../../model/text.js';
import { z } from 'zod';
import { Name } from '../../model/primitives.js';
import { fieldErrors, ValidationError } from '../../model/validation.js';

/** What a caller may add to an adapted event that the upstream format does not carry. */
export const AdapterOptions = z.strictObject({
  /** Trusted-compute pool the host belongs to. */
  pool: Name.optional(),
  tenant: Name.optional(),
  /** Overrides whatever name the upstream report gives the host. */
  hostName: Name.optional(),
});
export type AdapterOptions = z.input<typeof AdapterOptions>;

/** `source.system` of every event an attestation adapter produces. */
export const ATTESTATION_SYSTEM = 'attestation';

/**
 * Parses `input` or throws a ValidationError whose paths start at `prefix`, so that they name
 * the field in the document the caller received (`msg.event_time`, not `event_time`).
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(what, fieldErrors(result.error, prefix));
}

/** A refusal that concerns one field, raised outside a zod parse. */
export function fieldError(what: string, path: string, message: string): ValidationError {
  return new ValidationError(what, [{ path, message }]);
}

/** `hash1 | hash2` for a list of accepted values, the value itself otherwise. */
export function renderValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return clampText(value);
  if (Array.isArray(value)) return clampText(value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' | '));
  return clampText(JSON.stringify(value));
}

