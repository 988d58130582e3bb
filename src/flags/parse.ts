import { UsageError } from '../errors.js';
import { type FlagSpec, flagByLong, flagByShort, flagLabel } from './table.js';
import { parseGoBool, parseGoDuration, parseGoInt, parseNanoCpus, parseRamBytes } from './values/go-numbers.js';

export type FlagValue = string | boolean | number | string[];

/** The result of reading docker run/create argv: flags by canonical name, then image and command. */
export interface ParsedArgs {
  values: Map<string, FlagValue>;
  /** argv tokens as the user typed them, per canonical flag name (for explanations). */
  typed: Map<string, string[]>;
  image: string | undefined;
  args: string[];
  /** Deprecation notices docker would print on stderr. */
  notices: string[];
}

function needsArgument(label: string): UsageError {
  return new UsageError(`flag needs an argument: ${label}`);
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  try {
    switch (spec.kind) {
      case 'bool':
        return parseGoBool(raw);
      case 'int':
        return parseGoInt(raw, 64, false);
      case 'uint16':
        return parseGoInt(raw, 16, true);
      case 'uint64':
        return parseGoInt(raw, 64, true);
      case 'bytes':
        return parseRamBytes(raw);
      case 'memswap':
        return raw === '-1' ? -1 : parseRamBytes(raw);
      case 'duration':
        return parseGoDuration(raw);
      case 'decimal':
        return parseNanoCpus(raw);
      default:
        return raw;
    }
  } catch (err) {
    throw new UsageError(`invalid argument ${JSON.stringify(raw)} for "${flagLabel(spec)}" flag: ${(err as Error).message}`);
  }
}

function store(out: ParsedArgs, spec: FlagSpec, raw: string, token: string): void {
  const value = convert(spec, raw);
  if (spec.kind === 'list') {
    const prev = out.values.get(spec.name);
    out.values.set(spec.name, Array.isArray(prev) ? [...prev, raw] : [raw]);
  } else {
    out.values.set(spec.name, value);
  }
  const typed = out.typed.get(spec.name);
  if (typed) typed.push(token);
  else out.typed.set(spec.name, [token]);
  if (spec.deprecated && !out.notices.some((n) => n.includes(`--${spec.name} `))) {
    out.notices.push(`Flag --${spec.name} has been deprecated, ${spec.deprecated}`);
  }
}

/**
 * Parse `docker run`/`docker create` arguments with pflag's rules, non-interspersed:
 * `--flag=value`, `--flag value`, `-abc` bundles of booleans, `-p8080:80` and `-e=X` values
 * glued to a shorthand, `--` ending the flags, and the first positional (the image) ending them too.
 */
export function parseArgs(argv: readonly string[], mode: 'run' | 'create'): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), typed: new Map(), image: undefined, args: [], notices: [] };
  const known = (spec: FlagSpec | undefined): spec is FlagSpec => !!spec && !(mode === 'create' && spec.runOnly);
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      if (body.startsWith('-') || body.startsWith('=')) throw new UsageError(`bad flag syntax: ${arg}`);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const spec = flagByLong(name);
      if (!known(spec)) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) {
        store(out, spec, body.slice(eq + 1), arg);
      } else if (spec.kind === 'bool') {
        store(out, spec, 'true', arg);
      } else {
        if (i + 1 >= argv.length) throw needsArgument(`--${name}`);
        i++;
        store(out, spec, argv[i] as string, `${arg} ${argv[i]}`);
      }
      i++;
      continue;
    }
    // shorthand cluster
    let letters = arg.slice(1);
    while (letters.length > 0) {
      const letter = letters[0] as string;
      const spec = flagByShort(letter);
      if (!known(spec)) throw new UsageError(`unknown shorthand flag: '${letter}' in -${letters}`);
      if (letters.length > 2 && letters[1] === '=') {
        store(out, spec, letters.slice(2), arg);
        letters = '';
      } else if (spec.kind === 'bool') {
        store(out, spec, 'true', `-${letter}`);
        letters = letters.slice(1);
      } else if (letters.length > 1) {
        store(out, spec, letters.slice(1), arg);
        letters = '';
      } else {
        if (i + 1 >= argv.length) throw needsArgument(`'${letter}' in -${letter}`);
        i++;
        store(out, spec, argv[i] as string, `-${letter} ${argv[i]}`);
        letters = '';
      }
    }
    i++;
  }
  out.image = argv[i];
  out.args = argv.slice(i + 1) as string[];
  return out;
}

/** Typed accessors over ParsedArgs, with docker's defaults for flags not given. */
export class Flags {
  constructor(readonly parsed: ParsedArgs) {}
  has(name: string): boolean {
    return this.parsed.values.has(name);
  }
  list(name: string): string[] {
    const v = this.parsed.values.get(name);
    return Array.isArray(v) ? v : [];
  }
  str(name: string): string {
    const v = this.parsed.values.get(name);
    return typeof v === 'string' ? v : '';
  }
  bool(name: string, dflt = false): boolean {
    const v = this.parsed.values.get(name);
    return typeof v === 'boolean' ? v : dflt;
  }
  num(name: string, dflt = 0): number {
    const v = this.parsed.values.get(name);
    return typeof v === 'number' ? v : dflt;
  }
}
