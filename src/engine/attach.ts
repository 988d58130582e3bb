/**
 * The stdin side of an attach (EngineApi.containers.attach, sent before start so no output is
 * missed): the raw connection carries the container's output (framed when it has no TTY) one way
 * and stdin the other; ending our write side (half-close) gives the container EOF on stdin while
 * its output keeps coming.
 */
import type { Duplex, Readable } from 'node:stream';

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

