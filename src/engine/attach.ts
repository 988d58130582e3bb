/**
 * Hijacked attach: POST /containers/{id}/attach?stream=1&... with `Connection: Upgrade`, sent
 * before start so no output is missed. The raw connection carries the container's output (framed
 * when it has no TTY) one way and stdin the other; ending our write side (half-close) gives the
 * container EOF on stdin while its output keeps coming.
 */
import type { Duplex, Readable } from 'node:stream';
import type { EngineClient } from './client.js';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

export interface Attached {
  socket: Duplex;
  /** True when the stream is framed (no TTY); the caller knows it from the create body too. */
  contentType: string | undefined;
}

export async function attachContainer(client: EngineClient, id: string, opts: AttachOptions): Promise<Attached> {
  const { socket, contentType } = await client.hijack('POST', `/containers/${encodeURIComponent(id)}/attach`, {
    query: {
      stream: 1,
      stdin: opts.stdin ? 1 : 0,
      stdout: opts.stdout ? 1 : 0,
      stderr: opts.stderr ? 1 : 0,
      detachKeys: opts.detachKeys || undefined,
    },
  });
  return { socket, contentType };
}

/**
 * Forward `input` into the attach connection with back-pressure; half-close the connection when
 * input ends. `onData` sees every chunk forwarded (for detach-key tracking). Returns a function that
 * stops forwarding (without closing anything).
 */
export function forwardStdin(input: Readable, socket: Duplex, onData?: (chunk: Buffer) => void): () => void {
  let stopped = false;
  const onChunk = (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    onData?.(buf);
    if (socket.destroyed || socket.writableEnded) return;
    if (!socket.write(buf)) {
      input.pause();
      socket.once('drain', () => {
        if (!stopped) input.resume();
      });
    }
  };
  const onEnd = () => {
    stop();
    if (!socket.destroyed && !socket.writableEnded) socket.end();
  };
  const onError = () => onEnd();
  function stop() {
    if (stopped) return;
    stopped = true;
    input.off('data', onChunk);
    input.off('end', onEnd);
    input.off('error', onError);
    input.pause();
  }
  input.on('data', onChunk);
  input.on('end', onEnd);
  input.on('error', onError);
  socket.on('error', () => stop());
  input.resume();
  return stop;
}

/**
 * Tracks whether the detach key sequence passed through stdin (the daemon ends the attach stream on
 * it and leaves the container running). Keys in docker's syntax: "ctrl-p,ctrl-q", "a", "ctrl-@".
 */
export class DetachKeyMatcher {
  private readonly seq: number[];
  private pos = 0;
  matched = false;

  constructor(keys: string | undefined) {
    this.seq = parseDetachKeys(keys || 'ctrl-p,ctrl-q');
  }

  feed(chunk: Buffer): void {
    if (this.matched || this.seq.length === 0) return;
    for (const b of chunk) {
      if (b === this.seq[this.pos]) {
        if (++this.pos === this.seq.length) {
          this.matched = true;
          return;
        }
      } else {
        this.pos = b === this.seq[0] ? 1 : 0;
      }
    }
  }
}

/** docker's term.ToBytes: comma-separated keys, each a single character or ctrl-<char>. */
export function parseDetachKeys(keys: string): number[] {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    const k = key.trim();
    if (k.length > 1 && k.toLowerCase().startsWith('ctrl-')) {
      const c = k.slice(5).toLowerCase();
      if (c.length !== 1) throw new Error(`invalid detach keys (${keys}): unknown character: '${k}'`);
      const code = c.charCodeAt(0);
      if (code >= 97 && code <= 122) out.push(code - 97 + 1);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new Error(`invalid detach keys (${keys}): unknown character: '${k}'`);
    } else if (k.length === 1) {
      out.push(k.charCodeAt(0));
    } else {
      throw new Error(`invalid detach keys (${keys}): unknown character: '${k}'`);
    }
  }
  return out;
}
