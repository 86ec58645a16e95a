import type { z } from 'zod';

/** One reason an input was refused, with the path of the field it concerns. */
export interface FieldError {
  path: string;
  message: string;
  /** Which item of a batch (0-based), when the input held several. */
  index?: number;
  /** The NDJSON line (1-based) the item came from. */
  line?: number;
}

/** `['payload', 'flavors', 0, 'pcrIndex']` → `payload.flavors[0].pcrIndex`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Every issue of a failed parse, each naming its field; unrecognized keys get a path of their own. */
export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...issue.path, key], prefix), message: 'unknown field' });
    } else {
      out.push({ path: formatPath(issue.path, prefix), message: issue.message });
    }
  }
  return out;
}

/** Thrown where input is refused; carries every field error, never a partial verdict. */
export class ValidationError extends Error {
  readonly details: readonly FieldError[];
  /** The verdict without the details, e.g. `invalid event`. */
  readonly summary: string;
  constructor(summary: string, details: readonly FieldError[]) {
    super(`${summary}: ${details.map(describeFieldError).join('; ')}`);
    this.name = 'ValidationError';
    this.summary = summary;
    this.details = details;
  }
}

/** `line 3: payload.status: Invalid option ...` — the form people read in a terminal. */
export function describeFieldError(error: FieldError): string {
  const where = error.line !== undefined ? `line ${error.line}: ` : error.index !== undefined ? `[${error.index}] ` : '';
  return `${where}${error.path}: ${error.message}`;
}
