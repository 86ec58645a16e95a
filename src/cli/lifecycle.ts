import type { Logger } from '../log.js';

/** Beyond the shutdown grace: how long closing connections may take before the process just exits. */
const CLOSE_BOUND_MS = 5000;

export interface Lifecycle {
  /** For components: the process cannot do its work and should be restarted by its manager. */
  fatal(error: Error): void;
  /**
   * Resolves with the exit code once SIGINT/SIGTERM (0) or a fatal error (1) came and `close`
   * finished, or its bound ran out: a process never hangs on its way out.
   */
  run(close: () => Promise<void>): Promise<number>;
}

export function lifecycle(logger: Logger, graceMs: number, say: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Lifecycle {
  let ended: ((code: number) => void) | undefined;
  let early: number | undefined;
  const end = (code: number) => (ended ? ended(code) : (early ??= code));
  const onSignal = (signal: string) => {
    say(`${signal}: stopping`);
    end(0);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    fatal(error) {
      logger.error({ cause: error.message }, 'a component cannot recover; exiting so that the process manager restarts trustwire');
      end(1);
    },
    async run(close) {
      const code = await new Promise<number>((resolve) => {
        if (early !== undefined) resolve(early);
        else ended = resolve;
      });
      let timer: NodeJS.Timeout | undefined;
      const bound = graceMs + CLOSE_BOUND_MS;
      const finished = await Promise.race([
        close().then(
          () => true,
          (error: unknown) => (logger.warn({ error: (error as Error).message }, 'shutdown did not finish cleanly'), true),
        ),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), bound);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (!finished) logger.warn({ boundMs: bound }, 'shutdown took longer than the grace period; exiting anyway');
      return code;
    },
  };
}

/**
 * Ends a long-running command with `code` once its output is flushed: a client library's
 * leftover timer or socket must not keep a stopped service alive.
 */
export function exitNow(code: number): number {
  process.exitCode = code;
  setImmediate(() => process.exit(code)).unref();
  return code;
}
