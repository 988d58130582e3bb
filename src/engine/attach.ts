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
