import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { connectorOptionsBaseDir, Secret, secretField } from './secret.js';

const BEGIN = '-----BEGIN ';

/** Why a text is not a usable PEM of this kind, or undefined when it is one. */
export function pemProblem(kind: 'certificate' | 'key', text: string): string | undefined {
  if (!text.includes(BEGIN)) return `is not PEM (no "${BEGIN}" line)`;
  try {
    if (kind === 'key') createPrivateKey({ key: text });
    // A bundle holds several certificates: each must parse.
    else for (const block of text.split(/(?=-----BEGIN CERTIFICATE-----)/).filter((part) => part.includes(BEGIN))) new X509Certificate(block);
    return undefined;
  } catch (error) {
    return `does not parse as a ${kind === 'key' ? 'private key' : 'certificate'}: ${(error as Error).message}`;
  }
}

/**
 * A certificate option: inline PEM or `{file: PATH}`, read and parsed while the configuration
 * loads, so a missing file or a key where a certificate belongs is an error at its option path
 * before anything starts. A path written inline is refused with the hint to write `{file: ...}`.
 */
export function certificateField(baseDir: () => string) {
  return z
    .union([z.string().min(1), z.strictObject({ file: z.string().min(1).describe('path of a PEM file') })])
    .transform((ref, ctx) => {
      const text = typeof ref === 'string' ? inlinePem(ref, ctx) : readPem(ref.file, baseDir(), ctx);
      if (text === undefined) return z.NEVER;
      const problem = pemProblem('certificate', text);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: `${typeof ref === 'string' ? 'inline PEM' : ref.file} ${problem}` });
        return z.NEVER;
      }
      return text;
    });
}

/** A private key option: a secret (`{file}`, `{env}` or inline) that must hold a parseable PEM key. */
export function privateKeyField(baseDir: () => string) {
  return secretField(baseDir)
    .superRefine((secret: Secret, ctx) => {
      const text = secret.reveal();
      if (secret.origin === 'inline' && !text.includes(BEGIN)) {
        ctx.addIssue({ code: 'custom', message: pathHint(text) });
        return;
      }
      // The message names where the key came from and why it fails, never the key.
      const problem = pemProblem('key', text);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${secret.origin} ${problem}` });
    })
    .meta({ secret: true });
}

function inlinePem(text: string, ctx: z.RefinementCtx): string | undefined {
  if (text.includes(BEGIN)) return text;
  ctx.addIssue({ code: 'custom', message: pathHint(text) });
  return undefined;
}

function readPem(file: string, baseDir: string, ctx: z.RefinementCtx): string | undefined {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` });
    return undefined;
  }
}

/** The hint for a value that is not PEM; a value that looks like a path is named, anything else is not (it may be a secret). */
function pathHint(text: string): string {
  const looksLikePath = /^[~./]|^[A-Za-z]:\\/.test(text) && !/\s/.test(text);
  return looksLikePath
    ? `is not PEM but looks like a path: to read a file write {file: ${JSON.stringify(text)}}`
    : 'is not PEM (no "-----BEGIN" line): give the PEM text, or a file as {file: PATH}';
}

/**
 * A connector option naming a PEM file (a CA, a client certificate): the path, resolved against
 * the configuration's folder, read and parsed while the options load, so a missing file or a
 * key given as a certificate is refused at its option path rather than failing every send.
 */
export function pemFileOption(kind: 'certificate') {
  return z
    .string()
    .min(1)
    .transform((file, ctx) => {
      const path = isAbsolute(file) ? file : resolve(connectorOptionsBaseDir(), file);
      const text = readPem(file, connectorOptionsBaseDir(), ctx);
      if (text === undefined) return z.NEVER;
      const problem = pemProblem(kind, text);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: `${path} ${problem}` });
        return z.NEVER;
      }
      return path;
    });
}

/** A connector's private key option: a secret holding a PEM key; a path given inline is refused with the `{file: ...}` hint. */
export function privateKeyOption() {
  return privateKeyField(connectorOptionsBaseDir);
}
