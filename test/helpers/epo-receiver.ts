/**
 * An ePO-style server on 127.0.0.1 for the epo connector's tests: HTTPS with a CA and a
 * certificate made by openssl at start, HTTP Basic auth, the events endpoint taking
 * `<EPOEvents>` batches, and the Web API's tag commands answered as ePO answers them —
 * `OK:\r\n<json>` or `Error N :\r\n<message>`, with HTTP 200 either way.
 *
 * The events endpoint (trustwire's ePO-style ingest):
 *   POST <eventsPath>, Content-Type application/xml, body `<?xml …?><EPOEvents count="N"><EPOEvent>…</EPOEvent>…</EPOEvents>`
 *   200 `OK:\r\n{"accepted":N}`   every event taken
 *   400 `Error 1 :\r\n<why>`      the batch is unreadable, or the server rejects one of its events (the whole batch is refused)
 *   401                           credentials refused;   413 body too large;   415 not XML;   503 `Error 0 :` busy
 *
 * The Web API (GET /remote/<command>?…&:output=json):
 *   system.applyTag / system.clearTag names=SYSTEMS tagName=TAG
 *   names is a list, as ePO reads it: split at commas, each name trimmed (Java's String.trim,
 *   code points up to U+0020), empty ones dropped; `x,db-prod-01` addresses x and db-prod-01
 *   `OK:\r\n<n>`  n systems changed (0: the tag was already so)
 *   `Error 1 :`   unknown command, or a parameter missing
 *   `Error 2 :`   no such tag
 *   `Error 3 :`   no such system
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConformanceHarness } from '../../src/kit/index.js';
import { LoopbackReceiver } from './loopback-server.js';

export const DEFAULT_TAGS = ['TXT: Trusted', 'TXT: Untrusted', 'Compliance: Pass', 'Compliance: Fail'] as const;

/** One EPOEvent as the server read it. */
export interface ReceivedEpoEvent {
  /** trustwire's event id (CustomFields EventId). */
  id: string;
  eventId: number;
  severity: number;
  gmtTime: string;
  machine: Record<string, string>;
  /** SoftwareInfo's attributes: ProductName, ProductVersion, ProductFamily. */
  software: Record<string, string>;
  analyzer: Record<string, string>;
  common: Record<string, string>;
  custom: Record<string, string>;
  customTarget: string | undefined;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface WebApiCall {
  command: string;
  /** The names parameter as sent. */
  system: string;
  /** The systems it named, as ePO splits and trims it. */
  systems: string[];
  tag: string;
  /** The body answered. */
  answer: string;
}

/** A canned Web API answer for the next calls: `{ body: 'Error 0 :\r\nbusy' }` (HTTP 200 unless `status`). */
export interface WebApiFailure {
  body: string;
  status?: number;
  retryAfter?: string;
  times: number;
}

export class EpoReceiver extends LoopbackReceiver implements ConformanceHarness {
  readonly username: string;
  readonly password: string;
  readonly eventsPath: string;
  readonly requests: ReceivedRequest[] = [];
  readonly events: ReceivedEpoEvent[] = [];
  readonly webApiCalls: WebApiCall[] = [];
  /** Tags each system carries. */
  readonly tags = new Map<string, Set<string>>();
  /** The tags defined in the console; applying another answers `Error 2 :`. */
  definedTags = new Set<string>(DEFAULT_TAGS);
  /** The System Tree; undefined: every name is a system (created on first use). */
  knownSystems: Set<string> | undefined;
  /** Largest events body taken; larger answers 413. */
  maxBodyBytes = 4 * 1024 * 1024;
  #dir: string | undefined;
  #webApiFailure: WebApiFailure | undefined;

  constructor(options: { username?: string; password?: string; eventsPath?: string } = {}) {
    super();
    this.username = options.username ?? 'trustwire-svc';
    this.password = options.password ?? 'ePO-test-Passw0rd!7c41';
    this.eventsPath = options.eventsPath ?? '/remote/trustwire.events';
  }

  /** `https://127.0.0.1:PORT`. */
  get url(): string {
    return this.origin;
  }

  /** The PEM file of the CA that signed the server's certificate. */
  get caFile(): string {
    return join(this.#dir!, 'ca.pem');
  }

  protected serve(listener: RequestListener): Server {
    this.#dir = mkdtempSync(join(tmpdir(), 'trustwire-epo-'));
    const { cert, key } = makeCertificates(this.#dir);
    return createServer({ cert, key, minVersion: 'TLSv1.2' }, listener);
  }

  override async stop(): Promise<void> {
    await super.stop();
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
  }

  override async received(): Promise<string[]> {
    return this.events.map((event) => event.id);
  }

  override reset(): void {
    super.reset();
    this.requests.length = 0;
    this.events.length = 0;
    this.webApiCalls.length = 0;
    this.tags.clear();
    this.definedTags = new Set(DEFAULT_TAGS);
    this.knownSystems = undefined;
    this.#webApiFailure = undefined;
  }

  /** The next `times` Web API calls answer this instead of doing the command. */
  failWebApi(failure: Omit<WebApiFailure, 'times'> & { times?: number }): void {
    this.#webApiFailure = { ...failure, times: failure.times ?? 1 };
  }

  /** The tags a system carries, sorted. */
  tagsOf(system: string): string[] {
    return [...(this.tags.get(system) ?? [])].sort();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'https://epo.invalid');
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
    const answer = (status: number, text: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(text);
    };

    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return answer(401, 'Error 0 :\r\nInvalid credentials', { 'www-authenticate': 'Basic realm="ePO"' });

    if (req.method === 'POST' && url.pathname === this.eventsPath) return this.#events(req, body, res, answer);
    if (req.method === 'GET' && url.pathname.startsWith('/remote/')) return this.#webApi(url, answer);
    answer(404, 'Not Found');
  }

  #events(req: IncomingMessage, body: Buffer, res: ServerResponse, answer: (status: number, text: string, headers?: Record<string, string>) => void): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (type !== 'application/xml' && type !== 'text/xml') return answer(415, `Error 1 :\r\nexpected application/xml, got ${type || 'nothing'}`);
    if (body.length > this.maxBodyBytes) return answer(413, `Error 1 :\r\nbody of ${body.length} bytes is over ${this.maxBodyBytes}`);
    let batch: ReceivedEpoEvent[];
    try {
      batch = readEpoEvents(body.toString('utf8'));
    } catch (error) {
      return answer(400, `Error 1 :\r\nunreadable EPOEvents: ${(error as Error).message}`);
    }
    const behaviour = this.behaviour;
    switch (behaviour.kind) {
      case 'hang':
        this.hold(res);
        return;
      case 'transient':
        if (this.takeTransient()) {
          return answer(503, 'Error 0 :\r\nthe event parser is busy, try again');
        }
        break;
      case 'permanent':
        return answer(400, 'Error 1 :\r\nthe events do not fit the TrustwireEventMT extension');
      case 'reject': {
        // No per-event answers, like ePO's own event parser: one bad event refuses the batch.
        const bad = batch.filter((event) => behaviour.ids.includes(event.id)).map((event) => event.id);
        if (bad.length > 0) return answer(400, `Error 1 :\r\nrejected events ${bad.join(', ')}`);
        break;
      }
      case 'ok':
        break;
    }
    this.events.push(...batch);
    answer(200, `OK:\r\n${JSON.stringify({ accepted: batch.length })}`);
  }

  #webApi(url: URL, answer: (status: number, text: string, headers?: Record<string, string>) => void): void {
    const command = url.pathname.slice('/remote/'.length);
    const system = url.searchParams.get('names') ?? '';
    const systems = systemNames(system);
    const tag = url.searchParams.get('tagName') ?? '';
    const reply = (text: string, status = 200, headers: Record<string, string> = {}) => {
      this.webApiCalls.push({ command, system, systems, tag, answer: text });
      answer(status, text, headers);
    };
    const failure = this.#webApiFailure;
    if (failure !== undefined && failure.times > 0) {
      failure.times--;
      return reply(failure.body, failure.status ?? 200, failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter });
    }
    if (command !== 'system.applyTag' && command !== 'system.clearTag') return reply(`Error 1 :\r\nNo such command: ${command}`);
    if (systems.length === 0 || tag === '') return reply('Error 1 :\r\nRequired parameters: names, tagName');
    if (url.searchParams.get(':output') !== 'json') return reply('Error 1 :\r\nthis server answers :output=json only');
    if (!this.definedTags.has(tag)) return reply(`Error 2 :\r\nNo tag named "${tag}"`);
    const unknown = this.knownSystems === undefined ? undefined : systems.find((name) => !this.knownSystems!.has(name));
    if (unknown !== undefined) return reply(`Error 3 :\r\nNo system named "${unknown}"`);
    let changed = 0;
    for (const name of systems) {
      const tags = this.tags.get(name) ?? new Set<string>();
      this.tags.set(name, tags);
      const had = tags.has(tag);
      if (command === 'system.applyTag') tags.add(tag);
      else tags.delete(tag);
      if (had !== (command === 'system.applyTag')) changed++;
    }
    reply(`OK:\r\n${changed}`);
  }
}

/** The systems a names parameter addresses, as ePO reads it: split at commas, each trimmed as Java's String.trim does, empty ones dropped. */
export function systemNames(names: string): string[] {
  return names
    .split(',')
    .map((name) => name.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''))
    .filter((name) => name !== '');
}

// ---- certificates ------------------------------------------------------------------------

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
}

/** A CA and a server certificate for localhost / 127.0.0.1 signed by it, in `dir`. */
function makeCertificates(dir: string): { cert: string; key: string } {
  const days = ['-days', '2'];
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', ...days, '-subj', '/CN=trustwire test ePO CA'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', ...days, '-extfile', 'server.ext'], dir);
  return { cert: readFileSync(join(dir, 'server.pem'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8') };
}

// ---- a strict little XML reader for the EPOEvents the connector writes ----------------------

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const XML_CHARS = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function decode(text: string): string {
  if (/[<>]/.test(text)) throw new Error(`a raw < or > in ${JSON.stringify(text.slice(0, 40))}`);
  return text.replace(/&(?:(amp|lt|gt|quot|apos)|#(\d+));|&/g, (_match, name: string | undefined, code: string | undefined) => {
    if (name !== undefined) return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[name]!;
    if (code !== undefined) return String.fromCodePoint(Number(code));
    throw new Error(`a bare & in ${JSON.stringify(text.slice(0, 40))}`);
  });
}

/** One document: the declaration, then one root element of elements, attributes and text; throws on anything else. */
function parseXml(document: string): XmlElement {
  if (!XML_CHARS.test(document)) throw new Error('a character XML 1.0 does not allow');
  if (!document.startsWith(DECLARATION)) throw new Error(`no ${DECLARATION}`);
  const tokens = /<(\/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[A-Za-z]+="[^"<]*")*)\s*>|([^<]+)/gy;
  const stack: XmlElement[] = [{ name: '#document', attributes: {}, children: [], text: '' }];
  tokens.lastIndex = DECLARATION.length;
  let match: RegExpExecArray | null;
  while (tokens.lastIndex < document.length && (match = tokens.exec(document)) !== null) {
    const [, closing, name, attributes, text] = match;
    const top = stack.at(-1)!;
    if (text !== undefined) top.text += decode(text);
    else if (closing === '/') {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const element: XmlElement = { name: name!, attributes: {}, children: [], text: '' };
      for (const [, key, value] of attributes!.matchAll(/([A-Za-z]+)="([^"]*)"/g)) element.attributes[key!] = decode(value!);
      top.children.push(element);
      stack.push(element);
    }
  }
  if (tokens.lastIndex !== document.length) throw new Error(`unreadable at character ${tokens.lastIndex}`);
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is never closed`);
  if (stack[0]!.children.length !== 1) throw new Error('more than one root element');
  return stack[0]!.children[0]!;
}

function child(element: XmlElement, name: string): XmlElement {
  const found = element.children.filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`<${element.name}> has ${found.length} <${name}>`);
  return found[0]!;
}

function fields(element: XmlElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of element.children) {
    if (field.children.length > 0) throw new Error(`<${element.name}><${field.name}> is not a plain field`);
    if (field.name in out) throw new Error(`<${element.name}> repeats <${field.name}>`);
    out[field.name] = field.text;
  }
  return out;
}

/** An `<EPOEvents count="N">` batch: N `<EPOEvent>` documents, each read into its parts. */
export function readEpoEvents(document: string): ReceivedEpoEvent[] {
  const root = parseXml(document);
  if (root.name !== 'EPOEvents') throw new Error(`root <${root.name}>, expected <EPOEvents>`);
  if (root.text.trim() !== '') throw new Error('text between the EPOEvent elements');
  if (root.attributes.count !== String(root.children.length)) throw new Error(`count="${root.attributes.count}" but ${root.children.length} events`);
  return root.children.map((event, i) => {
    if (event.name !== 'EPOEvent') throw new Error(`child ${i} is <${event.name}>, expected <EPOEvent>`);
    const software = child(event, 'SoftwareInfo');
    const body = child(software, 'Event');
    const custom = child(body, 'CustomFields');
    const customFields = fields(custom);
    const id = customFields.EventId;
    if (id === undefined || id === '') throw new Error(`event ${i} has no CustomFields EventId`);
    return {
      id,
      eventId: Number(child(body, 'EventID').text),
      severity: Number(child(body, 'Severity').text),
      gmtTime: child(body, 'GMTTime').text,
      machine: fields(child(event, 'MachineInfo')),
      software: software.attributes,
      analyzer: fields(child(software, 'CommonFields')),
      common: fields(child(body, 'CommonFields')),
      custom: customFields,
      customTarget: custom.attributes.target,
    };
  });
}
