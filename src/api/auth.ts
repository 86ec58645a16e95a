import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Secret } from '../config/secret.js';
import { HttpError } from './errors.js';

/**
 * What a token may do: `ingest` posts events, `read` sees hosts, compliance, connectors,
 * metrics and the dashboard, `admin` runs operations (dead-letter replay). Every route but
 * /healthz and /readyz names the scope it needs; one that names none needs `admin`, so a
 * route added without thought fails closed.
 */
export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Route options naming the scope a route needs: `app.get(url, needs('read'), handler)`. */
export function needs(scope: Scope) {
  return { config: { scope } };
}

/**
 * Routes anyone may call: a load balancer's probes carry no token, and the dashboard's page
 * shell (HTML, CSS, scripts: no data) must load before it can ask for one.
 */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/', '/dashboard/:file']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a caller's token must carry for this route. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Who called, once authenticated: the token's name. */
    caller?: string;
  }
}

/** The `auth` block of the configuration; `secret` is the configuration's secret field. */
export function authSettings(secret: z.ZodType<Secret>) {
  const token = z
    .strictObject({
      name: z.string().min(1).describe('who holds the token; logged, the token never is'),
      token: secret.optional().describe('the token itself: {env: NAME}, {file: PATH} or inline'),
      sha256: z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits: the SHA-256 of the token')
        .optional()
        .describe('the SHA-256 of the token (hex), instead of the token: the configuration then holds nothing a caller could use'),
      scopes: z.array(z.enum(SCOPES)).min(1).describe('what the token may do: ingest, read, admin'),
    })
    .superRefine((entry, ctx) => {
      if ((entry.token === undefined) === (entry.sha256 === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['token'], message: 'give exactly one of token and sha256' });
      }
    });
  return z
    .strictObject({
      tokens: z.array(token).default([]).describe('bearer tokens of the HTTP API, each with its scopes; empty (and no ingest.tokens): the embedded default makes a dev token with every scope'),
      rateLimit: z
        .strictObject({
          requestsPerSecond: z.number().positive().default(200).describe('requests a token may make each second, on average'),
          burst: z.number().int().min(1).default(400).describe('requests a token may make at once, above the average'),
        })
        .prefault({})
        .describe('per token; past it the API answers 429 with Retry-After'),
    })
    .prefault({});
}

export type AuthSettings = z.infer<ReturnType<typeof authSettings>>;

/** A token as the service holds it: its name, its scopes, and the SHA-256 it must match. */
export interface ApiToken {
  name: string;
  scopes: readonly Scope[];
  digest: Buffer;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** A token from its value (a Secret) or from the SHA-256 of it (hex). */
export function apiToken(name: string, scopes: readonly Scope[], value: { token: Secret } | { sha256: string }): ApiToken {
  return { name, scopes, digest: 'token' in value ? sha256(value.token.reveal()) : Buffer.from(value.sha256, 'hex') };
}

/**
 * The token a bearer credential matches, or undefined. Compared by SHA-256 digest in constant
 * time, and against every token, so neither how much of a guess was right nor which token it
 * was near shows in the time taken.
 */
export function findToken(tokens: readonly ApiToken[], credential: string): ApiToken | undefined {
  const digest = sha256(credential);
  let found: ApiToken | undefined;
  for (const token of tokens) if (timingSafeEqual(token.digest, digest) && found === undefined) found = token;
  return found;
}

/** A token bucket per token name: `burst` requests at once, refilled at `requestsPerSecond`. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly requestsPerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** 0 when the request may go ahead, else the seconds until it may (at least 1). */
  take(key: string): number {
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.requestsPerSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.requestsPerSecond));
  }
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="trustwire"' };

/**
 * Authenticates every request before its body is read (an unknown caller cannot make the
 * server parse a megabyte), checks the route's scope, and rate-limits per token. 401: no or
 * an unknown token; 403: a token without the scope; 429: over the token's rate.
 */
export function installAuth(app: FastifyInstance, tokens: readonly ApiToken[], limits: AuthSettings['rateLimit']): void {
  const limiter = new RateLimiter(limits.requestsPerSecond, limits.burst);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const route = request.routeOptions.url;
    if (route !== undefined && OPEN_ROUTES.has(route)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match ? findToken(tokens, match[1]!) : undefined;
    if (token === undefined) throw new HttpError(401, header === '' ? 'missing bearer token' : 'invalid bearer token', [], CHALLENGE);
    request.caller = token.name;
    request.log = request.log.child({ caller: token.name });
    const wait = limiter.take(token.name);
    if (wait > 0) throw new HttpError(429, `token ${token.name} is over its rate of ${limits.requestsPerSecond} requests a second; retry in ${wait} s`, [], { 'retry-after': String(wait) });
    // An unknown route (404) needs a valid token but no scope; a known one names its scope or needs admin.
    if (route === undefined) return;
    const scope = request.routeOptions.config.scope ?? 'admin';
    if (!token.scopes.includes(scope)) {
      throw new HttpError(403, `token ${token.name} lacks the ${scope} scope that ${request.method} ${route} needs`, [{ path: 'authorization', message: `scopes held: ${token.scopes.join(', ')}` }]);
    }
  });
}
