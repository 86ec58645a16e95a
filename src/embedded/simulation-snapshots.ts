/**
 * What the simulated config collectors report: a hardened and an as-installed configuration
 * per platform, and the drifts an administrator causes (and later undoes). Against the bundled
 * templates (templates/), a hardened host scores 100 %, an as-installed one falls below the
 * threshold, and each drift costs a hardened host a rule or two.
 */
import type { z } from 'zod';
import type { ServiceState, SettingValue } from '../model/payloads.js';

export type Platform = 'esxi-8' | 'linux-kvm';
/** How the host was set up: to the hardening guide, or left as the installer made it. */
export type Profile = 'hardened' | 'as-installed';

type Settings = Record<string, z.input<typeof SettingValue>>;
type Services = z.input<typeof ServiceState>[];

export interface Configuration {
  platformVersion: string;
  settings: Settings;
  services: Services;
}

/** A change that weakens a host: settings and services that differ from its configuration. */
export interface Drift {
  what: string;
  settings?: Settings;
  services?: Services;
}

const ESXI_HARDENED: Configuration = {
  platformVersion: '8.0.3 build-24022510',
  settings: {
    'Security.AccountLockFailures': 3,
    'Security.AccountUnlockTime': 900,
    'Security.PasswordQualityControl': 'similar=deny retry=3 min=disabled,disabled,disabled,disabled,15',
    'Security.PasswordHistory': 5,
    'Security.PasswordMaxDays': 90,
    'UserVars.HostClientSessionTimeout': 900,
    'UserVars.ESXiShellInteractiveTimeOut': 900,
    'UserVars.ESXiShellTimeOut': 600,
    'UserVars.DcuiTimeOut': 600,
    'UserVars.SuppressShellWarning': 0,
    'UserVars.SuppressHyperthreadWarning': 0,
    'UserVars.ESXiVPsDisabledProtocols': 'sslv3,tlsv1,tlsv1.1',
    'Config.HostAgent.log.level': 'info',
    'Config.HostAgent.plugins.solo.enableMob': false,
    'Config.HostAgent.plugins.hostsvc.esxAdminsGroup': 'ESXi-Admins-FRA1',
    'Config.HostAgent.vmacore.soap.sessionTimeout': 30,
    'DCUI.Access': 'root',
    'Mem.ShareForceSalting': 2,
    'Mem.MemEagerZero': 1,
    'Net.BlockGuestBPDU': 1,
    'Net.DVFilterBindIpAddress': '',
    'Net.BMCNetworkEnable': 0,
    'VMkernel.Boot.execInstalledOnly': true,
    'Syslog.global.logHost': 'ssl://syslog.dc.example.net:1514',
    'Syslog.global.logLevel': 'info',
    'Syslog.global.auditRecord.storageEnable': true,
    'Syslog.global.auditRecord.storageCapacity': 100,
    'Syslog.global.auditRecord.remoteEnable': true,
    'system.lockdownMode': 'lockdownNormal',
    'software.acceptance.level': 'PartnerSupported',
    'system.secureBoot.enabled': true,
    'system.settings.encryption.requireSecureBoot': true,
    'system.security.fips140.ssh.enabled': true,
    'system.snmp.enabled': false,
    'system.tls.server.profile': 'NIST_2024',
    'system.ntp.servers': ['ntp1.dc.example.net', 'ntp2.dc.example.net'],
  },
  services: [
    { name: 'TSM-SSH', running: false, startupPolicy: 'off' },
    { name: 'TSM', running: false, startupPolicy: 'off' },
    { name: 'ntpd', running: true, startupPolicy: 'on' },
    { name: 'slpd', running: false, startupPolicy: 'off' },
    { name: 'sfcbd-watchdog', running: false, startupPolicy: 'off' },
    { name: 'DCUI', running: true, startupPolicy: 'on' },
    { name: 'vpxa', running: true, startupPolicy: 'on' },
  ],
};

/** ESXi as the installer leaves it: no lockdown, no remote log, default admin group, weak passwords. */
const ESXI_AS_INSTALLED: Configuration = {
  platformVersion: '8.0.2 build-22380479',
  settings: {
    ...ESXI_HARDENED.settings,
    'Security.AccountLockFailures': 5,
    'Security.AccountUnlockTime': 120,
    'Security.PasswordQualityControl': 'retry=3 min=disabled,disabled,disabled,7,7',
    'Security.PasswordHistory': 0,
    'Security.PasswordMaxDays': 99999,
    'UserVars.ESXiShellInteractiveTimeOut': 0,
    'UserVars.ESXiShellTimeOut': 0,
    'Config.HostAgent.plugins.hostsvc.esxAdminsGroup': 'ESX Admins',
    'Mem.MemEagerZero': 0,
    'Net.BlockGuestBPDU': 0,
    'Net.BMCNetworkEnable': 1,
    'VMkernel.Boot.execInstalledOnly': false,
    'Syslog.global.logHost': '',
    'Syslog.global.logLevel': 'error',
    'Syslog.global.auditRecord.storageEnable': false,
    'Syslog.global.auditRecord.storageCapacity': 4,
    'Syslog.global.auditRecord.remoteEnable': false,
    'system.lockdownMode': 'lockdownDisabled',
    'system.secureBoot.enabled': false,
    'system.settings.encryption.requireSecureBoot': false,
    'system.ntp.servers': [],
  },
  services: [
    { name: 'TSM-SSH', running: false, startupPolicy: 'off' },
    { name: 'TSM', running: false, startupPolicy: 'off' },
    { name: 'ntpd', running: false, startupPolicy: 'off' },
    { name: 'slpd', running: false, startupPolicy: 'off' },
    { name: 'sfcbd-watchdog', running: true, startupPolicy: 'on' },
    { name: 'DCUI', running: true, startupPolicy: 'on' },
    { name: 'vpxa', running: true, startupPolicy: 'on' },
  ],
};

const KVM_HARDENED: Configuration = {
  platformVersion: '9.4',
  settings: {
    'kernel.randomize_va_space': 2,
    'fs.suid_dumpable': 0,
    'net.ipv4.ip_forward': 0,
    'net.ipv4.conf.all.send_redirects': 0,
    'net.ipv4.conf.all.accept_source_route': 0,
    'net.ipv4.conf.all.accept_redirects': 0,
    'net.ipv4.conf.all.secure_redirects': 0,
    'net.ipv4.conf.all.log_martians': 1,
    'net.ipv4.icmp_echo_ignore_broadcasts': 1,
    'net.ipv4.icmp_ignore_bogus_error_responses': 1,
    'net.ipv4.conf.all.rp_filter': 1,
    'net.ipv4.tcp_syncookies': 1,
    'security.mac': 'selinux:enforcing',
    'crypto.policy': 'DEFAULT:NO-SHA1',
    'sshd.permitrootlogin': 'no',
    'sshd.passwordauthentication': 'no',
    'sshd.permitemptypasswords': 'no',
    'sshd.hostbasedauthentication': 'no',
    'sshd.ignorerhosts': 'yes',
    'sshd.x11forwarding': 'no',
    'sshd.maxauthtries': 4,
    'sshd.logingracetime': 60,
    'sshd.ciphers': ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes128-ctr'],
    'chrony.servers': ['ntp1.dc.example.net', 'ntp2.dc.example.net'],
    'libvirtd.listen_tls': 1,
    'libvirtd.tls_no_verify_certificate': 0,
    'system.secureBoot.enabled': true,
    'system.tpm.version': '2.0',
  },
  services: [
    { name: 'auditd', running: true, startupPolicy: 'on' },
    { name: 'chronyd', running: true, startupPolicy: 'on' },
    { name: 'firewalld', running: true, startupPolicy: 'on' },
    { name: 'libvirtd', running: true, startupPolicy: 'on' },
    { name: 'libvirtd-tls.socket', running: true, startupPolicy: 'on' },
    { name: 'libvirtd-tcp.socket', running: false, startupPolicy: 'off' },
    { name: 'sshd', running: true, startupPolicy: 'on' },
  ],
};

/** A KVM host as a kickstart without hardening leaves it: permissive SELinux, root and password logins, plain libvirt TCP. */
const KVM_AS_INSTALLED: Configuration = {
  platformVersion: '9.2',
  settings: {
    ...KVM_HARDENED.settings,
    'net.ipv4.ip_forward': 1,
    'net.ipv4.conf.all.log_martians': 0,
    'security.mac': 'selinux:permissive',
    'sshd.permitrootlogin': 'yes',
    'sshd.passwordauthentication': 'yes',
    'sshd.maxauthtries': 6,
    'sshd.logingracetime': 120,
    'sshd.ciphers': ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes256-ctr', 'aes128-ctr', 'aes256-cbc'],
    'libvirtd.listen_tls': 0,
  },
  services: [
    { name: 'auditd', running: true, startupPolicy: 'on' },
    { name: 'chronyd', running: true, startupPolicy: 'on' },
    { name: 'firewalld', running: false, startupPolicy: 'off' },
    { name: 'libvirtd', running: true, startupPolicy: 'on' },
    { name: 'libvirtd-tcp.socket', running: true, startupPolicy: 'on' },
    { name: 'sshd', running: true, startupPolicy: 'on' },
  ],
};

export const CONFIGURATIONS: Record<Platform, Record<Profile, Configuration>> = {
  'esxi-8': { hardened: ESXI_HARDENED, 'as-installed': ESXI_AS_INSTALLED },
  'linux-kvm': { hardened: KVM_HARDENED, 'as-installed': KVM_AS_INSTALLED },
};

export const DRIFTS: Record<Platform, readonly Drift[]> = {
  'esxi-8': [
    { what: 'SSH left running after a support session', services: [{ name: 'TSM-SSH', running: true, startupPolicy: 'on' }], settings: { 'UserVars.ESXiShellInteractiveTimeOut': 0 } },
    // A CAT I rule: the processor raises compliance.high-severity-regression.
    { what: 'a community-supported VIB installed', settings: { 'software.acceptance.level': 'CommunitySupported' } },
    { what: 'the Managed Object Browser enabled for debugging', settings: { 'Config.HostAgent.plugins.solo.enableMob': true } },
    { what: 'lockdown mode disabled', settings: { 'system.lockdownMode': 'lockdownDisabled' } },
  ],
  'linux-kvm': [
    { what: 'SELinux set to permissive', settings: { 'security.mac': 'selinux:permissive' } },
    { what: 'root login over SSH allowed', settings: { 'sshd.permitrootlogin': 'yes' } },
    { what: 'IP forwarding enabled for a test network', settings: { 'net.ipv4.ip_forward': 1 } },
    { what: 'firewalld stopped', services: [{ name: 'firewalld', running: false, startupPolicy: 'off' }] },
  ],
};

/** The host's configuration with its drift applied: settings overridden, services replaced by name. */
export function configurationOf(platform: Platform, profile: Profile, drift: Drift | undefined): Configuration {
  const base = CONFIGURATIONS[platform][profile];
  if (drift === undefined) return base;
  const replaced = new Map((drift.services ?? []).map((service) => [service.name, service]));
  return {
    platformVersion: base.platformVersion,
    settings: { ...base.settings, ...drift.settings },
    services: base.services.map((service) => replaced.get(service.name) ?? service),
  };
}
