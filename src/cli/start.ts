/**
 * `sdocker start` / `restart` (and their `container` spellings): the binds of each container
 * (sdocker's bind volumes by their io.sdocker.bind label, and plain binds) are checked again
 * before docker starts it: the source must still be the real path decided at create (a directory
 * swapped for a symlink would mount the symlink's target). A plain `docker start`/`restart`, and a
 * restart by the engine itself, are outside sdocker's reach (so `run` refuses a restart policy on
 * a container with binds: SD-MNT-008).
 */
import { EngineClient } from '../engine/client.js';
import { httpApi } from '../engine/http-api.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { UsageError } from '../errors.js';
import { bindRefusal, recheckContainer } from '../pipeline/bind-guard.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

/** docker CLI 28's options of start and restart: the ones without a value, and those with one. */
const OPTIONS = {
  start: { bool: new Set(['--attach', '--interactive', '--help', '-a', '-i', '-h']), value: new Set(['--detach-keys', '--checkpoint', '--checkpoint-dir']) },
  restart: { bool: new Set(['--help', '-h']), value: new Set(['--time', '--signal', '-t', '-s']) },
};
export type StartCommand = keyof typeof OPTIONS;

/** The containers `docker start` (or `restart`) would start; undefined for --help. */
export function startTargets(args: readonly string[], command: StartCommand = 'start'): string[] | undefined {
  const { bool: BOOL, value: VALUE } = OPTIONS[command];
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
      } else if (!BOOL.has(flag)) throw new UsageError(`${command}: sdocker does not know the option ${flag} (not handed to docker)`);
      if (flag === '--help') help = true;
      continue;
    }
    // Bundled shorthands: -ai; a shorthand with a value takes the rest of the word, or the next one (-t5, -t 5).
    const letters = a.slice(1);
    for (let k = 0; k < letters.length; k++) {
      const ch = letters[k]!;
      if (VALUE.has(`-${ch}`)) {
        if (k === letters.length - 1) i++;
        break;
      }
      if (!BOOL.has(`-${ch}`)) throw new UsageError(`${command}: sdocker does not know the option -${ch} (not handed to docker)`);
      if (ch === 'h') help = true;
    }
  }
  return help ? undefined : out;
}

/** Throws (exit 125, SD-MNT-007) when a container's bind no longer holds; returns when docker may start them. */
export async function checkStart(args: readonly string[], globals: GlobalOptions, io: ProcessIO, command: StartCommand = 'start'): Promise<void> {
  const refs = startTargets(args, command);
  if (!refs?.length) return;
  const api = httpApi(new EngineClient(resolveEndpoint(globals, io.env)));
  try {
    for (const ref of refs) {
      const problems = await recheckContainer(api, ref);
      if (!problems) continue; // no such container: docker says so itself
      if (problems.length > 0) throw bindRefusal(problems, `container ${ref} was not ${command}ed (nothing was ${command}ed)`);
    }
  } finally {
    api.close();
  }
}
