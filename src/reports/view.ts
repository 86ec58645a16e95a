import type { KafkaClient } from '../kafka/client.js';
import type { ComponentHealth } from '../kafka/health.js';
import { followTopic } from '../kafka/reader.js';
import type { Logger } from '../log.js';
import type { CanonicalEvent, EventOf } from '../model/events.js';
import { decodeValue } from '../model/avro.js';

type Assessment = EventOf<'compliance.assessment'>;

/** Scores kept per host for "over time"; older points are in Kafka, replayable. */
const HISTORY_PER_HOST = 500;

/**
 * Every host's latest assessment per template, and its score over time, followed from the
 * enriched topic (read_committed): what the compliance API and reports are made of. Only the
 * latest assessment keeps its rule results; older ones keep their scores.
 */
export class ComplianceView {
  readonly #latest = new Map<string, Assessment>();
  readonly #history = new Map<string, Assessment[]>();
  #stop: (() => Promise<void>) | undefined;
  /** The health of the consumer that follows the topic (absent before start). */
  health: ComponentHealth | undefined;

  static async start(client: KafkaClient, topic: string, logger: Logger): Promise<ComplianceView> {
    const view = new ComplianceView();
    const following = await followTopic(
      client,
      topic,
      (record) => {
        if (record.headers['trustwire-type'] !== undefined && record.headers['trustwire-type'] !== 'compliance.assessment') return;
        try {
          view.apply(decodeValue(record.value));
        } catch (error) {
          logger.debug({ topic, offset: record.offset, error: (error as Error).message }, 'record skipped by the compliance view');
        }
      },
      { component: 'compliance view' },
    );
    view.#stop = following.stop;
    view.health = following.health;
    return view;
  }

  apply(event: CanonicalEvent): void {
    if (event.type !== 'compliance.assessment') return;
    const key = `${event.host.id}\u0000${event.payload.templateId}`;
    const previous = this.#latest.get(key);
    if (previous !== undefined && previous.time > event.time) return this.#remember(event);
    this.#latest.set(key, event);
    this.#remember(event);
  }

  #remember(event: Assessment): void {
    const history = this.#history.get(event.host.id) ?? [];
    if (history.some((e) => e.id === event.id)) return;
    history.push({ ...event, payload: { ...event.payload, results: [] } });
    history.sort((a, b) => a.time - b.time);
    if (history.length > HISTORY_PER_HOST) history.splice(0, history.length - HISTORY_PER_HOST);
    this.#history.set(event.host.id, history);
  }

  /** The latest assessment of every host against every template. */
  latest(): Assessment[] {
    return [...this.#latest.values()];
  }

  /** One host: its latest assessments (with every rule) and its scores over time, oldest first. */
  host(hostId: string): { latest: Assessment[]; history: Assessment[] } | undefined {
    const latest = this.latest().filter((event) => event.host.id === hostId);
    if (latest.length === 0) return undefined;
    return { latest, history: this.#history.get(hostId) ?? [] };
  }

  async stop(): Promise<void> {
    await this.#stop?.();
  }
}
