/**
 * The by-user stage: detections about one user across the whole fleet. The processor keys its
 * state by host, so a user denied on hosts of six partitions would be counted six times apart;
 * it forwards every denied or failed admin action, enriched, to `trustwire.by-user` keyed by the
 * user's id (in the same transaction as the rest of its outputs). This stage consumes that topic
 * in its own group, keeps each user's recent attempts in the compacted `trustwire.user-state`,
 * and raises `admin.repeated-denials` and `admin.denial-spraying` exactly once.
 */
import type { KafkaClient } from '../kafka/client.js';
import type { IncomingRecord } from '../kafka/reader.js';
import type { TransactionalRecord } from '../kafka/transactional.js';
import { TYPE_HEADER } from '../kafka/event-headers.js';
import { deadLetterRecord } from '../kafka/dead-letters.js';
import type { Logger } from '../log.js';
import { decodeEvent, encodeEvent } from '../model/avro.js';
import type { CanonicalEvent, EventOf } from '../model/events.js';
import { denialSprayingAlert, repeatedDenialsAlert, unalerted, userAlertEvent } from './alerts.js';
import { startStage, type RunningStage } from './stage.js';
import { UserState, type ProcessorRules } from './state.js';

export function byUserGroup(prefix = 'trustwire'): string {
  return `${prefix}-by-user`;
}

/** The user a record of the by-user topic is keyed by, or undefined when the event feeds no user detection. */
export function byUserKey(event: CanonicalEvent): string | undefined {
  return event.type === 'admin.action' && event.payload.outcome !== 'success' ? event.payload.user.id : undefined;
}

/** Attempts a user's state keeps at most: enough for a burst and the resends of its events. */
const maxAttemptsKept = (rules: ProcessorRules) => Math.max(2 * rules.deniedAttempts.threshold, 2 * rules.spraying.distinctHosts, 64);

/**
 * Counts a denied or failed attempt against its user, fleet-wide; returns the alerts it raised
 * (repeated denials at the threshold, spraying at the distinct hosts). Pure apart from `users`.
 */
export function recordUserAttempt(event: EventOf<'admin.action'>, users: Map<string, UserState>, rules: ProcessorRules): { alerts: EventOf<'alert'>[]; changed: boolean } {
  const userId = event.payload.user.id;
  const user: UserState = users.get(userId) ?? { userId, attempts: [] };
  // A reporter's resend, or the processor's replay after a failover, carries the same id: one attempt.
  if (user.attempts.some((attempt) => attempt.eventId === event.id)) return { alerts: [], changed: false };
  const windowMs = Math.max(rules.deniedAttempts.windowMs, rules.spraying.windowMs);
  // The window ends at the newest attempt: partitions are processed side by side, so one attempt
  // may arrive late, and a late one older than every window counts for nothing.
  const end = Math.max(event.time, ...user.attempts.map((attempt) => attempt.time));
  if (end - event.time > windowMs) return { alerts: [], changed: false };
  user.attempts = user.attempts.filter((attempt) => end - attempt.time <= windowMs);
  user.attempts.push({ time: event.time, eventId: event.id, hostId: event.host.id });
  user.attempts.sort((a, b) => a.time - b.time);
  if (user.attempts.length > maxAttemptsKept(rules)) user.attempts = user.attempts.slice(-maxAttemptsKept(rules));
  users.set(userId, user);

  const alerts: EventOf<'alert'>[] = [];
  const within = (ms: number) => user.attempts.filter((attempt) => end - attempt.time <= ms);
  const burst = unalerted(within(rules.deniedAttempts.windowMs), (attempt) => attempt.time, user.alertedAt);
  if (burst.length >= rules.deniedAttempts.threshold) {
    user.alertedAt = end;
    alerts.push(userAlertEvent(event, userId, repeatedDenialsAlert(event, burst, rules.deniedAttempts), newest(burst)));
  }
  const spray = unalerted(within(rules.spraying.windowMs), (attempt) => attempt.time, user.sprayAlertedAt);
  if (new Set(spray.map((attempt) => attempt.hostId)).size >= rules.spraying.distinctHosts) {
    user.sprayAlertedAt = end;
    alerts.push(userAlertEvent(event, userId, denialSprayingAlert(event, spray, rules.spraying), newest(spray)));
  }
  return { alerts, changed: true };
}

const newest = (attempts: readonly { time: number }[]) => Math.max(...attempts.map((attempt) => attempt.time));

export interface UserStageOptions {
  client: KafkaClient;
  topics: { byUser: string; userState: string; enriched: string; dlq: string };
  rules: ProcessorRules;
  logger: Logger;
  groupId?: string;
  failureExitMs?: number;
  onFatal?(error: Error): void;
}

/** Runs the by-user stage; more workers share its partitions through the group. */
export function startUserStage(options: UserStageOptions): Promise<RunningStage> {
  const { topics, rules } = options;
  const log = options.logger.child({ component: 'by-user stage' });

  function process(record: IncomingRecord, users: Map<string, UserState>, out: TransactionalRecord[], changed: Set<string>): void {
    let event: CanonicalEvent;
    try {
      event = decodeEvent(record.value ?? Buffer.alloc(0));
    } catch (error) {
      // Only the processor writes this topic: an undecodable record is kept, with the reason, not lost.
      log.warn({ partition: record.partition, offset: record.offset, error: (error as Error).message }, 'record dead-lettered');
      out.push({ topic: topics.dlq, ...deadLetterRecord(record, { component: 'by-user stage', stage: 'decode', error: error as Error, attempts: 1 }) });
      return;
    }
    if (event.type !== 'admin.action') return;
    const result = recordUserAttempt(event, users, rules);
    if (result.changed) changed.add(event.payload.user.id);
    for (const alert of result.alerts) out.push({ topic: topics.enriched, key: alert.host.id, value: encodeEvent(alert), headers: { [TYPE_HEADER]: alert.type } });
  }

  return startStage<Map<string, UserState>>({
    client: options.client,
    groupId: options.groupId ?? byUserGroup(),
    input: topics.byUser,
    changelog: topics.userState,
    component: 'by-user stage',
    logger: options.logger,
    sessionTimeoutMs: rules.sessionTimeoutMs,
    ...(options.failureExitMs !== undefined && { failureExitMs: options.failureExitMs }),
    ...(options.onFatal !== undefined && { onFatal: options.onFatal }),
    logic: {
      empty: () => new Map(),
      restore(users, key, value) {
        if (value === null) users.delete(key);
        else users.set(key, UserState.parse(JSON.parse(value.toString('utf8'))));
      },
      process,
      stateRecord: (key, users) => {
        const user = users.get(key);
        return { key, value: user === undefined ? null : Buffer.from(JSON.stringify(user)) };
      },
      size: (users) => users.size,
    },
  });
}
