/** Hardening templates and their scoring: the pure core the processor, API and reports build on. */
export { applicableTemplates, matchesPlatform, parseVersion } from './applicability.js';
export { BUNDLED_TEMPLATES_DIR, describeTemplateIssue, loadTemplate, loadTemplates, parseTemplate, TemplateError, type TemplateIssue } from './load.js';
export { DEFAULT_SCORING_MODEL, resolveScoringModel, SCORING_MODELS, ScoringModel, type ScoringModelId, type ScoringModelName } from './models.js';
export { assess, meetsThreshold, scoreRules, type AssessmentPayload, type AssessOptions, type PreviousAssessment, type Score, type ScoredRule } from './score.js';
export {
  Operator,
  OPERATORS,
  PlatformConstraint,
  Reference,
  Rule,
  SEVERITY_WEIGHTS,
  Severity,
  Template,
  WhenMissing,
  type RuleTarget,
} from './template.js';
export { findWaiver, Waiver, type WaiverInput, type WaiverMatch } from './waivers.js';
