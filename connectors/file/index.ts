import { resolve } from 'node:path';
import { defineConnector, type SinkConnector } from '../../src/runtime/contract.js';
import { FileAppender } from './client.js';
import { FileOptions } from './config.js';
import { encodeLines } from './encode.js';

/** How long stop() waits for an append in progress (a hung mount must not hold the shutdown). */
const STOP_WAIT_MS = 5000;

export default defineConnector({
  type: 'file',
  summary: 'appends events as JSON or CEF lines to a file, fsynced per batch, rotated by size',
  configSchema: FileOptions,
  create: (options): SinkConnector => {
    const path = resolve(options.path);
    const appender = new FileAppender({ path, maxBytes: options.rotate.maxBytes, keep: options.rotate.keep, mode: Number.parseInt(options.mode, 8) });
    return {
      async start(ctx) {
        await appender.check();
        ctx.logger.info({ path, format: options.format, rotate: options.rotate }, 'file sink ready');
      },
      send: (batch, signal) => appender.append(encodeLines(batch, options.format), signal),
      stop: () => appender.settle(STOP_WAIT_MS),
    };
  },
});
