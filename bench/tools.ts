/**
 * The programs the reference scenarios run, installed from Debian with apt-get when missing (as
 * test/services/rsyslog.ts does for the syslog tests): rsyslog with imkafka (rsyslog-kafka), and
 * kcat. rsyslog is required; kcat is optional (its scenario is skipped, and says so, without it).
 */
import { aptInstall, present } from '../test/services/rsyslog.js';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

export interface Tools {
  /** Why kcat cannot run, when it cannot. */
  kcatMissing?: string;
}

export function ensureTools(log: (line: string) => void, need: { rsyslog: boolean; kcat: boolean }): Tools {
  if (need.rsyslog && (!present(RSYSLOGD) || !present('/usr/lib/*/rsyslog/imkafka.so'))) {
    log('installing rsyslog and rsyslog-kafka with apt-get ...');
    const result = aptInstall(['rsyslog', 'rsyslog-kafka']);
    if (!result.ok || !present('/usr/lib/*/rsyslog/imkafka.so')) throw new Error(`could not install rsyslog and rsyslog-kafka with apt-get:\n${result.output}`);
  }
  if (need.kcat && !present('/usr/bin/kcat')) {
    log('installing kcat with apt-get ...');
    const result = aptInstall(['kcat']);
    if (!result.ok || !present('/usr/bin/kcat')) return { kcatMissing: `kcat could not be installed with apt-get: ${result.output.split('\n').slice(-2).join(' ')}` };
  }
  return {};
}
