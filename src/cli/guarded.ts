/**
 * Commands sdocker otherwise hands to docker unchanged, judged first: `volume create` (driver
 * options, src/cli/volume-create.ts) and `start` / `container start` (binds rechecked,
 * src/cli/start.ts). A refusal throws; returning means: pass the command through unchanged.
 */
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from './io.js';

export async function guardPassThrough(cmd: string, args: readonly string[], globals: GlobalOptions, io: ProcessIO): Promise<void> {
  const [sub, ...rest] = args;
  if (cmd === 'volume' && sub === 'create') await (await import('./volume-create.js')).judgeVolumeCreate(rest, globals, io);
  else if (cmd === 'start') await (await import('./start.js')).checkStart(args, globals, io);
  else if (cmd === 'container' && sub === 'start') await (await import('./start.js')).checkStart(rest, globals, io);
}
