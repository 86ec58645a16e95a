import type { FieldError } from '../model/validation.js';
import { TrustwireError } from '../errors.js';

/** An error with the HTTP status it answers with; the body is always `{error, details[]}`. */
export class HttpError extends TrustwireError {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: readonly FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorBody {
  error: string;
  details: readonly FieldError[];
}
