/**
 * spf13/pflag's command-line syntax (v1.0.x, as vendored in docker CLI 28), for small flag tables:
 * docker's global options, the `container`/`image`/`builder` groups, exec, update and build.
 * Pure. Same tokens, same results, same error texts as pflag:
 * - `--` ends the flags; `-` and any word that does not start with `-` is a positional
 *   (non-interspersed: the first one ends the flags, as for docker's root command and exec);
 * - `--name=value`, `--name value`, `--bool` (true), `--bool=value` (strconv.ParseBool);
 *   `---x`, `--=x` are "bad flag syntax";
 * - shorthand bundles `-abc`: booleans take no value and the bundle goes on; a value-taking
 *   shorthand takes the rest of the bundle (`-lD` is log level "D"), or `=value` (`-D=1`), or the
 *   next argument; `-D=` is D then the unknown shorthand `=`;
 * - the remaining shorthands of a bundle are ignored when they start with `test.` (pflag skips
 *   go test flags: `-test.x` and `-Dtest.x` are accepted and do nothing).
 */
import { UsageError } from '../errors.js';
import { parseGoBool } from './values/go-numbers.js';

export interface PflagSpec {
  name: string;
  short?: string;
  /** `bool` takes no separate value (NoOptDefVal "true"); `value` takes one. */
  kind: 'bool' | 'value';
  /** Docker prints this notice when the shorthand is used (`-h`: "use --help"). */
  shortDeprecated?: string;
}

export interface PflagHit {
  spec: PflagSpec;
  /** The value as given; for a bool, `true`/`false` after strconv.ParseBool. */
  value: string;
  /** The argv token(s) that set it (`-H x` is two). */
  tokens: string[];
  /** Index in argv of the (first) token. */
  at: number;
}

export interface PflagResult {
  hits: PflagHit[];
  /** Positional arguments: for a non-interspersed parse, the first one and everything after. */
  args: string[];
  /** Index in argv just past the flags (non-interspersed) — where `args` starts. */
  end: number;
  /** Whether `--` was seen (and where in `args` the arguments after it start). */
  dashAt?: number;
}

export function flagLabel(spec: PflagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

function setValue(spec: PflagSpec, raw: string): string {
  if (spec.kind !== 'bool') return raw;
  try {
    return String(parseGoBool(raw));
  } catch (err) {
    throw new UsageError(`invalid argument ${JSON.stringify(raw)} for "${flagLabel(spec)}" flag: ${(err as Error).message}`);
  }
}

/** Parse argv against `table` with pflag's rules; throws UsageError with pflag's message. */
export function parsePflag(argv: readonly string[], table: readonly PflagSpec[], opts: { interspersed: boolean }): PflagResult {
  const byLong = new Map(table.map((s) => [s.name, s]));
  const byShort = new Map(table.filter((s) => s.short).map((s) => [s.short as string, s]));
  const out: PflagResult = { hits: [], args: [], end: argv.length };
  let i = 0;
  while (i < argv.length) {
    const s = argv[i] as string;
    if (s.length <= 1 || s[0] !== '-') {
      if (!opts.interspersed) {
        out.end = i;
        out.args.push(...argv.slice(i));
        return out;
      }
      out.args.push(s);
      i++;
      continue;
    }
    if (s[1] === '-') {
      if (s.length === 2) {
        out.dashAt = out.args.length;
        out.end = i + 1;
        out.args.push(...argv.slice(i + 1));
        return out;
      }
      i = parseLong(argv, i, byLong, out);
    } else {
      i = parseShort(argv, i, byShort, out);
    }
  }
  out.end = argv.length;
  return out;
}

function parseLong(argv: readonly string[], i: number, byLong: Map<string, PflagSpec>, out: PflagResult): number {
  const s = argv[i] as string;
  const body = s.slice(2);
  if (body[0] === '-' || body[0] === '=') throw new UsageError(`bad flag syntax: ${s}`);
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  const spec = byLong.get(name);
  if (!spec) throw new UsageError(`unknown flag: --${name}`);
  if (eq >= 0) {
    out.hits.push({ spec, value: setValue(spec, body.slice(eq + 1)), tokens: [s], at: i });
    return i + 1;
  }
  if (spec.kind === 'bool') {
    out.hits.push({ spec, value: 'true', tokens: [s], at: i });
    return i + 1;
  }
  if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${s}`);
  out.hits.push({ spec, value: argv[i + 1] as string, tokens: [s, argv[i + 1] as string], at: i });
  return i + 2;
}

function parseShort(argv: readonly string[], i: number, byShort: Map<string, PflagSpec>, out: PflagResult): number {
  const s = argv[i] as string;
  let next = i + 1;
  let shorthands = s.slice(1);
  while (shorthands.length > 0) {
    if (shorthands.startsWith('test.')) break;
    const c = shorthands[0] as string;
    const spec = byShort.get(c);
    if (!spec) throw new UsageError(`unknown shorthand flag: '${c}' in -${shorthands}`);
    if (shorthands.length > 2 && shorthands[1] === '=') {
      out.hits.push({ spec, value: setValue(spec, shorthands.slice(2)), tokens: [s], at: i });
      shorthands = '';
    } else if (spec.kind === 'bool') {
      out.hits.push({ spec, value: 'true', tokens: [s], at: i });
      shorthands = shorthands.slice(1);
    } else if (shorthands.length > 1) {
      out.hits.push({ spec, value: shorthands.slice(1), tokens: [s], at: i });
      shorthands = '';
    } else if (next < argv.length) {
      out.hits.push({ spec, value: argv[next] as string, tokens: [s, argv[next] as string], at: i });
      next++;
      shorthands = '';
    } else {
      throw new UsageError(`flag needs an argument: '${c}' in -${shorthands}`);
    }
  }
  return next;
}
