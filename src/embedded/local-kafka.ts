/**
 * The local Apache Kafka broker (KRaft, one node, loopback only) that `npm start` and the test
 * suite run against when no brokers are configured. Its jars come from Maven Central through
 * `mvn` (scripts/kafka/pom.xml pins the version); everything it writes lives under
 * `.trustwire/kafka/` (git-ignored).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT, trustwireHome } from './paths.js';
const POM = join(PROJECT_ROOT, 'scripts/kafka/pom.xml');

export interface LocalKafkaOptions {
  /** Where jars, data, config, pid and log live. Default `.trustwire/kafka` (TRUSTWIRE_HOME). */
  home?: string;
  /** Client port on 127.0.0.1; the controller listens on port + 1. */
  port?: number;
  /** How long to wait for the broker to come up. */
  startTimeoutMs?: number;
  /** Progress lines for a person watching (fetching jars takes a while the first time). */
  onProgress?: (line: string) => void;
}

export interface LocalKafka {
  brokers: string[];
  pid: number;
  /** True when this call started the broker, false when it found one already running. */
  started: boolean;
  logFile: string;
}

/** A failure a person must act on; the message says what happened and where to look. */
export class LocalKafkaError extends Error {
  override name = 'LocalKafkaError';
}

interface Paths {
  home: string;
  libs: string;
  libsMarker: string;
  data: string;
  properties: string;
  log4j: string;
  pidFile: string;
  logFile: string;
  lock: string;
}

function pathsFor(home: string): Paths {
  return {
    home,
    libs: join(home, 'libs'),
    libsMarker: join(home, 'libs', '.fetched'),
    data: join(home, 'data'),
    properties: join(home, 'server.properties'),
    log4j: join(home, 'log4j2.properties'),
    pidFile: join(home, 'broker.pid'),
    logFile: join(home, 'broker.log'),
    lock: join(home, 'start.lock'),
  };
}

function resolveOptions(options: LocalKafkaOptions) {
  const home = resolve(options.home ?? process.env.TRUSTWIRE_KAFKA_HOME ?? join(trustwireHome(), 'kafka'));
  const port = options.port ?? Number(process.env.TRUSTWIRE_KAFKA_PORT ?? 19092);
  if (!Number.isInteger(port) || port < 1024 || port > 65534) {
    throw new LocalKafkaError(`TRUSTWIRE_KAFKA_PORT must be a port between 1024 and 65534, got ${port}`);
  }
  return { paths: pathsFor(home), port, timeoutMs: options.startTimeoutMs ?? 90_000, progress: options.onProgress ?? (() => {}) };
}

/** The Kafka version pinned in scripts/kafka/pom.xml. */
export function pinnedKafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!match?.[1]) throw new LocalKafkaError(`${POM} does not pin <kafka.version>`);
  return match[1];
}

/** Fetches the broker's jars with Maven unless the pinned version is already there. */
export function fetchKafka(options: LocalKafkaOptions = {}): string {
  const { paths, progress } = resolveOptions(options);
  const version = pinnedKafkaVersion();
  if (existsSync(paths.libsMarker) && readFileSync(paths.libsMarker, 'utf8').trim() === version) return paths.libs;
  requireTool('mvn', ['-v'], 'Apache Maven is needed to fetch the Kafka jars from Maven Central');
  requireJava();
  progress(`fetching Apache Kafka ${version} from Maven Central (first run only) ...`);
  rmSync(paths.libs, { recursive: true, force: true });
  mkdirSync(paths.libs, { recursive: true });
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${paths.libs}`, '-DincludeScope=runtime'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (mvn.status !== 0) {
    const output = `${mvn.stdout ?? ''}${mvn.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new LocalKafkaError(`mvn could not fetch Kafka ${version} (exit ${mvn.status ?? mvn.signal}):\n${output}`);
  }
  writeFileSync(paths.libsMarker, `${version}\n`);
  return paths.libs;
}

/**
 * Starts the local broker, or finds the one already running and reuses it. Fetches the jars
 * and formats the KRaft log directory on first use.
 */
export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const resolved = resolveOptions(options);
  const { paths, port } = resolved;
  mkdirSync(paths.home, { recursive: true });
  // npm start and npm test may race to start the same broker: one starts it, the other reuses it.
  return withLock(paths.lock, async () => {
    const running = findRunning(paths, {
      onStale: (pid) => resolved.progress(`removing stale ${paths.pidFile}: pid ${pid} is not a running trustwire broker`),
    });
    if (running !== undefined) {
      if (await portAnswers(port)) return { brokers: [`127.0.0.1:${port}`], pid: running, started: false, logFile: paths.logFile };
      // Alive but not answering yet (another process is still starting it): wait for it.
      await waitForReady(paths, port, running, resolved.timeoutMs);
      return { brokers: [`127.0.0.1:${port}`], pid: running, started: false, logFile: paths.logFile };
    }
    for (const p of [port, port + 1]) {
      if (await portAnswers(p)) {
        throw new LocalKafkaError(
          `port ${p} on 127.0.0.1 is in use by a process that is not trustwire's broker ` +
            `(no live pid in ${paths.pidFile}); stop it or choose other ports with TRUSTWIRE_KAFKA_PORT`,
        );
      }
    }
    fetchKafka(options);
    writeBrokerConfig(paths, port);
    formatStorageOnce(paths);
    resolved.progress(`starting Kafka broker on 127.0.0.1:${port} (log: ${paths.logFile})`);
    const pid = spawnBroker(paths);
    await waitForReady(paths, port, pid, resolved.timeoutMs);
    return { brokers: [`127.0.0.1:${port}`], pid, started: true, logFile: paths.logFile };
  });
}

/** Stops the local broker if it runs; returns whether there was one to stop. */
export async function stopLocalKafka(options: LocalKafkaOptions = {}): Promise<boolean> {
  const { paths, port } = resolveOptions(options);
  const pid = findRunning(paths);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  // A controlled shutdown flushes the log; past 30 s something is wrong, so kill it.
  for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 200) await sleep(200);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (let waited = 0; waited < 5_000 && isAlive(pid); waited += 100) await sleep(100);
  rmSync(paths.pidFile, { force: true });
  return true;
}

export interface LocalKafkaStatus {
  running: boolean;
  pid?: number;
  brokers: string[];
  logFile: string;
  version: string;
  fetched: boolean;
  /** Set when a pid file names a process that is gone. */
  stalePid?: number;
}

export function localKafkaStatus(options: LocalKafkaOptions = {}): LocalKafkaStatus {
  const { paths, port } = resolveOptions(options);
  const recorded = readPid(paths.pidFile);
  const pid = findRunning(paths, { keepStale: true });
  const version = pinnedKafkaVersion();
  return {
    running: pid !== undefined,
    ...(pid !== undefined && { pid }),
    ...(recorded !== undefined && pid === undefined && { stalePid: recorded }),
    brokers: [`127.0.0.1:${port}`],
    logFile: paths.logFile,
    version,
    fetched: existsSync(paths.libsMarker) && readFileSync(paths.libsMarker, 'utf8').trim() === version,
  };
}

// ---- internals ---------------------------------------------------------------------------

function requireTool(command: string, args: string[], why: string): void {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new LocalKafkaError(`${why}, but \`${command}\` is not available: ${probe.error?.message ?? probe.stderr}`);
}

function requireJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new LocalKafkaError('Java 17 or newer is needed to run the local Kafka broker, but `java` is not available');
  const major = /version "(\d+)/.exec(probe.stderr)?.[1];
  if (major !== undefined && Number(major) < 17) throw new LocalKafkaError(`Kafka 4 needs Java 17 or newer; \`java\` is version ${major}`);
}

function writeBrokerConfig(paths: Paths, port: number): void {
  mkdirSync(paths.data, { recursive: true });
  const controller = port + 1;
  writeFileSync(
    paths.properties,
    [
      '# Written by trustwire (src/embedded/local-kafka.ts): a single-node KRaft broker on loopback.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${paths.data}`,
      'num.partitions=6',
      // One broker: every internal topic has one replica, and one in-sync replica is enough.
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=12',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=12',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      // Tests start and stop consumer groups often; the default 3 s delay only slows them.
      'group.initial.rebalance.delay.ms=0',
      // Topics are created by trustwire with their partition counts; a typo must not make one.
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  writeFileSync(
    paths.log4j,
    [
      'rootLogger.level=INFO',
      'rootLogger.appenderRef.stdout.ref=STDOUT',
      'appender.stdout.type=Console',
      'appender.stdout.name=STDOUT',
      'appender.stdout.layout.type=PatternLayout',
      'appender.stdout.layout.pattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
}

function javaArgs(paths: Paths, mainClass: string, args: string[]): string[] {
  return [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${paths.log4j}`,
    '-cp',
    `${paths.libs}/*`,
    mainClass,
    ...args,
  ];
}

function formatStorageOnce(paths: Paths): void {
  if (existsSync(join(paths.data, 'meta.properties'))) return;
  requireJava();
  const format = spawnSync('java', javaArgs(paths, 'kafka.tools.StorageTool', ['format', '-t', kafkaClusterId(), '-c', paths.properties]), {
    encoding: 'utf8',
  });
  if (format.status !== 0) {
    throw new LocalKafkaError(`formatting the KRaft log directory ${paths.data} failed:\n${format.stdout}${format.stderr}`);
  }
}

/** A Kafka cluster id: 16 random bytes in URL-safe base64 without padding. */
function kafkaClusterId(): string {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
}

function spawnBroker(paths: Paths): number {
  const log = openSync(paths.logFile, 'a');
  try {
    const child = spawn('java', javaArgs(paths, 'kafka.Kafka', [paths.properties]), {
      detached: true, // outlives `npm start` only when asked to; see stopLocalKafka
      stdio: ['ignore', log, log],
      cwd: paths.home,
    });
    if (child.pid === undefined) throw new LocalKafkaError(`could not start java for the Kafka broker; see ${paths.logFile}`);
    child.unref();
    writeFileSync(paths.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

async function waitForReady(paths: Paths, port: number, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      rmSync(paths.pidFile, { force: true });
      throw new LocalKafkaError(`the Kafka broker exited while starting; its log is ${paths.logFile}:\n${tail(paths.logFile, 15)}`);
    }
    // The port opens before the broker has joined its own quorum; the log line marks readiness.
    if (tail(paths.logFile, 400).includes('Kafka Server started') && (await portAnswers(port))) return;
    await sleep(250);
  }
  throw new LocalKafkaError(`the Kafka broker (pid ${pid}) did not start within ${timeoutMs} ms; its log is ${paths.logFile}`);
}

/** The pid of our broker if it runs; a stale pid file is removed unless asked to keep it. */
function findRunning(paths: Paths, opts: { keepStale?: boolean; onStale?: (pid: number) => void } = {}): number | undefined {
  const pid = readPid(paths.pidFile);
  if (pid === undefined) return undefined;
  if (isAlive(pid) && isOurBroker(pid, paths)) return pid;
  opts.onStale?.(pid);
  if (!opts.keepStale) rmSync(paths.pidFile, { force: true });
  return undefined;
}

function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); /proc says whether it is really running.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** A recycled pid must not be taken for our broker: check its command line names our config. */
function isOurBroker(pid: number, paths: Paths): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(paths.properties);
  } catch {
    return true; // no /proc: trust the pid file
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolvePort(true)));
    socket.once('timeout', () => (socket.destroy(), resolvePort(false)));
    socket.once('error', () => resolvePort(false));
  });
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function withLock<T>(lockFile: string, work: () => Promise<T>): Promise<T> {
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
