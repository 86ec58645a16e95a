import { defineConnector, SendError, SinkRefused, type SendResult, type SinkConnector } from '../../src/runtime/contract.js';
import { Scrubber } from '../../src/runtime/scrub.js';
import { epoServer, postEvents, tagCommand, type EpoServer } from './client.js';
import { EpoOptions } from './config.js';
import { encodeEvents, tagChanges, tagSteps, type TagChange, type TagState } from './encode.js';

/** How long, and how many, ids of accepted events are remembered while their tags are pending. */
const PENDING_TTL_MS = 60 * 60 * 1000;
const PENDING_MAX = 10_000;

export default defineConnector({
  type: 'epo',
  summary: 'POSTs ePO-style EPOEvent XML in batches over HTTPS, and keeps trust and compliance tags current through the ePO Web API',
  // Tag commands must follow the events' order (a host untrusted, then trusted again): one send at a time.
  maxInFlight: 1,
  configSchema: EpoOptions,
  create: (options): SinkConnector => {
    const permanentCodes = options.permanentErrorCodes;
    /** What this connector last left each host's tags in (`aspect\0system` → state); forgotten at restart, when re-applying is harmless. */
    const tagsSet = new Map<string, TagState>();
    /** Events the server accepted whose tag commands are still to succeed: a retry does not post them again. */
    let now: () => number = Date.now;
    const pending = new PendingIds(PENDING_MAX, PENDING_TTL_MS, () => now());
    let events: EpoServer | undefined;
    let webApi: EpoServer | undefined;

    const applyTags = async (change: TagChange, signal: AbortSignal): Promise<Exclude<SendResult, { kind: 'partial' }>> => {
      for (const step of tagSteps(change.state, options.tags)) {
        const result = await tagCommand(webApi!, step, change.system, permanentCodes, signal);
        // A failed apply leaves the old tag in place rather than a host with neither.
        if (result.kind !== 'ok') return result;
      }
      return { kind: 'ok' };
    };

    return {
      async start(ctx) {
        now = ctx.now ?? Date.now;
        const settings = { username: options.username, password: options.password.reveal(), tls: options.tls, compression: options.compression, scrubber: Scrubber.of(options) };
        events = epoServer({ ...settings, origin: new URL(options.url).origin });
        webApi = options.tags.url === undefined ? events : epoServer({ ...settings, origin: new URL(options.tags.url).origin });
        // No request at start: a server that is down now is the retry loop's business, not a reason to refuse.
        ctx.logger.info(
          { url: events.origin, eventsPath: options.eventsPath, user: options.username, tags: options.tags.enabled ? webApi.origin : false, tlsVerify: options.tls.verify },
          'epo sink ready',
        );
        if (!options.tls.verify) ctx.logger.warn("epo sink: tls.verify is false, the server's certificate is not checked");
      },

      async send(batch, signal): Promise<SendResult> {
        pending.expire();
        const unsent = batch.filter((event) => !pending.has(event.id));
        if (unsent.length > 0) {
          const body = encodeEvents(unsent);
          const result = await postEvents(events!, options.eventsPath, body, unsent.length, permanentCodes, signal);
          if (result.kind !== 'ok') return result;
        }
        const changes = options.tags.enabled ? tagChanges(batch).filter((change) => tagsSet.get(keyOf(change)) !== change.state) : [];
        if (changes.length === 0) {
          pending.delete(batch);
          return { kind: 'ok' };
        }
        pending.add(batch);
        const failed = new Map<number, SendError>();
        for (const change of changes) {
          if (change.refusal !== undefined) {
            // Never sent: ePO would read the name as other systems (encode.ts, unaddressableReason).
            for (const index of change.indexes) failed.set(index, new SendError(`the event was accepted but its tag is not set: ${change.refusal}`, false));
            continue;
          }
          const result = await applyTags(change, signal);
          if (result.kind === 'ok') tagsSet.set(keyOf(change), change.state);
          else if (result.kind === 'retry') {
            // The events are in; the resend of this batch skips posting them and redoes only the tags not yet set.
            const message = `the events were accepted but a tag command failed, retried: ${result.error.message}`;
            const error = result.error instanceof SinkRefused ? new SinkRefused(message, { cause: result.error }) : new SendError(message, true, { cause: result.error });
            return { kind: 'retry', error, ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }) };
          } else {
            for (const index of change.indexes) failed.set(index, new SendError(`the event was accepted but its tag cannot be set: ${result.error.message}`, false));
          }
        }
        pending.delete(batch);
        return failed.size === 0 ? { kind: 'ok' } : { kind: 'partial', failed };
      },

      async stop() {
        events?.client.close();
        if (webApi !== events) webApi?.client.close();
      },
    };
  },
});

function keyOf(change: TagChange): string {
  return `${change.aspect}\u0000${change.system}`;
}

/** Event ids with the time they were added, oldest first; bounded in count and age (a forgotten id only costs a duplicate post). */
class PendingIds {
  readonly #ids = new Map<string, number>();
  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(batch: ReadonlyArray<{ id: string }>): void {
    const now = this.now();
    for (const { id } of batch) {
      this.#ids.delete(id);
      this.#ids.set(id, now);
    }
    for (const id of this.#ids.keys()) {
      if (this.#ids.size <= this.max) break;
      this.#ids.delete(id);
    }
  }

  delete(batch: ReadonlyArray<{ id: string }>): void {
    for (const { id } of batch) this.#ids.delete(id);
  }

  expire(now = this.now()): void {
    for (const [id, at] of this.#ids) {
      if (now - at < this.ttlMs) break;
      this.#ids.delete(id);
    }
  }
}
