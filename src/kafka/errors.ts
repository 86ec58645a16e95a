/** Kafka could not acknowledge a write in time (a broker away, no leader): retriable by the caller. */
export class KafkaUnavailable extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaUnavailable';
  }
}
