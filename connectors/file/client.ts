import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { abortable, abortReason, SendError, type SendResult } from '../../src/runtime/contract.js';

export interface AppendTarget {
  path: string;
  /** 0: never rotate. */
  maxBytes: number;
  keep: number;
  mode: number;
}

/**
 * Appends batches to one file, one at a time, each fsynced before it counts as delivered.
 * The file is opened per batch, so an outside logrotate that moves it away is simply followed.
 */
export class FileAppender {
  readonly #target: AppendTarget;
  /** The append in progress; the next one waits for it (batches of several partitions must not interleave). */
  #tail: Promise<unknown> = Promise.resolve();
  /** The file's size after this appender's last write: a file still that size ends with our newline. */
  #cleanEnd: number | undefined;

  constructor(target: AppendTarget) {
    this.#target = target;
  }

  /** Creates the folder and proves the file can be opened for appending. */
  async check(): Promise<void> {
    const { path, mode } = this.#target;
    try {
      await mkdir(dirname(path), { recursive: true });
      await (await open(path, 'a', mode)).close();
    } catch (error) {
      throw new Error(`cannot append to ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }

  /**
   * Appends one encoded batch. Any I/O error answers retry (a full disk, a lost mount: a later
   * attempt may work). On abort it answers retry at once; a write already under way finishes
   * in the background and the batch is written again: at least once.
   */
  append(bytes: Buffer, signal: AbortSignal): Promise<SendResult> {
    const previous = this.#tail;
    const work = previous.then(() => (signal.aborted ? undefined : this.#write(bytes)));
    this.#tail = work.catch(() => {});
    const done: Promise<SendResult> = work.then(
      () => (signal.aborted ? aborted(this.#target.path, signal) : { kind: 'ok' as const }),
      (error: NodeJS.ErrnoException) => ({
        kind: 'retry' as const,
        error: new SendError(`appending to ${this.#target.path} failed: ${error.code ?? error.message}`, true, { cause: error }),
      }),
    );
    return abortable(done, signal).catch(() => aborted(this.#target.path, signal));
  }

  /** Waits for the append in progress, at most `ms`. */
  async settle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#tail, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  async #write(bytes: Buffer): Promise<void> {
    const { path, maxBytes, mode } = this.#target;
    let handle = await open(path, 'a', mode);
    try {
      let { size } = await handle.stat();
      if (maxBytes > 0 && size > 0 && size + bytes.length > maxBytes) {
        await handle.close();
        await this.#rotate();
        handle = await open(path, 'a', mode);
        size = 0;
      }
      // A crash mid-write leaves a torn last line: start on a line of our own.
      const torn = size > 0 && size !== this.#cleanEnd && !(await endsWithNewline(path, size));
      await handle.writeFile(torn ? Buffer.concat([Buffer.from('\n'), bytes]) : bytes);
      await handle.sync();
      this.#cleanEnd = size + bytes.length + (torn ? 1 : 0);
    } finally {
      await handle.close();
    }
  }

  /** `<path>.<keep>` is dropped, every `<path>.<i>` becomes `.<i+1>`, and `<path>` becomes `.1`. */
  async #rotate(): Promise<void> {
    const { path, keep } = this.#target;
    await rm(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    await rename(path, `${path}.1`);
    // The renames are durable only once the folder is.
    const folder = await open(dirname(path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
}

async function endsWithNewline(path: string, size: number): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const last = Buffer.alloc(1);
    const { bytesRead } = await handle.read(last, 0, 1, size - 1);
    return bytesRead === 1 && last[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

function aborted(path: string, signal: AbortSignal): SendResult {
  return { kind: 'retry', error: new SendError(`appending to ${path} gave up: ${abortReason(signal)}`, true) };
}
