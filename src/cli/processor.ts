import { complianceSettings } from '../config/compliance.js';
import { topicNames } from '../config/schema.js';
import { createKafkaClient } from '../kafka/client.js';
import { ensureTopics } from '../kafka/topics.js';
import { createLogger } from '../log.js';
import { HostStateView } from '../processor/host-view.js';
import { byUserGroup, startUserStage } from '../processor/users.js';
import { byWorkloadGroup, startWorkloadStage } from '../processor/workloads.js';
import { processorGroup, startProcessor } from '../processor/worker.js';
import { trustwireTopics } from '../service.js';
import { exitNow, lifecycle } from './lifecycle.js';
import { clientConfig, parseOptions } from './options.js';

/**
 * `trustwire processor`: one processor worker, nothing else. Start more of them to scale out;
 * they share the partitions of the events topic through the consumer group.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { config: { type: 'string', default: process.env.TRUSTWIRE_CONFIG }, brokers: { type: 'string' } });
  const config = clientConfig(values);
  const logger = createLogger(config.log.level);
  const client = createKafkaClient(config.kafka, logger);
  await ensureTopics(client, trustwireTopics(config.kafka), logger);
  const view = await HostStateView.start(client, topicNames(config.kafka), logger);
  const groupId = processorGroup(config.kafka.groupPrefix);
  const life = lifecycle(logger, config.runtime.shutdownGraceMs);
  const processor = await startProcessor({
    client,
    topics: topicNames(config.kafka),
    rules: config.processor,
    logger,
    locate: view.locate,
    groupId,
    compliance: complianceSettings(config),
    failureExitMs: config.runtime.failureExitMs,
    onFatal: life.fatal,
  });
  const userStage = await startUserStage({
    client,
    topics: topicNames(config.kafka),
    rules: config.processor,
    logger,
    groupId: byUserGroup(config.kafka.groupPrefix),
    failureExitMs: config.runtime.failureExitMs,
    onFatal: life.fatal,
  });
  const workloadStage = await startWorkloadStage({
    client,
    topics: topicNames(config.kafka),
    rules: config.processor,
    logger,
    groupId: byWorkloadGroup(config.kafka.groupPrefix),
    failureExitMs: config.runtime.failureExitMs,
    onFatal: life.fatal,
  });
  process.stderr.write(
    `processor running in group ${groupId} (the by-user stage in ${byUserGroup(config.kafka.groupPrefix)}, the by-workload stage in ${byWorkloadGroup(config.kafka.groupPrefix)}) on ${config.kafka.brokers.join(',')}\n`,
  );
  return exitNow(
    await life.run(async () => {
      await userStage.stop();
      await workloadStage.stop();
      await processor.stop();
      await view.stop();
    }),
  );
}
