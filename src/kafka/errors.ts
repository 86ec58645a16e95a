import { TrustwireError } from '../errors.js';

/** Kafka could not acknowledge a write in time (a broker away, no leader): retriable by the caller. */
export class KafkaUnavailable extends TrustwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retriable: true });
    this.name = 'KafkaUnavailable';
  }
}
