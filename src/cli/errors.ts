import { TrustwireError } from '../errors.js';

/** A failure the CLI reports as one message and an exit code (2: usage, 1: everything else). */
export class CliError extends TrustwireError {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
