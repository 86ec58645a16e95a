/**
 * The local Apache Kafka broker (KRaft, one node, loopback only) that `npm start` and the test
 * suite run against when no brokers are configured. Its jars come from Maven Central through
 * `mvn` (scripts/kafka/pom.xml pins the version); everything it writes lives under
 * `.trustwire/kafka/` (git-ignored).
 *
 * Also a local three-node cluster (`startLocalKafkaCluster`, under `.trustwire/kafka-cluster/`)
 * for fault tests: replication factor 3 and min ISR 2 as in production, so one node can be
 * killed and writes with acks=all still succeed. Both run the same code; only the settings differ.
 *
 * A single broker may instead require SASL_SSL (SCRAM-SHA-512) of its clients, with a CA and a
 * certificate made by openssl in its home (`saslSsl`), so `kafka.ssl` and `kafka.sasl` are tested
 * against a broker that insists on them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT, trustwireHome } from './paths.js';
import { TrustwireError } from '../errors.js';
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
  /** Where the jars are fetched. Default `home`; a test's broker in a temporary home shares the default one's. */
  libsHome?: string;
  /**
   * Clients on `port` must speak SASL_SSL with SCRAM-SHA-512, as one of `users`, and trust the CA
   * made for this broker (`LocalKafka.tls.caFile`). The broker's own traffic stays PLAINTEXT on
   * loopback: controller on port + 1, inter-broker on `internalPort` (default port + 2). Users are
   * created when the data directory is formatted, on the first start: later starts keep those.
   * Default home `.trustwire/kafka-sasl-ssl`, port 19192 (TRUSTWIRE_KAFKA_SASL_SSL_PORT), the
   * default broker's jars.
   */
  saslSsl?: { users: readonly ScramUser[]; internalPort?: number };
}

export interface ScramUser {
  name: string;
  password: string;
}

/** A CA and a certificate it signed for 127.0.0.1 and localhost, PEM files. */
export interface LoopbackCertificates {
  caFile: string;
  /** The certificate followed by the CA's: a client gets the whole chain. */
  certFile: string;
  keyFile: string;
}

export interface LocalKafka {
  brokers: string[];
  pid: number;
  /** True when this call started the broker, false when it found one already running. */
  started: boolean;
  logFile: string;
  /** With `saslSsl`: the broker's certificates; clients trust `caFile`. */
  tls?: LoopbackCertificates;
}

/** A failure a person must act on; the message says what happened and where to look. */
export class LocalKafkaError extends TrustwireError {
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

/** `libs` apart: a cluster's nodes share one set of jars (the single broker's). */
function pathsFor(home: string, libs = join(home, 'libs')): Paths {
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
interface NodeSpec {
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

function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 1024 || port > 65534) {
    throw new LocalKafkaError(`${name} must be a port between 1024 and 65534, got ${port}`);
  }
  return port;
}

function resolveOptions(options: LocalKafkaOptions) {
  const defaultHome = process.env.TRUSTWIRE_KAFKA_HOME ?? join(trustwireHome(), 'kafka');
  const saslSsl = options.saslSsl;
  // A SASL_SSL broker lives apart from the default one: its data holds its users, its home its certificates.
  const home = resolve(options.home ?? (saslSsl ? saslSslHome() : defaultHome));
  const portHint = saslSsl ? 'TRUSTWIRE_KAFKA_SASL_SSL_PORT' : 'TRUSTWIRE_KAFKA_PORT';
  const port = checkPort(options.port ?? Number((saslSsl ? process.env.TRUSTWIRE_KAFKA_SASL_SSL_PORT : process.env.TRUSTWIRE_KAFKA_PORT) ?? (saslSsl ? 19192 : 19092)), portHint);
  const node: NodeSpec = {
    id: 1,
    port,
    controllerPort: port + 1,
    voters: `1@127.0.0.1:${port + 1}`,
    replicas: 1,
    minIsr: 1,
    heap: { min: '256m', max: '1g' },
    label: saslSsl ? 'the SASL_SSL Kafka broker' : 'the Kafka broker',
    portHint,
    ...(saslSsl && {
      saslSsl: {
        internalPort: checkPort(saslSsl.internalPort ?? port + 2, 'the internal port'),
        users: saslSsl.users.map(checkScramUser),
        tls: certificatePaths(join(home, 'tls')),
      },
    }),
  };
  const libsHome = options.libsHome ?? (saslSsl ? defaultHome : undefined);
  const libs = libsHome !== undefined ? join(resolve(libsHome), 'libs') : undefined;
  return { paths: pathsFor(home, libs), port, node, timeoutMs: options.startTimeoutMs ?? 90_000, progress: options.onProgress ?? (() => {}) };
}

/** Where a `saslSsl` broker lives unless told otherwise. */
export function saslSslHome(): string {
  return join(trustwireHome(), 'kafka-sasl-ssl');
}

/** `--add-scram` takes `name=...,password=...` unquoted: a comma or a bracket would cut it short. */
function checkScramUser(user: ScramUser): ScramUser {
  const plain = /^[A-Za-z0-9._~@-]+$/;
  if (!plain.test(user.name)) throw new LocalKafkaError(`SCRAM user name ${JSON.stringify(user.name)} must be letters, digits and . _ ~ @ -`);
  // The message names the user, never the password.
  if (!plain.test(user.password)) throw new LocalKafkaError(`the SCRAM password of ${user.name} must be letters, digits and . _ ~ @ -`);
  return user;
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
  if (isFetched(paths, version)) return paths.libs;
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

function isFetched(paths: Paths, version: string): boolean {
  return existsSync(paths.libsMarker) && readFileSync(paths.libsMarker, 'utf8').trim() === version;
}

/**
 * Starts the local broker, or finds the one already running and reuses it. Fetches the jars
 * and formats the KRaft log directory on first use.
 */
export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const resolved = resolveOptions(options);
  const { paths, port, node } = resolved;
  mkdirSync(paths.home, { recursive: true });
  // npm start and npm test may race to start the same broker: one starts it, the other reuses it.
  return withLock(paths.lock, async () => {
    const tls = node.saslSsl && { tls: node.saslSsl.tls };
    const running = await reuseRunning(paths, node, resolved);
    if (running !== undefined) return { brokers: [`127.0.0.1:${port}`], pid: running, started: false, logFile: paths.logFile, ...tls };
    await requirePortsFree(paths, node);
    fetchKafka(options);
    const pid = launchNode(paths, node, kafkaClusterId(), resolved.progress);
    await waitForReady(paths, node, pid, resolved.timeoutMs);
    return { brokers: [`127.0.0.1:${port}`], pid, started: true, logFile: paths.logFile, ...tls };
  });
}

/** Stops the local broker if it runs; returns whether there was one to stop. */
export async function stopLocalKafka(options: LocalKafkaOptions = {}): Promise<boolean> {
  const { paths } = resolveOptions(options);
  const pid = findRunning(paths);
  if (pid === undefined) return false;
  await terminate(pid, paths);
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
  /** With `saslSsl`: where its certificates are (made on its first start). */
  tls?: LoopbackCertificates;
}

export function localKafkaStatus(options: LocalKafkaOptions = {}): LocalKafkaStatus {
  const { paths, port, node } = resolveOptions(options);
  const version = pinnedKafkaVersion();
  const tls = node.saslSsl && { tls: node.saslSsl.tls };
  return { ...processStatus(paths), brokers: [`127.0.0.1:${port}`], logFile: paths.logFile, version, fetched: isFetched(paths, version), ...tls };
}

// ---- the three-node cluster --------------------------------------------------------------

/** Three: the smallest quorum that survives losing a node, and replication factor 3 as in production. */
export const CLUSTER_SIZE = 3;

export interface LocalKafkaClusterOptions {
  /** Where the nodes live, one `node-<id>/` each. Default `.trustwire/kafka-cluster` (TRUSTWIRE_KAFKA_CLUSTER_HOME). */
  home?: string;
  /** Node 1's client port on 127.0.0.1; node i listens on port + i - 1. Default 29092 (TRUSTWIRE_KAFKA_CLUSTER_PORT). */
  port?: number;
  /** Node 1's controller port; node i's is controllerPort + i - 1. Default port + 100. */
  controllerPort?: number;
  /** Where the jars are fetched. Default the single broker's home, so one download serves both. */
  libsHome?: string;
  /** How long to wait for the nodes to come up. */
  startTimeoutMs?: number;
  onProgress?: (line: string) => void;
}

export interface LocalKafkaNode {
  id: number;
  port: number;
  pid: number;
  logFile: string;
}

export interface LocalKafkaCluster {
  brokers: string[];
  nodes: LocalKafkaNode[];
  /** True when this call started at least one node (then it is the caller's to stop). */
  started: boolean;
}

function resolveClusterOptions(options: LocalKafkaClusterOptions) {
  const home = resolve(options.home ?? process.env.TRUSTWIRE_KAFKA_CLUSTER_HOME ?? join(trustwireHome(), 'kafka-cluster'));
  const port = checkPort(options.port ?? Number(process.env.TRUSTWIRE_KAFKA_CLUSTER_PORT ?? 29092), 'TRUSTWIRE_KAFKA_CLUSTER_PORT');
  const controllerPort = checkPort(options.controllerPort ?? port + 100, 'the controller port');
  const ids = Array.from({ length: CLUSTER_SIZE }, (_, i) => i + 1);
  const allPorts = ids.flatMap((id) => [port + id - 1, controllerPort + id - 1]);
  if (new Set(allPorts).size !== allPorts.length || Math.max(...allPorts) > 65535) {
    throw new LocalKafkaError(`the cluster's client ports from ${port} and controller ports from ${controllerPort} overlap or run past 65535`);
  }
  const libs = resolveOptions({ ...(options.libsHome !== undefined && { home: options.libsHome }) }).paths.libs;
  const voters = ids.map((id) => `${id}@127.0.0.1:${controllerPort + id - 1}`).join(',');
  const nodes = ids.map((id) => ({
    paths: pathsFor(join(home, `node-${id}`), libs),
    spec: {
      id,
      port: port + id - 1,
      controllerPort: controllerPort + id - 1,
      voters,
      replicas: CLUSTER_SIZE,
      minIsr: CLUSTER_SIZE - 1,
      // Three JVMs on a small machine (and next to the single broker): half the single broker's heap.
      heap: { min: '128m', max: '512m' },
      label: `Kafka cluster node ${id}`,
      portHint: 'TRUSTWIRE_KAFKA_CLUSTER_PORT (or the port and controllerPort options)',
    } satisfies NodeSpec,
  }));
  return {
    home,
    lock: join(home, 'start.lock'),
    clusterIdFile: join(home, 'cluster.id'),
    nodes,
    libsHome: options.libsHome,
    timeoutMs: options.startTimeoutMs ?? 120_000,
    progress: options.onProgress ?? (() => {}),
  };
}

type ResolvedCluster = ReturnType<typeof resolveClusterOptions>;
type ClusterMember = ResolvedCluster['nodes'][number];

function clusterMember(cluster: ResolvedCluster, id: number): ClusterMember {
  const member = cluster.nodes.find((node) => node.spec.id === id);
  if (member === undefined) throw new LocalKafkaError(`the local cluster has nodes 1 to ${CLUSTER_SIZE}, not ${id}`);
  return member;
}

/**
 * Starts the three nodes, reusing those already running (a node killed by a test is started
 * again on its data). Formats each node's log directory once, all with one cluster id. Resolves
 * when every node serves; a node that serves has joined a quorum with a leader (see waitForReady).
 */
export async function startLocalKafkaCluster(options: LocalKafkaClusterOptions = {}): Promise<LocalKafkaCluster> {
  const cluster = resolveClusterOptions(options);
  mkdirSync(cluster.home, { recursive: true });
  return withLock(cluster.lock, async () => {
    const pids = new Map<number, number>();
    for (const { paths, spec } of cluster.nodes) {
      const running = await reuseRunning(paths, spec, cluster);
      if (running !== undefined) pids.set(spec.id, running);
    }
    const missing = cluster.nodes.filter(({ spec }) => !pids.has(spec.id));
    for (const { paths, spec } of missing) await requirePortsFree(paths, spec);
    if (missing.length > 0) {
      fetchKafka({ ...(cluster.libsHome !== undefined && { home: cluster.libsHome }), onProgress: cluster.progress });
      cluster.progress(`starting ${missing.length} Kafka cluster node(s) under ${cluster.home}`);
    }
    const clusterId = sharedClusterId(cluster);
    const launched: Array<{ member: ClusterMember; pid: number }> = [];
    try {
      // All are spawned before any is waited for: none can finish starting without a quorum.
      for (const member of missing) launched.push({ member, pid: launchNode(member.paths, member.spec, clusterId, cluster.progress) });
      await Promise.all(launched.map(({ member, pid }) => waitForReady(member.paths, member.spec, pid, cluster.timeoutMs)));
    } catch (error) {
      // A half-started cluster would hold ports and memory, and the next start would take it for a
      // working one: stop what this call started.
      await Promise.all(launched.map(({ member, pid }) => terminate(pid, member.paths)));
      throw error;
    }
    for (const { member, pid } of launched) pids.set(member.spec.id, pid);
    return {
      brokers: cluster.nodes.map(({ spec }) => `127.0.0.1:${spec.port}`),
      nodes: cluster.nodes.map(({ paths, spec }) => ({ id: spec.id, port: spec.port, pid: pids.get(spec.id)!, logFile: paths.logFile })),
      started: launched.length > 0,
    };
  });
}

/** Stops every node of the cluster that runs, all at once; returns the ids of those it stopped. */
export async function stopLocalKafkaCluster(options: LocalKafkaClusterOptions = {}): Promise<number[]> {
  const cluster = resolveClusterOptions(options);
  // Together, not one after another: the last node alone would have no quorum to grant its
  // controlled shutdown and would wait for the SIGKILL.
  const stopped = await Promise.all(
    cluster.nodes.map(async ({ paths, spec }) => {
      const pid = findRunning(paths);
      if (pid === undefined) return undefined;
      await terminate(pid, paths);
      return spec.id;
    }),
  );
  return stopped.filter((id) => id !== undefined);
}

/**
 * For fault tests: kills node `id` with SIGKILL (no controlled shutdown, as a crash or a lost
 * machine) and resolves once its process is gone. Returns false when it was not running.
 */
export async function killClusterNode(id: number, options: LocalKafkaClusterOptions = {}): Promise<boolean> {
  const { paths, spec } = clusterMember(resolveClusterOptions(options), id);
  const pid = findRunning(paths);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGKILL');
  if (!(await waitUntilGone(pid, 10_000))) throw new LocalKafkaError(`${spec.label} (pid ${pid}) is still alive 10 s after SIGKILL`);
  rmSync(paths.pidFile, { force: true });
  return true;
}

/** Starts node `id` again on its existing data and resolves once it serves (reuses it if it runs). */
export async function startClusterNode(id: number, options: LocalKafkaClusterOptions = {}): Promise<LocalKafkaNode & { started: boolean }> {
  const cluster = resolveClusterOptions(options);
  const { paths, spec } = clusterMember(cluster, id);
  return withLock(cluster.lock, async () => {
    const node = { id, port: spec.port, logFile: paths.logFile };
    const running = await reuseRunning(paths, spec, cluster);
    if (running !== undefined) return { ...node, pid: running, started: false };
    await requirePortsFree(paths, spec);
    fetchKafka({ ...(cluster.libsHome !== undefined && { home: cluster.libsHome }), onProgress: cluster.progress });
    const pid = launchNode(paths, spec, sharedClusterId(cluster), cluster.progress);
    await waitForReady(paths, spec, pid, cluster.timeoutMs);
    return { ...node, pid, started: true };
  });
}

export interface LocalKafkaClusterStatus {
  /** True when every node runs. */
  running: boolean;
  brokers: string[];
  nodes: Array<{ id: number; running: boolean; pid?: number; stalePid?: number; port: number; logFile: string }>;
  version: string;
  fetched: boolean;
}

export function localKafkaClusterStatus(options: LocalKafkaClusterOptions = {}): LocalKafkaClusterStatus {
  const cluster = resolveClusterOptions(options);
  const version = pinnedKafkaVersion();
  const nodes = cluster.nodes.map(({ paths, spec }) => ({ id: spec.id, ...processStatus(paths), port: spec.port, logFile: paths.logFile }));
  return {
    running: nodes.every((node) => node.running),
    brokers: cluster.nodes.map(({ spec }) => `127.0.0.1:${spec.port}`),
    nodes,
    version,
    fetched: isFetched(cluster.nodes[0]!.paths, version),
  };
}

/**
 * The cluster id every node is formatted with, kept in the cluster's home. A node formatted with
 * another id would be refused by the others, so a missing file is recovered from a node's data.
 */
function sharedClusterId(cluster: ResolvedCluster): string {
  if (existsSync(cluster.clusterIdFile)) return readFileSync(cluster.clusterIdFile, 'utf8').trim();
  const formatted = cluster.nodes
    .map(({ paths }) => join(paths.data, 'meta.properties'))
    .filter((file) => existsSync(file))
    .map((file) => /^cluster\.id=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim())
    .find((id) => id !== undefined);
  const id = formatted ?? kafkaClusterId();
  writeFileSync(cluster.clusterIdFile, `${id}\n`);
  return id;
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

/**
 * The pid of our node if it runs and serves, after waiting for it if another process is still
 * starting it; undefined if it does not run (a stale pid file is reported and removed).
 */
async function reuseRunning(paths: Paths, node: NodeSpec, opts: { progress: (line: string) => void; timeoutMs: number }): Promise<number | undefined> {
  const running = findRunning(paths, {
    onStale: (pid) => opts.progress(`removing stale ${paths.pidFile}: pid ${pid} is not a running trustwire broker`),
  });
  if (running === undefined) return undefined;
  // Alive but not answering yet (another process is still starting it): wait for it.
  if (!(await portAnswers(node.port))) await waitForReady(paths, node, running, opts.timeoutMs);
  return running;
}

async function requirePortsFree(paths: Paths, node: NodeSpec): Promise<void> {
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
function launchNode(paths: Paths, node: NodeSpec, clusterId: string, progress: (line: string) => void): number {
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
        ? '# Written by trustwire (src/embedded/local-kafka.ts): a single-node KRaft broker on loopback.'
        : `# Written by trustwire (src/embedded/local-kafka.ts): node ${node.id} of a ${CLUSTER_SIZE}-node KRaft cluster on loopback.`,
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

function certificatePaths(dir: string): LoopbackCertificates {
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
}

/**
 * Makes, with openssl, a CA and a certificate it signs for IP:127.0.0.1 and DNS:localhost (a
 * server and client certificate), in `dir`; files already there are kept, so clients that trust
 * the CA go on trusting it across restarts. Tests make a second one for a CA the broker's
 * certificate is not signed by.
 */
export function makeLoopbackCertificates(dir: string, label: string): LoopbackCertificates {
  const files = certificatePaths(dir);
  if (existsSync(files.caFile) && existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  requireTool('openssl', ['version'], 'openssl is needed to make the certificates of a SASL_SSL broker');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const at = (name: string) => join(dir, name);
  writeFileSync(at('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  writeFileSync(
    at('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  // P-256 keys: quick to make, and PKCS#8 PEM, the form Kafka's PEM keystore reads.
  const key = (file: string) => ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', at(file)];
  const days = ['-days', '3650', '-set_serial', `0x${randomBytes(8).toString('hex')}`];
  const steps = [
    key('ca.key'),
    ['req', '-new', '-key', at('ca.key'), '-subj', `/CN=${label} CA`, '-out', at('ca.csr')],
    ['x509', '-req', '-in', at('ca.csr'), '-key', at('ca.key'), ...days, '-extfile', at('ca.ext'), '-out', at('ca.pem')],
    key('server.key'),
    ['req', '-new', '-key', at('server.key'), '-subj', '/CN=localhost', '-out', at('server.csr')],
    ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), ...days, '-extfile', at('server.ext'), '-out', at('server.crt')],
  ];
  for (const args of steps) {
    const run = spawnSync('openssl', args, { encoding: 'utf8' });
    if (run.status !== 0) throw new LocalKafkaError(`openssl ${args[0]} failed while making certificates in ${dir}:\n${run.stderr}`);
  }
  writeFileSync(files.certFile, readFileSync(at('server.crt'), 'utf8') + readFileSync(at('ca.pem'), 'utf8'));
  for (const leftover of ['ca.csr', 'server.csr', 'server.crt', 'ca.ext', 'server.ext']) rmSync(at(leftover), { force: true });
  return files;
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
function kafkaClusterId(): string {
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

async function waitForReady(paths: Paths, node: NodeSpec, pid: number, timeoutMs: number): Promise<void> {
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
async function terminate(pid: number, paths: Paths): Promise<void> {
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

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs && isAlive(pid); waited += 100) await sleep(100);
  return !isAlive(pid);
}

/** running, pid, and a stale pid, for the status commands. */
function processStatus(paths: Paths): { running: boolean; pid?: number; stalePid?: number } {
  const recorded = readPid(paths.pidFile);
  const pid = findRunning(paths, { keepStale: true });
  return {
    running: pid !== undefined,
    ...(pid !== undefined && { pid }),
    ...(recorded !== undefined && pid === undefined && { stalePid: recorded }),
  };
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

/** The log's lines since the last start marker (all of it when there is none, as in older logs). */
function logSinceLastStart(file: string): string {
  if (!existsSync(file)) return '';
  const log = readFileSync(file, 'utf8');
  return log.slice(Math.max(0, log.lastIndexOf(START_MARKER)));
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
