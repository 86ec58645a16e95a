/**
 * A small simulated trusted compute pool, played through the service's own HTTP ingest so that
 * a first `npm start` shows the whole job. Hosts attest through the real adapters (Intel SecL
 * HVS reports, Keylime revocations), the policy proxy places and migrates VMs (sensitive ones
 * only onto trusted hosts of trusted pools), administrators act, collectors send configuration
 * snapshots; once in a while a rootkit changes a host's measured launch (PCR 17 and 18) and the
 * host fails attestation until it is reimaged. The processor turns that into the alerts.
 *
 * The fleet lives in simulation-fleet.ts, the documents in simulation-documents.ts, the
 * configurations in simulation-snapshots.ts; this file decides what happens and posts it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { stableEventId } from '../model/stable-id.js';
import type { Logger } from '../log.js';
import type { IngestEventInput } from '../model/events.js';
import { adminAction, configSnapshot, hvsReport, keylimeRevocation, policyDecision, type Admin, type AdminRequest, type Decision } from './simulation-documents.js';
import {
  buildFleet,
  isSensitive,
  isTrusted,
  pick,
  placementRefusals,
  seededRandom,
  sha256,
  uuid,
  vmsOn,
  type Fleet,
  type Host,
  type Vm,
} from './simulation-fleet.js';
import { DRIFTS } from './simulation-snapshots.js';

const PoolName = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'must be lower-case letters, digits, "." and "-" (it becomes part of host names)');

export const SimulationSettings = z.strictObject({
  enabled: z.boolean().default(true).describe('play a simulated trusted compute pool through ingest, so that a first start shows events, compliance and alerts'),
  pools: z
    .array(PoolName)
    .min(1)
    .max(8)
    .refine((names) => new Set(names).size === names.length, 'pool names must differ')
    .default(['tcp-gold-fra1', 'tcp-silver-fra1', 'general-fra1'])
    .describe('the pools of hosts; a name starting with tcp- is a trusted compute pool, whose VMs are sensitive and need trusted hosts; pools alternate ESXi and KVM hosts'),
  hostsPerPool: z.number().int().min(1).max(32).default(4).describe('hosts in each pool; every third one runs the configuration its installer left, below the hardening threshold'),
  vmsPerPool: z.number().int().min(0).max(64).default(6).describe('VMs placed in each pool at the start'),
  tickMs: z.number().int().min(1).default(1500).describe('how often something happens: a migration, an admin action, a re-attestation or a configuration snapshot'),
  compromiseEveryMs: z
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe(
      'how often a rootkit lands on a host of a trusted pool, which then fails attestation (PCR 17 and 18 mismatch); a host hit twice within processor.flapping.windowMs also raises trust.flapping; 0: never',
    ),
  remediateAfterMs: z.number().int().min(1).default(30_000).describe('how long a compromised host stays untrusted before it is reimaged and attests trusted again'),
  seed: z.number().int().optional().describe('seed of the random choices, for a run that repeats itself; random by default'),
});
export type SimulationSettings = z.infer<typeof SimulationSettings>;

export interface SimulationOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** A bearer token with the `ingest` scope. */
  token: string;
  settings: SimulationSettings;
  logger: Logger;
  fetch?: typeof fetch;
  /** The time events happen at; Date.now by default. */
  now?: () => number;
  /** Overrides `settings.seed`. */
  random?: () => number;
}

/** What was sent, by what carries it: the two adapters and the three kinds posted as events. */
export const DOCUMENT_KINDS = ['intel-secl-hvs', 'keylime', 'config.snapshot', 'policy.decision', 'admin.action'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
export interface DocumentCounts {
  /** Accepted (202). */
  posted: number;
  /** Refused with a 4xx: a bug in the simulation, logged once per kind. */
  refused: number;
  /** Answered with a 5xx other than 503. */
  failed: number;
  /** Attempts answered 429 or 503, or not answered at all, and sent again. */
  retried: number;
}
export type SimulationStats = Record<DocumentKind, DocumentCounts>;

export interface RunningSimulation {
  /** Ends the loop: timers cleared, the request in flight aborted. */
  stop(): Promise<void>;
  stats(): SimulationStats;
}

export function startSimulation(options: SimulationOptions): RunningSimulation {
  const simulation = new Simulation(options);
  const running = simulation.run();
  return {
    async stop() {
      simulation.abort();
      await running;
    },
    stats: () => simulation.stats(),
  };
}

const ADMINS: readonly (Omit<Admin, 'sessionId'> & { share: number })[] = [
  { id: 'alice.admin', name: 'Alice Schmidt', role: 'Administrator', sourceIp: '10.20.30.41', share: 0.45 },
  { id: 'bob.ops', name: 'Bob Weber', role: 'Operator', sourceIp: '10.20.30.52', share: 0.45 },
  // Tries what her role does not allow, again and again: admin.repeated-denials.
  { id: 'mallory', name: 'Mallory', role: 'ReadOnly', sourceIp: '10.66.6.13', share: 0.1 },
];
const HOST_OPERATIONS = ['host.enterMaintenanceMode', 'host.exitMaintenanceMode', 'host.reboot', 'host.advancedSettings.update', 'host.service.restart'];
const VM_OPERATIONS = ['vm.powerOff', 'vm.powerOn', 'vm.snapshot.create', 'vm.console.open', 'vm.reconfigure'];
const FAILURES = [
  'vCenter task timed out after 300 s',
  'the operation is not allowed in the current state of the host',
  'insufficient resources to satisfy the configured HA failover level',
];

/** Documents per request: well under ingest's event and body limits. */
const BATCH = 50;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_WAIT_MS = 30_000;
/** How far a migration looks: most moves stay in their pool (DRS), some try another pool. */
const SAME_POOL_SHARE = 0.6;

class Simulation {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #settings: SimulationSettings;
  readonly #log: Logger;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  readonly #fleet: Fleet;
  readonly #admins: Admin[];
  readonly #runId: string;
  #sequence = 0;
  #nextCompromiseAt = Number.POSITIVE_INFINITY;
  readonly #counts = Object.fromEntries(DOCUMENT_KINDS.map((kind) => [kind, { posted: 0, refused: 0, failed: 0, retried: 0 }])) as SimulationStats;
  /** Why the service is not taking documents, while it is not: logged when it starts and ends. */
  #outage: string | undefined;
  readonly #loggedOnce = new Set<string>();

  constructor(options: SimulationOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#headers = { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' };
    this.#settings = options.settings;
    this.#log = options.logger.child({ component: 'simulation' });
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? (options.settings.seed === undefined ? Math.random : seededRandom(options.settings.seed));
    this.#runId = uuid(this.#random);
    this.#fleet = buildFleet(this.#settings.pools, this.#settings.hostsPerPool, this.#settings.vmsPerPool, this.#random);
    this.#admins = ADMINS.map(({ share: _, ...admin }) => ({ ...admin, sessionId: uuid(this.#random) }));
  }

  abort(): void {
    this.#abort.abort();
  }

  stats(): SimulationStats {
    return structuredClone(this.#counts);
  }

  /** Never throws: a stop ends it, and a failing step is logged and the next one tried. */
  async run(): Promise<void> {
    const { pools, tickMs, compromiseEveryMs } = this.#settings;
    this.#log.info({ pools, hosts: this.#fleet.hosts.length, vms: this.#fleet.vms.length, tickMs }, 'simulation: playing a trusted compute pool through ingest');
    await this.#step(() => this.#baseline());
    if (compromiseEveryMs > 0) this.#nextCompromiseAt = this.#now() + compromiseEveryMs;
    while (!this.#abort.signal.aborted) {
      try {
        await sleep(tickMs, undefined, { signal: this.#abort.signal });
      } catch {
        break; // stopped
      }
      await this.#step(() => this.#nextHappening()());
    }
  }

  async #step(happening: () => Promise<void>): Promise<void> {
    try {
      await happening();
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      const message = (error as Error).message;
      this.#logOnce(`step:${message}`, () => this.#log.error({ err: error }, `simulation: a step failed: ${message}`));
    }
  }

  /** A rootkit's remedy and the next rootkit come when due; otherwise one of the daily things. */
  #nextHappening(): () => Promise<void> {
    const now = this.#now();
    const healed = this.#fleet.hosts.find((host) => host.rootkit !== undefined && host.rootkit.remediateAt <= now);
    if (healed !== undefined) return () => this.#remediate(healed);
    if (now >= this.#nextCompromiseAt) return () => this.#compromise();
    const stranded = this.#fleet.vms.find((vm) => isSensitive(vm) && !isTrusted(vm.host));
    if (stranded !== undefined && this.#random() < 0.5) return () => this.#evacuate(stranded);
    const roll = this.#random();
    if (roll < 0.2) return () => this.#migrate();
    if (roll < 0.5) return () => this.#adminAct();
    if (roll < 0.8) return () => this.#reattest(pick(this.#fleet.hosts, this.#random));
    return () => this.#collectSnapshot();
  }

  // ---- what happens ----------------------------------------------------------------------

  /** Every host attests trusted and reports its configuration; then the VMs are placed. */
  async #baseline(): Promise<void> {
    const { hosts, vms } = this.#fleet;
    await this.#post('intel-secl-hvs', hosts.map((host) => hvsReport(host, this.#now(), uuid(this.#random))));
    await this.#post('config.snapshot', hosts.map((host) => configSnapshot(host, this.#now(), this.#eventId())));
    await this.#post('policy.decision', vms.map((vm) => this.#decision('vm.place', vm, undefined, vm.host, 'svc-provisioning')));
  }

  /** DRS or an administrator moves a VM; the policy denies a sensitive one onto an untrusted host or outside the trusted pools. */
  async #migrate(): Promise<void> {
    const vm = pick(this.#fleet.vms, this.#random);
    const staysInPool = this.#random() < SAME_POOL_SHARE;
    const targets = this.#fleet.hosts.filter((host) => host !== vm.host && (!staysInPool || host.pool === vm.host.pool));
    if (targets.length === 0) return;
    const to = pick(targets, this.#random);
    const operators = this.#admins.filter((admin) => admin.role !== 'ReadOnly');
    const by = this.#random() < 0.6 ? 'drs@vsphere.local' : pick(operators, this.#random).id;
    const decision = this.#decision('vm.migrate', vm, vm.host, to, by);
    if (placementRefusals(vm, to).length === 0) vm.host = to;
    await this.#post('policy.decision', [decision]);
  }

  /** The policy engine moves a sensitive VM off a host that failed attestation. */
  async #evacuate(vm: Vm): Promise<void> {
    const targets = this.#fleet.hosts.filter((host) => host !== vm.host && placementRefusals(vm, host).length === 0);
    if (targets.length === 0) return;
    const to = pick(targets, this.#random);
    const decision = this.#decision('vm.migrate', vm, vm.host, to, 'boundarycontrol@hytrust');
    vm.host = to;
    await this.#post('policy.decision', [decision]);
  }

  async #adminAct(): Promise<void> {
    const admin = this.#pickAdmin();
    const vm = this.#random() < 0.4 && this.#fleet.vms.length > 0 ? pick(this.#fleet.vms, this.#random) : undefined;
    const host = vm?.host ?? pick(this.#fleet.hosts, this.#random);
    const operation = pick(vm === undefined ? HOST_OPERATIONS : VM_OPERATIONS, this.#random);
    const time = this.#now();
    const request: AdminRequest = { id: this.#eventId(time), time, admin, operation, host, vm, outcome: 'success' };
    const roll = this.#random();
    if (admin.role === 'ReadOnly') {
      request.outcome = 'denied';
      request.error = `denied by policy RBAC-Prod: role ReadOnly lacks the privilege for ${operation}`;
    } else if (roll < 0.02) {
      request.outcome = 'denied';
      request.error = `denied by policy ChangeWindow-Prod: operations on pool ${host.pool.name} need an approved change window`;
    } else if (roll < 0.05) {
      request.outcome = 'failed';
      request.error = pick(FAILURES, this.#random);
    }
    await this.#post('admin.action', [adminAction(request)]);
  }

  /** HVS attests a host again, as it does on its schedule: trusted, or still failing. */
  async #reattest(host: Host): Promise<void> {
    await this.#post('intel-secl-hvs', [hvsReport(host, this.#now(), uuid(this.#random))]);
  }

  /** A collector reports a host: a hardened one may drift (a change someone made), and a drift is later undone. */
  async #collectSnapshot(): Promise<void> {
    const host = pick(this.#fleet.hosts, this.#random);
    if (host.drift !== undefined) host.drift = undefined;
    else if (host.profile === 'hardened' && this.#random() < 0.3) host.drift = pick(DRIFTS[host.platform], this.#random);
    await this.#post('config.snapshot', [configSnapshot(host, this.#now(), this.#eventId())]);
  }

  /**
   * A rootkit in the measured launch of a trusted pool's host, one running sensitive VMs where
   * there is one. Keylime's verifier, where the host runs its agent (KVM), notices at the next
   * quote and calls its webhook; HVS's report shows both PCRs.
   */
  async #compromise(): Promise<void> {
    const now = this.#now();
    this.#nextCompromiseAt = now + this.#settings.compromiseEveryMs;
    const candidates = this.#fleet.hosts.filter((host) => host.pool.trusted && isTrusted(host));
    const withSensitive = candidates.filter((host) => vmsOn(this.#fleet, host).some(isSensitive));
    const eligible = withSensitive.length > 0 ? withSensitive : candidates;
    if (eligible.length === 0) return;
    // The host compromised longest ago, so that rootkits spread over the pool rather than flap one host.
    const longestAgo = Math.min(...eligible.map((host) => host.compromisedAt ?? 0));
    const host = pick(eligible.filter((host) => (host.compromisedAt ?? 0) === longestAgo), this.#random);
    host.compromisedAt = now;
    host.rootkit = {
      pcr17: sha256(`rootkit|${host.id}|${now}|17`),
      pcr18: sha256(`rootkit|${host.id}|${now}|18`),
      remediateAt: now + this.#settings.remediateAfterMs,
    };
    const sensitive = vmsOn(this.#fleet, host).filter(isSensitive).map((vm) => vm.name);
    this.#log.info({ host: host.name, hostId: host.id, pool: host.pool.name, sensitive }, `simulation: a rootkit lands on ${host.name}; it fails attestation until reimaged`);
    if (host.platform === 'linux-kvm') await this.#post('keylime', [keylimeRevocation(host, now)]);
    await this.#reattest(host);
  }

  async #remediate(host: Host): Promise<void> {
    host.rootkit = undefined;
    this.#log.info({ host: host.name, hostId: host.id }, `simulation: ${host.name} is reimaged and attests trusted again`);
    await this.#reattest(host);
  }

  // ---- documents -------------------------------------------------------------------------

  #decision(action: Decision['action'], vm: Vm, from: Host | undefined, to: Host, subjectUser: string): IngestEventInput {
    const time = this.#now();
    const id = this.#eventId(time);
    return policyDecision({ id, decisionId: `dec-${id.slice(-12)}`, time, action, vm, from, to, subjectUser, refusals: placementRefusals(vm, to) });
  }

  #pickAdmin(): Admin {
    let roll = this.#random();
    for (const [index, admin] of ADMINS.entries()) {
      roll -= admin.share;
      if (roll < 0) return this.#admins[index]!;
    }
    return this.#admins[0]!;
  }

  /** Ids of our own, so a request sent again after a 503 carries the same ones and is not doubled. */
  #eventId(time = this.#now()): string {
    return stableEventId(time, `trustwire-simulation|${this.#runId}|${++this.#sequence}`);
  }

  // ---- posting ---------------------------------------------------------------------------

  /** Posts in order, a batch at a time (Keylime's webhook carries one notification). */
  async #post(kind: DocumentKind, documents: readonly unknown[]): Promise<void> {
    const path = kind === 'intel-secl-hvs' || kind === 'keylime' ? `/v1/adapters/${kind}` : '/v1/events';
    const size = kind === 'keylime' ? 1 : BATCH;
    for (let at = 0; at < documents.length; at += size) {
      const batch = documents.slice(at, at + size);
      await this.#send(kind, path, kind === 'keylime' ? batch[0] : batch, batch.length);
    }
  }

  /**
   * Sends until the service takes it: a 429 or 503 (or no answer) waits as long as Retry-After
   * says, or backs off. A 4xx other than 429 is the simulation's bug: counted, logged once per
   * kind, dropped. Throws only when stopped.
   */
  async #send(kind: DocumentKind, path: string, document: unknown, count: number): Promise<void> {
    const counts = this.#counts[kind];
    const body = JSON.stringify(document);
    const { signal } = this.#abort;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(`${this.#url}${path}`, {
          method: 'POST',
          headers: this.#headers,
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        });
        text = await response.text();
      } catch (error) {
        if (signal.aborted) throw error;
        counts.retried += count;
        this.#waiting(`the service does not answer at ${this.#url}: ${(error as Error).message}`);
        await sleep(backoffMs(attempt), undefined, { signal });
        continue;
      }
      if (response.ok) {
        counts.posted += count;
        this.#resumed();
        return;
      }
      if (response.status === 429 || response.status === 503) {
        counts.retried += count;
        this.#waiting(`the service answers ${response.status}: ${errorOf(text)}`);
        await sleep(retryAfterMs(response.headers.get('retry-after')) ?? backoffMs(attempt), undefined, { signal });
        continue;
      }
      if (response.status < 500) counts.refused += count;
      else counts.failed += count;
      this.#logOnce(`refused:${kind}`, () =>
        this.#log.error(
          { kind, status: response.status, error: errorOf(text), details: detailsOf(text) },
          `simulation: the service refused a simulated ${kind} (${response.status}): a bug in the simulation; further refusals of this kind are only counted`,
        ),
      );
      return;
    }
  }

  #waiting(reason: string): void {
    if (this.#outage === undefined) this.#log.warn({ reason }, `simulation: waiting for the service to take events: ${reason}`);
    this.#outage = reason;
  }

  #resumed(): void {
    if (this.#outage === undefined) return;
    this.#outage = undefined;
    this.#log.info('simulation: the service takes events again');
  }

  #logOnce(key: string, log: () => void): void {
    if (this.#loggedOnce.has(key)) return;
    this.#loggedOnce.add(key);
    log();
  }
}

function backoffMs(attempt: number): number {
  return Math.min(MAX_WAIT_MS, 500 * 2 ** (attempt - 1));
}

/** `Retry-After` in seconds or as an HTTP date, within MAX_WAIT_MS. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header) * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_WAIT_MS) : undefined;
}

function errorOf(text: string): string {
  try {
    const { error } = JSON.parse(text) as { error?: unknown };
    if (typeof error === 'string') return error;
  } catch {
    // not the service's JSON error: quote the text
  }
  return text.slice(0, 500);
}

function detailsOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { details?: unknown }).details;
  } catch {
    return undefined;
  }
}
