/**
 * TTY handling for -t: the container's terminal follows the size of our stdout (first resize
 * retried after start, as docker does, since the process may not be up yet), and stdin is put in
 * raw mode while attached, restored afterwards.
 */
import { createRequire } from 'node:module';
import type { ProcessIO } from '../io/process-io.js';
import type { EngineApi } from '../engine/api.js';

function size(io: ProcessIO): { h: number; w: number } {
  return { h: io.stdout.rows ?? 0, w: io.stdout.columns ?? 0 };
}

async function resizeOnce(api: EngineApi, io: ProcessIO, id: string): Promise<void> {
  const { h, w } = size(io);
  if (h === 0 && w === 0) return;
  await api.containers.resize(id, h, w);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Size the container's TTY now (retrying up to 10 times) and on every resize; returns the unsubscribe. */
export function monitorTtySize(api: EngineApi, io: ProcessIO, id: string): () => void {
  let stopped = false;
  void (async () => {
    try {
      await resizeOnce(api, io, id);
      return;
    } catch {
      // retried below
    }
    for (let retry = 0; retry < 10 && !stopped; retry++) {
      await sleep((retry + 1) * 10);
      try {
        await resizeOnce(api, io, id);
        return;
      } catch {
        // next try
      }
    }
    if (!stopped) io.stderr.write('failed to resize tty, using default size\n');
  })();
  const off = io.onResize(() => {
    resizeOnce(api, io, id).catch(() => undefined);
  });
  return () => {
    stopped = true;
    off();
  };
}

/**
 * Put stdin in raw mode if it is a terminal; returns the restore function (idempotent).
 * node's raw mode (libuv) keeps output post-processing (ONLCR) on, so the container's "\r\n"
 * would reach the screen as "\r\r\n"; docker's raw mode turns OPOST off on the output terminal,
 * and so do we (with stty, only for interactive -it sessions), restoring the saved state afterwards.
 */
export function rawStdin(io: ProcessIO): () => void {
  const stdin = io.stdin;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => undefined;
  stdin.setRawMode(true);
  const outFd = (io.stdout as { fd?: unknown }).fd;
  let savedOut: string | undefined;
  // Loaded here, not at the top: node:child_process costs a few ms and only -it sessions need it.
  let spawnSync: typeof import('node:child_process').spawnSync | undefined;
  if (io.stdout.isTTY && typeof outFd === 'number') {
    try {
      spawnSync = (createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')).spawnSync;
      const r = spawnSync('sh', ['-c', 'stty -g && stty -opost'], { stdio: [outFd, 'pipe', 'ignore'], encoding: 'utf8' });
      if (r.status === 0 && r.stdout.trim()) savedOut = r.stdout.trim();
    } catch {
      // no stty: output keeps ONLCR, cosmetic only
    }
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    try {
      stdin.setRawMode?.(false);
    } catch {
      // the terminal is gone
    }
    if (savedOut !== undefined && spawnSync && typeof outFd === 'number') {
      try {
        spawnSync('stty', [savedOut], { stdio: [outFd, 'ignore', 'ignore'] });
      } catch {
        // the terminal is gone
      }
    }
  };
}
