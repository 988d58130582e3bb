/**
 * `sdocker learn` command line (pure): its own flags before the image, the run flags (docker's,
 * read with the run flag table so a flag's value is never taken for the image) and the image with
 * its arguments.
 */
import { UsageError } from '../errors.js';
import { flagByLong, flagByShort } from '../flags/table.js';
import { parseGoDuration } from '../flags/values/go-numbers.js';

export interface LearnArgs {
  probe?: string;
  durationMs: number;
  /** undefined: the default (on when running as root). */
  seccomp?: boolean;
  /** The directory sdocker.yaml (and seccomp/) are written to. */
  outDir?: string;
  help: boolean;
  /** docker run flags, image and arguments, as given. */
  runArgs: string[];
}

export const DEFAULT_DURATION_MS = 20_000;

/** The run flags learn decides itself: the profile it writes, detaching, removal. */
const REFUSED = new Set(['policy', 'profile', 'rm', 'detach', 'd', 'interactive', 'i', 'tty', 't', 'name', 'cidfile', 'watch', 'no-watch', 'dry-run', 'security-opt']);

export function parseLearnArgs(argv: readonly string[]): LearnArgs {
  const out: LearnArgs = { durationMs: DEFAULT_DURATION_MS, help: false, runArgs: [] };
  let i = 0;
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`sdocker learn: flag needs an argument: ${flag}`);
    return v;
  };
  const inline = (a: string, name: string): string | undefined => (a.startsWith(`--${name}=`) ? a.slice(name.length + 3) : undefined);
  const refuse = (name: string) => {
    if (REFUSED.has(name)) throw new UsageError(`sdocker learn: ${name.length === 1 ? '-' : '--'}${name} is not supported: learn runs the workload detached, under the profile it writes, and removes it`);
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--probe') out.probe = value(a);
    else if (inline(a, 'probe') !== undefined) out.probe = inline(a, 'probe');
    else if (a === '--duration' || inline(a, 'duration') !== undefined) {
      const v = inline(a, 'duration') ?? value(a);
      let ns: number;
      try {
        ns = parseGoDuration(v);
      } catch (err) {
        throw new UsageError(`sdocker learn: --duration: ${(err as Error).message}`);
      }
      if (!(ns > 0)) throw new UsageError('sdocker learn: --duration must be above 0');
      out.durationMs = Math.round(ns / 1e6);
    } else if (a === '--seccomp') out.seccomp = true;
    else if (a === '--no-seccomp') out.seccomp = false;
    else if (a === '-o' || a === '--output-dir') out.outDir = value(a);
    else if (inline(a, 'output-dir') !== undefined) out.outDir = inline(a, 'output-dir');
    else if (a === '-h' || a === '--help') out.help = true;
    else if (a === '--' || !a.startsWith('-') || a === '-') break;
    else if (a.startsWith('--')) {
      const name = a.slice(2).split('=')[0]!;
      refuse(name);
      const spec = flagByLong(name);
      if (!spec) throw new UsageError(`sdocker learn: unknown flag: ${a}`);
      out.runArgs.push(a);
      if (spec.kind !== 'bool' && !a.includes('=')) out.runArgs.push(value(a));
    } else {
      const letters = a.slice(1);
      out.runArgs.push(a);
      for (let k = 0; k < letters.length; k++) {
        refuse(letters[k]!);
        const spec = flagByShort(letters[k]!);
        if (!spec) throw new UsageError(`sdocker learn: unknown shorthand flag: '${letters[k]}' in ${a}`);
        if (spec.kind === 'bool') continue;
        if (k === letters.length - 1) out.runArgs.push(value(a));
        break;
      }
    }
  }
  if (argv[i] === '--') i++;
  const rest = argv.slice(i);
  if (!out.help && rest.length === 0) throw new UsageError('sdocker learn: an IMAGE is required (sdocker learn --help)');
  out.runArgs.push(...rest);
  return out;
}

/** The image's short name for file names and reasons: `registry:5000/lib/nginx:1.25@sha256:..` → nginx. */
export function imageShortName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.split('/').pop()!;
  const name = last.split(':')[0]!.replace(/[^A-Za-z0-9_.-]/g, '-');
  return name || 'image';
}
