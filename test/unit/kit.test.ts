/**
 * The conformance kit catches what it exists to catch: a sound connector passes every check,
 * and each deliberately broken one fails the check for its flaw, with a message that says what
 * it did wrong.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { secretOption } from '../../src/config/secret.js';
import { CanonicalEvent } from '../../src/model/events.js';
import { defineConnector, SendError, type ConnectorDefinition, type SendResult } from '../../src/runtime/contract.js';
import {
  captureLogger,
  conformanceSuite,
  ConformanceFailure,
  CONFORMANCE_CHECKS,
  deliversABatch,
  documentsOptions,
  keepsSecrets,
  rejectsPartially,
  rejectsPermanently,
  retriesTransientFailure,
  sampleBatch,
  sampleEvents,
  startsAndStops,
  stopsOnAbort,
  type ConformanceHarness,
  type ConformanceSpec,
  type SinkBehaviour,
} from '../../src/kit/index.js';

const TOKEN = 'mem-token-5b1e0c77';

type Answer = { kind: 'ok' } | { kind: 'busy' } | { kind: 'refused' } | { kind: 'rejected'; ids: string[] };

/** A sink in memory with per-event answers: what it accepted, and the behaviour the kit sets. */
class MemorySink implements ConformanceHarness {
  #behaviour: SinkBehaviour = { kind: 'ok' };
  #failuresLeft = 0;
  #received: string[] = [];
  #hanging: Array<() => void> = [];

  take(ids: string[], signal?: AbortSignal): Promise<Answer> {
    const behaviour = this.#behaviour;
    switch (behaviour.kind) {
      case 'hang':
        return new Promise((resolve, reject) => {
          this.#hanging.push(() => resolve({ kind: 'busy' }));
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      case 'transient':
        if (this.#failuresLeft > 0) {
          this.#failuresLeft--;
          return Promise.resolve({ kind: 'busy' });
        }
        break;
      case 'permanent':
        return Promise.resolve({ kind: 'refused' });
      case 'reject': {
        const bad = ids.filter((id) => behaviour.ids.includes(id));
        this.#received.push(...ids.filter((id) => !bad.includes(id)));
        return Promise.resolve(bad.length > 0 ? { kind: 'rejected', ids: bad } : { kind: 'ok' });
      }
      case 'ok':
        break;
    }
    this.#received.push(...ids);
    return Promise.resolve({ kind: 'ok' });
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.reset();
  }
  behave(mode: SinkBehaviour): void {
    this.#behaviour = mode;
    this.#failuresLeft = mode.kind === 'transient' ? (mode.times ?? Infinity) : 0;
    if (mode.kind !== 'hang') for (const release of this.#hanging.splice(0)) release();
  }
  async received(): Promise<string[]> {
    return [...this.#received];
  }
  reset(): void {
    this.behave({ kind: 'ok' });
    this.#received = [];
  }
}

type Flaw =
  | 'drops-events'
  | 'reorders-events'
  | 'throws-on-transient'
  | 'retries-rejections'
  | 'rejections-retriable'
  | 'names-wrong-events'
  | 'ignores-abort'
  | 'ok-on-abort'
  | 'hangs-on-stop'
  | 'logs-token'
  | 'token-in-error'
  | 'token-not-secret'
  | 'undocumented-option';

const sound = z.strictObject({
  token: secretOption().describe('the sink’s key').meta({ examples: [{ env: 'MEM_TOKEN' }] }),
});

/** A connector to the memory sink, sound or with one flaw. */
function memoryConnector(sink: MemorySink, flaw?: Flaw): ConnectorDefinition {
  const schema =
    flaw === 'token-not-secret'
      ? z.strictObject({ token: z.string().describe('the key').meta({ examples: ['k'] }) })
      : flaw === 'undocumented-option'
        ? sound.extend({ region: z.string().default('eu') })
        : sound;
  return defineConnector({
    type: flaw ?? 'memory',
    summary: 'keeps events in memory',
    configSchema: schema,
    create: (options) => {
      const token = typeof options.token === 'string' ? options.token : options.token.reveal();
      let log = captureLogger().logger;
      return {
        async start(ctx) {
          log = ctx.logger;
          if (flaw === 'logs-token') ctx.logger.info({ token }, 'connected');
        },
        async stop() {
          if (flaw === 'hangs-on-stop') await new Promise(() => {});
        },
        async send(batch, signal): Promise<SendResult> {
          let ids = batch.map((event) => event.id);
          if (flaw === 'drops-events') ids = ids.slice(0, -1);
          if (flaw === 'reorders-events') ids = ids.reverse();
          let answer: Answer;
          try {
            answer = await sink.take(ids, flaw === 'ignores-abort' ? undefined : signal);
          } catch (error) {
            if (flaw === 'ok-on-abort') return { kind: 'ok' };
            throw error;
          }
          switch (answer.kind) {
            case 'ok':
              return { kind: 'ok' };
            case 'busy':
              if (flaw === 'throws-on-transient') throw new Error('busy');
              log.warn({ attempt: 1 }, 'sink busy');
              return { kind: 'retry', error: new SendError(flaw === 'token-in-error' ? `busy (key ${token})` : 'busy', true) };
            case 'refused':
              return flaw === 'retries-rejections' ? { kind: 'retry', error: new SendError('refused', true) } : { kind: 'permanent', error: new SendError('refused', false) };
            case 'rejected': {
              const failed = new Map<number, SendError>();
              for (const id of answer.ids) {
                const index = batch.findIndex((event) => event.id === id) + (flaw === 'names-wrong-events' ? 1 : 0);
                failed.set(index, new SendError(`event ${id} rejected`, flaw === 'rejections-retriable'));
              }
              return { kind: 'partial', failed };
            }
          }
        },
      };
    },
  });
}

function specFor(flaw?: Flaw): ConformanceSpec {
  const sink = new MemorySink();
  return {
    definition: memoryConnector(sink, flaw),
    options: () => ({ token: TOKEN }),
    harness: sink,
    secrets: [TOKEN],
    timing: { lifecycleMs: 500 },
  };
}

// The wrapper registers every check for a sound connector.
conformanceSuite(specFor());

describe('the kit fails a broken connector, saying why', () => {
  const fails = async (flaw: Flaw, check: (spec: ConformanceSpec) => Promise<void>, message: RegExp) => {
    const spec = specFor(flaw);
    await spec.harness.start();
    try {
      await assert.rejects(check(spec), (error: unknown) => {
        assert.ok(error instanceof ConformanceFailure, `a ConformanceFailure, got ${String(error)}`);
        assert.match(error.message, message);
        assert.ok(error.message.startsWith(`[${flaw}] `), 'the message names the connector');
        return true;
      });
    } finally {
      await spec.harness.stop();
    }
  };

  test('one that answers ok but drops an event', () =>
    fails('drops-events', deliversABatch, /answered ok but the sink never received 2 of 12 events .*: ok must mean every event of the batch was accepted/));
  test('one that delivers out of order', () => fails('reorders-events', deliversABatch, /the sink received \[.*\], expected \[.*\]: every event once, in batch order/));
  test('one that throws on a transient failure instead of answering retry', () =>
    fails('throws-on-transient', retriesTransientFailure, /a transient failure of the sink was answered with a throw \(Error: busy\); expected \{ kind: 'retry', error \}/));
  test('one that answers retry to a permanent rejection', () =>
    fails('retries-rejections', rejectsPermanently, /a permanent rejection of the batch was answered with retry \(refused\); expected \{ kind: 'permanent', error \}/));
  test('one that marks rejected events retriable', () => fails('rejections-retriable', rejectsPartially, /marked the rejected event 1 retriable/));
  test('one that names the wrong events in a partial answer', () => fails('names-wrong-events', rejectsPartially, /named indexes \[2, 4\]; the sink rejected exactly \[1, 3\]/));
  test('one that ignores its abort signal', () => fails('ignores-abort', stopsOnAbort, /did not settle within 1000 ms of its signal aborting/));
  test('one that answers ok to an aborted send', () => fails('ok-on-abort', stopsOnAbort, /answered with ok; expected retry \(or a thrown abort error\)/));
  test('one whose stop never returns', () => fails('hangs-on-stop', startsAndStops, /stop\(\) did not settle within 500 ms/));
  test('one that logs its token', () => fails('logs-token', keepsSecrets, /a secret appeared in log line 1: .*"token":"«SECRET»"/));
  test('one that puts its token in an error', () => fails('token-in-error', keepsSecrets, /a secret appeared in the retry error of send\(\) under transient message: …busy \(key «SECRET»\)…/));
  test('one that takes its token as a plain string', async () => {
    await fails('token-not-secret', keepsSecrets, /a secret appeared in the parsed options \(JSON\)/);
    await fails('token-not-secret', documentsOptions, /token looks like a secret but is not declared with secretOption\(\)/);
  });
  test('one with an undocumented option', () => fails('undocumented-option', documentsOptions, /region has no description.*region has no example/));

  test('a failure message never shows the secret itself', async () => {
    const spec = specFor('logs-token');
    await assert.rejects(keepsSecrets(spec), (error: Error) => !error.message.includes(TOKEN));
  });
});

describe('helpers for connector authors', () => {
  test('captureLogger keeps every line, child loggers included', () => {
    const log = captureLogger();
    log.logger.child({ connector: 'x' }).debug({ n: 1 }, 'hello');
    assert.deepEqual(
      log.records().map((r) => [r.msg, r.connector, r.n]),
      [['hello', 'x', 1]],
    );
  });

  test('sampleBatch cycles through every kind with ids of its own; sampleEvents is one of each', () => {
    const batch = sampleBatch(13, 7);
    assert.equal(new Set(batch.map((e) => e.id)).size, 13);
    assert.deepEqual(
      batch.slice(0, 6).map((e) => e.type),
      sampleEvents().map((e) => e.type),
    );
    assert.notDeepEqual(sampleBatch(3, 1)[0]!.id, sampleBatch(3, 2)[0]!.id);
    for (const event of batch) assert.deepEqual(CanonicalEvent.parse(event), event, `${event.type} is a valid canonical event`);
  });

  test('the checks are named for behaviours and the capabilities leave the rejection checks out', () => {
    const spec = { ...specFor(), permanent: false, secrets: [] };
    assert.deepEqual(
      CONFORMANCE_CHECKS.filter((check) => check.notApplicable(spec) !== undefined).map((check) => check.run.name),
      ['rejectsPermanently', 'rejectsPartially', 'keepsSecrets'],
    );
  });
});
