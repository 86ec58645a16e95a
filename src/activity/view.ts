import type { KafkaClient } from '../kafka/client.js';
import type { ComponentHealth } from '../kafka/health.js';
import { followTopic } from '../kafka/reader.js';
import type { Logger } from '../log.js';
import type { CanonicalEvent, EventType } from '../model/events.js';
import type { TrustStatus } from '../model/primitives.js';
import { decodeValue } from '../model/avro.js';
import { activityMatches, alertMatches, type ActivityFilters, type AlertFilters } from './filters.js';
import {
  activityItemOf,
  alertIsOpen,
  complianceItemOf,
  raisedAlertOf,
  TRUST_BOUND_RULES,
  trustItemOf,
  type ActivityItem,
  type AlertItem,
  type ComplianceItem,
  type RaisedAlert,
  type TrustItem,
} from './items.js';

/** What the view tells its subscribers, as each event arrives. */
export type ViewMessage =
  | { kind: 'activity'; item: ActivityItem }
  | { kind: 'alert'; item: AlertItem }
  | { kind: 'trust'; item: TrustItem }
  | { kind: 'compliance'; item: ComplianceItem };

/** How much the view keeps; older items are in Kafka, replayable. */
export interface ActivityLimits {
  /** Admin actions and decisions of the whole fleet. */
  activity: number;
  /** Alerts of the whole fleet. */
  alerts: number;
  /** Per host, of each of its trust changes, activity and alerts. */
  perHost: number;
  /** Items in every host's history together: past it, the hosts quiet the longest lose theirs. */
  historyItems: number;
}

export const DEFAULT_ACTIVITY_LIMITS: ActivityLimits = { activity: 5000, alerts: 5000, perHost: 200, historyItems: 100_000 };

/** A host's trust as another view knows it (the host-state view): when its changelog is ahead, or this view's history was dropped. */
export type HostTrustLookup = (hostId: string) => { status: TrustStatus; since?: number | undefined } | undefined;

/** The kinds the view decodes; config snapshots (the largest records) are passed over unread. */
const FOLLOWED: ReadonlySet<string> = new Set<EventType>(['admin.action', 'policy.decision', 'alert', 'trust.change', 'compliance.assessment']);

/**
 * The newest `capacity` items by event time, oldest first, each id once. An item older than
 * all of a full list is refused, so a late or replayed event never pushes out newer ones.
 */
class Newest<T extends { id: string; time: number }> {
  readonly items: T[] = [];
  readonly #ids = new Set<string>();
  constructor(readonly capacity: number) {}

  add(item: T): boolean {
    if (this.#ids.has(item.id)) return false;
    const { items } = this;
    if (items.length >= this.capacity && item.time < items[0]!.time) return false;
    // Nearly every event is the newest: the place is found from the end.
    let at = items.length;
    while (at > 0 && items[at - 1]!.time > item.time) at--;
    items.splice(at, 0, item);
    this.#ids.add(item.id);
    if (items.length > this.capacity) this.#ids.delete(items.shift()!.id);
    return true;
  }

  *newestFirst(): Generator<T> {
    for (let i = this.items.length - 1; i >= 0; i--) yield this.items[i]!;
  }
}

interface HostHistory {
  trust: Newest<TrustItem>;
  activity: Newest<ActivityItem>;
  alerts: Newest<RaisedAlert>;
}

/** A host's trust as the view saw it last: small, kept for every host even when its history is dropped. */
interface HostTrust {
  status: TrustStatus;
  time: number;
  /** The latest trusted attestation: it closes the host's trust alerts raised before it. */
  trustedAt?: number;
}

/**
 * The dashboard's feeds, followed from the enriched topic (read_committed): the latest admin
 * actions and decisions, the latest alerts with whether each is still open, and per host its
 * trust changes, activity and alerts. Memory is bounded by `ActivityLimits`; subscribers hear
 * of each event as it arrives (the SSE stream).
 */
export class ActivityView {
  readonly #limits: ActivityLimits;
  readonly #hostTrust: HostTrustLookup | undefined;
  readonly #activity: Newest<ActivityItem>;
  readonly #alerts: Newest<RaisedAlert>;
  /** In order of last use: the first ones lose their history when the fleet's is over its bound. */
  readonly #histories = new Map<string, HostHistory>();
  #historyItems = 0;
  readonly #trust = new Map<string, HostTrust>();
  readonly #listeners = new Set<(message: ViewMessage) => void>();
  readonly #logger: Logger | undefined;
  #stop: (() => Promise<void>) | undefined;
  /** The health of the consumer that follows the topic (absent before start). */
  health: ComponentHealth | undefined;

  constructor(options: { limits?: Partial<ActivityLimits>; hostTrust?: HostTrustLookup; logger?: Logger } = {}) {
    this.#limits = { ...DEFAULT_ACTIVITY_LIMITS, ...options.limits };
    this.#hostTrust = options.hostTrust;
    this.#logger = options.logger;
    this.#activity = new Newest(this.#limits.activity);
    this.#alerts = new Newest(this.#limits.alerts);
  }

  static async start(client: KafkaClient, topic: string, logger: Logger, options: { hostTrust?: HostTrustLookup; limits?: Partial<ActivityLimits> } = {}): Promise<ActivityView> {
    const view = new ActivityView({ ...options, logger });
    // After a failure the follower reads the topic again from its start: what was applied is skipped.
    const applied = new Map<number, number>();
    const following = await followTopic(
      client,
      topic,
      (record) => {
        const offset = Number(record.offset);
        if (offset <= (applied.get(record.partition) ?? -1)) return;
        applied.set(record.partition, offset);
        const type = record.headers['trustwire-type'];
        if (type !== undefined && !FOLLOWED.has(type)) return;
        // Assessments only feed the stream: unread while nobody listens.
        if (type === 'compliance.assessment' && view.#listeners.size === 0) return;
        try {
          view.apply(decodeValue(record.value));
        } catch (error) {
          logger.debug({ topic, offset: record.offset, error: (error as Error).message }, 'record skipped by the activity view');
        }
      },
      { component: 'activity view' },
    );
    view.#stop = following.stop;
    view.health = following.health;
    return view;
  }

  apply(event: CanonicalEvent, now = Date.now()): void {
    switch (event.type) {
      case 'admin.action':
      case 'policy.decision': {
        const item = activityItemOf(event);
        const fresh = this.#activity.add(item);
        this.#remember(item.hostId, 'activity', item);
        // An action on a VM also concerns the host the VM runs on (its enrichment's).
        const vmHost = event.enrichment?.hostId;
        if (vmHost !== undefined && vmHost !== item.hostId) this.#remember(vmHost, 'activity', item);
        if (fresh) this.#emit({ kind: 'activity', item });
        return;
      }
      case 'alert': {
        const alert = raisedAlertOf(event);
        const fresh = this.#alerts.add(alert);
        this.#remember(alert.hostId, 'alerts', alert);
        if (fresh) this.#emit({ kind: 'alert', item: this.#withState(alert, now) });
        return;
      }
      case 'trust.change': {
        const hostId = event.host.id;
        const known = this.#trust.get(hostId);
        // A host's events share a partition, so they come in order; one that does not (older
        // than the last) cannot say what came before it, nor change the host's status.
        const late = known !== undefined && known.time > event.time;
        const previous = known !== undefined && !late ? known.status : (event.payload.previousStatus ?? 'unknown');
        const trustedAt = event.payload.status === 'trusted' ? Math.max(event.time, known?.trustedAt ?? 0) : known?.trustedAt;
        const latest = late ? { status: known.status, time: known.time } : { status: event.payload.status, time: event.time };
        this.#trust.set(hostId, { ...latest, ...(trustedAt !== undefined && { trustedAt }) });
        const item = trustItemOf(event, previous);
        if (this.#remember(hostId, 'trust', item)) this.#emit({ kind: 'trust', item });
        return;
      }
      case 'compliance.assessment':
        this.#emit({ kind: 'compliance', item: complianceItemOf(event) });
        return;
      case 'config.snapshot':
        return;
    }
  }

  /** Adds an item to a host's history; false when it was there already or is older than all of it. */
  #remember<K extends keyof HostHistory>(hostId: string, kind: K, item: HostHistory[K]['items'][number]): boolean {
    let history = this.#histories.get(hostId);
    if (history === undefined) {
      const { perHost } = this.#limits;
      history = { trust: new Newest(perHost), activity: new Newest(perHost), alerts: new Newest(perHost) };
    } else {
      this.#histories.delete(hostId);
    }
    this.#histories.set(hostId, history);
    const list = history[kind] as Newest<typeof item>;
    const before = list.items.length;
    const added = list.add(item);
    this.#historyItems += list.items.length - before;
    for (const [quietest, dropped] of this.#histories) {
      if (this.#historyItems <= this.#limits.historyItems || quietest === hostId) break;
      this.#histories.delete(quietest);
      this.#historyItems -= dropped.trust.items.length + dropped.activity.items.length + dropped.alerts.items.length;
    }
    return added;
  }

  #emit(message: ViewMessage): void {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (error) {
        this.#logger?.warn({ error: (error as Error).message }, 'an activity view subscriber failed');
      }
    }
  }

  /** The latest trusted attestation of a host this view or the host-state view knows of. */
  #trustedAgainAt(hostId: string): number | undefined {
    const own = this.#trust.get(hostId)?.trustedAt;
    const other = this.#hostTrust?.(hostId);
    const otherAt = other?.status === 'trusted' ? other.since : undefined;
    if (own === undefined) return otherAt;
    return otherAt === undefined ? own : Math.max(own, otherAt);
  }

  #isOpen(alert: RaisedAlert, now: number): boolean {
    // Only trust alerts ask for the host's trust: the overview asks of every alert kept, each tick.
    return alertIsOpen(alert, TRUST_BOUND_RULES.has(alert.rule) ? this.#trustedAgainAt(alert.hostId) : undefined, now);
  }

  #withState(alert: RaisedAlert, now: number): AlertItem {
    return { ...alert, open: this.#isOpen(alert, now) };
  }

  /** Admin actions and decisions, newest first. */
  activity(filters: ActivityFilters): ActivityItem[] {
    const out: ActivityItem[] = [];
    for (const item of this.#activity.newestFirst()) {
      if (out.length >= filters.limit) break;
      if (activityMatches(item, filters)) out.push(item);
    }
    return out;
  }

  /** Alerts, newest first, each with whether it is open at `now`. */
  alerts(filters: AlertFilters, now = Date.now()): AlertItem[] {
    const out: AlertItem[] = [];
    for (const alert of this.#alerts.newestFirst()) {
      if (out.length >= filters.limit) break;
      const item = this.#withState(alert, now);
      if (alertMatches(item, filters)) out.push(item);
    }
    return out;
  }

  /** How many of the alerts kept are open at `now`. */
  openAlerts(now = Date.now()): number {
    let open = 0;
    for (const alert of this.#alerts.items) if (this.#isOpen(alert, now)) open++;
    return open;
  }

  /** A host's trust changes (oldest first), activity and alerts (newest first); undefined when the view knows nothing of it. */
  history(hostId: string, now = Date.now()): { trust: TrustItem[]; activity: ActivityItem[]; alerts: AlertItem[] } | undefined {
    const history = this.#histories.get(hostId);
    if (history === undefined) return this.#trust.has(hostId) ? { trust: [], activity: [], alerts: [] } : undefined;
    return {
      trust: [...history.trust.items],
      activity: [...history.activity.newestFirst()],
      alerts: [...history.alerts.newestFirst()].map((alert) => this.#withState(alert, now)),
    };
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe. */
  subscribe(listener: (message: ViewMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.#listeners.clear();
    await this.#stop?.();
  }
}
