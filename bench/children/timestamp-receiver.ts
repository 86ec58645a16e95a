/**
 * A syslog receiver (TCP, octet-counted frames) that notes when each of the bench's events
 * arrived: the event's number is read from the id in its structured data
 * (`[trustwire@32473 id="..."`). It can go down (stop listening, drop its connections) and come
 * back on the same port, for the sink outage.
 */
import { createServer, type Socket } from 'node:net';
import { eventNumber } from '../ids.js';
import { begin, main, now, on, send } from './ipc.js';

const ID = /\[trustwire@32473 id="([^"]+)"/;

main(async () => {
  const { run, stream } = await begin<{ run: string; stream: number }>();
  const arrivals: number[] = [];
  let distinct = 0;
  let duplicates = 0;
  let last = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const at = now();
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      let offset = 0;
      for (;;) {
        const space = buffer.indexOf(0x20, offset);
        if (space < 0) break;
        const length = Number(buffer.toString('latin1', offset, space));
        if (!Number.isInteger(length) || length <= 0) {
          send({ type: 'error', message: `not an octet-counted frame at ${JSON.stringify(buffer.toString('latin1', offset, offset + 40))}` });
          socket.destroy();
          return;
        }
        if (buffer.length < space + 1 + length) break;
        const id = ID.exec(buffer.toString('utf8', space + 1, Math.min(space + 1 + length, space + 1 + 400)))?.[1];
        offset = space + 1 + length;
        const n = id === undefined ? -1 : eventNumber(id, run, stream);
        if (n < 0) continue;
        if (arrivals[n] === undefined) {
          arrivals[n] = at;
          distinct++;
          last = at;
        } else duplicates++;
      }
      buffer = buffer.subarray(offset);
    });
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const { port } = server.address() as { port: number };
  on('down', () => {
    server.close();
    for (const socket of sockets) socket.destroy();
    send({ type: 'down', at: now() });
  });
  on('up', () => void listen(port).then(() => send({ type: 'up', at: now() })));
  on('count', (message) => {
    // Of all events, or of those in the ranges [from, to) of event numbers.
    const { ranges } = message as { ranges?: Array<[number, number]> };
    let count = distinct;
    if (ranges !== undefined) {
      count = 0;
      for (const [from, to] of ranges) for (let n = from; n < to; n++) if (arrivals[n] !== undefined) count++;
    }
    send({ type: 'count', count, duplicates, last });
  });
  on('arrivals', () => send({ type: 'arrivals', arrivals: Array.from(arrivals, (at) => at ?? null), duplicates }));
  send({ type: 'ready', port });
  return async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
});
