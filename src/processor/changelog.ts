import { RESTORE_MARKER_KEY } from './stage.js';
import { HostState, SeenIds, UserState } from './state.js';

export { RESTORE_MARKER_KEY };

/**
 * The changelog `trustwire.host-state`: one compacted record per key, JSON, pinned to the
 * partition of the input it was computed from. Keys: `host:<id>`, `user:<id>`, or the restore
 * marker.
 */
export const HOST_KEY_PREFIX = 'host:';
export const USER_KEY_PREFIX = 'user:';
export const SEEN_KEY_PREFIX = 'seen:';

export type ChangelogEntry =
  | { kind: 'host'; state: HostState }
  | { kind: 'user'; state: UserState }
  | { kind: 'seen'; hostId: string; ids: string[] }
  | { kind: 'marker' };

export function hostKey(hostId: string): string {
  return `${HOST_KEY_PREFIX}${hostId}`;
}

export function userKey(userId: string): string {
  return `${USER_KEY_PREFIX}${userId}`;
}

/** The ids of a host's last events, for recognising a resent one. */
export function seenKey(hostId: string): string {
  return `${SEEN_KEY_PREFIX}${hostId}`;
}

export function encodeState(state: HostState | UserState | string[]): Buffer {
  return Buffer.from(JSON.stringify(state));
}

/** A changelog record's meaning; null for a tombstone. Throws on a record that is not ours. */
export function decodeChangelog(key: string, value: Buffer | null): ChangelogEntry | null {
  if (key === RESTORE_MARKER_KEY) return { kind: 'marker' };
  if (value === null) return null;
  const json: unknown = JSON.parse(value.toString('utf8'));
  if (key.startsWith(HOST_KEY_PREFIX)) return { kind: 'host', state: HostState.parse(withoutWorkloads(json)) };
  if (key.startsWith(USER_KEY_PREFIX)) return { kind: 'user', state: UserState.parse(json) };
  if (key.startsWith(SEEN_KEY_PREFIX)) return { kind: 'seen', hostId: key.slice(SEEN_KEY_PREFIX.length), ids: SeenIds.parse(json) };
  throw new Error(`not a trustwire changelog key: ${JSON.stringify(key)}`);
}

/** Host states written before VMs were kept by the by-workload stage listed them: the list is passed over. */
function withoutWorkloads(json: unknown): unknown {
  if (json === null || typeof json !== 'object' || !('workloads' in json)) return json;
  const { workloads: _workloads, ...rest } = json as Record<string, unknown>;
  return rest;
}
