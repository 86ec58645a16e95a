import type { KafkaClient } from '../kafka/client.js';
import type { RecordProducer } from '../kafka/producer.js';
import type { Logger } from '../log.js';
import type { ConnectorMetrics } from './metrics.js';
import { ConnectorRefused, loadConnector } from './registry.js';
import { ConnectorRunner, newStatus, type ConnectorStatus } from './runner.js';
import type { ConnectorInstanceSettings } from './settings.js';

export interface ConnectorHost {
  statuses(): ConnectorStatus[];
  stop(graceMs: number): Promise<void>;
}

export interface HostDeps {
  client: KafkaClient;
  producer: RecordProducer;
  topics: { enriched: string; dlq: string };
  metrics: ConnectorMetrics;
  logger: Logger;
  baseDir: string;
  sessionTimeoutMs?: number;
  groupPrefix?: string;
  failureExitMs?: number;
  onFatal?(error: Error): void;
}

/**
 * Starts every enabled connector. One that cannot be loaded, is misconfigured or fails its
 * start is refused with its name, option path and reason; the others start regardless.
 */
export async function startConnectors(list: readonly ConnectorInstanceSettings[], deps: HostDeps): Promise<ConnectorHost> {
  const runners: ConnectorRunner[] = [];
  const refused: ConnectorStatus[] = [];
  for (const [index, settings] of list.entries()) {
    if (!settings.enabled) continue;
    const at = `connectors[${index}]`;
    try {
      const { definition, options } = await loadConnector(settings, at, deps.baseDir);
      const runner = new ConnectorRunner(settings, definition, options, deps);
      try {
        await runner.start();
      } catch (error) {
        throw new ConnectorRefused(settings.name, `${at}`, `did not start: ${(error as Error).message}`);
      }
      runners.push(runner);
    } catch (error) {
      const reason = error instanceof ConnectorRefused ? error.message : `connector "${settings.name}" refused: ${(error as Error).message}`;
      deps.logger.error({ connector: settings.name }, reason);
      refused.push({ ...newStatus(settings.name, settings.type ?? settings.module ?? '?', 'refused', deps.groupPrefix), reason });
    }
  }
  return {
    statuses: () => [...runners.map((runner) => ({ ...runner.status, ...(runner.health() !== undefined && { health: runner.health()! }) })), ...refused],
    async stop(graceMs) {
      await Promise.all(runners.map((runner) => runner.stop(graceMs)));
    },
  };
}
