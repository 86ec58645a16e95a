import type { FastifyInstance } from 'fastify';
import type { Config, KafkaSettings } from './config/schema.js';
import { complianceRoutes } from './api/compliance.js';
import { connectorRoutes } from './api/connectors.js';
import { ComplianceView } from './compliance/view.js';
import { complianceSettings } from './compliance/settings.js';
import { hostRoutes } from './api/hosts.js';
import { configBaseDir } from './config/load.js';
import { startConnectors } from './runtime/host.js';
import { ConnectorMetrics } from './runtime/metrics.js';
import { createServer } from './api/server.js';
import { HostStateView } from './processor/host-view.js';
import { processorGroup, startProcessor } from './processor/worker.js';
import { createKafkaClient } from './kafka/client.js';
import { createRecordProducer, type RecordProducer } from './kafka/producer.js';
import { ensureTopics, type TopicSpec } from './kafka/topics.js';
import type { Logger } from './log.js';
import { ingestRoutes, type IngestToken } from './ingest/routes.js';
import { EventWriter } from './ingest/writer.js';

/** The topics trustwire owns, with their partition counts and configs. */
export function trustwireTopics(kafka: KafkaSettings): TopicSpec[] {
  const base = { partitions: kafka.partitions, ...(kafka.replicationFactor !== undefined && { replicationFactor: kafka.replicationFactor }) };
  return [
    { topic: kafka.topics.events, ...base },
    { topic: kafka.topics.enriched, ...base },
    // Only the latest state of each host matters: compaction keeps the changelog small.
    { topic: kafka.topics.hostState, ...base, config: { 'cleanup.policy': 'compact' } },
    { topic: kafka.topics.dlq, ...base },
  ];
}

export interface RunningService {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8080`. */
  url: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

/** Connects to Kafka, creates the topics, and serves the HTTP API. */
export async function startService(config: Config, deps: { logger: Logger; tokens: readonly IngestToken[] }): Promise<RunningService> {
  const { logger } = deps;
  const client = createKafkaClient(config.kafka, logger);
  await ensureTopics(client, trustwireTopics(config.kafka), logger);
  let producer: RecordProducer | undefined = await createRecordProducer(client);
  const writer = new EventWriter(producer, config.kafka.topics.events);
  const view = await HostStateView.start(client, config.kafka.topics.hostState, logger);
  const compliance = complianceSettings(config);
  const complianceView = await ComplianceView.start(client, config.kafka.topics.enriched, logger);
  const processor = config.processor.enabled
    ? await startProcessor({
        client,
        topics: config.kafka.topics,
        rules: config.processor,
        logger,
        locate: view.locate,
        groupId: processorGroup(config.kafka.groupPrefix),
        compliance,
      })
    : undefined;

  const server = createServer({ logger, bodyLimitBytes: config.http.bodyLimitBytes, isReady: () => producer !== undefined });
  await server.register(ingestRoutes, {
    writer,
    adapters: config.adapters,
    tokens: deps.tokens,
    bodyLimitBytes: config.http.bodyLimitBytes,
    maxEventsPerRequest: config.http.maxEventsPerRequest,
  });
  await server.register(hostRoutes, { view });
  await server.register(complianceRoutes, { view: complianceView, templates: compliance.templates });
  const metrics = new ConnectorMetrics();
  const connectors = await startConnectors(config.connectors, {
    client,
    producer,
    topics: config.kafka.topics,
    metrics,
    logger,
    baseDir: configBaseDir(config),
    groupPrefix: config.kafka.groupPrefix,
    sessionTimeoutMs: config.runtime.sessionTimeoutMs,
  });
  await server.register(connectorRoutes, { host: connectors, registry: metrics.registry });
  await server.listen({ host: config.http.host, port: config.http.port });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error(`the HTTP server is not listening on a TCP port (${String(address)})`);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    async close() {
      await server.close();
      await connectors.stop(config.runtime.shutdownGraceMs);
      await processor?.stop();
      await view.stop();
      await complianceView.stop();
      const closing = producer;
      producer = undefined;
      await closing?.disconnect();
    },
  };
}
