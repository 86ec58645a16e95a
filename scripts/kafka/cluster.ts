/**
 * A local three-node Kafka cluster (`startLocalKafkaCluster`, under `.trustwire/kafka-cluster/`)
 * for fault tests: replication factor 3 and min ISR 2 as in production, so one node can be
 * killed and writes with acks=all still succeed. Its nodes run the single broker's code
 * (scripts/kafka/node.ts) and jars (scripts/kafka/broker.ts); only the settings differ.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trustwireHome } from '../../src/embedded/paths.js';
import { fetchKafka, isFetched, pinnedKafkaVersion, resolveOptions } from './broker.js';
import { findRunning, kafkaClusterId, launchNode, pathsFor, processStatus, requirePortsFree, reuseRunning, terminate, waitForReady, type NodeSpec } from './node.js';
import { LocalKafkaError, checkPort, waitUntilGone, withLock } from './process.js';

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
