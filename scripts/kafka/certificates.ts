/**
 * A SASL_SSL broker's credentials: the SCRAM users it is formatted with, and a CA and a
 * certificate it signs for loopback, made by openssl in the broker's home, so `kafka.ssl` and
 * `kafka.sasl` are tested against a broker that insists on them (scripts/kafka/broker.ts,
 * `saslSsl`). Tests make a second CA with `makeLoopbackCertificates`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trustwireHome } from '../../src/embedded/paths.js';
import { LocalKafkaError, requireTool } from './process.js';

export interface ScramUser {
  name: string;
  password: string;
}

/** A CA and a certificate it signed for 127.0.0.1 and localhost, PEM files. */
export interface LoopbackCertificates {
  caFile: string;
  /** The certificate followed by the CA's: a client gets the whole chain. */
  certFile: string;
  keyFile: string;
}

/** Where a `saslSsl` broker lives unless told otherwise. */
export function saslSslHome(): string {
  return join(trustwireHome(), 'kafka-sasl-ssl');
}

/** `--add-scram` takes `name=...,password=...` unquoted: a comma or a bracket would cut it short. */
export function checkScramUser(user: ScramUser): ScramUser {
  const plain = /^[A-Za-z0-9._~@-]+$/;
  if (!plain.test(user.name)) throw new LocalKafkaError(`SCRAM user name ${JSON.stringify(user.name)} must be letters, digits and . _ ~ @ -`);
  // The message names the user, never the password.
  if (!plain.test(user.password)) throw new LocalKafkaError(`the SCRAM password of ${user.name} must be letters, digits and . _ ~ @ -`);
  return user;
}

export function certificatePaths(dir: string): LoopbackCertificates {
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
}

/**
 * Makes, with openssl, a CA and a certificate it signs for IP:127.0.0.1 and DNS:localhost (a
 * server and client certificate), in `dir`; files already there are kept, so clients that trust
 * the CA go on trusting it across restarts. Tests make a second one for a CA the broker's
 * certificate is not signed by.
 */
export function makeLoopbackCertificates(dir: string, label: string): LoopbackCertificates {
  const files = certificatePaths(dir);
  if (existsSync(files.caFile) && existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  requireTool('openssl', ['version'], 'openssl is needed to make the certificates of a SASL_SSL broker');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const at = (name: string) => join(dir, name);
  writeFileSync(at('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  writeFileSync(
    at('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  // P-256 keys: quick to make, and PKCS#8 PEM, the form Kafka's PEM keystore reads.
  const key = (file: string) => ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', at(file)];
  const days = ['-days', '3650', '-set_serial', `0x${randomBytes(8).toString('hex')}`];
  const steps = [
    key('ca.key'),
    ['req', '-new', '-key', at('ca.key'), '-subj', `/CN=${label} CA`, '-out', at('ca.csr')],
    ['x509', '-req', '-in', at('ca.csr'), '-key', at('ca.key'), ...days, '-extfile', at('ca.ext'), '-out', at('ca.pem')],
    key('server.key'),
    ['req', '-new', '-key', at('server.key'), '-subj', '/CN=localhost', '-out', at('server.csr')],
    ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), ...days, '-extfile', at('server.ext'), '-out', at('server.crt')],
  ];
  for (const args of steps) {
    const run = spawnSync('openssl', args, { encoding: 'utf8' });
    if (run.status !== 0) throw new LocalKafkaError(`openssl ${args[0]} failed while making certificates in ${dir}:\n${run.stderr}`);
  }
  writeFileSync(files.certFile, readFileSync(at('server.crt'), 'utf8') + readFileSync(at('ca.pem'), 'utf8'));
  for (const leftover of ['ca.csr', 'server.csr', 'server.crt', 'ca.ext', 'server.ext']) rmSync(at(leftover), { force: true });
  return files;
}
