/**
 * The local Apache Kafka broker (KRaft, one node, loopback only) that `npm start` and the test
 * suite run against when no brokers are configured. Its jars come from Maven Central through
 * `mvn` (scripts/kafka/pom.xml, beside this file, pins the version); everything it writes lives
 * under `.trustwire/kafka/` (git-ignored).
 *
 * A single broker may instead require SASL_SSL (SCRAM-SHA-512) of its clients, with a CA and a
 * certificate made by openssl in its home (`saslSsl`, scripts/kafka/certificates.ts), so
 * `kafka.ssl` and `kafka.sasl` are tested against a broker that insists on them.
 *
 * Developer and test tooling, outside src/: only src/cli (`npm start`'s embedded default) of the
 * application imports it. The three-node cluster is scripts/kafka/cluster.ts; both run the code
 * of scripts/kafka/node.ts, only the settings differ.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT, trustwireHome } from '../../src/embedded/paths.js';
import { certificatePaths, checkScramUser, saslSslHome, type LoopbackCertificates, type ScramUser } from './certificates.js';
import { findRunning, kafkaClusterId, launchNode, pathsFor, processStatus, requirePortsFree, reuseRunning, terminate, waitForReady, type NodeSpec, type Paths } from './node.js';
import { LocalKafkaError, checkPort, requireJava, requireTool, withLock } from './process.js';
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

export interface LocalKafka {
  brokers: string[];
  pid: number;
  /** True when this call started the broker, false when it found one already running. */
  started: boolean;
  logFile: string;
  /** With `saslSsl`: the broker's certificates; clients trust `caFile`. */
  tls?: LoopbackCertificates;
}

/** The broker's paths and node settings from its options and the environment; the cluster takes its jars' place from it. */
export function resolveOptions(options: LocalKafkaOptions) {
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

/** Whether `libs` holds the jars of `version` (the marker fetchKafka writes last). */
export function isFetched(paths: Paths, version: string): boolean {
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
