import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every connector's metrics, labelled by connector name. Labels are names and stages only:
 * no error text, no option value, so no secret can reach /metrics.
 */
export class ConnectorMetrics {
  readonly registry: Registry;
  readonly consumed: Counter<'connector'>;
  readonly delivered: Counter<'connector'>;
  readonly skipped: Counter<'connector'>;
  readonly retried: Counter<'connector'>;
  readonly deadLettered: Counter<'connector' | 'stage'>;
  readonly inFlight: Gauge<'connector'>;
  readonly lag: Gauge<'connector' | 'partition'>;
  readonly batchSize: Histogram<'connector'>;
  readonly sendSeconds: Histogram<'connector' | 'result'>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.consumed = new Counter({ name: 'trustwire_sink_consumed_total', help: 'Records consumed from Kafka', labelNames: ['connector'], registers });
    this.delivered = new Counter({ name: 'trustwire_sink_delivered_total', help: 'Events the sink accepted', labelNames: ['connector'], registers });
    this.skipped = new Counter({ name: 'trustwire_sink_skipped_total', help: "Events outside the sink's route", labelNames: ['connector'], registers });
    this.retried = new Counter({ name: 'trustwire_sink_retries_total', help: 'Send attempts that will be retried', labelNames: ['connector'], registers });
    this.deadLettered = new Counter({
      name: 'trustwire_sink_dead_lettered_total',
      help: 'Records sent to the dead-letter topic',
      labelNames: ['connector', 'stage'],
      registers,
    });
    this.inFlight = new Gauge({ name: 'trustwire_sink_in_flight_events', help: 'Events being delivered now', labelNames: ['connector'], registers });
    this.lag = new Gauge({
      name: 'trustwire_sink_consumer_lag',
      help: 'Records behind the end of the partition after the last batch',
      labelNames: ['connector', 'partition'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'trustwire_sink_batch_events',
      help: 'Events per send',
      labelNames: ['connector'],
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 5000],
      registers,
    });
    this.sendSeconds = new Histogram({
      name: 'trustwire_sink_send_seconds',
      help: 'Time to deliver a batch, retries included',
      labelNames: ['connector', 'result'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }
}
