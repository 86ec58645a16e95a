// Live updates: GET /v1/stream (server-sent events) read with fetch and a stream reader, since
// EventSource cannot send an Authorization header. Reconnects with exponential backoff.

/**
 * Parses the text/event-stream format (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * `push(text)` takes the next chunk of text and returns the messages it completed, each
 * `{ type, data, id }`. Comments (`: ping`) and messages without data are dropped.
 */
export class SseParser {
  #buffer = '';
  #type = '';
  #data = [];
  lastEventId = '';
  /** A `retry:` the server asked for, in ms. */
  retryMs = undefined;

  push(text) {
    this.#buffer += text;
    const messages = [];
    // A CR at the end may be the first half of a CRLF: it waits for the next chunk.
    const complete = this.#buffer.endsWith('\r') ? this.#buffer.length - 1 : this.#buffer.length;
    const lines = this.#buffer.slice(0, complete).split(/\r\n|\r|\n/);
    this.#buffer = lines.pop() + this.#buffer.slice(complete);
    for (const line of lines) {
      const message = this.#line(line);
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }

  #line(line) {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  #dispatch() {
    const type = this.#type || 'message';
    const data = this.#data;
    this.#type = '';
    this.#data = [];
    if (data.length === 0) return undefined;
    return { type, data: data.join('\n'), id: this.lastEventId };
  }
}

/** The wait before reconnect attempt `attempt` (0, 1, ...): 1 s doubling to 30 s, with jitter. */
export function backoffMs(attempt, { baseMs = 1000, maxMs = 30_000 } = {}) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * Follows the stream until `close()`. `onMessage(type, data, id)` gets each message, its data
 * parsed as JSON; `onState(state, detail)` hears `connecting`, `live`, `waiting` (detail: the
 * ms until the next attempt, and why) and `closed`. A 401 or 403 ends the stream and calls
 * `onAuthError(response)`: retrying a refused token would not make it valid.
 */
export function followStream({ url = '/v1/stream', headers, onMessage, onState = () => {}, onAuthError, silenceMs = 45_000 }) {
  let closed = false;
  let controller;
  let timer;
  let attempt = 0;
  let lastEventId = '';

  const wait = (ms, why) => {
    onState('waiting', { ms, why });
    timer = setTimeout(connect, ms);
  };

  async function connect() {
    if (closed) return;
    controller = new AbortController();
    onState('connecting', { attempt });
    // The server pings every 15 s: a longer silence is a dead connection a proxy kept open.
    let watchdog;
    const quiet = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(new Error('no data for a while')), silenceMs);
    };
    let why = 'the stream ended';
    try {
      quiet();
      const response = await fetch(url, {
        headers: { ...headers(), accept: 'text/event-stream', ...(lastEventId !== '' && { 'last-event-id': lastEventId }) },
        cache: 'no-store',
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 403) {
        clearTimeout(watchdog);
        closed = true;
        onState('closed', {});
        onAuthError(response);
        return;
      }
      if (!response.ok || response.body === null) throw new Error(`the stream answered ${response.status}`);
      attempt = 0;
      onState('live', {});
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        quiet();
        for (const message of parser.push(value)) {
          lastEventId = parser.lastEventId;
          let data;
          try {
            data = JSON.parse(message.data);
          } catch {
            continue; // not ours to show
          }
          onMessage(message.type, data, message.id);
        }
      }
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(watchdog);
    }
    if (closed) return;
    wait(backoffMs(attempt), why);
    attempt += 1;
  }

  void connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
      onState('closed', {});
    },
  };
}
