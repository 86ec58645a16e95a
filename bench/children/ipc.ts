/**
 * What every bench child shares: messages to and from the bench over IPC, one clock comparable
 * across processes, and the moment the process's Kafka client first asked for records (the start
 * of a consumer's clock).
 *
 * A child is spawned ahead of its run (bench/procs.ts, ChildPool): it loads its modules, says
 * `loaded`, and waits, idle, for `begin` with its arguments.
 */
import { tracingChannel } from 'node:diagnostics_channel';

export interface Message {
  type: string;
  [key: string]: unknown;
}

/** Milliseconds since the epoch, sub-millisecond, the same clock in every process of the machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function send(message: Message): void {
  process.send?.(message);
}

const inbox: Message[] = [];
const waiters = new Map<string, Array<(message: Message) => void>>();
const handlers = new Map<string, (message: Message) => void>();

process.on('message', (message: Message) => {
  const handler = handlers.get(message.type);
  if (handler) return handler(message);
  const waiting = waiters.get(message.type);
  if (waiting && waiting.length > 0) return waiting.shift()!(message);
  inbox.push(message);
});
// The bench is gone (killed, or exited without stopping us): so are we.
process.on('disconnect', () => process.exit(0));

/** The run's arguments, sent by the bench with `begin`. */
export async function begin<T>(): Promise<T> {
  return (await next('begin')).args as T;
}

/** The next message of `type` from the bench. */
export function next(type: string): Promise<Message> {
  const index = inbox.findIndex((message) => message.type === type);
  if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0]!);
  return new Promise((resolve) => waiters.set(type, [...(waiters.get(type) ?? []), resolve]));
}

/** Handles every message of `type`. */
export function on(type: string, handler: (message: Message) => void): void {
  handlers.set(type, handler);
}

/**
 * Runs the child: `body` does the work and returns its cleanup; a `stop` message from the bench
 * runs the cleanup and exits. A failure is reported to the bench as an `error` message.
 */
export function main(body: () => Promise<(() => Promise<void>) | void>): void {
  const fail = (error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    setTimeout(() => process.exit(1), 100);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  let cleanup: (() => Promise<void>) | void = undefined;
  // Every static import of the child is done by now.
  send({ type: 'loaded' });
  on('stop', () => {
    void (async () => {
      await cleanup?.();
      process.exit(0);
    })().catch(fail);
  });
  body().then((result) => (cleanup = result), fail);
}

/**
 * The time of this process's first Kafka fetch request (of the topic with `topicId`, when given):
 * a consumer's clock starts there, so that the first fetch's transfer and parsing are counted
 * (the client returns up to 50 MB in one fetch: timing from the first record would leave that out).
 */
export function firstFetchClock(topicId?: string): { at(): number | undefined; reached: Promise<number> } {
  let first: number | undefined;
  let reached!: (at: number) => void;
  const promise = new Promise<number>((resolve) => (reached = resolve));
  tracingChannel('plt:kafka:consumer:fetches').subscribe({
    start(context: unknown) {
      if (first !== undefined) return;
      const topics = (context as { options?: { topics?: Array<{ topicId?: string }> } }).options?.topics ?? [];
      if (topicId !== undefined && !topics.some((topic) => topic.topicId === topicId)) return;
      first = now();
      reached(first);
    },
    end() {},
    asyncStart() {},
    asyncEnd() {},
    error() {},
  });
  return { at: () => first, reached: promise };
}
