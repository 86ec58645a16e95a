/**
 * rsyslog for the bench, each instance in a directory of its own under the run's temporary
 * directory (its configuration, work directory, pid file and output), on loopback ports, in the
 * foreground (`-n -f CONF -i PIDFILE`): /etc/rsyslog.conf is never read, nothing system-wide is
 * touched.
 *
 * - receiver: imtcp (octet-counted or LF frames) writing one short line per message to a file;
 *   the SIEM end of the rsyslog relay and of trustwire's syslog sink alike. `LineCounter` counts
 *   the lines as they are written.
 * - forwarder: imkafka (a fresh consumer group, from the earliest offset) → omfwd over TCP,
 *   octet-counted: the reference relay trustwire's syslog path is compared with.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/services/rsyslog.js';
import { Child } from './procs.js';
import { RSYSLOGD } from './tools.js';

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function startRsyslogd(name: string, dir: string, config: string[]): Child {
  mkdirSync(join(dir, 'work'), { recursive: true });
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(conf, [`global(workDirectory="${join(dir, 'work')}" maxMessageSize="64k")`, ...config, ''].join('\n'));
  return Child.program(name, RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')]);
}

export interface RsyslogReceiver {
  port: number;
  file: string;
  process: Child;
}

/** rsyslog imtcp on a free loopback port, one line (the MSGID) per message received into `file`. */
export async function startReceiver(dir: string): Promise<RsyslogReceiver> {
  const port = await freePort();
  const file = join(dir, 'received.log');
  const child = startRsyslogd('rsyslog receiver', dir, [
    'module(load="imtcp" maxSessions="200")',
    'template(name="line" type="string" string="%msgid%\\n")',
    `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="in")`,
    `ruleset(name="in") { action(type="omfile" file="${file}" template="line" flushOnTXEnd="on" asyncWriting="off") }`,
  ]);
  for (let waited = 0; !(await answers(port)); waited += 50) {
    if (!child.alive || waited > 15_000) {
      child.kill();
      throw new Error(`rsyslog receiver did not open port ${port} (config ${join(dir, 'rsyslog.conf')}): ${child.describe()}`);
    }
    await sleep(50);
  }
  return { port, file, process: child };
}

/** rsyslog imkafka → omfwd (TCP, octet-counted, RFC 5424) to 127.0.0.1:`targetPort`. */
export function startForwarder(dir: string, options: { brokers: string[]; topic: string; group: string; targetPort: number }): Child {
  const brokers = options.brokers.map((broker) => `"${broker}"`).join(', ');
  return startRsyslogd('rsyslog forwarder', dir, [
    'module(load="imkafka")',
    `input(type="imkafka" topic="${options.topic}" broker=[${brokers}] consumergroup="${options.group}" ruleset="fwd"` +
      ` confParam=["auto.offset.reset=earliest", "client.id=trustwire-bench-rsyslog"])`,
    `ruleset(name="fwd") { action(type="omfwd" target="127.0.0.1" port="${options.targetPort}" protocol="tcp"` +
      ` TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format") }`,
  ]);
}

/**
 * Counts the lines written to a file as they come (inotify, and a 20 ms poll besides), and when
 * the first and the `target`th arrived.
 */
export class LineCounter {
  count = 0;
  first: number | undefined;
  reachedAt: number | undefined;
  readonly reached: Promise<number>;
  #resolve!: (at: number) => void;
  #fd: number | undefined;
  #offset = 0;
  #watcher: FSWatcher | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #buffer = Buffer.allocUnsafe(1 << 20);

  constructor(
    private readonly file: string,
    private readonly target: number,
  ) {
    this.reached = new Promise((resolve) => (this.#resolve = resolve));
    this.#timer = setInterval(() => this.#read(), 20);
  }

  #read(): void {
    if (this.#fd === undefined) {
      if (!existsSync(this.file)) return;
      this.#fd = openSync(this.file, 'r');
      this.#watcher = watch(this.file, () => this.#read());
    }
    const at = performance.timeOrigin + performance.now();
    for (;;) {
      if (fstatSync(this.#fd).size <= this.#offset) break;
      const read = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, this.#offset);
      if (read <= 0) break;
      this.#offset += read;
      const view = this.#buffer.subarray(0, read);
      let lines = 0;
      for (let i = view.indexOf(10); i >= 0; i = view.indexOf(10, i + 1)) lines++;
      if (lines > 0 && this.first === undefined) this.first = at;
      this.count += lines;
    }
    if (this.reachedAt === undefined && this.count >= this.target) {
      this.reachedAt = at;
      this.#resolve(at);
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#watcher?.close();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
