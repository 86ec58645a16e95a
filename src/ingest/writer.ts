import { ComponentHealth } from '../kafka/health.js';
import { describeKafkaError } from '../kafka/client.js';
import type { Logger } from '../log.js';
import { encodeEvent } from '../model/avro.js';
import type { CanonicalEvent } from '../model/events.js';
import type { RecordProducer } from '../kafka/producer.js';
import { TYPE_HEADER, VALIDATED_HEADER } from '../kafka/event-headers.js';


/**
 * Writes canonical events to the events topic: Avro single-object encoded, keyed by host id so
 * that one host's events keep their order in one partition.
 */
export class EventWriter {
  /** Whether Kafka acknowledges writes: one line when that changes, not one per request. */
  readonly health: ComponentHealth;
  #recovery: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly producer: RecordProducer,
    readonly topic: string,
    logger: Logger,
  ) {
    this.health = new ComponentHealth('ingest', logger.child({ component: 'ingest' }));
    this.health.running();
  }

  async write(events: readonly CanonicalEvent[]): Promise<void> {
    try {
      await this.producer.send(
        this.topic,
        events.map((event) => ({ key: event.host.id, value: encodeEvent(event), headers: { [TYPE_HEADER]: event.type, [VALIDATED_HEADER]: '1' } })),
      );
    } catch (error) {
      this.health.failing(`Kafka does not acknowledge writes to ${this.topic}: ${describeKafkaError(error)}`);
      this.#watchRecovery();
      throw error;
    }
    this.health.running();
  }

  /**
   * After a failed write, checks every 2 s whether Kafka would take one again: readiness comes
   * back when Kafka does, not only when the next request happens to succeed.
   */
  #watchRecovery(): void {
    if (this.#recovery !== undefined || this.#closed) return;
    this.#recovery = setTimeout(() => {
      void this.producer.check(this.topic).then(
        () => {
          this.#recovery = undefined;
          if (this.health.state === 'failing') this.health.running();
        },
        () => {
          this.#recovery = undefined;
          if (this.health.state === 'failing') this.#watchRecovery();
        },
      );
    }, 2000);
    this.#recovery.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#recovery);
  }
}
