/**
 * Which command an sdocker command line is, decided the way docker CLI 28 decides it (pure):
 * - the global options are parsed by pflag's rules (globals.ts), then the first word is the
 *   command; cobra matches command names exactly (no case folding, no prefixes), and the
 *   `container`, `image` and `builder` groups take only `-h/--help` before their subcommand
 *   (docker then runs the subcommand and ignores the help flag); the buildx plugin's `build` (and
 *   its alias `b`) is judged as docker's build;
 * - run/create in any spelling go to sdocker's policy; exec, update, build, start, restart and volume create are judged, then
 *   handed to docker; sdocker's own commands are its own; everything else is handed to docker;
 * - what sdocker cannot read as docker would (an unknown or malformed global option, a flag right
 *   after `--`, `--` inside a group) is refused (UsageError, exit 125), never handed to docker:
 *   docker's cobra would read such a line with other rules than pflag's.
 */
import { UsageError } from '../errors.js';
import { parsePflag, type PflagSpec } from '../flags/pflag.js';
import { checkGlobals, type GlobalOptions, splitGlobals } from './globals.js';

export type GuardedCommand = 'exec' | 'update' | 'build' | 'start' | 'restart' | 'volume-create';
export type OwnCommand = 'seccomp' | 'init' | 'audit-log' | 'learn' | 'scan' | 'image-harden' | 'audit' | 'serve' | 'daemon-config' | 'logs-export';

export type Route =
  /** sdocker's run/create pipeline, with the arguments after the command word. */
  | { kind: 'run'; command: 'run' | 'create'; args: string[] }
  /** Judged by sdocker, then handed to docker unchanged (`passArgv`). */
  | { kind: 'guard'; command: GuardedCommand; args: string[] }
  | { kind: 'sdocker'; command: OwnCommand; args: string[] }
  /** sdocker's own usage text. */
  | { kind: 'help' }
  /** Handed to docker unchanged (`passArgv`). */
  | { kind: 'pass' };

export interface Dispatch {
  route: Route;
  globals: GlobalOptions;
  /** argv for the real docker CLI: the user's, minus sdocker's own global option. */
  passArgv: string[];
}

/** The persistent `-h/--help` every docker subcommand inherits from the root. */
const GROUP_FLAGS: readonly PflagSpec[] = [{ name: 'help', short: 'h', kind: 'bool', shortDeprecated: 'use --help' }];

/** buildx's root flags (the CLI plugin, when installed): `docker buildx --builder B build`. */
const BUILDX_FLAGS: readonly PflagSpec[] = [...GROUP_FLAGS, { name: 'builder', kind: 'value' }, { name: 'debug', short: 'D', kind: 'bool' }];

/** docker's groups whose subcommands sdocker polices, which ones, and the flags the group takes. */
const GROUPS: Record<string, { subs: Record<string, 'run' | 'create' | GuardedCommand>; flags: readonly PflagSpec[] }> = {
  container: { subs: { run: 'run', create: 'create', exec: 'exec', update: 'update', start: 'start', restart: 'restart' }, flags: GROUP_FLAGS },
  volume: { subs: { create: 'volume-create' }, flags: GROUP_FLAGS },
  image: { subs: { build: 'build' }, flags: GROUP_FLAGS },
  // With buildx installed, docker forwards `builder ...` to `buildx ...` (cmd/docker/builder.go).
  builder: { subs: { build: 'build', b: 'build' }, flags: BUILDX_FLAGS },
  buildx: { subs: { build: 'build', b: 'build' }, flags: BUILDX_FLAGS },
};
const TOP: Record<string, 'run' | 'create' | GuardedCommand> = { run: 'run', create: 'create', exec: 'exec', update: 'update', build: 'build', start: 'start', restart: 'restart' };
const OWN: Record<string, OwnCommand> = { seccomp: 'seccomp', init: 'init', 'audit-log': 'audit-log', learn: 'learn', scan: 'scan', audit: 'audit', serve: 'serve', 'daemon-config': 'daemon-config' };

function routeTo(command: 'run' | 'create' | GuardedCommand, args: string[]): Route {
  return command === 'run' || command === 'create' ? { kind: 'run', command, args } : { kind: 'guard', command, args };
}

function isFlag(token: string): boolean {
  return token.length > 1 && token.startsWith('-');
}

/** Decide what to do with `sdocker ARGV`; throws UsageError (exit 125) when it cannot tell. */
export function dispatch(argv: readonly string[]): Dispatch {
  const { globals, dockerGlobals, rest } = splitGlobals(argv);
  const passArgv = [...dockerGlobals, ...rest];
  const done = (route: Route): Dispatch => {
    if (route.kind !== 'pass' && route.kind !== 'help') checkGlobals(globals);
    return { route, globals, passArgv };
  };
  const word = rest[0];
  if (word === undefined) return done(argv.length === 0 ? { kind: 'help' } : { kind: 'pass' });
  if (isFlag(word)) {
    // Only after `--`: docker's cobra reads these again with its own look-ahead (`-- -D run` runs).
    throw new UsageError(`sdocker cannot tell which command this is: "${word}" follows "--"; put docker's global options before the command, without "--"`);
  }
  if (word === 'help') return done({ kind: 'help' });
  const own = OWN[word];
  if (own) return done({ kind: 'sdocker', command: own, args: rest.slice(1) });
  // `logs export` is sdocker's; every other `logs ...` line is docker's, unchanged.
  if (word === 'logs' && rest[1] === 'export') return done({ kind: 'sdocker', command: 'logs-export', args: rest.slice(2) });
  const top = TOP[word];
  if (top) return done(routeTo(top, rest.slice(1)));
  const group = GROUPS[word];
  if (!group) return done({ kind: 'pass' });
  const sub = parsePflag(rest.slice(1), group.flags, { interspersed: false });
  if (sub.dashAt !== undefined) {
    throw new UsageError(`sdocker cannot tell which command this is: "--" after "${word}"; remove it`);
  }
  const subWord = sub.args[0];
  // `image harden` is sdocker's own; every other `image ...` goes to docker as before.
  if (word === 'image' && subWord === 'harden') return done({ kind: 'sdocker', command: 'image-harden', args: sub.args.slice(1) });
  const policed = subWord === undefined ? undefined : group.subs[subWord];
  if (!policed) return done({ kind: 'pass' });
  return done(routeTo(policed, sub.args.slice(1)));
}
