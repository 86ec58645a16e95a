/**
 * A Kafka broker of a test's own, in a temporary home on ports of its own, that the test may
 * SIGKILL and restart: the suite's shared broker (19092) is never touched. Its jars are the
 * shared broker's (no second download). With `saslSsl` its client listener requires SASL_SSL
 * (SCRAM-SHA-512) and its certificates are made in that home.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalKafka, stopLocalKafka, type LocalKafkaOptions } from '../../scripts/kafka/broker.js';
import type { LoopbackCertificates } from '../../scripts/kafka/certificates.js';
import { trustwireHome } from '../../src/embedded/paths.js';
import { eventually } from './eventually.js';

export interface OwnBroker {
  brokers: string[];
  /** With `saslSsl`: the CA clients must trust, and the broker's certificate. */
  tls?: LoopbackCertificates;
  /** The broker's own folder (data, certificates, log), removed by destroy(). */
  home: string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Start it again on its data; resolves when it serves. */
  restart(): Promise<void>;
  /** Stop it and remove its home, whatever state it is in. */
  destroy(): Promise<void>;
}

export async function startOwnBroker(port: number, extra: Pick<LocalKafkaOptions, 'saslSsl'> = {}): Promise<OwnBroker> {
  const home = mkdtempSync(join(tmpdir(), 'trustwire-own-broker-'));
  const options: LocalKafkaOptions = { home, port, libsHome: join(trustwireHome(), 'kafka'), ...extra };
  const started = await startLocalKafka(options);
  let pid = started.pid;
  return {
    brokers: [`127.0.0.1:${port}`],
    ...(started.tls && { tls: started.tls }),
    home,
    async kill() {
      process.kill(pid, 'SIGKILL');
      await eventually(() => !alive(pid), `broker pid ${pid} gone after SIGKILL`, 10_000, 50);
    },
    async restart() {
      pid = (await startLocalKafka(options)).pid;
    },
    async destroy() {
      if (alive(pid)) await stopLocalKafka(options).catch(() => process.kill(pid, 'SIGKILL'));
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
