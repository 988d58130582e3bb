/**
 * `sdocker start` / `sdocker container start`: the binds of each container (sdocker's bind volumes
 * by their io.sdocker.bind label, and plain binds) are checked again before docker starts it: the
 * source must still be the real path decided at create (a directory swapped for a symlink would
 * mount the symlink's target). A plain `docker start` is outside sdocker's reach.
 */
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { EngineError, UsageError } from '../errors.js';
import { bindRefusal, recheckContainer } from './bind-guard.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from './io.js';

const BOOL = new Set(['--attach', '--interactive', '--help', '-a', '-i', '-h']);
const VALUE = new Set(['--detach-keys', '--checkpoint', '--checkpoint-dir']);

/** The containers `docker start` would start (docker CLI 28's options); undefined for --help. */
export function startTargets(args: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
      if (VALUE.has(flag)) {
        if (!a.includes('=')) i++;
      } else if (!BOOL.has(flag)) throw new UsageError(`start: sdocker does not know the option ${flag} (not handed to docker)`);
      if (flag === '--help') help = true;
      continue;
    }
    // Bundled shorthands: -ai.
    for (const ch of a.slice(1)) {
      if (!BOOL.has(`-${ch}`)) throw new UsageError(`start: sdocker does not know the option -${ch} (not handed to docker)`);
      if (ch === 'h') help = true;
    }
  }
  return help ? undefined : out;
}

/** Throws (exit 125, SD-MNT-007) when a container's bind no longer holds; returns when docker may start them. */
export async function checkStart(args: readonly string[], globals: GlobalOptions, io: ProcessIO): Promise<void> {
  const refs = startTargets(args);
  if (!refs?.length) return;
  const client = new EngineClient(resolveEndpoint(globals, io.env));
  try {
    for (const ref of refs) {
      let problems: string[];
      try {
        problems = await recheckContainer(client, ref);
      } catch (err) {
        if (err instanceof EngineError && err.statusCode === 404) continue; // docker says so itself
        throw err;
      }
      if (problems.length > 0) throw bindRefusal(problems, `container ${ref} was not started (nothing was started)`);
    }
  } finally {
    client.close();
  }
}
