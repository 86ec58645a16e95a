import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import file from '../../connectors/file/index.js';
import { encodeLines } from '../../connectors/file/encode.js';
import { silentLogger } from '../../src/log.js';
import { conformanceSuite, sampleBatch, type ConformanceHarness, type SinkBehaviour } from '../../src/kit/index.js';

/**
 * A temporary folder as the sink. Transient failure: the file's path is a directory (EISDIR,
 * whoever runs the test, root included). Hang: the path is a FIFO nobody reads, so opening it
 * blocks. A file sink never rejects anything for good, so the rejection checks are skipped.
 */
class FolderSink implements ConformanceHarness {
  dir = '';
  get path(): string {
    return join(this.dir, 'events.jsonl');
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'trustwire-file-sink-'));
  }

  async stop(): Promise<void> {
    this.#undo();
    rmSync(this.dir, { recursive: true, force: true });
  }

  behave(mode: SinkBehaviour): void {
    this.#undo();
    if (mode.kind === 'ok') return;
    if (mode.kind === 'permanent' || mode.kind === 'reject') throw new Error('a file sink has no permanent rejection');
    if (existsSync(this.path)) renameSync(this.path, `${this.path}.parked`);
    if (mode.kind === 'transient') mkdirSync(this.path);
    else execFileSync('mkfifo', [this.path]);
  }

  async received(): Promise<string[]> {
    const rotated = readdirSync(this.dir)
      .map((name) => /^events\.jsonl\.(\d+)$/.exec(name))
      .filter((match) => match !== null)
      .map((match) => Number(match[1]))
      .sort((a, b) => b - a)
      .map((n) => `${this.path}.${n}`);
    return [...rotated, this.path]
      .filter((path) => existsSync(path) && lstatSync(path).isFile())
      .flatMap((path) => readFileSync(path, 'utf8').split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { id: string }).id);
  }

  reset(): void {
    this.#undo();
    for (const name of readdirSync(this.dir)) rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Takes the directory or FIFO away from the path and puts the parked file back. */
  #undo(): void {
    if (!existsSync(this.path) && !isFifo(this.path)) return this.#unpark();
    const stat = lstatSync(this.path);
    if (stat.isDirectory()) rmSync(this.path, { recursive: true });
    else if (stat.isFIFO()) {
      // Opening the reading end lets a writer blocked in open() through (its write then fails).
      const reader = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
      unlinkSync(this.path);
      closeSync(reader);
    }
    this.#unpark();
  }

  #unpark(): void {
    if (existsSync(`${this.path}.parked`)) renameSync(`${this.path}.parked`, this.path);
  }
}

function isFifo(path: string): boolean {
  try {
    return lstatSync(path).isFIFO();
  } catch {
    return false;
  }
}

const sink = new FolderSink();
conformanceSuite({
  definition: file,
  options: () => ({ path: sink.path }),
  harness: sink,
  permanent: false,
});

describe('file connector', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'trustwire-file-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const never = new AbortController().signal;
  const ctx = { name: 'test', logger: silentLogger, kafka: { produce: async () => {} } };
  const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const idsIn = (path: string) => lines(path).map((line) => (JSON.parse(line) as { id: string }).id);

  test('start creates the folder; a path that cannot be a file refuses the start', async () => {
    const path = join(dir, 'nested', 'deeper', 'out.jsonl');
    const connector = file.create(file.configSchema.parse({ path, mode: '0600' }));
    await connector.start(ctx);
    assert.equal(lstatSync(path).mode & 0o777, 0o600);
    await connector.stop();
    writeFileSync(join(dir, 'plain'), '');
    const refused = file.create(file.configSchema.parse({ path: join(dir, 'plain', 'out.jsonl') }));
    await assert.rejects(refused.start(ctx), /^Error: cannot append to .*plain\/out\.jsonl: (EEXIST|ENOTDIR)$/);
  });

  test('a batch that would pass maxBytes goes to a fresh file; keep files are kept, batches never split', async () => {
    const path = join(dir, 'rotating.jsonl');
    const batches = [0, 1, 2, 3].map((seed) => sampleBatch(2, seed + 10));
    const size = encodeLines(batches[0]!).length;
    const connector = file.create(file.configSchema.parse({ path, rotate: { maxBytes: size + 10, keep: 2 } }));
    await connector.start(ctx);
    for (const batch of batches) assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    await connector.stop();
    const ids = (batch: ReturnType<typeof sampleBatch>) => batch.map((event) => event.id);
    assert.deepEqual(idsIn(path), ids(batches[3]!));
    assert.deepEqual(idsIn(`${path}.1`), ids(batches[2]!));
    assert.deepEqual(idsIn(`${path}.2`), ids(batches[1]!));
    assert.equal(existsSync(`${path}.3`), false, 'the oldest is dropped');

    const big = sampleBatch(6, 20);
    const again = file.create(file.configSchema.parse({ path, rotate: { maxBytes: 100, keep: 2 } }));
    await again.start(ctx);
    assert.deepEqual(await again.send(big, never), { kind: 'ok' });
    assert.deepEqual(idsIn(path), ids(big), 'a batch larger than maxBytes is written whole');
  });

  test('maxBytes 0 never rotates', async () => {
    const path = join(dir, 'forever.jsonl');
    const connector = file.create(file.configSchema.parse({ path, rotate: { maxBytes: 0 } }));
    await connector.start(ctx);
    for (const seed of [30, 31, 32]) await connector.send(sampleBatch(4, seed), never);
    assert.equal(idsIn(path).length, 12);
    assert.equal(existsSync(`${path}.1`), false);
  });

  test('a torn last line (a crash mid-write) is closed before the next batch', async () => {
    const path = join(dir, 'torn.jsonl');
    writeFileSync(path, '{"id":"half-writ');
    const connector = file.create(file.configSchema.parse({ path }));
    await connector.start(ctx);
    const batch = sampleBatch(4, 40);
    await connector.send(batch, never);
    const [torn, ...rest] = lines(path);
    assert.equal(torn, '{"id":"half-writ');
    assert.deepEqual(
      rest.map((line) => (JSON.parse(line) as { id: string }).id),
      batch.map((event) => event.id),
    );
  });

  test('a write error answers retry, naming the path and the error code', async () => {
    const path = join(dir, 'blocked.jsonl');
    const connector = file.create(file.configSchema.parse({ path }));
    await connector.start(ctx);
    rmSync(path);
    mkdirSync(path);
    const result = await connector.send(sampleBatch(4, 50), never);
    assert.equal(result.kind, 'retry');
    assert.equal((result as { error: Error }).error.message, `appending to ${path} failed: EISDIR`);
  });

  test('format cef writes one CEF record a line, the event id as externalId', async () => {
    const path = join(dir, 'events.cef');
    const connector = file.create(file.configSchema.parse({ path, format: 'cef' }));
    await connector.start(ctx);
    const batch = sampleBatch(6, 60);
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    const written = lines(path);
    assert.equal(written.length, 6);
    for (const [i, line] of written.entries()) {
      assert.match(line, /^CEF:0\|/);
      assert.ok(line.includes(`externalId=${batch[i]!.id}`), line);
    }
  });

  test('format syslog-cef writes each CEF record under its RFC 5424 header, as a collector files it', async () => {
    const path = join(dir, 'siem.log');
    const connector = file.create(file.configSchema.parse({ path, format: 'syslog-cef' }));
    await connector.start(ctx);
    const batch = sampleBatch(4, 61);
    assert.deepEqual(await connector.send(batch, never), { kind: 'ok' });
    const written = lines(path);
    assert.equal(written.length, 4);
    for (const [i, line] of written.entries()) {
      // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] CEF:0|...
      const header = /^<(\d{1,3})>1 (\S+) (\S+) trustwire - (\S+) (\[.*?\]|-) CEF:0\|/.exec(line);
      assert.ok(header, line);
      assert.equal(header[2], new Date(batch[i]!.time).toISOString());
      assert.equal(header[4], batch[i]!.type);
      assert.ok(line.includes(`externalId=${batch[i]!.id}`), line);
    }
  });

  test('the options refuse a mode that is not octal', () => {
    assert.equal(file.configSchema.safeParse({ path: '/tmp/x', mode: '0999' }).success, false);
    assert.equal(file.configSchema.safeParse({ path: '/tmp/x', rotate: { keep: 0 } }).success, false);
  });
});
