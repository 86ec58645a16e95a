/**
 * The documents the simulated fleet sends, each in the shape its real sender uses: Intel SecL
 * HVS trust reports and Keylime revocation webhooks for the adapters (src/ingest/adapters/),
 * events of the contract (examples/) for `POST /v1/events`.
 */
import type { IngestEventInput } from '../model/events.js';
import { expectedPcr, isTrusted, uuidOf, type Host, type Vm } from './simulation-fleet.js';
import { configurationOf } from './simulation-snapshots.js';

const POLICY_PROXY = { system: 'policy-proxy', vendor: 'HyTrust', product: 'CloudControl', version: '6.4.1' };
const ADMIN_GATEWAY = { system: 'admin-gateway', vendor: 'HyTrust', product: 'CloudControl', version: '6.4.1' };
const DAY_MS = 86_400_000;

/** The PCRs of an Intel TXT measured launch: 17 the SINIT ACM and MLE, 18 the MLE's launch policy. */
const LAUNCH_PCRS = [17, 18] as const;

/**
 * An HVS trust report (v4+ shape, `GET /hvs/v2/reports`). A host with a rootkit fails the OS
 * flavor: PCR 17 and 18 no longer hold the measured launch the flavor expects.
 */
export function hvsReport(host: Host, time: number, reportId: string): object {
  const trusted = isTrusted(host);
  // A platform's hosts share the PLATFORM and OS flavors (one golden image); the others are the host's own.
  const flavors = {
    platform: uuidOf(`${host.platform}|PLATFORM`),
    os: uuidOf(`${host.platform}|OS`),
    hostUnique: uuidOf(`${host.id}|HOST_UNIQUE`),
    assetTag: uuidOf(`${host.id}|ASSET_TAG`),
  };
  const launchRules = LAUNCH_PCRS.map((index) => {
    const expected = expectedPcr(host.platform, index);
    const actual = host.rootkit === undefined ? expected : index === 17 ? host.rootkit.pcr17 : host.rootkit.pcr18;
    const matches = actual === expected;
    return {
      rule: { rule_name: 'rule.PcrMatchesConstant', markers: ['OS'], expected_pcr: { pcr: { index, bank: 'SHA256' }, measurement: expected, pcr_matches: matches } },
      flavor_id: flavors.os,
      trusted: matches,
      faults: matches
        ? null
        : [
            {
              fault_name: 'fault.PcrValueMismatchSHA256',
              description: `Host PCR ${index} of SHA256 with value '${actual}' does not match expected value '${expected}'`,
              pcr_index: `pcr_${index}`,
              pcr_bank: 'SHA256',
              expected_pcrvalue: expected,
              actual_pcrvalue: actual,
            },
          ],
    };
  });
  const flavorTrusted = (part: string, flavorId: string) => ({ rule: { rule_name: 'rule.FlavorTrusted', markers: [part] }, flavor_id: flavorId, trusted: true });
  return {
    id: reportId,
    // HVS's own host id is the hardware UUID here too, so the host keeps its id whichever
    // `adapters.intel-secl-hvs.hostId` the service is configured with.
    host_id: host.id,
    host_info: {
      host_name: host.name,
      hardware_uuid: host.id.toUpperCase(),
      os_name: host.platform === 'esxi-8' ? 'VMware ESXi' : 'RedHatEnterprise',
      os_version: configurationOf(host.platform, host.profile, undefined).platformVersion,
      tboot_installed: String(host.platform === 'linux-kvm'),
      hardware_features: { TXT: { enabled: 'true' }, TPM: { enabled: 'true', meta: { tpm_version: '2.0' } } },
    },
    trust_information: {
      OVERALL: trusted,
      flavors_trust: {
        PLATFORM: { trust: true, rules: [flavorTrusted('PLATFORM', flavors.platform)] },
        OS: { trust: trusted, rules: [...launchRules, flavorTrusted('OS', flavors.os)] },
        HOST_UNIQUE: { trust: true, rules: [flavorTrusted('HOST_UNIQUE', flavors.hostUnique)] },
        ASSET_TAG: {
          trust: true,
          rules: [
            { rule: { rule_name: 'rule.AssetTagMatches', markers: ['ASSET_TAG'], tags: host.pool.assetTags }, flavor_id: flavors.assetTag, trusted: true },
          ],
        },
      },
    },
    created: new Date(time).toISOString(),
    expiration: new Date(time + DAY_MS).toISOString(),
  };
}

/**
 * The webhook Keylime's verifier sends when a quote fails: one notification for the failure of
 * highest severity, PCR 17 here (the policy's launch measurement). `msg` is JSON text.
 */
export function keylimeRevocation(host: Host, time: number): object {
  const expected = expectedPcr(host.platform, 17);
  const msg = {
    type: 'revocation',
    ip: host.ip,
    agent_id: host.id,
    port: 9002,
    tpm_policy: JSON.stringify({ 17: [expected], 18: [expectedPcr(host.platform, 18)], mask: '0x60000' }),
    meta_data: JSON.stringify({ cert_serial: 3, subject: `/CN=${host.id}` }),
    event_time: asctime(time),
    event_id: 'pcr_validation.invalid_pcr_17',
    severity_label: 'emergency',
    context: JSON.stringify({ context: 'PCR value is not in allowlist', got: host.rootkit?.pcr17, expected: [expected] }),
  };
  // Keylime signs with the tenant's revocation key; the adapter does not check it, and this agent has none.
  return { msg: JSON.stringify(msg), signature: '' };
}

/** Python's `time.asctime()` of a UTC time: "Thu Nov  5 17:11:20 2026". */
function asctime(time: number): string {
  const date = new Date(time);
  const [weekday, month] = [date.toUTCString().slice(0, 3), date.toUTCString().slice(8, 11)];
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const clock = date.toISOString().slice(11, 19);
  return `${weekday} ${month} ${day} ${clock} ${date.getUTCFullYear()}`;
}

export function configSnapshot(host: Host, time: number, id: string): IngestEventInput {
  const { platformVersion, settings, services } = configurationOf(host.platform, host.profile, host.drift);
  return {
    id,
    type: 'config.snapshot',
    time,
    source: { system: 'config-collector', vendor: 'trustwire', product: host.platform === 'esxi-8' ? 'esxi-collector' : 'linux-collector', version: '0.1.0' },
    host: hostOf(host),
    severity: 1,
    payload: { platform: host.platform, platformVersion, collectedAt: time, settings, services },
  };
}

export interface Decision {
  id: string;
  decisionId: string;
  time: number;
  action: 'vm.place' | 'vm.migrate';
  vm: Vm;
  from?: Host | undefined;
  to: Host;
  subjectUser: string;
  refusals: string[];
}

/** The policy proxy's verdict on a placement or migration, reported by its target host (the contract's rule). */
export function policyDecision(decision: Decision): IngestEventInput {
  const { vm, from, to, refusals } = decision;
  const permit = refusals.length === 0;
  const sensitive = vm.trustRequirement === 'trusted';
  return {
    id: decision.id,
    type: 'policy.decision',
    time: decision.time,
    source: POLICY_PROXY,
    host: hostOf(to),
    severity: permit ? 2 : sensitive ? 6 : 4,
    payload: {
      decisionId: decision.decisionId,
      policy: sensitive ? 'BoundaryControl-TrustedPools-DE' : 'DefaultPlacement',
      action: decision.action,
      decision: permit ? 'permit' : 'deny',
      subjectUser: decision.subjectUser,
      resource: { type: 'vm', id: vm.id, name: vm.name, labels: vm.labels, requiredTags: vm.requiredTags },
      ...(from !== undefined && { sourceHost: { id: from.id, name: from.name } }),
      targetHost: { id: to.id, name: to.name },
      reasons: permit && sensitive ? [`target host ${to.name} is trusted and in trusted compute pool ${to.pool.name}`] : refusals,
      matchedRules: sensitive ? ['trusted-hosts-for-sensitive', 'tcp-pools-only', 'geo-de-only'] : ['default-allow'],
      trustRequirement: vm.trustRequirement,
    },
  };
}

export interface Admin {
  id: string;
  name: string;
  role: string;
  sourceIp: string;
  sessionId: string;
}

export interface AdminRequest {
  id: string;
  time: number;
  admin: Admin;
  operation: string;
  /** The host the action concerns, or on which the VM runs. */
  host: Host;
  vm?: Vm | undefined;
  outcome: 'success' | 'denied' | 'failed';
  error?: string | undefined;
}

export function adminAction(request: AdminRequest): IngestEventInput {
  const { admin, host, vm, outcome } = request;
  return {
    id: request.id,
    type: 'admin.action',
    time: request.time,
    source: ADMIN_GATEWAY,
    host: hostOf(host),
    severity: outcome === 'success' ? 3 : outcome === 'failed' ? 4 : 5,
    payload: {
      user: { id: admin.id, name: admin.name, role: admin.role },
      sourceIp: admin.sourceIp,
      sessionId: admin.sessionId,
      operation: request.operation,
      target: vm === undefined ? { type: 'host', id: host.id, name: host.name } : { type: 'vm', id: vm.id, name: vm.name },
      outcome,
      ...(request.error !== undefined && { error: request.error }),
    },
  };
}

function hostOf(host: Host) {
  return { id: host.id, name: host.name, ip: host.ip, pool: host.pool.name };
}
