/**
 * RELP, rsyslog's Reliable Event Logging Protocol (librelp's doc/relp.md, and its src/ for what
 * rsyslog's imrelp actually sends), client side, on node:net (or node:tls).
 *
 *   RELP-FRAME = TXNR SP COMMAND SP DATALEN [SP DATA] LF
 *   TXNR       = 1*9DIGIT (1 ... 999,999,999; 0 is reserved for hints)
 *   COMMAND    = 1*32ALPHA
 *   DATALEN    = 1*9DIGIT, the bytes of DATA; 0 means no SP and no DATA
 *   rsp DATA   = 3DIGIT [SP HUMAN-TEXT] [LF CMDDATA]     (200 is OK; anything else is an error)
 *
 * A session opens with `1 open LEN relp_version=0\nrelp_software=trustwire\ncommands=syslog`,
 * which imrelp answers `1 rsp LEN 200 OK\nrelp_version=0\nrelp_software=librelp,...\ncommands=syslog`.
 * Each `syslog` frame carries one message, bare (its length is DATALEN); imrelp answers each
 * with `TXNR rsp 6 200 OK`, once the message is handed to its ruleset. `close` is answered
 * `TXNR rsp 0` and a hint `0 serverclose 0`, after which the server closes the connection;
 * a server that stops sends `0 serverclose 0` too.
 *
 * Up to `windowSize` syslog frames are unanswered at a time; sends may come concurrently, their
 * frames go out in the order the sends came, one batch after the other. A broken session
 * (connection lost, serverclose, a malformed or unexpected frame, no answer before a send's
 * signal aborted) ends every batch on it: the frames not answered are reported unanswered, and
 * the next send opens a new session.
 */
import type { Socket } from 'node:net';
import { openSocket, TransportError, where, type ConnectTarget } from '../../src/runtime/socket.js';
import { digits, writeRfc5424Parts, type SyslogMessage } from '../../src/formats/syslog.js';
import { TrustwireError } from '../../src/errors.js';

/** The largest TXNR; librelp's spec wraps to 1 after it. */
export const RELP_MAX_TXNR = 999_999_999;
/** The largest frame the receiver may send us (librelp's default maximum data size, 128 KiB). */
export const RELP_MAX_RESPONSE_BYTES = 128 * 1024;
/** What trustwire offers on open. */
export const RELP_OFFERS = 'relp_version=0\nrelp_software=trustwire\ncommands=syslog';

/** The TXNR after `txnr`: 1 ... 999,999,999, then 1 again. */
export function nextTxnr(txnr: number): number {
  return txnr >= RELP_MAX_TXNR ? 1 : txnr + 1;
}

/** The peer broke the protocol: the session cannot go on. */
export class RelpProtocolError extends TrustwireError {
  override name = 'RelpProtocolError';
}

export interface RelpFrame {
  txnr: number;
  command: string;
  data: Buffer;
}

const SP = 0x20;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const show = (c: number) => (c > 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `0x${c.toString(16).padStart(2, '0')}`);
const malformed = (what: string) => new RelpProtocolError(`malformed RELP frame: ${what}`);

/**
 * Frames out of a byte stream, chunk by chunk: a frame may span chunks, a chunk may hold many.
 * Every byte is checked as it arrives, so a bad frame fails at once (a RelpProtocolError naming
 * what is wrong), not once more bytes came.
 */
export class RelpFrameParser {
  #pending: Buffer | undefined;

  constructor(private readonly maxDataBytes = RELP_MAX_RESPONSE_BYTES) {}

  /** Bytes held of a frame not yet complete. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  /** The frames `chunk` completes; throws a RelpProtocolError on a malformed one. */
  push(chunk: Buffer): RelpFrame[] {
    const buffer = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: RelpFrame[] = [];
    let at = 0;
    for (let end = this.#parse(buffer, at, frames); end !== -1; end = this.#parse(buffer, at, frames)) at = end;
    // A copy, so a small remainder does not hold a large chunk.
    this.#pending = at < buffer.length ? Buffer.from(buffer.subarray(at)) : undefined;
    return frames;
  }

  /** Parses one frame at `start`: its end, or -1 when the bytes so far are a valid beginning. */
  #parse(buffer: Buffer, start: number, frames: RelpFrame[]): number {
    const n = buffer.length;
    let i = start;
    if (i === n) return -1;
    let txnr = 0;
    for (let count = 0; i < n && isDigit(buffer[i]!); i++) {
      if (++count > 9) throw malformed('TXNR longer than 9 digits');
      txnr = txnr * 10 + buffer[i]! - 0x30;
    }
    if (i === n) return -1;
    if (i === start) throw malformed(`a frame starts with its TXNR (digits), got ${show(buffer[i]!)}`);
    if (buffer[i] !== SP) throw malformed(`TXNR ${txnr} is followed by ${show(buffer[i]!)}, not a space`);
    const commandStart = ++i;
    for (; i < n && isAlpha(buffer[i]!); i++) if (i - commandStart >= 32) throw malformed(`frame ${txnr}: command longer than 32 letters`);
    if (i === n) return -1;
    if (i === commandStart) throw malformed(`frame ${txnr}: a command (letters) expected, got ${show(buffer[i]!)}`);
    if (buffer[i] !== SP) throw malformed(`frame ${txnr}: the command is followed by ${show(buffer[i]!)}, not a space`);
    const command = buffer.toString('latin1', commandStart, i);
    const lengthStart = ++i;
    let length = 0;
    for (; i < n && isDigit(buffer[i]!); i++) {
      if (i - lengthStart >= 9) throw malformed(`frame ${txnr} (${command}): DATALEN longer than 9 digits`);
      length = length * 10 + buffer[i]! - 0x30;
    }
    if (i === n) return -1;
    if (i === lengthStart) throw malformed(`frame ${txnr} (${command}): DATALEN (digits) expected, got ${show(buffer[i]!)}`);
    if (length > this.maxDataBytes) throw malformed(`frame ${txnr} (${command}) announces ${length} bytes of data, over the limit of ${this.maxDataBytes}`);
    let data: Buffer = EMPTY;
    if (length > 0) {
      if (buffer[i] !== SP) throw malformed(`frame ${txnr} (${command}): DATALEN ${length} is followed by ${show(buffer[i]!)}, not a space`);
      i++;
      if (n - i < length + 1) return -1;
      data = buffer.subarray(i, i + length);
      i += length;
    }
    if (buffer[i] !== LF) throw malformed(`frame ${txnr} (${command}) ends with ${show(buffer[i]!)} where the LF trailer belongs (DATALEN ${length} wrong?)`);
    frames.push({ txnr, command, data });
    return i + 1;
  }
}

/** One frame, built whole: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. */
export function relpFrame(txnr: number, command: string, data = ''): Buffer {
  const length = Buffer.byteLength(data, 'utf8');
  return Buffer.from(length === 0 ? `${txnr} ${command} 0\n` : `${txnr} ${command} ${length} ${data}\n`, 'utf8');
}

export interface RelpResponse {
  /** 200 is OK; anything else an error (librelp sends 500). */
  code: number;
  /** The human-readable text after the code. */
  text: string;
  /** What follows the first LF (the server's offers, for open). */
  data: string;
}

/** The DATA of an `rsp` frame: `3DIGIT [SP TEXT] [LF DATA]`. */
export function parseResponse(data: Buffer): RelpResponse {
  if (data.length < 3 || !isDigit(data[0]!) || !isDigit(data[1]!) || !isDigit(data[2]!)) {
    throw new RelpProtocolError(`an rsp starts with a 3-digit status, got ${JSON.stringify(data.toString('latin1', 0, 24))}`);
  }
  const code = (data[0]! - 0x30) * 100 + (data[1]! - 0x30) * 10 + (data[2]! - 0x30);
  if (data.length === 3) return { code, text: '', data: '' };
  if (data[3] === LF) return { code, text: '', data: data.toString('utf8', 4) };
  if (data[3] !== SP) throw new RelpProtocolError(`an rsp status is followed by a space or LF, got ${show(data[3]!)}`);
  const lf = data.indexOf(LF, 4);
  return lf === -1 ? { code, text: data.toString('utf8', 4), data: '' } : { code, text: data.toString('utf8', 4, lf), data: data.toString('utf8', lf + 1) };
}

/** Offers, `name=value,value` a line. */
export function parseOffers(text: string): Map<string, string[]> {
  const offers = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    offers.set(eq === -1 ? line : line.slice(0, eq), eq === -1 ? [] : line.slice(eq + 1).split(',').filter((value) => value !== ''));
  }
  return offers;
}

export interface RelpTarget extends ConnectTarget {
  /** Syslog frames sent and not yet answered, at most. */
  windowSize: number;
  /** Syslog frames one session carries before a new one takes over, so TXNR never wraps. */
  framesPerSession?: number;
}

/** What the receiver answered for each message of a batch, and, if the session broke first, why. */
export interface RelpOutcome {
  /** By message; undefined where no answer came (the session broke before). */
  answers: Array<RelpResponse | undefined>;
  failure?: TransportError;
}

interface Job {
  readonly messages: readonly SyslogMessage[];
  readonly answers: Array<RelpResponse | undefined>;
  /** The first message not yet written. */
  next: number;
  /** Written and not answered. */
  outstanding: number;
  finished: boolean;
  resolve(outcome: RelpOutcome): void;
  reject(error: Error): void;
}

type Unacked = { kind: 'open' } | { kind: 'close' } | { kind: 'syslog'; job: Job; index: number };

/** Syslog frames per session by default: TXNR 1 is open, 999,999,999 is left for close. */
const FRAMES_PER_SESSION = RELP_MAX_TXNR - 2;

/** One connection and its RELP session. */
class RelpSession {
  failure: TransportError | undefined;
  readonly #socket: Socket;
  readonly #parser = new RelpFrameParser();
  readonly #unacked = new Map<number, Unacked>();
  /** Jobs with frames still to write, in the order they came. */
  readonly #queue: Job[] = [];
  /** Every job not finished. */
  readonly #jobs = new Set<Job>();
  #txnr = 0;
  #reserved = 0;
  #ready = false;
  #blocked = false;
  #retiring = false;
  #closeSent = false;
  readonly #timer: NodeJS.Timeout;
  readonly #ended: Promise<void>;
  #end!: () => void;

  constructor(
    private readonly target: RelpTarget,
    private readonly name: string,
    private readonly onEnd: (session: RelpSession) => void,
  ) {
    this.#ended = new Promise((resolve) => (this.#end = resolve));
    const { socket, ready } = openSocket(target, name);
    this.#socket = socket;
    // The connection and the answer to open, together, within connectTimeoutMs.
    this.#timer = setTimeout(() => this.fail(new Error(`no answer to open within ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
    ready.then(
      () => this.#connected(),
      (error: Error) => this.fail(error),
    );
  }

  /** Whether a batch of `count` may still join this session. */
  accepts(count: number): boolean {
    return this.failure === undefined && !this.#retiring && (this.#reserved === 0 || this.#reserved + count <= (this.target.framesPerSession ?? FRAMES_PER_SESSION));
  }

  submit(messages: readonly SyslogMessage[], signal: AbortSignal): Promise<RelpOutcome> {
    return new Promise<RelpOutcome>((resolve, reject) => {
      const onAbort = () => this.#abort(job);
      const job: Job = {
        messages,
        answers: new Array<RelpResponse | undefined>(messages.length).fill(undefined),
        next: 0,
        outstanding: 0,
        finished: false,
        resolve: (outcome) => (signal.removeEventListener('abort', onAbort), resolve(outcome)),
        reject: (error) => (signal.removeEventListener('abort', onAbort), reject(error)),
      };
      if (this.failure !== undefined) return job.resolve({ answers: job.answers, failure: this.failure });
      if (messages.length === 0) return job.resolve({ answers: [] });
      signal.addEventListener('abort', onAbort, { once: true });
      this.#reserved += messages.length;
      this.#jobs.add(job);
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** No more batches; closes the session (`close`) once every batch on it is answered. */
  retire(): void {
    this.#retiring = true;
    this.#closeWhenIdle();
  }

  /** Retires the session and waits for it to end, at most `graceMs`; then it is cut. */
  async close(graceMs: number): Promise<void> {
    this.retire();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.fail(new Error('the connector stopped'));
  }

  fail(error: Error): void {
    if (this.failure !== undefined) return;
    const failure = error instanceof TransportError ? error : new TransportError(`RELP session with ${this.name} failed: ${error.message}`);
    this.failure = failure;
    clearTimeout(this.#timer);
    this.#socket.destroy();
    this.#unacked.clear();
    this.#queue.length = 0;
    for (const job of [...this.#jobs]) this.#finish(job, failure);
    this.#end();
    this.onEnd(this);
  }

  #connected(): void {
    if (this.failure !== undefined) return;
    const socket = this.#socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('end', () => this.fail(new Error('connection closed by the receiver')));
    socket.on('close', () => this.fail(new Error('connection closed')));
    socket.on('drain', () => {
      this.#blocked = false;
      this.#pump();
    });
    this.#txnr = nextTxnr(this.#txnr);
    this.#unacked.set(this.#txnr, { kind: 'open' });
    socket.write(relpFrame(this.#txnr, 'open', RELP_OFFERS));
  }

  #receive(chunk: Buffer): void {
    let frames: RelpFrame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (error) {
      return this.fail(error as Error);
    }
    for (const frame of frames) {
      this.#handle(frame);
      if (this.failure !== undefined) return;
    }
    this.#pump();
  }

  #handle(frame: RelpFrame): void {
    if (frame.txnr === 0) {
      // A hint: never answered. serverclose says the server is closing the session.
      if (frame.command === 'serverclose') this.fail(new Error('the receiver closed the session (serverclose)'));
      return;
    }
    if (frame.command !== 'rsp') return this.fail(new RelpProtocolError(`the receiver sent the command "${frame.command}" (txnr ${frame.txnr}); a RELP server only answers`));
    const entry = this.#unacked.get(frame.txnr);
    if (entry === undefined) return this.fail(new RelpProtocolError(`the receiver answered txnr ${frame.txnr}, which has no command outstanding`));
    this.#unacked.delete(frame.txnr);
    if (entry.kind === 'close') return void this.#socket.end();
    let response: RelpResponse;
    try {
      response = parseResponse(frame.data);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (entry.kind === 'open') return this.#opened(response);
    const { job, index } = entry;
    job.answers[index] = response;
    job.outstanding--;
    if (job.next === job.messages.length && job.outstanding === 0) this.#finish(job);
  }

  #opened(response: RelpResponse): void {
    if (response.code !== 200) return this.fail(new Error(`the receiver refused the session: ${response.code} ${response.text}`.trimEnd()));
    const offers = parseOffers(response.data);
    const version = offers.get('relp_version')?.[0];
    if (version === undefined) return this.fail(new RelpProtocolError('the answer to open has no relp_version offer'));
    if (!/^\d+$/.test(version) || Number(version) > 0) return this.fail(new RelpProtocolError(`the receiver speaks relp_version ${version}; trustwire speaks 0`));
    if (!(offers.get('commands') ?? []).includes('syslog')) return this.fail(new RelpProtocolError('the receiver does not offer the syslog command'));
    clearTimeout(this.#timer);
    this.#ready = true;
  }

  /** Writes frames while the window has room, batch after batch, one Buffer a write. */
  #pump(): void {
    if (!this.#ready || this.failure !== undefined || this.#blocked) return;
    const { windowSize } = this.target;
    while (this.#queue.length > 0 && this.#unacked.size < windowSize) {
      const job = this.#queue[0]!;
      if (job.finished) {
        this.#queue.shift();
        continue;
      }
      const bytes = this.#frames(job, Math.min(job.messages.length - job.next, windowSize - this.#unacked.size));
      if (job.next === job.messages.length) this.#queue.shift();
      if (!this.#socket.write(bytes)) {
        this.#blocked = true;
        return;
      }
    }
  }

  /** The next `count` messages of `job` as syslog frames, in one allocation; registers them unanswered. */
  #frames(job: Job, count: number): Buffer {
    let total = 0;
    let txnr = this.#txnr;
    for (let k = 0; k < count; k++) {
      txnr = nextTxnr(txnr);
      const { bytes } = job.messages[job.next + k]!;
      total += digits(txnr) + 8 + digits(bytes) + (bytes > 0 ? bytes + 1 : 0) + 1; // TXNR " syslog " LEN [" " MSG] LF
    }
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (let k = 0; k < count; k++) {
      const index = job.next + k;
      const message = job.messages[index]!;
      const { bytes } = message;
      this.#txnr = nextTxnr(this.#txnr);
      this.#unacked.set(this.#txnr, { kind: 'syslog', job, index });
      at += out.write(String(this.#txnr), at, 'latin1');
      at += out.write(' syslog ', at, 'latin1');
      at += out.write(String(bytes), at, 'latin1');
      if (bytes > 0) {
        out[at++] = SP;
        // RFC 5424 parts go in as they are: the joined string would hold as UTF-16 (the BOM).
        at = message.parts === undefined ? at + out.write(message.text, at, bytes, 'utf8') : writeRfc5424Parts(out, at, message.parts);
      }
      out[at++] = LF;
    }
    job.next += count;
    job.outstanding += count;
    return out;
  }

  #abort(job: Job): void {
    if (job.finished) return;
    const unanswered = job.outstanding;
    job.finished = true;
    this.#jobs.delete(job);
    job.reject(new TransportError('send aborted'));
    // Frames on the wire with no answer by the attempt's deadline: the session is stuck (or the
    // runtime is shutting down). Another session, not this one, gets the resend.
    if (unanswered > 0) this.fail(new Error(`${unanswered} frames had no answer when a send was aborted`));
    else this.#closeWhenIdle();
  }

  #finish(job: Job, failure?: TransportError): void {
    if (job.finished) return;
    job.finished = true;
    this.#jobs.delete(job);
    job.resolve(failure === undefined ? { answers: job.answers } : { answers: job.answers, failure });
    if (failure === undefined) this.#closeWhenIdle();
  }

  #closeWhenIdle(): void {
    if (!this.#retiring || this.failure !== undefined || this.#closeSent || this.#jobs.size > 0) return;
    if (!this.#ready) return this.fail(new Error('closed before it was open'));
    this.#closeSent = true;
    this.#txnr = nextTxnr(this.#txnr);
    this.#unacked.set(this.#txnr, { kind: 'close' });
    this.#socket.write(relpFrame(this.#txnr, 'close'));
    // A server that does not answer close (and close the connection) within connectTimeoutMs is cut.
    setTimeout(() => this.fail(new Error('no answer to close')), this.target.connectTimeoutMs).unref();
  }
}

/**
 * The RELP client: one session at a time (plus sessions retiring after their last frames), opened
 * on first use and again after a failure, shared by concurrent sends.
 */
export class RelpSender {
  #session: RelpSession | undefined;
  readonly #retiring = new Set<RelpSession>();
  readonly #name: string;

  constructor(private readonly target: RelpTarget) {
    this.#name = where({ ...target, protocol: target.protocol === 'tls' ? 'relp+tls' : 'relp' });
  }

  /**
   * Sends the messages, one syslog frame each, and resolves once every frame was answered, or
   * the session broke (then `failure` says why, and the frames without an answer have none).
   * Rejects with a TransportError when `signal` aborts first.
   */
  send(messages: readonly SyslogMessage[], signal: AbortSignal): Promise<RelpOutcome> {
    if (signal.aborted) return Promise.reject(new TransportError('send aborted'));
    let session = this.#session;
    if (session === undefined || !session.accepts(messages.length)) {
      if (session !== undefined && session.failure === undefined) {
        this.#retiring.add(session);
        session.retire();
      }
      session = this.#session = new RelpSession(this.target, this.#name, (ended) => {
        if (this.#session === ended) this.#session = undefined;
        this.#retiring.delete(ended);
      });
    }
    return session.submit(messages, signal);
  }

  /** Closes every session (`close`, waiting for the batches on it at most `graceMs`). */
  async close(graceMs = 2000): Promise<void> {
    const sessions = [...this.#retiring, ...(this.#session === undefined ? [] : [this.#session])];
    this.#session = undefined;
    await Promise.all(sessions.map((session) => session.close(graceMs)));
  }
}
