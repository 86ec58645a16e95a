import { configBaseDir } from '../config/load.js';
import { createKafkaClient } from '../kafka/client.js';
import { createRecordProducer } from '../kafka/producer.js';
import { ensureTopics } from '../kafka/topics.js';
import { createLogger } from '../log.js';
import { startConnectors } from '../runtime/host.js';
import { ConnectorMetrics } from '../runtime/metrics.js';
import { trustwireTopics } from '../service.js';
import { exitNow, lifecycle } from './lifecycle.js';
import { clientConfig, parseOptions } from './options.js';

/**
 * `trustwire connect`: the configured sink connectors, nothing else. More workers with the same
 * configuration share each connector's partitions through its consumer group.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { config: { type: 'string', default: process.env.TRUSTWIRE_CONFIG }, brokers: { type: 'string' } });
  const config = clientConfig(values);
  const logger = createLogger(config.log.level);
  const client = createKafkaClient(config.kafka, logger);
  await ensureTopics(client, trustwireTopics(config.kafka), logger);
  const producer = await createRecordProducer(client);
  const life = lifecycle(logger, config.runtime.shutdownGraceMs);
  const host = await startConnectors(config.connectors, {
    client,
    producer,
    topics: config.kafka.topics,
    metrics: new ConnectorMetrics(),
    logger,
    baseDir: configBaseDir(config),
    groupPrefix: config.kafka.groupPrefix,
    sessionTimeoutMs: config.runtime.sessionTimeoutMs,
    failureExitMs: config.runtime.failureExitMs,
    onFatal: life.fatal,
  });
  for (const status of host.statuses()) process.stderr.write(`${status.name} (${status.type}): ${status.state}${status.reason ? ` — ${status.reason}` : ''}\n`);
  return exitNow(
    await life.run(async () => {
      await host.stop(config.runtime.shutdownGraceMs);
      await producer.disconnect();
    }),
  );
}
