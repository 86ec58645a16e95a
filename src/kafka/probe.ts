import { Admin } from '@platformatic/kafka';
import { describeKafkaError, refusedSetting, type KafkaClient } from './client.js';
import { ComponentHealth } from './health.js';

export interface KafkaProbe {
  readonly health: ComponentHealth;
  stop(): Promise<void>;
}

/**
 * Asks the cluster for its metadata every `intervalMs`: readiness says within a few seconds
 * that Kafka went away, and that it came back, whether or not any event is flowing.
 */
export function startKafkaProbe(client: KafkaClient, intervalMs = 2000, timeoutMs = 3000): KafkaProbe {
  const health = new ComponentHealth('kafka', client.logger.child({ component: 'kafka' }));
  const admin = new Admin(client.options('probe', { retries: 0, requestTimeout: timeoutMs, connectTimeout: timeoutMs }));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        admin.metadata({ topics: [], forceUpdate: true }),
        new Promise<never>((_, reject) => {
          deadline = setTimeout(() => reject(new Error(`no answer from ${client.connection.brokers.join(',')} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (!stopped) health.running();
    } catch (error) {
      // A refused setting is named as such: "unreachable" would send a person to the network.
      const refused = refusedSetting(error, client.connection);
      const cause = refused?.message ?? `brokers ${client.connection.brokers.join(',')} unreachable: ${describeKafkaError(error)}`;
      if (!stopped) health.failing(cause);
    } finally {
      clearTimeout(deadline);
      if (!stopped) timer = setTimeout(() => void probe(), intervalMs);
    }
  };
  void probe();
  return {
    health,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      health.stopped();
      await Promise.race([admin.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
}
