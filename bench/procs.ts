/**
 * The bench's child processes: every measured worker, receiver and tool runs in a process of its
 * own, registered here so that each one is killed when the bench exits, fails or is interrupted.
 * Node children (bench/children/*.ts) talk over IPC: `{ type, ... }` messages both ways; an
 * `error` message from a child, or its exit, fails whoever waits for a message from it.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** V8's compile cache for the children's modules: each starts a second or so sooner. */
const COMPILE_CACHE = join(tmpdir(), 'trustwire-bench-compile-cache');

export interface Message {
  type: string;
  [key: string]: unknown;
}

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

let interruptCleanup: (() => Promise<void>) | undefined;
let interrupted = false;

/** Whether the bench was interrupted: its main flow stops starting scenarios. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** What to do, after every child is killed, when the bench is interrupted (delete its topics). */
export function onInterrupt(cleanup: () => Promise<void>): void {
  interruptCleanup = cleanup;
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}: killing ${live.size} child process(es), cleaning up`);
    interrupted = true;
    killAll();
    const cleanup = interruptCleanup;
    interruptCleanup = undefined;
    const bound = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
    void Promise.race([cleanup?.().catch((error: unknown) => console.error(`bench: cleanup failed: ${String(error)}`)), bound]).finally(() => process.exit(130));
  });
}

/** A line of /proc/<pid>/status in MB (VmHWM: peak resident set; VmRSS: now); undefined once gone. */
export function procStatusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far; undefined once gone. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line (11 and 12 after the command), in ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export class Child {
  readonly #inbox: Message[] = [];
  readonly #waiters = new Set<() => void>();
  #stderr = '';
  #exit: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<void>;

  private constructor(
    public name: string,
    readonly process: ChildProcess,
  ) {
    live.add(process);
    process.stderr?.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)));
    process.on('message', (message: Message) => {
      this.#inbox.push(message);
      this.#wake();
    });
    this.exited = new Promise((resolve) =>
      process.once('exit', (code, signal) => {
        live.delete(process);
        this.#exit = { code, signal };
        this.#wake();
        resolve();
      }),
    );
    process.once('error', (error) => {
      this.#stderr += `\n${error.message}`;
      this.#exit ??= { code: null, signal: 'spawn error' };
      this.#wake();
    });
  }

  /** A bench/children module, run by this Node (and its --import tsx); it waits for `begin`. */
  static node(name: string, module: string): Child {
    const file = fileURLToPath(new URL(`./children/${module}.ts`, import.meta.url));
    const env = { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? COMPILE_CACHE };
    // BENCH_PROFILE_DIR=DIR writes a CPU profile of every child there (where the time goes).
    const profile = process.env.BENCH_PROFILE_DIR;
    const execArgv = profile === undefined ? process.execArgv : [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${profile}`, `--cpu-prof-name=${module}-${Date.now()}.cpuprofile`];
    const child = new Child(name, fork(file, [module], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env, execArgv }));
    child.module = module;
    return child;
  }

  /** Which bench/children module it runs. */
  module: string | undefined;

  /** Another program (rsyslogd, kcat); its stdout is for the caller to read. */
  static program(name: string, command: string, args: string[]): Child {
    return new Child(name, spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  peakRssMb(): number | undefined {
    return procStatusMb(this.pid, 'VmHWM');
  }

  rssMb(): number | undefined {
    return procStatusMb(this.pid, 'VmRSS');
  }

  cpuSeconds(): number | undefined {
    return procCpuSeconds(this.pid);
  }

  /** Starts a Node child's work with its arguments. */
  begin(args: object): void {
    this.send({ type: 'begin', args });
  }

  send(message: Message): void {
    if (this.alive && this.process.connected) this.process.send(message);
  }

  /** The next message of `type` (earlier ones are kept); fails on an `error` message, exit or timeout. */
  async next<T extends Message = Message>(type: string, timeoutMs: number): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const failure = this.#inbox.find((message) => message.type === 'error');
      if (failure) throw new Error(`${this.name}: ${String(failure.message)}`);
      const index = this.#inbox.findIndex((message) => message.type === type);
      if (index >= 0) return this.#inbox.splice(index, 1)[0] as T;
      if (this.#exit) throw new Error(`${this.name} exited (${this.#exit.code ?? this.#exit.signal}) before "${type}"${this.#tail()}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${Math.round(timeoutMs / 1000)} s${this.#tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** Whether a message of `type` arrived (not taken). */
  has(type: string): boolean {
    return this.#inbox.some((message) => message.type === type || message.type === 'error');
  }

  /** Asks a Node child to stop (`stop` message) or a program to terminate; killed after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    if (this.process.connected) this.process.send({ type: 'stop' });
    else this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }

  /** How it ended (if it did), and the end of what it wrote to stderr: for error messages. */
  describe(): string {
    const status = this.#exit ? `exited (${this.#exit.code ?? this.#exit.signal})` : 'running';
    return `${this.name} ${status}${this.#tail()}`;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
    this.#waiters.clear();
  }

  #tail(): string {
    const text = this.#stderr.trim();
    return text === '' ? '' : `:\n${text.split('\n').slice(-15).join('\n')}`;
  }
}

/** Stops children side by side, never throwing (cleanup). */
export async function stopAll(children: ReadonlyArray<Child | undefined>, graceMs?: number): Promise<void> {
  await Promise.all(children.map((child) => child?.stop(graceMs).catch(() => {})));
}

/**
 * Node children spawned ahead of their runs: they load their modules (a second or two of CPU
 * each, mostly the Kafka client's) side by side before a round, then wait idle for `begin`, so a
 * round does not pay for it run after run. A child is taken once and stopped after its run.
 */
export class ChildPool {
  readonly #idle: Child[] = [];

  /** Spawns a child of each module and waits until all of them have loaded. */
  async warm(modules: readonly string[], timeoutMs = 120_000): Promise<void> {
    const children = modules.map((module) => Child.node(`${module} (idle)`, module));
    this.#idle.push(...children);
    await Promise.all(children.map((child) => child.next('loaded', timeoutMs)));
  }

  /** A loaded child of `module`, or a new one (loading) when none waits. */
  take(name: string, module: string): Child {
    const index = this.#idle.findIndex((child) => child.module === module && child.alive);
    const child = index >= 0 ? this.#idle.splice(index, 1)[0]! : Child.node(name, module);
    child.name = name;
    return child;
  }

  /** Stops the children nobody took. */
  async clear(): Promise<void> {
    await stopAll(this.#idle.splice(0), 2000);
  }
}
