/**
 * One KRaft node (broker and controller) of the local Kafka tooling, whichever it belongs to: a
 * single broker (scripts/kafka/broker.ts) is a quorum of one, a cluster node
 * (scripts/kafka/cluster.ts) one of three. Its paths, its settings, formatting its log directory,
 * spawning the JVM, waiting until it serves, finding it by its pid file and stopping it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeLoopbackCertificates, type LoopbackCertificates, type ScramUser } from './certificates.js';
import { LocalKafkaError, isAlive, portAnswers, readPid, requireJava, tail, waitUntilGone } from './process.js';

export interface Paths {
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

/** `libs` apart: a cluster's nodes share one set of jars (the single broker's). */
export function pathsFor(home: string, libs = join(home, 'libs')): Paths {
  return {
    home,
    libs,
    libsMarker: join(libs, '.fetched'),
    data: join(home, 'data'),
    properties: join(home, 'server.properties'),
    log4j: join(home, 'log4j2.properties'),
    pidFile: join(home, 'broker.pid'),
    logFile: join(home, 'broker.log'),
    lock: join(home, 'start.lock'),
  };
}

/** What one node's settings and process depend on; the single broker is a quorum of one. */
export interface NodeSpec {
  id: number;
  port: number;
  controllerPort: number;
  /** `controller.quorum.voters`: every controller of the quorum as `id@host:port`. */
  voters: string;
  /** Replicas of every topic (internal ones too), and how many must have a write for acks=all. */
  replicas: number;
  minIsr: number;
  heap: { min: string; max: string };
  /** How messages name it. */
  label: string;
  /** How a person moves its ports, for the message about a port held by another program. */
  portHint: string;
  /** Clients on `port` speak SASL_SSL; absent: PLAINTEXT. */
  saslSsl?: { internalPort: number; users: readonly ScramUser[]; tls: LoopbackCertificates };
}

/**
 * The pid of our node if it runs and serves, after waiting for it if another process is still
 * starting it; undefined if it does not run (a stale pid file is reported and removed).
 */
export async function reuseRunning(paths: Paths, node: NodeSpec, opts: { progress: (line: string) => void; timeoutMs: number }): Promise<number | undefined> {
  const running = findRunning(paths, {
    onStale: (pid) => opts.progress(`removing stale ${paths.pidFile}: pid ${pid} is not a running trustwire broker`),
  });
  if (running === undefined) return undefined;
  // Alive but not answering yet (another process is still starting it): wait for it.
  if (!(await portAnswers(node.port))) await waitForReady(paths, node, running, opts.timeoutMs);
  return running;
}

export async function requirePortsFree(paths: Paths, node: NodeSpec): Promise<void> {
  for (const p of [node.port, node.controllerPort, ...(node.saslSsl ? [node.saslSsl.internalPort] : [])]) {
    if (await portAnswers(p)) {
      throw new LocalKafkaError(
        `port ${p} on 127.0.0.1 is in use by a process that is not trustwire's broker ` +
          `(no live pid in ${paths.pidFile}); stop it or choose other ports with ${node.portHint}`,
      );
    }
  }
}

/** Writes the node's configuration, formats its log directory on first use, and spawns it. */
export function launchNode(paths: Paths, node: NodeSpec, clusterId: string, progress: (line: string) => void): number {
  if (node.saslSsl) makeLoopbackCertificates(join(paths.home, 'tls'), 'trustwire local Kafka');
  writeBrokerConfig(paths, node);
  formatStorageOnce(paths, node, clusterId);
  progress(`starting ${node.label} on 127.0.0.1:${node.port} (log: ${paths.logFile})`);
  return spawnBroker(paths, node);
}

function writeBrokerConfig(paths: Paths, node: NodeSpec): void {
  mkdirSync(paths.data, { recursive: true });
  const { replicas, minIsr } = node;
  writeFileSync(
    paths.properties,
    [
      replicas === 1
        ? '# Written by trustwire (scripts/kafka/node.ts): a single-node KRaft broker on loopback.'
        : `# Written by trustwire (scripts/kafka/node.ts): node ${node.id} of a ${node.voters.split(',').length}-node KRaft cluster on loopback.`,
      'process.roles=broker,controller',
      `node.id=${node.id}`,
      // A static quorum: every node knows every voter, which `kafka-storage format` accepts as is.
      `controller.quorum.voters=${node.voters}`,
      ...(node.saslSsl ? saslSslListeners(node, node.saslSsl) : plaintextListeners(node)),
      `log.dirs=${paths.data}`,
      'num.partitions=6',
      // One broker: every topic has one replica, and one in-sync replica is enough. Three: every
      // topic has three, and acks=all needs two, so writes go on with one node down.
      `offsets.topic.replication.factor=${replicas}`,
      'offsets.topic.num.partitions=12',
      `transaction.state.log.replication.factor=${replicas}`,
      `transaction.state.log.min.isr=${minIsr}`,
      'transaction.state.log.num.partitions=12',
      `share.coordinator.state.topic.replication.factor=${replicas}`,
      `share.coordinator.state.topic.min.isr=${minIsr}`,
      `default.replication.factor=${replicas}`,
      `min.insync.replicas=${minIsr}`,
      // Tests start and stop consumer groups often; the default 3 s delay only slows them.
      'group.initial.rebalance.delay.ms=0',
      // Topics are created by trustwire with their partition counts; a typo must not make one.
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
    // With SASL_SSL it holds the broker's private key.
    node.saslSsl && { mode: 0o600 },
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

function plaintextListeners(node: NodeSpec): string[] {
  return [
    `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
  ];
}

/**
 * Clients get SASL_SSL; the broker's own traffic (transaction markers go through the
 * inter-broker listener even on one node) stays PLAINTEXT on loopback, so no broker password.
 */
function saslSslListeners(node: NodeSpec, saslSsl: NonNullable<NodeSpec['saslSsl']>): string[] {
  const listener = 'listener.name.sasl_ssl';
  // Inline PEM (Kafka's PEM keystore takes a key file only when it is encrypted); a properties
  // value is one line, so its newlines are written as \n.
  const inline = (file: string) => readFileSync(file, 'utf8').trim().replaceAll('\n', '\\n');
  return [
    `listeners=SASL_SSL://127.0.0.1:${node.port},INTERNAL://127.0.0.1:${saslSsl.internalPort},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${node.port},INTERNAL://127.0.0.1:${saslSsl.internalPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=INTERNAL',
    `${listener}.sasl.enabled.mechanisms=SCRAM-SHA-512`,
    // The server side of SCRAM needs the login module only; the users are in the metadata log.
    `${listener}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${listener}.ssl.keystore.type=PEM`,
    `${listener}.ssl.keystore.certificate.chain=${inline(saslSsl.tls.certFile)}`,
    `${listener}.ssl.keystore.key=${inline(saslSsl.tls.keyFile)}`,
  ];
}

function javaArgs(paths: Paths, node: NodeSpec, mainClass: string, args: string[]): string[] {
  return [
    `-Xms${node.heap.min}`,
    `-Xmx${node.heap.max}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${paths.log4j}`,
    '-cp',
    `${paths.libs}/*`,
    mainClass,
    ...args,
  ];
}

function formatStorageOnce(paths: Paths, node: NodeSpec, clusterId: string): void {
  if (existsSync(join(paths.data, 'meta.properties'))) return;
  requireJava();
  // SCRAM users of a KRaft cluster are records of its metadata log, written here before the first start.
  const scram = (node.saslSsl?.users ?? []).flatMap((user) => ['--add-scram', `SCRAM-SHA-512=[name=${user.name},password=${user.password}]`]);
  const format = spawnSync('java', javaArgs(paths, node, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', paths.properties, ...scram]), {
    encoding: 'utf8',
  });
  if (format.status !== 0) {
    const output = (node.saslSsl?.users ?? []).reduce((text, user) => text.replaceAll(user.password, '[redacted]'), `${format.stdout}${format.stderr}`);
    throw new LocalKafkaError(`formatting the KRaft log directory ${paths.data} failed:\n${output}`);
  }
}

/** A Kafka cluster id: 16 random bytes in URL-safe base64 without padding. */
export function kafkaClusterId(): string {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
}

/**
 * Written to the log before each start: the log is appended to across restarts, and readiness
 * must be read from this start's lines, not from an earlier run's "Kafka Server started".
 */
const START_MARKER = '[trustwire] starting Kafka';

function spawnBroker(paths: Paths, node: NodeSpec): number {
  appendFileSync(paths.logFile, `\n${START_MARKER} node ${node.id} at ${new Date().toISOString()}\n`);
  const log = openSync(paths.logFile, 'a');
  try {
    const child = spawn('java', javaArgs(paths, node, 'kafka.Kafka', [paths.properties]), {
      detached: true, // outlives `npm start` only when asked to; see stopLocalKafka
      stdio: ['ignore', log, log],
      cwd: paths.home,
    });
    if (child.pid === undefined) throw new LocalKafkaError(`could not start java for ${node.label}; see ${paths.logFile}`);
    child.unref();
    writeFileSync(paths.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export async function waitForReady(paths: Paths, node: NodeSpec, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      rmSync(paths.pidFile, { force: true });
      throw new LocalKafkaError(`${node.label} exited while starting; its log is ${paths.logFile}:\n${tail(paths.logFile, 15)}`);
    }
    // The port opens before the broker has joined its quorum; the log line marks readiness. A
    // broker logs it once the quorum's leader has unfenced it, so a quorum has a leader by then.
    if (logSinceLastStart(paths.logFile).includes('Kafka Server started') && (await portAnswers(node.port))) return;
    await sleep(250);
  }
  throw new LocalKafkaError(`${node.label} (pid ${pid}) did not start within ${timeoutMs} ms; its log is ${paths.logFile}`);
}

/** Terminates a broker with a controlled shutdown (SIGTERM), killing it if that takes too long. */
export async function terminate(pid: number, paths: Paths): Promise<void> {
  // A broker that already exited (it failed to start, or was killed) is simply gone.
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  signal('SIGTERM');
  // A controlled shutdown flushes the log; past 30 s something is wrong, so kill it.
  if (!(await waitUntilGone(pid, 30_000))) signal('SIGKILL');
  await waitUntilGone(pid, 5_000);
  rmSync(paths.pidFile, { force: true });
}

/** running, pid, and a stale pid, for the status commands. */
export function processStatus(paths: Paths): { running: boolean; pid?: number; stalePid?: number } {
  const recorded = readPid(paths.pidFile);
  const pid = findRunning(paths, { keepStale: true });
  return {
    running: pid !== undefined,
    ...(pid !== undefined && { pid }),
    ...(recorded !== undefined && pid === undefined && { stalePid: recorded }),
  };
}

/** The pid of our broker if it runs; a stale pid file is removed unless asked to keep it. */
export function findRunning(paths: Paths, opts: { keepStale?: boolean; onStale?: (pid: number) => void } = {}): number | undefined {
  const pid = readPid(paths.pidFile);
  if (pid === undefined) return undefined;
  if (isAlive(pid) && isOurBroker(pid, paths)) return pid;
  opts.onStale?.(pid);
  if (!opts.keepStale) rmSync(paths.pidFile, { force: true });
  return undefined;
}

/** A recycled pid must not be taken for our broker: check its command line names our config. */
function isOurBroker(pid: number, paths: Paths): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(paths.properties);
  } catch {
    return true; // no /proc: trust the pid file
  }
}

/** The log's lines since the last start marker (all of it when there is none, as in older logs). */
function logSinceLastStart(file: string): string {
  if (!existsSync(file)) return '';
  const log = readFileSync(file, 'utf8');
  return log.slice(Math.max(0, log.lastIndexOf(START_MARKER)));
}
