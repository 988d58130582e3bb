import { UsageError } from '../errors.js';
import { type BodyContext, toCreateBody } from './body.js';
import type { CreateBody } from '../api/types.js';
import type { ClientOptions } from './client-options.js';
import { Flags, type ParsedArgs, parseArgs } from './parse.js';
import { FLAGS } from './table.js';
import { parseDetachKeys } from '../api/detach-keys.js';

export interface SdockerOptions {
  /** --policy: a level name or a profile file; undefined means the default (restricted). */
  policy?: string;
  profile?: string;
  /** --policy-mode; undefined lets the profile decide (never below the floor's). */
  policyMode?: 'enforce' | 'warn' | 'audit';
  dryRun: boolean;
  output: 'text' | 'json';
  /** -d: how long to watch the started container before returning, in ms (0: not at all). */
  watchMs?: number;
  /** --update-lock: a reference may move to another image than sdocker.lock pins (and the lock follows). */
  updateLock?: boolean;
  /** --disable-content-trust as typed (docker's default is !DOCKER_CONTENT_TRUST). */
  disableContentTrust?: boolean;
}

/** Everything `sdocker run`/`create` was asked for, before policy: the pure core's first product. */
export interface RunRequest extends ClientOptions {
  mode: 'run' | 'create';
  argv: readonly string[];
  help: boolean;
  image: string;
  args: string[];
  body: CreateBody;
  sdocker: SdockerOptions;
  /** Flag name → tokens as typed, for explanations. */
  typed: Map<string, string[]>;
  /** Deprecation notices to print on stderr. */
  notices: string[];
}

function apiAtLeast(have: string, need: string): boolean {
  const [ha = 0, hb = 0] = have.split('.').map(Number);
  const [na = 0, nb = 0] = need.split('.').map(Number);
  return ha > na || (ha === na && hb >= nb);
}

/** Flags docker refuses on this engine (API version, Windows-only) or sdocker refuses outright. */
function checkSupported(parsed: ParsedArgs, apiVersion: string): void {
  for (const spec of FLAGS) {
    if (!parsed.values.has(spec.name)) continue;
    if (spec.refused) throw new UsageError(`--${spec.name} is refused: ${spec.refused}`);
    if (spec.windowsOnly) {
      throw new UsageError(`"--${spec.name}" is only supported on a Docker daemon running on windows, but the Docker daemon is running on linux`);
    }
    if (spec.minApi && !apiAtLeast(apiVersion, spec.minApi)) {
      throw new UsageError(`"--${spec.name}" requires API version ${spec.minApi}, but the Docker daemon API version is ${apiVersion}`);
    }
  }
}

function oneOf<T extends string>(flags: Flags, name: string, allowed: readonly T[], dflt: T): T {
  if (!flags.has(name)) return dflt;
  const v = flags.str(name);
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new UsageError(`invalid --${name} value '${v}': must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
}

/**
 * argv (after `run`/`create`) → RunRequest. Pure: files and the environment come in through ctx.
 * Errors are UsageError (exit 125) naming the flag.
 */
export function buildRunRequest(
  argv: readonly string[],
  mode: 'run' | 'create',
  ctx: BodyContext,
  apiVersion = '1.41',
): RunRequest {
  const parsed = parseArgs(argv, mode);
  const flags = new Flags(parsed);
  const help = flags.bool('help');
  const base = {
    mode,
    argv,
    help,
    typed: parsed.typed,
    notices: parsed.notices,
  };
  if (help) {
    return { ...base, image: '', args: [], body: { HostConfig: {} }, pull: 'missing', quiet: false, detach: false, sigProxy: true, sdocker: { dryRun: false, output: 'text' } };
  }
  if (parsed.image === undefined) throw new UsageError(`"${mode}" requires at least 1 argument.`);
  checkSupported(parsed, apiVersion);
  const pull = flags.has('pull') && flags.str('pull') === '' ? 'missing' : oneOf(flags, 'pull', ['always', 'missing', 'never'] as const, 'missing');
  const sdocker: SdockerOptions = {
    dryRun: flags.bool('dry-run'),
    output: oneOf(flags, 'output', ['text', 'json'] as const, 'text'),
  };
  if (flags.has('policy-mode')) sdocker.policyMode = oneOf(flags, 'policy-mode', ['enforce', 'warn', 'audit'] as const, 'enforce');
  if (flags.has('policy')) sdocker.policy = flags.str('policy');
  if (flags.has('profile')) sdocker.profile = flags.str('profile');
  if (flags.bool('update-lock')) sdocker.updateLock = true;
  if (flags.has('disable-content-trust')) sdocker.disableContentTrust = flags.bool('disable-content-trust', true);
  if (flags.has('watch') || flags.has('no-watch')) sdocker.watchMs = flags.bool('no-watch') ? 0 : Math.max(0, Math.round(flags.num('watch', 3e9) / 1e6));

  const detach = flags.bool('detach');
  const body = toCreateBody(flags, parsed.image, parsed.args, ctx);
  if (detach) {
    if (flags.list('attach').length > 0) throw new UsageError('conflicting options: cannot specify both --attach and --detach');
    body.AttachStdin = false;
    body.AttachStdout = false;
    body.AttachStderr = false;
    body.StdinOnce = false;
  }
  const detachKeys = flags.str('detach-keys');
  if (detachKeys !== '') parseDetachKeys(detachKeys);
  const req: RunRequest = {
    ...base,
    image: parsed.image,
    args: parsed.args,
    body,
    pull,
    quiet: flags.bool('quiet'),
    detach: mode === 'create' || detach,
    sigProxy: flags.bool('sig-proxy', true),
    sdocker,
  };
  if (flags.str('name') !== '') req.name = flags.str('name');
  if (flags.str('platform') !== '') req.platform = flags.str('platform');
  if (detachKeys !== '') req.detachKeys = detachKeys;
  if (flags.str('cidfile') !== '') req.cidfile = flags.str('cidfile');
  return req;
}
