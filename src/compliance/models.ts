import { z } from 'zod';

/**
 * The scoring models of XCCDF 1.2 (NISTIR 7275 rev. 4, section 7.3.2), by their URIs. trustwire's
 * severity-weighted default is the first: the XCCDF default model fed with weights derived from
 * severity (see SEVERITY_WEIGHTS), which over a flat rule list is 100 × Σw(pass) / Σw(counted).
 */
export const SCORING_MODELS = [
  'urn:xccdf:scoring:default',
  'urn:xccdf:scoring:flat',
  'urn:xccdf:scoring:flat-unweighted',
  'urn:xccdf:scoring:absolute',
] as const;
export type ScoringModelId = (typeof SCORING_MODELS)[number];

export const DEFAULT_SCORING_MODEL: ScoringModelId = 'urn:xccdf:scoring:default';

/** The short names accepted wherever a model is named: `default`, `flat`, `flat-unweighted`, `absolute`. */
export type ScoringModelName = ScoringModelId | (ScoringModelId extends `urn:xccdf:scoring:${infer Short}` ? Short : never);

/** A model by URI or short name, resolved to its URI. */
export const ScoringModel = z.string().transform((value, ctx): ScoringModelId => {
  const id = resolveScoringModel(value);
  if (id !== undefined) return id;
  ctx.addIssue({
    code: 'custom',
    message: `unknown scoring model ${JSON.stringify(value)}: expected one of ${SCORING_MODELS.join(', ')} (or default, flat, flat-unweighted, absolute)`,
    input: value,
  });
  return z.NEVER;
});

export function resolveScoringModel(value: string): ScoringModelId | undefined {
  const id = value.startsWith('urn:') ? value : `urn:xccdf:scoring:${value}`;
  return (SCORING_MODELS as readonly string[]).includes(id) ? (id as ScoringModelId) : undefined;
}
