import type { Consumer, ConsumerConfig } from 'kafkajs';
import type { KafkaClient } from './client.js';

export interface StoppableConsumer {
  consumer: Consumer;
  /** Disconnects, and makes sure the consumer does not restart itself afterwards. */
  stop(): Promise<void>;
}

/** How long a disconnect may take before it is given up on (a broker away, a topic deleted). */
const DISCONNECT_TIMEOUT_MS = 10_000;

/**
 * A kafkajs consumer that stays stopped. kafkajs restarts a crashed consumer on its own (a topic
 * deleted under it, a broker away); a restart racing a disconnect left consumers reconnecting
 * forever and holding the process open. Once stopped, restarts are refused.
 */
export function createStoppableConsumer(client: KafkaClient, config: ConsumerConfig): StoppableConsumer {
  let stopped = false;
  const consumer = client.consumer({
    ...config,
    retry: { ...config.retry, restartOnFailure: async () => !stopped },
  });
  return {
    consumer,
    async stop() {
      stopped = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        consumer.disconnect(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, DISCONNECT_TIMEOUT_MS);
          timer.unref();
        }),
      ]).finally(() => clearTimeout(timer));
    },
  };
}
