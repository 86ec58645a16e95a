/**
 * The local Kafka tooling's process plumbing, none of it Kafka's: the error a person acts on,
 * tools on the PATH, ports on loopback, pid files, waiting for a process to go, and a start lock
 * that `npm start` and `npm test` share. Used by scripts/kafka/{broker,cluster,node,certificates}.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrustwireError } from '../../src/errors.js';

/** A failure a person must act on; the message says what happened and where to look. */
export class LocalKafkaError extends TrustwireError {
  override name = 'LocalKafkaError';
}

export function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 1024 || port > 65534) {
    throw new LocalKafkaError(`${name} must be a port between 1024 and 65534, got ${port}`);
  }
  return port;
}

export function requireTool(command: string, args: string[], why: string): void {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new LocalKafkaError(`${why}, but \`${command}\` is not available: ${probe.error?.message ?? probe.stderr}`);
}

export function requireJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new LocalKafkaError('Java 17 or newer is needed to run the local Kafka broker, but `java` is not available');
  const major = /version "(\d+)/.exec(probe.stderr)?.[1];
  if (major !== undefined && Number(major) < 17) throw new LocalKafkaError(`Kafka 4 needs Java 17 or newer; \`java\` is version ${major}`);
}

export async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs && isAlive(pid); waited += 100) await sleep(100);
  return !isAlive(pid);
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); /proc says whether it is really running.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolvePort(true)));
    socket.once('timeout', () => (socket.destroy(), resolvePort(false)));
    socket.once('error', () => resolvePort(false));
  });
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

export async function withLock<T>(lockFile: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readPid(lockFile);
      if (holder === undefined || !isAlive(holder)) rmSync(lockFile, { force: true });
      else if (Date.now() > deadline) throw new LocalKafkaError(`process ${holder} holds ${lockFile} for too long`);
      else await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
