/**
 * The conformance kit: the behaviours every sink connector owes the runtime, checked against a
 * real (or faithful) sink. Each check is a plain async function that throws a
 * ConformanceFailure naming what the connector did and what the contract wants; a connector's
 * test file registers them all with one call:
 *
 *   conformanceSuite({ definition, options: () => ({ url: harness.url }), harness, secrets: ['s3cr3t'] });
 *
 * The checks drive `deliver()` — the runtime's own retry loop — wherever the runtime's handling
 * of an answer is what matters, so a connector passes only if the runtime does the right thing
 * with what it answers.
 */
import { readFileSync } from 'node:fs';
import { describe, test, before, after } from 'node:test';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { deadLetterHeaders } from '../kafka/dead-letters.js';
import type { Logger } from '../log.js';
import type { CanonicalEvent, EventType } from '../model/events.js';
import { EVENT_TYPES } from '../model/events.js';
import { fieldErrors } from '../model/validation.js';
import type { ConnectorDefinition, KafkaAccess, SendResult, SinkConnector, SinkContext } from '../runtime/contract.js';
import { deliver, type DeliveryOutcome } from '../runtime/deliver.js';
import { optionProblems } from '../runtime/options-doc.js';
import { TrustwireError } from '../errors.js';

/** How the harness makes its sink behave from now on (until the next `behave` or `reset`). */
export type SinkBehaviour =
  /** Accept everything. */
  | { kind: 'ok' }
  /** Fail in a way a later attempt survives (5xx, a full disk, a broker away): `times` failures, or until told otherwise. */
  | { kind: 'transient'; times?: number }
  /** Reject the whole batch for good (a 400). */
  | { kind: 'permanent' }
  /** Reject these events for good and accept the rest (a sink with per-event answers), or reject the batch (one without). */
  | { kind: 'reject'; ids: string[] }
  /** Never answer. */
  | { kind: 'hang' };

/** The sink end of a conformance run: a real receiver (an HTTP server, a directory, a fake KafkaAccess) the test controls. */
export interface ConformanceHarness {
  start(): Promise<void>;
  stop(): Promise<void>;
  behave(mode: SinkBehaviour): void;
  /** Ids of the events the sink accepted, in arrival order. */
  received(): Promise<string[]>;
  /** Back to `ok` with nothing received; also releases anything left hanging. */
  reset(): void | Promise<void>;
}

export interface ConformanceSpec {
  /** The connector under test: a module's default export. */
  definition: ConnectorDefinition;
  /** Tells apart two suites of one connector (other options): `bearer, json`. */
  label?: string;
  /** Raw options as they would come from the YAML file, pointing at the harness; called after `harness.start()`. */
  options: () => unknown | Promise<unknown>;
  harness: ConformanceHarness;
  /** Secret values present in the options: none may appear in a log line, an error, a dead-letter header or the printed options. */
  secrets?: readonly string[];
  /** False for a sink that never rejects anything for good (a file): the rejection checks do not apply. Default true. */
  permanent?: boolean;
  /** False for a sink that cannot say which events of a batch failed: a batch with a rejected event must answer `permanent`. Default true. */
  partial?: boolean;
  /** The SinkContext's Kafka access, for a connector that writes to Kafka; the default throws if used. */
  kafka?: KafkaAccess;
  /** The batch the checks send (at least 4 events, unique ids); default `sampleBatch(6)`. */
  batch?: () => CanonicalEvent[];
  timing?: {
    /** When the abort check aborts its send. Default 200 ms. */
    abortAfterMs?: number;
    /** How soon after the abort the send must settle. Default 1000 ms. */
    settleWithinMs?: number;
    /** The most start(), stop() or an unhurried send may take. Default 10 000 ms. */
    lifecycleMs?: number;
  };
}

/** A behaviour the connector failed to show. The message says what it did and what the contract wants. */
export class ConformanceFailure extends TrustwireError {
  override name = 'ConformanceFailure';
}

export interface ConformanceCheck {
  /** The behaviour, as the test is named. */
  name: string;
  /** Why it does not apply to this spec (a capability the sink does not have), or undefined. */
  notApplicable(spec: ConformanceSpec): string | undefined;
  run(spec: ConformanceSpec): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Helpers for connector authors

export interface CapturedLogger {
  /** A pino logger at level trace writing into memory. */
  logger: Logger;
  /** Every line written so far, as written (JSON). */
  lines(): string[];
  /** The lines parsed. */
  records(): Array<Record<string, unknown> & { level: number; msg?: string }>;
}

/** A logger whose every line is kept in memory, to assert on what a connector logs. */
export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop()!;
      lines.push(...parts.filter((line) => line !== ''));
      done();
    },
  });
  // No redact paths on purpose: the kit checks the connector, not the service's safety net.
  const logger = pino({ level: 'trace', base: { service: 'trustwire' } }, stream);
  return {
    logger,
    lines: () => (partial === '' ? [...lines] : [...lines, partial]),
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown> & { level: number }),
  };
}

const FIXTURES = new URL('./events/', import.meta.url);

/** The realistic canonical event of a kind (src/kit/events/<type>.json, packaged with the kit), a fresh copy each call. */
export function sampleEvent<T extends EventType>(type: T): Extract<CanonicalEvent, { type: T }> {
  return JSON.parse(readFileSync(new URL(`${type}.json`, FIXTURES), 'utf8'));
}

/** One canonical event of every kind. */
export function sampleEvents(): CanonicalEvent[] {
  return EVENT_TYPES.map((type) => sampleEvent(type));
}

/**
 * `size` canonical events cycling through every kind, each with its own UUIDv7 (from `seed`,
 * so two batches of one test never share an id) and a time one second after the previous.
 */
export function sampleBatch(size = 6, seed = 0): CanonicalEvent[] {
  const base = 1_741_946_400_000;
  return Array.from({ length: size }, (_, index) => {
    const event = sampleEvent(EVENT_TYPES[index % EVENT_TYPES.length]!);
    event.id = sampleId(seed, index);
    event.time = base + index * 1000;
    event.ingestTime = base + index * 1000 + 50;
    return event;
  });
}

function sampleId(seed: number, index: number): string {
  const ms = (1_741_946_400_000 + index).toString(16).padStart(12, '0');
  const hex = (n: number, width: number) => (n % 16 ** width).toString(16).padStart(width, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${hex(seed, 3)}-8${hex(index >> 12, 3)}-${hex(index, 12)}`;
}

// ---------------------------------------------------------------------------------------------
// The checks

const DEFAULT_TIMING = { abortAfterMs: 200, settleWithinMs: 1000, lifecycleMs: 10_000 };
/** Retries as fast as the runtime allows, so a transient check takes milliseconds. */
const FAST_RETRY = { initialMs: 10, maxMs: 50, multiplier: 2, jitter: 0, maxAttempts: 8 };
const NEVER = new AbortController().signal;

function timing(spec: ConformanceSpec) {
  return { ...DEFAULT_TIMING, ...spec.timing };
}

/** Throws the check's verdict; a secret the message would quote (a connector's error text) is masked, so test output never shows one. */
function fail(spec: ConformanceSpec, message: string): never {
  let text = message;
  for (const secret of spec.secrets ?? []) if (secret !== '') text = text.replaceAll(secret, '«SECRET»');
  throw new ConformanceFailure(`[${spec.definition.type}] ${text}`);
}

function batchOf(spec: ConformanceSpec): CanonicalEvent[] {
  const batch = spec.batch?.() ?? sampleBatch(6);
  if (batch.length < 4) fail(spec, `the spec's batch has ${batch.length} events; the checks need at least 4`);
  if (new Set(batch.map((event) => event.id)).size !== batch.length) fail(spec, "the spec's batch repeats an event id");
  return batch;
}

/** Parses the raw options with the connector's own schema, as the registry does. */
export async function parseOptions(spec: ConformanceSpec): Promise<unknown> {
  const raw = await spec.options();
  const parsed = spec.definition.configSchema.safeParse(raw);
  if (!parsed.success) {
    fail(spec, `the spec's options do not fit the connector's configSchema: ${fieldErrors(parsed.error, 'options').map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
  return parsed.data;
}

function noKafka(): KafkaAccess {
  return {
    produce: async () => {
      throw new Error('this conformance spec gives the connector no Kafka access (set spec.kafka)');
    },
  };
}

async function within<T>(spec: ConformanceSpec, ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConformanceFailure(`[${spec.definition.type}] ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Run {
  connector: SinkConnector;
  log: CapturedLogger;
  options: unknown;
}

/**
 * Resets the harness, creates and starts a connector, runs `work`, and stops it (after a reset,
 * so nothing the check left hanging holds the stop). A failing stop fails the check only when
 * the work itself passed.
 */
async function withConnector<T>(spec: ConformanceSpec, work: (run: Run) => Promise<T>, log = captureLogger()): Promise<T> {
  const { lifecycleMs } = timing(spec);
  await spec.harness.reset();
  const options = await parseOptions(spec);
  // The connector alone, without the runner's scrubbing (src/runtime/scrub.ts): nothing of its own may show a secret.
  const connector = spec.definition.create(options);
  const ctx: SinkContext = { name: 'conformance', logger: log.logger, kafka: spec.kafka ?? noKafka() };
  try {
    await within(spec, lifecycleMs, 'start()', connector.start(ctx));
  } catch (error) {
    if (error instanceof ConformanceFailure) throw error;
    fail(spec, `start() threw against a healthy sink: ${describeError(error)}`);
  }
  let result: T;
  try {
    result = await work({ connector, log, options });
  } catch (error) {
    await spec.harness.reset();
    await within(spec, lifecycleMs, 'stop()', connector.stop()).catch(() => {});
    throw error;
  }
  await spec.harness.reset();
  try {
    await within(spec, lifecycleMs, 'stop()', connector.stop());
  } catch (error) {
    if (error instanceof ConformanceFailure) throw error;
    fail(spec, `stop() threw: ${describeError(error)}`);
  }
  return result;
}

export type Answer = SendResult | { kind: 'threw'; error: unknown };

/** Wraps a connector to record every answer its send gives (a throw too): for connector authors' own tests. */
export function recording(connector: SinkConnector): { connector: SinkConnector; answers: Answer[] } {
  const answers: Answer[] = [];
  return {
    answers,
    connector: {
      start: (ctx) => connector.start(ctx),
      stop: () => connector.stop(),
      send: async (batch, signal) => {
        try {
          const result = await connector.send(batch, signal);
          answers.push(result);
          return result;
        } catch (error) {
          answers.push({ kind: 'threw', error });
          throw error;
        }
      },
    },
  };
}

function runDeliver(spec: ConformanceSpec, connector: SinkConnector, batch: readonly CanonicalEvent[], onRetry?: (attempt: number) => void) {
  const { lifecycleMs } = timing(spec);
  return within(
    spec,
    lifecycleMs * 3,
    'deliver()',
    deliver(connector, batch, {
      retry: FAST_RETRY,
      timeoutMs: lifecycleMs,
      signal: NEVER,
      isStale: () => false,
      onRetry: ({ attempt }) => onRetry?.(attempt),
    }),
  );
}

function describeAnswer(answer: Answer | undefined): string {
  if (answer === undefined) return 'nothing';
  switch (answer.kind) {
    case 'threw':
      return `a throw (${describeError(answer.error)})`;
    case 'retry':
    case 'permanent':
      return `${answer.kind} (${answer.error?.message})`;
    case 'partial':
      return `partial {${[...answer.failed].map(([i, e]) => `${i}: ${e.retriable ? 'retriable' : 'permanent'}`).join(', ')}}`;
    default:
      return answer.kind;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function checkOutcome(spec: ConformanceSpec, outcome: DeliveryOutcome, deadIndexes: readonly number[], answers: Answer[]): void {
  if (outcome.kind !== 'done') fail(spec, `deliver() abandoned the batch (${outcome.kind}); it should have finished`);
  const dead = outcome.deadLetters.map((verdict) => verdict.index).sort((a, b) => a - b);
  if (!sameList(dead.map(String), deadIndexes.map(String))) {
    fail(
      spec,
      `the runtime dead-lettered indexes [${dead.join(', ')}] where [${deadIndexes.join(', ')}] were expected; the connector's answers were: ${answers.map(describeAnswer).join(' → ')}`,
    );
  }
}

export async function startsAndStops(spec: ConformanceSpec): Promise<void> {
  const log = captureLogger();
  await withConnector(spec, async () => {}, log);
  // Twice: a second instance must not trip over what the first left behind (a lock, a port).
  await withConnector(spec, async () => {}, log);
  const errors = log.records().filter((record) => record.level >= 50);
  if (errors.length > 0) fail(spec, `a clean start and stop logged at error level: ${errors.map((r) => r.msg).join('; ')}`);
}

export async function deliversABatch(spec: ConformanceSpec): Promise<void> {
  const { lifecycleMs } = timing(spec);
  const first = batchOf(spec);
  const second = first.map((event, i) => ({ ...event, id: sampleId(1, i) }));
  await withConnector(spec, async ({ connector }) => {
    for (const batch of [first, second]) {
      const answer = await within(spec, lifecycleMs, 'send()', connector.send(batch, NEVER)).catch((error: unknown) => {
        if (error instanceof ConformanceFailure) throw error;
        fail(spec, `send() threw against a healthy sink: ${describeError(error)}`);
      });
      if (answer?.kind !== 'ok') fail(spec, `send() to a healthy sink answered ${describeAnswer(answer)}; expected ok`);
    }
    const expected = [...first, ...second].map((event) => event.id);
    const received = await spec.harness.received();
    if (!sameList(received, expected)) {
      const missing = expected.filter((id) => !received.includes(id));
      fail(
        spec,
        missing.length > 0
          ? `send() answered ok but the sink never received ${missing.length} of ${expected.length} events (${missing.join(', ')}): ok must mean every event of the batch was accepted`
          : `the sink received [${received.join(', ')}], expected [${expected.join(', ')}]: every event once, in batch order`,
      );
    }
  });
}

export async function retriesTransientFailure(spec: ConformanceSpec): Promise<void> {
  const batch = batchOf(spec);
  await withConnector(spec, async ({ connector }) => {
    spec.harness.behave({ kind: 'transient' });
    const spy = recording(connector);
    // Two failed attempts, then the sink recovers: the runtime must get the batch through.
    const outcome = await runDeliver(spec, spy.connector, batch, (attempt) => {
      if (attempt >= 2) spec.harness.behave({ kind: 'ok' });
    });
    const first = spy.answers[0];
    if (first?.kind !== 'retry') {
      fail(spec, `a transient failure of the sink was answered with ${describeAnswer(first)}; expected { kind: 'retry', error }`);
    }
    if (!(first.error instanceof Error) || first.error.message === '') fail(spec, 'a retry answer must carry an Error with a message (it is logged and counted)');
    checkOutcome(spec, outcome, [], spy.answers);
    if (outcome.kind === 'done' && outcome.attempts < 3) fail(spec, `deliver() finished after ${outcome.attempts} attempts; the sink failed the first two`);
    const received = new Set(await spec.harness.received());
    const missing = batch.filter((event) => !received.has(event.id)).map((event) => event.id);
    if (missing.length > 0) fail(spec, `after the sink recovered, ${missing.length} events never arrived (${missing.join(', ')})`);
  });
}

export async function rejectsPermanently(spec: ConformanceSpec): Promise<void> {
  const batch = batchOf(spec);
  await withConnector(spec, async ({ connector }) => {
    spec.harness.behave({ kind: 'permanent' });
    const spy = recording(connector);
    const outcome = await runDeliver(spec, spy.connector, batch);
    const first = spy.answers[0];
    if (first?.kind !== 'permanent') {
      fail(spec, `a permanent rejection of the batch was answered with ${describeAnswer(first)}; expected { kind: 'permanent', error }: resending it cannot succeed`);
    }
    checkOutcome(
      spec,
      outcome,
      batch.map((_, i) => i),
      spy.answers,
    );
    if (outcome.kind === 'done' && outcome.attempts !== 1) fail(spec, `a permanent rejection was sent ${outcome.attempts} times; it must never be resent`);
    const received = await spec.harness.received();
    if (received.length > 0) fail(spec, `the sink rejected the batch yet received [${received.join(', ')}]`);
  });
}

export async function rejectsPartially(spec: ConformanceSpec): Promise<void> {
  const batch = batchOf(spec);
  const rejected = [1, 3];
  const rejectedIds = rejected.map((i) => batch[i]!.id);
  await withConnector(spec, async ({ connector }) => {
    spec.harness.behave({ kind: 'reject', ids: rejectedIds });
    const spy = recording(connector);
    const outcome = await runDeliver(spec, spy.connector, batch);
    const first = spy.answers[0];
    const received = await spec.harness.received();
    if (spec.partial === false) {
      if (first?.kind !== 'permanent') {
        fail(spec, `a batch the sink rejected (for events ${rejected.join(', ')}) was answered with ${describeAnswer(first)}; a sink without per-event answers must answer permanent`);
      }
      checkOutcome(
        spec,
        outcome,
        batch.map((_, i) => i),
        spy.answers,
      );
      if (received.length > 0) fail(spec, `the sink rejected the batch yet received [${received.join(', ')}]`);
      return;
    }
    if (first?.kind !== 'partial') {
      fail(spec, `a rejection of events ${rejected.join(' and ')} alone was answered with ${describeAnswer(first)}; expected { kind: 'partial', failed } naming them (or set partial: false in the spec)`);
    }
    const named = [...first.failed.keys()].sort((a, b) => a - b);
    if (!sameList(named.map(String), rejected.map(String))) fail(spec, `the partial answer named indexes [${named.join(', ')}]; the sink rejected exactly [${rejected.join(', ')}]`);
    for (const [index, failure] of first.failed) {
      if (failure.retriable !== false) fail(spec, `the partial answer marked the rejected event ${index} retriable; a rejection must be retriable: false`);
      if (!(failure instanceof Error) || failure.message === '') fail(spec, `the partial answer's failure for event ${index} must be a SendError with a message`);
    }
    checkOutcome(spec, outcome, rejected, spy.answers);
    const expected = batch.filter((_, i) => !rejected.includes(i)).map((event) => event.id);
    if (!sameList(received, expected)) fail(spec, `the sink received [${received.join(', ')}]; expected the accepted events [${expected.join(', ')}]`);
  });
}

export async function stopsOnAbort(spec: ConformanceSpec): Promise<void> {
  const { abortAfterMs, settleWithinMs } = timing(spec);
  const batch = batchOf(spec);
  await withConnector(spec, async ({ connector }) => {
    spec.harness.behave({ kind: 'hang' });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('the attempt timed out', 'TimeoutError')), abortAfterMs);
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await within(spec, abortAfterMs + settleWithinMs, 'send() with a hanging sink', connector.send(batch, controller.signal));
    } catch (error) {
      if (error instanceof ConformanceFailure) {
        fail(spec, `send() did not settle within ${settleWithinMs} ms of its signal aborting (the sink never answers): it must give up when the signal aborts`);
      }
      answer = { kind: 'threw', error };
    } finally {
      clearTimeout(timer);
    }
    const elapsed = performance.now() - started;
    if (elapsed < abortAfterMs - 20) fail(spec, `send() to a hanging sink settled after ${Math.round(elapsed)} ms, before its signal aborted: ${describeAnswer(answer)}`);
    if (answer.kind === 'threw') {
      if (!(answer.error instanceof Error)) fail(spec, `send() threw a non-Error on abort: ${String(answer.error)}`);
    } else if (answer.kind !== 'retry') {
      fail(spec, `an aborted send to a sink that never answered was answered with ${describeAnswer(answer)}; expected retry (or a thrown abort error)`);
    }
  });
}

export async function keepsSecrets(spec: ConformanceSpec): Promise<void> {
  const secrets = (spec.secrets ?? []).filter((secret) => secret !== '');
  const batch = batchOf(spec);
  const texts: Array<{ where: string; text: string }> = [];
  const { abortAfterMs, lifecycleMs } = timing(spec);
  const noteError = (where: string, error: unknown) => {
    texts.push({ where: `${where} message`, text: error instanceof Error ? error.message : String(error) });
    texts.push({ where: `${where} (inspected)`, text: inspect(error, { depth: 6 }) });
    if (error instanceof Error) {
      const headers = deadLetterHeaders({ original: { topic: 't', partition: 0, offset: '0' }, component: 'conformance', stage: 'send', error, attempts: 1 });
      texts.push({ where: `${where} as dead-letter headers`, text: JSON.stringify(headers) });
    }
  };
  const noteAnswer = (where: string, answer: Answer) => {
    if (answer.kind === 'retry' || answer.kind === 'permanent') noteError(`the ${answer.kind} error of ${where}`, answer.error);
    if (answer.kind === 'threw') noteError(`the error thrown by ${where}`, answer.error);
    if (answer.kind === 'partial') for (const [i, failure] of answer.failed) noteError(`the failure of event ${i} in ${where}`, failure);
  };
  const send = async (connector: SinkConnector, behaviour: SinkBehaviour, signal: AbortSignal) => {
    spec.harness.behave(behaviour);
    try {
      noteAnswer(`send() under ${behaviour.kind}`, await within(spec, lifecycleMs, 'send()', connector.send(batch, signal)));
    } catch (error) {
      if (error instanceof ConformanceFailure) throw error;
      noteAnswer(`send() under ${behaviour.kind}`, { kind: 'threw', error });
    }
  };

  const log = captureLogger();
  try {
    await withConnector(
      spec,
      async ({ connector, options }) => {
        texts.push({ where: 'the parsed options (JSON)', text: JSON.stringify(options) ?? '' });
        texts.push({ where: 'the parsed options (inspected)', text: inspect(options, { depth: 8 }) });
        await send(connector, { kind: 'ok' }, NEVER);
        await send(connector, { kind: 'transient' }, NEVER);
        if (spec.permanent !== false) {
          await send(connector, { kind: 'permanent' }, NEVER);
          await send(connector, { kind: 'reject', ids: [batch[0]!.id] }, NEVER);
        }
        await send(connector, { kind: 'hang' }, AbortSignal.timeout(abortAfterMs));
      },
      log,
    );
  } catch (error) {
    if (error instanceof ConformanceFailure) throw error;
    noteError('the error the lifecycle threw', error);
  }
  texts.push(...log.lines().map((line, i) => ({ where: `log line ${i + 1}`, text: line })));

  for (const { where, text } of texts) {
    for (const secret of secrets) {
      const at = text.indexOf(secret);
      if (at === -1) continue;
      const context = text.slice(Math.max(0, at - 60), at + secret.length + 30).replaceAll(secret, '«SECRET»');
      fail(spec, `a secret appeared in ${where}: …${context}…`);
    }
  }
}

export async function documentsOptions(spec: ConformanceSpec): Promise<void> {
  const problems = optionProblems(spec.definition.configSchema);
  if (problems.length > 0) fail(spec, `its configSchema is not documented: ${problems.join('; ')}`);
}

/** Every check, in the order the suite runs them. */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  { name: 'documents every option (description, example, secrets marked)', notApplicable: () => undefined, run: documentsOptions },
  { name: 'starts and stops cleanly', notApplicable: () => undefined, run: startsAndStops },
  { name: 'delivers a batch: ok means every event received, in order', notApplicable: () => undefined, run: deliversABatch },
  { name: 'answers retry on a transient failure, and a later attempt delivers', notApplicable: () => undefined, run: retriesTransientFailure },
  {
    name: 'answers permanent on a permanent rejection: everything dead-lettered, never resent',
    notApplicable: (spec) => (spec.permanent === false ? 'the sink never rejects for good (permanent: false)' : undefined),
    run: rejectsPermanently,
  },
  {
    name: 'answers partial naming exactly the rejected events (or permanent without per-event answers)',
    notApplicable: (spec) => (spec.permanent === false ? 'the sink never rejects for good (permanent: false)' : undefined),
    run: rejectsPartially,
  },
  { name: 'stops in time when its send is aborted', notApplicable: () => undefined, run: stopsOnAbort },
  {
    name: 'never puts a secret in a log line, an error or a dead-letter header',
    notApplicable: (spec) => ((spec.secrets ?? []).length === 0 ? 'the spec names no secrets' : undefined),
    run: keepsSecrets,
  },
];

/** Registers the conformance checks as node:test tests, under one describe named for the connector. */
export function conformanceSuite(spec: ConformanceSpec): void {
  // A check that does not apply (a capability the sink does not have) is not registered at all,
  // rather than reported as skipped: the suite's name says which ones and why.
  const applicable = CONFORMANCE_CHECKS.filter((check) => check.notApplicable(spec) === undefined);
  const reasons = [...new Set(CONFORMANCE_CHECKS.map((check) => check.notApplicable(spec)).filter((reason) => reason !== undefined))];
  const label = [spec.label, ...reasons.map((reason) => `not applicable: ${reason}`)].filter(Boolean).join('; ');
  describe(`${spec.definition.type} connector conformance${label === '' ? '' : ` (${label})`}`, () => {
    before(() => spec.harness.start());
    after(() => spec.harness.stop());
    for (const check of applicable) test(check.name, () => check.run(spec));
  });
}
