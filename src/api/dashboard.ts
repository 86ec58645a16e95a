import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/**
 * The trust dashboard: a page shell (HTML, CSS and plain ES modules, no data) served without a
 * token; the page asks for one and calls the `read` API with it. The files are a fixed list,
 * read once at registration: a request names a file of the list or gets a 404, so no request
 * path ever reaches the file system.
 */
const DASHBOARD_DIR = new URL('../dashboard/', import.meta.url);

const TYPES = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
} as const;

/** Every file of src/dashboard the browser may load; a new module is added here. */
export const DASHBOARD_FILES = [
  'index.html',
  'style.css',
  'favicon.svg',
  'app.js',
  'api.js',
  'charts.js',
  'dom.js',
  'filters-form.js',
  'host-view.js',
  'overview-view.js',
  'stream.js',
  'url-state.js',
] as const;

/**
 * Scripts, styles and connections from this origin only: no inline script (a host name that
 * slipped into the markup would still not run), no frame around the page (clickjacking).
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of DASHBOARD_FILES) {
    const body = readFileSync(new URL(name, DASHBOARD_DIR));
    const extension = name.slice(name.lastIndexOf('.') + 1) as keyof typeof TYPES;
    assets.set(name, { body, type: TYPES[extension], etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

/**
 * `GET /` (the page) and `GET /dashboard/:file` (its assets). Both are open routes (see
 * OPEN_ROUTES in auth.ts): they hold no data. The assets are not fingerprinted, so the browser
 * revalidates each load (`no-cache` with an ETag: a 304 costs a round trip, not the body).
 */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const assets = loadAssets();
  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset) => {
    void reply.headers({
      'content-security-policy': DASHBOARD_CSP,
      'cache-control': 'no-cache',
      etag: asset.etag,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };
  app.get('/', async (request, reply) => send(request, reply, assets.get('index.html')!));
  app.get<{ Params: { file: string } }>('/dashboard/:file', async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (asset === undefined || request.params.file === 'index.html') throw new HttpError(404, `no dashboard file ${JSON.stringify(request.params.file)}`);
    return send(request, reply, asset);
  });
}
