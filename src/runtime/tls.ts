/**
 * The one TLS settings block every connector embeds under `tls` (the counterpart of
 * OpenTelemetry's configtls): the peer's CA, an optional client certificate and key, the name
 * checked, verification and the lowest version. Files are read and parsed while the options
 * load (src/config/pem.ts), so a wrong path is refused at its option path before anything starts.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { pemFileOption, privateKeyOption } from '../config/pem.js';

/** How the settings' descriptions name the other side: `receiver` (syslog) or `server` (ePO, HEC, a webhook). */
export interface TlsSettingsText {
  peer?: string;
  /** What the block is for, in the docs: `TLS settings for every request`. */
  describe?: string;
  /** An example CA path for the docs. */
  caExample?: string;
}

/** The TLS block: `tls: {ca, cert, key, serverName, verify, minVersion}`, every key optional. */
export function tlsSettings(text: TlsSettingsText = {}) {
  const peer = text.peer ?? 'server';
  return z
    .strictObject({
      ca: pemFileOption('certificate')
        .optional()
        .describe(`PEM file of the CA that signed the ${peer}'s certificate; absent: the system's CAs`)
        .meta({ examples: [text.caExample ?? '/etc/trustwire/siem-ca.pem'] }),
      cert: pemFileOption('certificate').optional().describe(`PEM file of the client certificate, for ${peer}s that authenticate senders`).meta({ examples: ['/etc/trustwire/client.pem'] }),
      key: privateKeyOption()
        .optional()
        .describe("the client certificate's private key (PEM), a secret: {file: PATH} or {env: NAME}")
        .meta({ examples: [{ file: '/run/secrets/trustwire-client.key' }] }),
      serverName: z.string().min(1).optional().describe(`the name the ${peer}'s certificate must carry; default: the host connected to`).meta({ examples: ['siem.example.net'] }),
      verify: z.boolean().default(true).describe(`check the ${peer}'s certificate and name (turn off only in a lab)`).meta({ examples: [false] }),
      minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('lowest TLS version offered; 1.3 is always offered').meta({ examples: ['TLSv1.3'] }),
    })
    .superRefine((tls, ctx) => {
      if ((tls.cert === undefined) !== (tls.key === undefined)) {
        ctx.addIssue({ code: 'custom', path: [tls.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs its key, and a key its certificate' });
      }
    })
    .prefault({})
    .describe(text.describe ?? 'TLS settings of every connection');
}

export type TlsSettings = z.output<ReturnType<typeof tlsSettings>>;

/** Whether the block names a file (a CA or a client certificate): for connectors that refuse it when TLS is not used. */
export function tlsFilesGiven(tls: TlsSettings): boolean {
  return tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined;
}

/** The node:tls options of the block, for a connection to `host`; files are read now (at start), a failure names the option. */
export function tlsConnectionOptions(tls: TlsSettings, host?: string): ConnectionOptions {
  const servername = tls.serverName ?? host;
  return {
    ...(servername !== undefined && servername !== '' && !isIpAddress(servername) && { servername }),
    rejectUnauthorized: tls.verify,
    minVersion: tls.minVersion,
    ...(tls.ca !== undefined && { ca: readOption('tls.ca', tls.ca) }),
    ...(tls.cert !== undefined && { cert: readOption('tls.cert', tls.cert) }),
    ...(tls.key !== undefined && { key: tls.key.reveal() }),
  };
}

/** Node refuses an IP address as SNI name (RFC 6066); the certificate is still checked against it. */
function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

function readOption(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Error codes of a certificate that could not be verified: the network cause then names tls.ca. */
export const CERTIFICATE_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
