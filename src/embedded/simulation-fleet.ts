/**
 * The simulated fleet: pools of hosts, each with its trust state and configuration, and the VMs
 * that run on them. The simulation changes this model first and then reports the change, as
 * the attestation services, the policy proxy and the collectors of a real pool would.
 */
import { createHash } from 'node:crypto';
import type { Drift, Platform, Profile } from './simulation-snapshots.js';

/** Pools whose name starts so are trusted compute pools: their VMs are sensitive and need trusted hosts. */
export const TRUSTED_POOL_PREFIX = 'tcp-';

export interface Pool {
  name: string;
  trusted: boolean;
  platform: Platform;
  hosts: Host[];
  assetTags: Record<string, string>;
}

export interface Host {
  /** The SMBIOS UUID, lower case: the id HVS reports (hardware_uuid) and Keylime agents use. */
  id: string;
  name: string;
  ip: string;
  pool: Pool;
  platform: Platform;
  profile: Profile;
  drift?: Drift | undefined;
  /** A rootkit in the measured launch, until the host is reimaged. */
  rootkit?: Rootkit | undefined;
  /** When the last rootkit landed. */
  compromisedAt?: number | undefined;
}

export interface Rootkit {
  /** What PCR 17 and 18 measure now, instead of the flavor's values. */
  pcr17: string;
  pcr18: string;
  remediateAt: number;
}

export interface Vm {
  id: string;
  name: string;
  labels: string[];
  /** Asset tags its host must carry. */
  requiredTags: Record<string, string>;
  trustRequirement: 'trusted' | 'any';
  host: Host;
}

export interface Fleet {
  pools: Pool[];
  hosts: Host[];
  vms: Vm[];
}

const SENSITIVE_WORKLOADS = ['fin-ledger-db', 'payments-api', 'hr-payroll', 'card-tokenizer', 'kms-proxy', 'pii-vault'];
const GENERAL_WORKLOADS = ['web-frontend', 'ci-runner', 'wiki', 'build-cache', 'monitoring', 'mail-relay'];

/**
 * Pools alternate ESXi and KVM. In each pool every third host was left as installed, so the
 * compliance bands differ; in a trusted pool two VMs of three are sensitive.
 */
export function buildFleet(poolNames: readonly string[], hostsPerPool: number, vmsPerPool: number, random: () => number): Fleet {
  const fleet: Fleet = { pools: [], hosts: [], vms: [] };
  poolNames.forEach((name, poolIndex) => {
    const trusted = name.startsWith(TRUSTED_POOL_PREFIX);
    const platform: Platform = poolIndex % 2 === 0 ? 'esxi-8' : 'linux-kvm';
    const assetTags = { country: 'DE', region: 'HE', site: 'FRA1', classification: trusted ? 'restricted' : 'internal' };
    const pool: Pool = { name, trusted, platform, hosts: [], assetTags };
    const shortName = name.startsWith(TRUSTED_POOL_PREFIX) ? name.slice(TRUSTED_POOL_PREFIX.length) : name;
    for (let i = 0; i < hostsPerPool; i++) {
      const number = String(i + 1).padStart(2, '0');
      pool.hosts.push({
        id: uuid(random),
        name: `${platform === 'esxi-8' ? 'esx' : 'kvm'}-${shortName}-${number}.dc.example.net`,
        ip: `10.40.${poolIndex + 1}.${101 + i}`,
        pool,
        platform,
        profile: i % 3 === 2 ? 'as-installed' : 'hardened',
      });
    }
    for (let j = 0; j < vmsPerPool; j++) {
      const sensitive = trusted && j % 3 !== 2;
      const names = sensitive ? SENSITIVE_WORKLOADS : GENERAL_WORKLOADS;
      fleet.vms.push({
        id: `vm-${1000 + fleet.vms.length + 1}`,
        name: `${names[j % names.length]}-${String(poolIndex + 1)}${String(j + 1).padStart(2, '0')}`,
        labels: sensitive ? ['sensitive', 'pci'] : [],
        requiredTags: sensitive ? { country: 'DE', classification: 'restricted' } : {},
        trustRequirement: sensitive ? 'trusted' : 'any',
        host: pool.hosts[j % pool.hosts.length]!,
      });
    }
    fleet.pools.push(pool);
    fleet.hosts.push(...pool.hosts);
  });
  return fleet;
}

export const isTrusted = (host: Host): boolean => host.rootkit === undefined;
export const isSensitive = (vm: Vm): boolean => vm.trustRequirement === 'trusted';
export const vmsOn = (fleet: Fleet, host: Host): Vm[] => fleet.vms.filter((vm) => vm.host === host);

/** Why the placement policy refuses `vm` on `host`; none when it permits it. */
export function placementRefusals(vm: Vm, host: Host): string[] {
  if (!isSensitive(vm)) return [];
  const refusals: string[] = [];
  if (!host.pool.trusted) refusals.push(`pool ${host.pool.name} is not a trusted compute pool`);
  if (!isTrusted(host)) refusals.push(`target host ${host.name} is untrusted (attestation failed)`);
  for (const [tag, value] of Object.entries(vm.requiredTags)) {
    if (host.pool.assetTags[tag] !== value) refusals.push(`target host lacks the required asset tag ${tag}=${value}`);
  }
  return refusals;
}

/** The SHA-256 a flavor expects in a PCR, the same for every host of a platform (one golden image). */
export function expectedPcr(platform: Platform, index: number): string {
  return sha256(`trustwire-simulation|${platform}|pcr${index}`);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A version-4 UUID from `random`, so that a seeded run names its hosts and reports alike each time. */
export function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(random() * 4) + 8) as number).toString(16);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

/** A UUID derived from `text`: the same thing gets the same id in every run. */
export function uuidOf(text: string): string {
  let hash = sha256(text);
  hash = `${hash.slice(0, 12)}4${hash.slice(13, 16)}${'89ab'[parseInt(hash[16]!, 16) % 4]}${hash.slice(17, 32)}`;
  return `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
}

/** mulberry32: small, fast, and good enough to pick what happens next. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function pick<T>(items: readonly T[], random: () => number): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(random() * items.length)]!;
}
