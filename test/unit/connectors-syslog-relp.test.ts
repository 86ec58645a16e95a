import { fileURLToPath } from 'node:url';
/**
 * RELP, client side: the frame parser (frames across chunks, many in one chunk, bad frames),
 * responses and offers, and the session against an in-process RELP server that can misbehave
 * in every way the real one (test/integration/syslog-relp.test.ts) will not on request: refuse
 * one message, answer out of the blue, send garbage, close mid-batch, never answer. The
 * conformance kit runs here with per-event rejections, which rsyslog's imrelp never sends.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import syslog from '../../connectors/syslog/index.js';
import { createMessageEncoder, type SyslogMessage } from '../../connectors/syslog/encode.js';
import {
  nextTxnr,
  parseOffers,
  parseResponse,
  RELP_MAX_TXNR,
  RELP_OFFERS,
  RelpFrameParser,
  RelpProtocolError,
  RelpSender,
  type RelpFrame,
} from '../../connectors/syslog/relp.js';
import { silentLogger } from '../../src/log.js';
import type { SinkConnector } from '../../src/runtime/contract.js';
import { conformanceSuite, sampleBatch, type ConformanceHarness, type SinkBehaviour } from '../../src/kit/index.js';
import { eventually } from '../helpers/eventually.js';

/** A real PEM: TLS file options are read and parsed when the options load. */
const EXAMPLE_CA = fileURLToPath(new URL('../fixtures/tls/example.pem', import.meta.url));

// ---- frames -------------------------------------------------------------------------------

const frames = (parser: RelpFrameParser, text: string) => parser.push(Buffer.from(text, 'latin1')).map((f) => [f.txnr, f.command, f.data.toString('latin1')]);

test('several frames in one chunk, and an empty DATA (DATALEN 0: no space, no data)', () => {
  const parser = new RelpFrameParser();
  assert.deepEqual(frames(parser, '2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 0\n0 serverclose 0\n'), [
    [2, 'rsp', '200 OK'],
    [3, 'rsp', '200 OK'],
    [4, 'rsp', ''],
    [0, 'serverclose', ''],
  ]);
  assert.equal(parser.buffered, 0);
});

test('a frame across chunks, split at every byte', () => {
  const stream = '1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n2 rsp 6 200 OK\n';
  for (let cut = 1; cut < stream.length; cut++) {
    const parser = new RelpFrameParser();
    const got = [...frames(parser, stream.slice(0, cut)), ...frames(parser, stream.slice(cut))];
    assert.deepEqual(got.map(([txnr]) => txnr), [1, 2], `cut at ${cut}`);
    assert.equal(got[0]![2], '200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog');
  }
  const parser = new RelpFrameParser();
  const one = [...stream].flatMap((char) => frames(parser, char));
  assert.deepEqual(one.map(([txnr, command]) => `${txnr} ${command}`), ['1 rsp', '2 rsp']);
});

test('DATA may hold LF and spaces: DATALEN, not the content, ends it; UTF-8 is counted in bytes', () => {
  const data = Buffer.from('200 OK\nä b\n', 'utf8');
  const parser = new RelpFrameParser();
  const [frame] = parser.push(Buffer.concat([Buffer.from(`7 rsp ${data.length} `), data, Buffer.from('\n')]));
  assert.equal(frame!.data.toString('utf8'), '200 OK\nä b\n');
});

test('a bad frame fails at once, naming what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['rsp 6 200 OK\n', /starts with its TXNR \(digits\), got "r"/],
    ['1234567890 rsp 0\n', /TXNR longer than 9 digits/],
    ['12\trsp 0\n', /TXNR 12 is followed by 0x09, not a space/],
    ['1 r2p 0\n', /frame 1: the command is followed by "2", not a space/],
    ['1  rsp 0\n', /frame 1: a command \(letters\) expected, got 0x20/],
    [`1 ${'r'.repeat(33)} 0\n`, /command longer than 32 letters/],
    ['1 rsp x\n', /frame 1 \(rsp\): DATALEN \(digits\) expected, got "x"/],
    ['1 rsp 1234567890 x\n', /DATALEN longer than 9 digits/],
    ['1 rsp 6\n', /DATALEN 6 is followed by 0x0a, not a space/],
    ['1 rsp 0 \n', /ends with 0x20 where the LF trailer belongs/],
    ['1 rsp 3 200 OK\n', /frame 1 \(rsp\) ends with 0x20 where the LF trailer belongs \(DATALEN 3 wrong\?\)/],
    ['1 rsp 999999 ', /announces 999999 bytes of data, over the limit of 131072/],
  ];
  for (const [input, reason] of cases) {
    const parser = new RelpFrameParser();
    assert.throws(() => parser.push(Buffer.from(input, 'latin1')), (error: Error) => error instanceof RelpProtocolError && /^malformed RELP frame: /.test(error.message) && reason.test(error.message), input);
  }
  // Found in the first bytes, without waiting for the rest of the frame.
  assert.throws(() => new RelpFrameParser().push(Buffer.from('x')), /got "x"/);
  // After good frames in the same chunk.
  assert.throws(() => new RelpFrameParser().push(Buffer.from('2 rsp 6 200 OK\nHTTP/1.1 400')), /got "H"/);
});

test('responses and offers', () => {
  assert.deepEqual(parseResponse(Buffer.from('200 OK')), { code: 200, text: 'OK', data: '' });
  assert.deepEqual(parseResponse(Buffer.from('500 command disabled')), { code: 500, text: 'command disabled', data: '' });
  assert.deepEqual(parseResponse(Buffer.from('200 OK\nrelp_version=0\ncommands=syslog')), { code: 200, text: 'OK', data: 'relp_version=0\ncommands=syslog' });
  assert.deepEqual(parseResponse(Buffer.from('200')), { code: 200, text: '', data: '' });
  assert.deepEqual(parseResponse(Buffer.from('200\nx=1')), { code: 200, text: '', data: 'x=1' });
  assert.throws(() => parseResponse(Buffer.from('OK')), /3-digit status/);
  assert.throws(() => parseResponse(Buffer.from('200-OK')), /followed by a space or LF, got "-"/);
  assert.deepEqual(
    [...parseOffers('relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\nflag')],
    [
      ['relp_version', ['0']],
      ['relp_software', ['librelp', '1.11.0', 'http://librelp.adiscon.com']],
      ['commands', ['syslog']],
      ['flag', []],
    ],
  );
});

test('TXNR counts 1 ... 999,999,999 and wraps to 1', () => {
  assert.equal(nextTxnr(0), 1);
  assert.equal(nextTxnr(41), 42);
  assert.equal(nextTxnr(RELP_MAX_TXNR - 1), RELP_MAX_TXNR);
  assert.equal(nextTxnr(RELP_MAX_TXNR), 1);
});

// ---- an in-process RELP server -------------------------------------------------------------

const OPEN_OK = '200 OK\nrelp_version=0\nrelp_software=fake\ncommands=syslog';

interface Received {
  session: number;
  txnr: number;
  command: string;
  data: string;
}

/**
 * A RELP server speaking as imrelp does, by default; `answer` decides what a syslog frame gets
 * (a rsp DATA, or undefined for no answer, or a raw string to write instead); `holdAnswers`
 * keeps the answers until `release()`.
 */
class FakeRelpServer implements ConformanceHarness {
  #server: Server | undefined;
  readonly sockets = new Set<Socket>();
  frames: Received[] = [];
  sessions = 0;
  openAnswer: string | undefined = OPEN_OK;
  answer: (frame: RelpFrame, text: string) => string | { raw: string } | undefined = () => '200 OK';
  holdAnswers = false;
  #held: Array<() => void> = [];
  #behaviour: SinkBehaviour = { kind: 'ok' };
  #refuseLeft = 0;
  #accepted: string[] = [];

  get port(): number {
    return (this.#server!.address() as { port: number }).port;
  }

  async start(): Promise<void> {
    this.#server = createServer((socket) => this.#connection(socket));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  /** Sends the answers held back (the first `count` of them). */
  release(count = this.#held.length): void {
    for (const send of this.#held.splice(0, count)) send();
  }

  /** Syslog frames received and not yet answered, at most, over the run. */
  maxOutstanding = 0;
  #outstanding = 0;

  #connection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    if (this.#refuseLeft > 0) {
      this.#refuseLeft--;
      socket.resetAndDestroy();
      return;
    }
    const session = ++this.sessions;
    const parser = new RelpFrameParser(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      let out = '';
      for (const frame of parser.push(chunk)) {
        const text = frame.data.toString('utf8');
        this.frames.push({ session, txnr: frame.txnr, command: frame.command, data: text });
        if (this.#behaviour.kind === 'hang') continue;
        if (frame.command === 'open') {
          if (this.openAnswer !== undefined) out += rsp(frame.txnr, this.openAnswer);
        } else if (frame.command === 'close') {
          out += `${frame.txnr} rsp 0\n0 serverclose 0\n`;
          socket.end(out);
          return;
        } else if (frame.command === 'syslog') {
          const answer = this.#answer(frame, text);
          if (answer === undefined) continue;
          const bytes = typeof answer === 'string' ? rsp(frame.txnr, answer) : answer.raw;
          this.#outstanding++;
          this.maxOutstanding = Math.max(this.maxOutstanding, this.#outstanding);
          if (this.holdAnswers) this.#held.push(() => (this.#outstanding--, socket.write(bytes)));
          else (this.#outstanding--, (out += bytes));
        }
      }
      if (out !== '') socket.write(out);
    });
  }

  #answer(frame: RelpFrame, text: string): string | { raw: string } | undefined {
    const id = /\[trustwire@32473 id="([^"]+)"/.exec(text)?.[1];
    const behaviour = this.#behaviour;
    if (behaviour.kind === 'permanent' || (behaviour.kind === 'reject' && id !== undefined && behaviour.ids.includes(id))) return '400 refused by the test';
    const answer = this.answer(frame, text);
    if (typeof answer === 'string' && answer.startsWith('200') && id !== undefined) this.#accepted.push(id);
    return answer;
  }

  behave(mode: SinkBehaviour): void {
    this.#behaviour = mode;
    this.#refuseLeft = mode.kind === 'transient' ? (mode.times ?? Number.MAX_SAFE_INTEGER) : 0;
    if (mode.kind !== 'ok') for (const socket of this.sockets) socket.destroy();
  }

  async received(): Promise<string[]> {
    return [...this.#accepted];
  }

  reset(): void {
    this.behave({ kind: 'ok' });
    this.#accepted = [];
    this.frames = [];
    this.sessions = 0;
    this.openAnswer = OPEN_OK;
    this.answer = () => '200 OK';
    this.holdAnswers = false;
    this.release();
    this.maxOutstanding = 0;
    this.#outstanding = 0;
  }
}

function rsp(txnr: number, data: string): string {
  return data === '' ? `${txnr} rsp 0\n` : `${txnr} rsp ${Buffer.byteLength(data)} ${data}\n`;
}

const kitServer = new FakeRelpServer();
conformanceSuite({
  definition: syslog,
  label: 'RELP against an in-process server with per-event answers',
  options: () => ({ host: '127.0.0.1', port: kitServer.port, transport: 'relp', connectTimeoutMs: 2000 }),
  harness: kitServer,
});

const server = new FakeRelpServer();

// ---- the session --------------------------------------------------------------------------

const messages = (count: number, tag = 'm'): SyslogMessage[] =>
  Array.from({ length: count }, (_, i) => {
    const text = `<110>1 2025-03-14T09:59:59.871Z h trustwire - x - ${tag}${i} ä`;
    return { text, bytes: Buffer.byteLength(text) };
  });

const sender = (windowSize = 128, extra: { framesPerSession?: number } = {}) =>
  new RelpSender({ protocol: 'tcp', host: '127.0.0.1', port: server.port, connectTimeoutMs: 2000, windowSize, ...extra });

const NEVER = new AbortController().signal;

async function connector(options: Record<string, unknown> = {}): Promise<SinkConnector> {
  const created = syslog.create(syslog.configSchema.parse({ host: '127.0.0.1', port: server.port, transport: 'relp', connectTimeoutMs: 2000, ...options }));
  await created.start({ name: 'relp-unit', logger: silentLogger, kafka: { produce: async () => {} } });
  return created;
}

describe('RELP session', () => {
  before(() => server.start());
  after(() => server.stop());

  test('opens with the offers, then one frame a message, bare, TXNR counting on from 2', async () => {
    await server.reset();
    const relp = sender();
    try {
      const outcome = await relp.send(messages(3), NEVER);
      assert.deepEqual(outcome.answers.map((a) => a?.code), [200, 200, 200]);
      assert.equal(outcome.failure, undefined);
      assert.deepEqual(server.frames.slice(0, 4), [
        { session: 1, txnr: 1, command: 'open', data: RELP_OFFERS },
        ...messages(3).map((m, i) => ({ session: 1, txnr: i + 2, command: 'syslog', data: m.text })),
      ]);
    } finally {
      await relp.close();
    }
    // stop: close, answered, then the server closes.
    assert.deepEqual(server.frames.at(-1), { session: 1, txnr: 5, command: 'close', data: '' });
  });

  test('at most windowSize frames unanswered; concurrent sends go out batch after batch, in order', async () => {
    await server.reset();
    server.holdAnswers = true;
    const relp = sender(8);
    try {
      const batches = [0, 1, 2, 3, 4].map((b) => messages(7, `b${b}-`));
      const sends = batches.map((batch) => relp.send(batch, NEVER));
      await eventually(() => server.frames.filter((f) => f.command === 'syslog').length === 8, 'the first window of frames');
      assert.equal(server.maxOutstanding, 8);
      const released = setInterval(() => server.release(), 5);
      const outcomes = await Promise.all(sends);
      clearInterval(released);
      assert.ok(outcomes.every((o) => o.answers.every((a) => a?.code === 200)));
      assert.equal(server.maxOutstanding, 8, 'never more than the window');
      const syslogFrames = server.frames.filter((f) => f.command === 'syslog');
      assert.deepEqual(
        syslogFrames.map((f) => f.data),
        batches.flat().map((m) => m.text),
      );
      assert.deepEqual(
        syslogFrames.map((f) => f.txnr),
        syslogFrames.map((_, i) => i + 2),
      );
      assert.equal(server.sessions, 1, 'one session shared by every send');
    } finally {
      await relp.close();
    }
  });

  test('a non-200 answer fails that event alone: 5xx is resent, 4xx is not', async () => {
    await server.reset();
    const batch = sampleBatch(6);
    server.answer = (_, text) => (text.includes(batch[1]!.id) ? '500 queue full' : text.includes(batch[4]!.id) ? '451 not today' : '200 OK');
    const sink = await connector();
    try {
      const result = await sink.send(batch, NEVER);
      assert.equal(result.kind, 'partial');
      const failed = result.kind === 'partial' ? result.failed : new Map();
      assert.deepEqual([...failed.keys()], [1, 4]);
      assert.equal(failed.get(1)!.retriable, true);
      assert.match(failed.get(1)!.message, /the receiver answered 500 queue full/);
      assert.equal(failed.get(4)!.retriable, false);
    } finally {
      await sink.stop();
    }
  });

  test('serverclose mid-batch: what was answered is delivered, the rest resent; the next send opens a new session', async () => {
    await server.reset();
    let count = 0;
    server.answer = () => (++count === 3 ? { raw: '0 serverclose 0\n' } : '200 OK');
    const sink = await connector();
    try {
      const batch = sampleBatch(6);
      const result = await sink.send(batch, NEVER);
      assert.equal(result.kind, 'partial');
      const failed = result.kind === 'partial' ? result.failed : new Map();
      assert.deepEqual([...failed.keys()], [2, 3, 4, 5]);
      for (const failure of failed.values()) {
        assert.equal(failure.retriable, true);
        assert.match(failure.message, /relp:\/\/127\.0\.0\.1:\d+ failed: the receiver closed the session \(serverclose\)/);
      }
      assert.deepEqual(await sink.send(batch.slice(2), NEVER), { kind: 'ok' });
      assert.equal(server.sessions, 2);
    } finally {
      await sink.stop();
    }
  });

  test('a session that breaks fails the unanswered frames of every batch in flight', async () => {
    await server.reset();
    server.holdAnswers = true;
    const relp = sender(64);
    try {
      const sends = [0, 1, 2].map((b) => relp.send(messages(10, `b${b}-`), NEVER));
      await eventually(() => server.frames.filter((f) => f.command === 'syslog').length === 30, 'every frame on the wire');
      server.release(15); // the first batch and half the second are answered...
      const first = await sends[0]!;
      assert.deepEqual(first, { answers: new Array(10).fill({ code: 200, text: 'OK', data: '' }) });
      for (const socket of server.sockets) socket.destroy(); // ...then the connection dies
      const [second, third] = await Promise.all(sends.slice(1));
      for (const outcome of [second!, third!]) assert.match(outcome.failure!.message, /relp:\/\/127\.0\.0\.1:\d+ failed: connection closed/);
      assert.equal(third!.answers.filter((a) => a === undefined).length, 10);
      assert.ok(second!.answers.slice(5).every((a) => a === undefined));
      // The next send gets a new session.
      server.holdAnswers = false;
      const again = await relp.send(messages(2), NEVER);
      assert.deepEqual(again.answers.map((a) => a?.code), [200, 200]);
      assert.equal(server.sessions, 2);
    } finally {
      await relp.close();
    }
  });

  test('a malformed or unexpected frame from the server breaks the session, naming the reason', async () => {
    const cases: Array<[string, RegExp]> = [
      ['HTTP/1.1 400 Bad Request\r\n', /malformed RELP frame: a frame starts with its TXNR \(digits\), got "H"/],
      ['99 rsp 6 200 OK\n', /the receiver answered txnr 99, which has no command outstanding/],
      ['5 syslog 2 hi\n', /the receiver sent the command "syslog" \(txnr 5\); a RELP server only answers/],
    ];
    for (const [raw, reason] of cases) {
      await server.reset();
      server.answer = () => ({ raw });
      const sink = await connector();
      try {
        const result = await sink.send(sampleBatch(4), NEVER);
        assert.equal(result.kind, 'retry', raw);
        assert.match(result.kind === 'retry' ? result.error.message : '', reason);
      } finally {
        await sink.stop();
      }
    }
  });

  test('an open the server refuses, or answers without the syslog command, is a retriable failure saying so', async () => {
    for (const [answer, reason] of [
      ['500 error -2000 on connect', /the receiver refused the session: 500 error -2000 on connect/],
      ['200 OK\nrelp_version=0\ncommands=', /the receiver does not offer the syslog command/],
      ['200 OK\ncommands=syslog', /the answer to open has no relp_version offer/],
      ['200 OK\nrelp_version=1\ncommands=syslog', /the receiver speaks relp_version 1; trustwire speaks 0/],
    ] as const) {
      await server.reset();
      server.openAnswer = answer;
      const sink = await connector();
      try {
        const result = await sink.send(sampleBatch(4), NEVER);
        assert.equal(result.kind, 'retry');
        assert.match(result.kind === 'retry' ? result.error.message : '', reason);
      } finally {
        await sink.stop();
      }
    }
  });

  test('frames with no answer: the send ends when its signal aborts, and the next send gets a new session', async () => {
    await server.reset();
    server.answer = () => undefined;
    const sink = await connector();
    try {
      const started = performance.now();
      const result = await sink.send(sampleBatch(4), AbortSignal.timeout(150));
      assert.equal(result.kind, 'retry');
      assert.ok(performance.now() - started < 1000, `settled after ${Math.round(performance.now() - started)} ms`);
      server.answer = () => '200 OK';
      assert.deepEqual(await sink.send(sampleBatch(4, 1), NEVER), { kind: 'ok' });
      assert.equal(server.sessions, 2);
    } finally {
      await sink.stop();
    }
  });

  test('an aborted send whose frames were not yet written leaves the session alone', async () => {
    await server.reset();
    server.holdAnswers = true;
    const relp = sender(4);
    try {
      const first = relp.send(messages(4, 'a'), NEVER);
      const controller = new AbortController();
      const second = relp.send(messages(4, 'b'), controller.signal);
      await eventually(() => server.frames.filter((f) => f.command === 'syslog').length === 4, 'the first window');
      controller.abort();
      await assert.rejects(second, /send aborted/);
      server.release();
      assert.deepEqual((await first).answers.map((a) => a?.code), [200, 200, 200, 200]);
      server.holdAnswers = false;
      assert.deepEqual((await relp.send(messages(1, 'c'), NEVER)).answers.map((a) => a?.code), [200]);
      assert.equal(server.sessions, 1);
      assert.deepEqual(
        server.frames.filter((f) => f.command === 'syslog').map((f) => f.data.slice(-4)),
        ['a0 ä', 'a1 ä', 'a2 ä', 'a3 ä', 'c0 ä'],
      );
    } finally {
      await relp.close();
    }
  });

  test('a session carries framesPerSession frames at most, then a new one takes over and the old one closes', async () => {
    await server.reset();
    const relp = sender(128, { framesPerSession: 10 });
    try {
      for (const tag of ['a', 'b', 'c']) assert.ok((await relp.send(messages(6, tag), NEVER)).answers.every((a) => a?.code === 200));
      await eventually(() => server.frames.filter((f) => f.command === 'close').length === 2, 'the two retired sessions closing');
      assert.equal(server.sessions, 3);
      for (const session of [1, 2, 3]) {
        const own = server.frames.filter((f) => f.session === session);
        assert.deepEqual(
          own.map((f) => f.txnr),
          own.map((_, i) => i + 1),
          `session ${session} counts from 1`,
        );
      }
    } finally {
      await relp.close();
    }
  });

  test('a server that never answers open: the send ends on abort; the session gives up at connectTimeoutMs', async () => {
    await server.reset();
    server.openAnswer = undefined;
    const relp = new RelpSender({ protocol: 'tcp', host: '127.0.0.1', port: server.port, connectTimeoutMs: 300, windowSize: 8 });
    try {
      await assert.rejects(relp.send(messages(2), AbortSignal.timeout(100)), /send aborted/);
      const outcome = await relp.send(messages(2), NEVER);
      assert.deepEqual(outcome.answers, [undefined, undefined]);
      assert.match(outcome.failure!.message, /no answer to open within 300 ms/);
    } finally {
      await relp.close();
    }
  });
});

test('encoding for relp: the bare RFC 5424 message, no framing, LF kept', () => {
  const [event] = sampleBatch(1);
  const encode = createMessageEncoder(syslog.configSchema.parse({ host: 'h', transport: 'relp', format: 'json' }));
  const message = encode(event!);
  assert.ok(!('oversize' in message));
  assert.match(message.text, /^<\d+>1 /);
  assert.equal(message.bytes, Buffer.byteLength(message.text));
});

test('relp options: default port 2514, no lf framing, tls settings only with relp.tls', () => {
  const parsed = syslog.configSchema.parse({ host: 'h', transport: 'relp' });
  assert.deepEqual(parsed.relp, { windowSize: 1024, tls: false });
  const lf = syslog.configSchema.safeParse({ host: 'h', transport: 'relp', framing: 'lf' });
  assert.deepEqual(lf.error?.issues.map((i) => i.path.join('.')), ['framing']);
  const stray = syslog.configSchema.safeParse({ host: 'h', transport: 'relp', tls: { ca: EXAMPLE_CA } });
  assert.deepEqual(stray.error?.issues.map((i) => [i.path.join('.'), i.message]), [['tls', 'is set but transport is relp without relp.tls']]);
  assert.equal(syslog.configSchema.safeParse({ host: 'h', transport: 'relp', relp: { tls: true }, tls: { ca: EXAMPLE_CA } }).success, true);
  const tcpRelpTls = syslog.configSchema.safeParse({ host: 'h', transport: 'tcp', relp: { tls: true } });
  assert.deepEqual(tcpRelpTls.error?.issues.map((i) => i.path.join('.')), ['relp.tls']);
});
