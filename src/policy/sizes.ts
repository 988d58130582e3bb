/**
 * Sizes in profiles, read as the engine reads the same value on the command line, so a profile
 * and a flag never disagree (`memory: 1p` is what `-m 1p` is): memory and tmpfs sizes with
 * go-units RAMInBytes (binary: 1k = 1024), log sizes with go-units FromHumanSize, as the json-file
 * and local logging drivers read `max-size` (decimal: 1k = 1000). Undefined: not a size.
 */
import { parseHumanSize, parseRamBytes } from '../flags/values/go-numbers.js';

export function ramSize(v: unknown): number | undefined {
  return attempt(v, parseRamBytes);
}

export function logSize(v: unknown): number | undefined {
  return attempt(v, parseHumanSize);
}

function attempt(v: unknown, parse: (s: string) => number): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return parse(String(v));
  } catch {
    return undefined;
  }
}
