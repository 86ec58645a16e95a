import type { FastifyInstance } from 'fastify';
import { topicNames, type Config, type KafkaSettings } from './config/schema.js';
import { ActivityView } from './activity/view.js';
import { activityRoutes } from './api/activity.js';
import { complianceRoutes } from './api/compliance.js';
import { connectorRoutes } from './api/connectors.js';
import { dashboardRoutes } from './api/dashboard.js';
import { dlqRoutes } from './api/dlq.js';
import { ComplianceView } from './reports/view.js';
import { complianceSettings } from './config/compliance.js';
import { hostRoutes } from './api/hosts.js';
import { configBaseDir, deadLetterSettings } from './config/load.js';
import { startConnectors } from './runtime/host.js';
import { ConnectorMetrics } from './runtime/metrics.js';
import { createServer } from './api/server.js';
import { HostStateView } from './processor/host-view.js';
import { byUserGroup, startUserStage } from './processor/users.js';
import { byWorkloadGroup, startWorkloadStage } from './processor/workloads.js';
import { processorGroup, startProcessor } from './processor/worker.js';
import { createKafkaClient } from './kafka/client.js';
import { createRecordProducer, type RecordProducer } from './kafka/producer.js';
import { ensureTopics, type TopicSpec } from './kafka/topics.js';
import type { HealthSnapshot } from './kafka/health.js';
import { startKafkaProbe } from './kafka/probe.js';
import type { Logger } from './log.js';
import type { ConnectorHost } from './runtime/host.js';
import type { Readiness } from './api/server.js';
import { ingestRoutes } from './api/ingest.js';
import type { ApiToken } from './api/auth.js';
import { EventWriter } from './ingest/writer.js';

/** The topics trustwire owns, with their partition counts and configs. */
export function trustwireTopics(kafka: KafkaSettings): TopicSpec[] {
  const topics = topicNames(kafka);
  const base = { partitions: kafka.partitions, ...(kafka.replicationFactor !== undefined && { replicationFactor: kafka.replicationFactor }) };
  return [
    { topic: topics.events, ...base },
    { topic: topics.enriched, ...base },
    // Only the latest state of each host matters: compaction keeps the changelog small.
    { topic: topics.hostState, ...base, config: { 'cleanup.policy': 'compact' } },
    { topic: topics.dlq, ...base },
    { topic: topics.byUser, ...base },
    { topic: topics.userState, ...base, config: { 'cleanup.policy': 'compact' } },
    { topic: topics.byWorkload, ...base },
    { topic: topics.workloadState, ...base, config: { 'cleanup.policy': 'compact' } },
  ];
}

export interface RunningService {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8080`. */
  url: string;
  server: FastifyInstance;
  /** Every component's health, and whether all of them do their work. */
  readiness(): Readiness;
  close(): Promise<void>;
}

export interface ServiceDeps {
  logger: Logger;
  /** The API's bearer tokens and their scopes. */
  tokens: readonly ApiToken[];
  /**
   * A component could not recover within `runtime.failureExitMs`: the process should exit
   * non-zero so that its process manager restarts it. Absent: the service only reports it.
   */
  onFatal?(error: Error): void;
}

/** Connects to Kafka, creates the topics, and serves the HTTP API. */
export async function startService(config: Config, deps: ServiceDeps): Promise<RunningService> {
  const { logger } = deps;
  const topics = topicNames(config.kafka);
  const client = createKafkaClient(config.kafka, logger);
  const failureExitMs = config.runtime.failureExitMs;
  const onFatal = deps.onFatal;
  const probe = startKafkaProbe(client);
  const components: Array<() => HealthSnapshot | undefined> = [() => probe.health.snapshot()];
  const closers: Array<() => Promise<void>> = [() => probe.stop()];
  try {
    await ensureTopics(client, trustwireTopics(config.kafka), logger);
  } catch (error) {
    await probe.stop();
    throw error;
  }
  let producer: RecordProducer | undefined = await createRecordProducer(client, { ackTimeoutMs: config.http.ackTimeoutMs });
  const writer = new EventWriter(producer, topics.events, logger);
  components.push(() => writer.health.snapshot());
  const view = await HostStateView.start(client, topics, logger);
  for (const health of view.health) components.push(() => health.snapshot());
  const compliance = complianceSettings(config);
  const complianceView = await ComplianceView.start(client, topics.enriched, logger);
  components.push(() => complianceView.health?.snapshot());
  // The host-state view knows a host's trust when its changelog is ahead of the enriched topic.
  const activityView = await ActivityView.start(client, topics.enriched, logger, { hostTrust: (hostId) => view.host(hostId)?.trust });
  components.push(() => activityView.health?.snapshot());
  // What the processor and its stages share; the by-user and by-workload stages run wherever the processor does.
  const stageDeps = { client, topics, rules: config.processor, logger, failureExitMs, ...(onFatal !== undefined && { onFatal }) };
  const processor = config.processor.enabled
    ? await startProcessor({ ...stageDeps, locate: view.locate, groupId: processorGroup(config.kafka.groupPrefix), compliance })
    : undefined;
  if (processor) components.push(() => processor.health.snapshot());
  const userStage = config.processor.enabled ? await startUserStage({ ...stageDeps, groupId: byUserGroup(config.kafka.groupPrefix) }) : undefined;
  if (userStage) components.push(() => userStage.health.snapshot());
  const workloadStage = config.processor.enabled ? await startWorkloadStage({ ...stageDeps, groupId: byWorkloadGroup(config.kafka.groupPrefix) }) : undefined;
  if (workloadStage) components.push(() => workloadStage.health.snapshot());

  let connectors: ConnectorHost | undefined;
  const readiness = (): Readiness => {
    const snapshots = components.map((snapshot) => snapshot()).filter((s): s is HealthSnapshot => s !== undefined);
    for (const status of connectors?.statuses() ?? []) {
      if (status.health !== undefined) snapshots.push(status.health);
      else if (status.state !== 'running') snapshots.push({ component: `connector ${status.name}`, state: 'failing', ready: false, since: new Date().toISOString(), ...(status.reason !== undefined && { cause: status.reason }) });
    }
    return { ready: producer !== undefined && snapshots.every((s) => s.ready), components: snapshots };
  };
  const server = createServer({
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    readiness,
    tokens: deps.tokens,
    rateLimit: config.auth.rateLimit,
    requestTimeoutMs: config.http.requestTimeoutMs,
    tls: config.http.tls,
  });
  await server.register(ingestRoutes, {
    writer,
    adapters: config.adapters,
    bodyLimitBytes: config.http.bodyLimitBytes,
    maxEventsPerRequest: config.http.maxEventsPerRequest,
    limits: { maxDepth: config.http.maxNestingDepth, maxStringLength: config.http.maxStringLength, maxKeysPerObject: config.http.maxKeysPerObject },
  });
  await server.register(hostRoutes, { view });
  await server.register(complianceRoutes, { view: complianceView, templates: compliance.templates });
  const metrics = new ConnectorMetrics();
  connectors = await startConnectors(config.connectors, {
    client,
    producer,
    topics,
    metrics,
    logger,
    baseDir: configBaseDir(config),
    groupPrefix: config.kafka.groupPrefix,
    sessionTimeoutMs: config.runtime.sessionTimeoutMs,
    failureExitMs,
    ...(onFatal !== undefined && { onFatal }),
  });
  const host = connectors;
  await server.register(connectorRoutes, { host, registry: metrics.registry });
  await server.register(activityRoutes, { activity: activityView, hosts: view, compliance: complianceView, connectors: host });
  await server.register(dashboardRoutes);
  await server.register(dlqRoutes, { settings: deadLetterSettings(config), baseDir: configBaseDir(config), client, producer, logger });
  try {
    await server.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    // Not listening is not running: close what started, and name the option to change.
    await server.close().catch(() => undefined);
    await host.stop(0);
    await userStage?.stop();
    await workloadStage?.stop();
    await processor?.stop();
    await view.stop();
    await complianceView.stop();
    await activityView.stop();
    writer.close();
    await producer.disconnect();
    await probe.stop();
    throw listenError(error as NodeJS.ErrnoException, config.http.host, config.http.port);
  }
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error(`the HTTP server is not listening on a TCP port (${String(address)})`);
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `${config.http.tls ? 'https' : 'http'}://${hostname}:${address.port}`,
    server,
    readiness,
    close() {
      closing ??= (async () => {
        await server.close();
        await host.stop(config.runtime.shutdownGraceMs);
        await userStage?.stop();
        await workloadStage?.stop();
        await processor?.stop();
        await view.stop();
        await complianceView.stop();
        await activityView.stop();
        writer.close();
        const last = producer;
        producer = undefined;
        await last?.disconnect();
        for (const close of closers) await close();
      })();
      return closing;
    },
  };
}

/** Why the API cannot listen, naming the option: `http.port` when the port is taken or forbidden, `http.host` when the address is not this machine's. */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new Error(`http.port: cannot listen on ${where}: the port is in use (EADDRINUSE)`);
    case 'EACCES':
      return new Error(`http.port: cannot listen on ${where}: not permitted (EACCES; ports below 1024 need privileges)`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`http.host: cannot listen on ${where}: ${host} is not an address of this machine (${error.code})`);
    default:
      return new Error(`http: cannot listen on ${where}: ${error.message}`);
  }
}
