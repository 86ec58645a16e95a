/**
 * A real rsyslog for the syslog sink's tests: installed from Debian when missing, started on
 * loopback ports with a configuration of its own (UDP, TCP octet-counted, TCP LF-framed, TLS with
 * certificates made by openssl, RELP and RELP over TLS), writing every message it receives, as
 * JSON, to one file per listener.
 *
 * Nothing rsyslog acknowledged is lost when it is SIGKILLed: every listener's ruleset runs with a
 * Direct queue (the input's own thread runs the action, instead of rsyslog's in-memory main
 * queue), and omfile writes synchronously (asyncWriting off) at the end of every transaction
 * (flushOnTXEnd), so a message is in the file (the kernel's page cache, which outlives the
 * process) before imrelp answers it 200. With the default main queue, a SIGKILL loses messages
 * imrelp had already acknowledged. kill() and restart() give a crash and a restart on the same
 * ports, appending to the same files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { makeCertificates } from '../helpers/certs.js';
import { eventually } from '../helpers/eventually.js';

export type Listener = 'udp' | 'tcp' | 'tcpLf' | 'tls' | 'relp' | 'relpTls';

export interface RunningRsyslog {
  ports: Record<Listener, number>;
  /** CA certificate (PEM) that signed the server's certificate, and a client certificate and key. */
  tls: { ca: string; clientCert: string; clientKey: string; serverName: string };
  /** What the listener received, one parsed JSON object a message. */
  received(listener: Listener): ReceivedMessage[];
  /** The pid of the rsyslogd started last. */
  readonly pid: number;
  /** Whether it runs (not killed or stopped). */
  readonly running: boolean;
  /** SIGKILL: a crash, nothing flushed or closed in order. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts rsyslogd again (after kill or stop) with the same configuration: same ports, same files, appended. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReceivedMessage {
  raw: string;
  pri: string;
  hostname: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
}

/** Whether a file (a shell glob allowed) is there. */
export function present(file: string): boolean {
  return existsSync(file) || spawnSync('sh', ['-c', `ls ${file} >/dev/null 2>&1`]).status === 0;
}

/** Installs Debian packages with apt-get, updating the package lists once if the first try fails. */
export function aptInstall(packages: readonly string[]): { ok: boolean; output: string } {
  const install = (args: string[]) => spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const args = ['install', '-y', '--no-install-recommends', ...packages];
  let result = install(args);
  if (result.status !== 0) {
    install(['update']);
    result = install(args);
  }
  return { ok: result.status === 0, output: `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim() };
}

/** Installs rsyslog, its OpenSSL driver and its RELP modules with apt-get when they are not there. */
export function ensureRsyslogInstalled(): void {
  if (present('/usr/sbin/rsyslogd') && present('/usr/lib/*/rsyslog/lmnsd_ossl.so') && present('/usr/lib/*/rsyslog/imrelp.so') && present('/usr/bin/openssl')) return;
  const result = aptInstall(['rsyslog', 'rsyslog-openssl', 'rsyslog-relp', 'openssl']);
  if (!result.ok) throw new Error(`could not install rsyslog with apt-get:\n${result.output}`);
}

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const TEMPLATE = [
  'template(name="trustwireJson" type="list") {',
  '  constant(value="{\\"raw\\":\\"") property(name="rawmsg" format="json")',
  '  constant(value="\\",\\"pri\\":\\"") property(name="pri")',
  '  constant(value="\\",\\"hostname\\":\\"") property(name="hostname" format="json")',
  '  constant(value="\\",\\"app\\":\\"") property(name="app-name" format="json")',
  '  constant(value="\\",\\"procid\\":\\"") property(name="procid" format="json")',
  '  constant(value="\\",\\"msgid\\":\\"") property(name="msgid" format="json")',
  '  constant(value="\\",\\"sd\\":\\"") property(name="structured-data" format="json")',
  '  constant(value="\\",\\"msg\\":\\"") property(name="msg" format="json")',
  '  constant(value="\\"}\\n")',
  '}',
].join('\n');

/** Starts rsyslogd in the foreground of a child process, under `dir`. */
export async function startRsyslog(dir: string, options: { requireClientCert?: boolean } = {}): Promise<RunningRsyslog> {
  ensureRsyslogInstalled();
  mkdirSync(join(dir, 'work'), { recursive: true });
  const certs = makeCertificates(dir);
  const ports: Record<Listener, number> = {
    udp: await freePort(),
    tcp: await freePort(),
    tcpLf: await freePort(),
    tls: await freePort(),
    relp: await freePort(),
    relpTls: await freePort(),
  };
  const file = (listener: Listener) => join(dir, `${listener}.jsonl`);
  // A Direct queue: the listener's own thread writes the message before it reads (or, for RELP,
  // acknowledges) the next one; omfile writes synchronously at the end of each transaction.
  const ruleset = (listener: Listener) =>
    `ruleset(name="${listener}" queue.type="Direct") { action(type="omfile" file="${file(listener)}" template="trustwireJson" flushOnTXEnd="on" asyncWriting="off") }`;
  const authMode = options.requireClientCert ? 'x509/certvalid' : 'anon';
  const relpTls =
    ` tls="on" tls.caCert="${certs.ca}" tls.myCert="${certs.serverCert}" tls.myPrivKey="${certs.serverKey}"` +
    (options.requireClientCert ? ' tls.authMode="certvalid"' : '');
  writeFileSync(
    join(dir, 'rsyslog.conf'),
    [
      `global(workDirectory="${join(dir, 'work')}" maxMessageSize="64k")`,
      TEMPLATE,
      'module(load="imudp")',
      'module(load="imtcp" maxSessions="100")',
      'module(load="imrelp" tls.tlslib="openssl")',
      `input(type="imudp" address="127.0.0.1" port="${ports.udp}" ruleset="udp")`,
      `input(type="imtcp" address="127.0.0.1" port="${ports.tcp}" ruleset="tcp")`,
      `input(type="imtcp" address="127.0.0.1" port="${ports.tcpLf}" ruleset="tcpLf" supportOctetCountedFraming="off")`,
      `input(type="imtcp" address="127.0.0.1" port="${ports.tls}" ruleset="tls" streamDriver.name="ossl" streamDriver.mode="1"` +
        ` streamDriver.authMode="${authMode}" streamDriver.CAFile="${certs.ca}" streamDriver.CertFile="${certs.serverCert}"` +
        ` streamDriver.KeyFile="${certs.serverKey}")`,
      `input(type="imrelp" address="127.0.0.1" port="${ports.relp}" ruleset="relp")`,
      `input(type="imrelp" address="127.0.0.1" port="${ports.relpTls}" ruleset="relpTls"${relpTls})`,
      ...(['udp', 'tcp', 'tcpLf', 'tls', 'relp', 'relpTls'] as const).map(ruleset),
      '',
    ].join('\n'),
  );
  const log = join(dir, 'rsyslogd.log');
  const pidFile = join(dir, 'rsyslogd.pid');
  let child: ChildProcess;
  const launch = async () => {
    // After a SIGKILL the pid file stays; rsyslogd refuses to start over one whose pid is alive (reused).
    rmSync(pidFile, { force: true });
    child = spawn('/usr/sbin/rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForPorts([ports.tcp, ports.tcpLf, ports.tls, ports.relp, ports.relpTls], child, () => output);
    appendFileSync(log, output);
  };
  const exited = () => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
  await launch();
  return {
    ports,
    tls: { ca: certs.ca, clientCert: certs.clientCert, clientKey: certs.clientKey, serverName: 'localhost' },
    received: (listener) =>
      existsSync(file(listener))
        ? readFileSync(file(listener), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as ReceivedMessage)
        : [],
    get pid() {
      return child.pid!;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited();
    },
    restart: async () => {
      if (child.exitCode === null && child.signalCode === null) throw new Error('rsyslogd is still running: kill() or stop() it first');
      await launch();
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited();
    },
  };
}

async function waitForPorts(ports: number[], child: ChildProcess, output: () => string): Promise<void> {
  const exitedEarly = () => new Error(`rsyslogd exited (${child.exitCode ?? child.signalCode}) before opening its ports:\n${output()}`);
  if (child.exitCode !== null) throw exitedEarly();
  let onExit!: () => void;
  const exited = new Promise<never>((_, reject) => (onExit = () => reject(exitedEarly())));
  child.once('exit', onExit);
  try {
    await Promise.race([
      eventually(async () => (await Promise.all(ports.map((port) => answers(port)))).every(Boolean), `rsyslogd to open its ports ${ports.join(', ')}`, 15_000).catch((error: Error) => {
        throw new Error(`${error.message}:\n${output()}`);
      }),
      exited,
    ]);
  } finally {
    child.off('exit', onExit);
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
