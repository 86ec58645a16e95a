import type { Logger } from '../log.js';

export type HealthState = 'starting' | 'running' | 'degraded' | 'failing' | 'fatal' | 'stopped';

export interface HealthSnapshot {
  component: string;
  state: HealthState;
  /** Whether the component does its work now (`running`, or `degraded` on a passing blip). */
  ready: boolean;
  since: string;
  cause?: string;
}

/** How often a state that lasts is logged again. */
const REMINDER_MS = 60_000;

/**
 * A component's health, in the manner of the OpenTelemetry Collector's component status: one
 * log line per change of state and a reminder every minute while a bad state lasts, never a
 * line per failed attempt.
 */
export class ComponentHealth {
  #state: HealthState = 'starting';
  #since = Date.now();
  #cause: string | undefined;
  #lastLog = 0;
  readonly #log: Logger;
  readonly component: string;

  constructor(component: string, log: Logger) {
    this.component = component;
    this.#log = log;
  }

  get state(): HealthState {
    return this.#state;
  }

  snapshot(): HealthSnapshot {
    return {
      component: this.component,
      state: this.#state,
      ready: this.#state === 'running' || this.#state === 'degraded',
      since: new Date(this.#since).toISOString(),
      ...(this.#cause !== undefined && { cause: this.#cause }),
    };
  }

  running(): void {
    this.#set('running', undefined);
  }
  /** Working, with a passing fault (a failed heartbeat) that the client retries by itself. */
  degraded(cause: string): void {
    if (this.#state === 'failing' || this.#state === 'fatal' || this.#state === 'stopped') return;
    this.#set('degraded', cause);
  }
  failing(cause: string): void {
    this.#set('failing', cause);
  }
  fatal(cause: string): void {
    this.#set('fatal', cause);
  }
  stopped(): void {
    this.#set('stopped', undefined);
  }

  #set(state: HealthState, cause: string | undefined): void {
    const now = Date.now();
    if (state === this.#state && cause === this.#cause) {
      if (state !== 'running' && state !== 'stopped' && now - this.#lastLog >= REMINDER_MS) {
        this.#lastLog = now;
        this.#log.warn({ state, cause, sinceMs: now - this.#since }, `${this.component} still ${state}`);
      }
      return;
    }
    const previous = this.#state;
    const changed = state !== previous;
    this.#state = state;
    this.#cause = cause;
    if (changed) this.#since = now;
    if (!changed && now - this.#lastLog < REMINDER_MS) return; // a new cause for the same state: no new line
    this.#lastLog = now;
    if (state === 'running' && previous === 'starting') return this.#log.debug(`${this.component} running`);
    if (state === 'running') return this.#log.info({ after: previous }, `${this.component} recovered`);
    if (state === 'stopped') return this.#log.debug(`${this.component} stopped`);
    if (state === 'fatal') return this.#log.error({ cause }, `${this.component} failed for good`);
    this.#log.warn({ cause }, `${this.component} ${state}`);
  }
}
