/**
 * TTY handling for -t: the container's terminal follows the size of our stdout (first resize
 * retried after start, as docker does, since the process may not be up yet), and stdin is put in
 * raw mode while attached, restored afterwards.
 */
import type { ProcessIO } from '../cli/io.js';
import type { EngineClient } from '../engine/client.js';

function size(io: ProcessIO): { h: number; w: number } {
  return { h: io.stdout.rows ?? 0, w: io.stdout.columns ?? 0 };
}

async function resizeOnce(client: EngineClient, io: ProcessIO, id: string): Promise<void> {
  const { h, w } = size(io);
  if (h === 0 && w === 0) return;
  await client.call('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h, w } });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Size the container's TTY now (retrying up to 10 times) and on every resize; returns the unsubscribe. */
export function monitorTtySize(client: EngineClient, io: ProcessIO, id: string): () => void {
  let stopped = false;
  void (async () => {
    try {
      await resizeOnce(client, io, id);
      return;
    } catch {
      // retried below
    }
    for (let retry = 0; retry < 10 && !stopped; retry++) {
      await sleep((retry + 1) * 10);
      try {
        await resizeOnce(client, io, id);
        return;
      } catch {
        // next try
      }
    }
    if (!stopped) io.stderr.write('failed to resize tty, using default size\n');
  })();
  const off = io.onResize(() => {
    resizeOnce(client, io, id).catch(() => undefined);
  });
  return () => {
    stopped = true;
    off();
  };
}

/** Put stdin in raw mode if it is a terminal; returns the restore function (idempotent). */
export function rawStdin(io: ProcessIO): () => void {
  const stdin = io.stdin;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => undefined;
  stdin.setRawMode(true);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    try {
      stdin.setRawMode?.(false);
    } catch {
      // the terminal is gone
    }
  };
}
