import { UsageError } from '../errors.js';
import type { EndpointOptions } from '../engine/endpoint.js';
import { parsePflag, type PflagSpec } from '../flags/pflag.js';

/** docker's top-level options (before the subcommand), and sdocker's one addition. */
export interface GlobalOptions extends EndpointOptions {
  debug?: boolean;
  logLevel?: string;
  /** `-v/--version`, `-h/--help` given before a command: docker ignores them then, and runs it. */
  version?: boolean;
  help?: boolean;
  /** How many times -H/--host was given (docker refuses more than one). */
  hostCount?: number;
}

export interface SplitArgv {
  globals: GlobalOptions;
  /** The top-level tokens, minus sdocker's own, to hand on to docker in pass-through. */
  dockerGlobals: string[];
  /** What docker's root command gets after its flags: the subcommand and everything after it. */
  rest: string[];
  /** `--` ended the global options. */
  dashed: boolean;
}

/** docker CLI 28's root flags (cli/flags/options.go, cmd/docker/docker.go, cli/cobra.go) and sdocker's own. */
export const GLOBAL_FLAGS: readonly PflagSpec[] = [
  { name: 'config', kind: 'value' },
  { name: 'context', short: 'c', kind: 'value' },
  { name: 'debug', short: 'D', kind: 'bool' },
  { name: 'host', short: 'H', kind: 'value' },
  { name: 'log-level', short: 'l', kind: 'value' },
  { name: 'tls', kind: 'bool' },
  { name: 'tlscacert', kind: 'value' },
  { name: 'tlscert', kind: 'value' },
  { name: 'tlskey', kind: 'value' },
  { name: 'tlsverify', kind: 'bool' },
  { name: 'version', short: 'v', kind: 'bool' },
  { name: 'help', short: 'h', kind: 'bool', shortDeprecated: 'use --help' },
  { name: 'allow-insecure-tcp', kind: 'bool' },
];

type ValuedKey = 'context' | 'configDir' | 'logLevel' | 'tlsCaCert' | 'tlsCert' | 'tlsKey';
type BoolKey = 'debug' | 'tls' | 'tlsVerify' | 'allowInsecureTcp' | 'version' | 'help';

/** docker's option name → the GlobalOptions field it sets. */
const VALUED: Record<string, ValuedKey> = {
  context: 'context',
  config: 'configDir',
  'log-level': 'logLevel',
  tlscacert: 'tlsCaCert',
  tlscert: 'tlsCert',
  tlskey: 'tlsKey',
};
const BOOLS: Record<string, BoolKey> = {
  debug: 'debug',
  tls: 'tls',
  tlsverify: 'tlsVerify',
  'allow-insecure-tcp': 'allowInsecureTcp',
  version: 'version',
  help: 'help',
};

/**
 * Split `sdocker [global options] COMMAND ...` exactly as docker's HandleGlobalFlags does: pflag,
 * non-interspersed, over the root command's flags. A flag docker does not know, a bool that
 * strconv.ParseBool refuses, a missing value: UsageError (exit 125), as docker.
 */
export function splitGlobals(argv: readonly string[]): SplitArgv {
  const parsed = parsePflag(argv, GLOBAL_FLAGS, { interspersed: false });
  const globals: GlobalOptions = {};
  const own = new Set<number>();
  for (const hit of parsed.hits) {
    const name = hit.spec.name;
    if (name === 'allow-insecure-tcp') own.add(hit.at);
    if (name === 'host') {
      globals.host = hit.value;
      globals.hostCount = (globals.hostCount ?? 0) + 1;
    } else if (VALUED[name]) {
      globals[VALUED[name]] = hit.value;
    } else if (BOOLS[name]) {
      globals[BOOLS[name]] = hit.value === 'true';
    }
  }
  const dockerGlobals = argv.slice(0, parsed.end).filter((_, i) => !own.has(i));
  return { globals, dockerGlobals, rest: parsed.args, dashed: parsed.dashAt !== undefined };
}

const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace'];

/**
 * What docker checks after parsing, before it runs a command (so sdocker checks it before running
 * one itself): one -H at most (hostVar), a log level logrus knows.
 */
export function checkGlobals(globals: GlobalOptions): void {
  if ((globals.hostCount ?? 0) > 1) throw new UsageError('specify only one -H');
  if (globals.logLevel !== undefined && globals.logLevel !== '' && !LOG_LEVELS.includes(globals.logLevel.toLowerCase())) {
    throw new UsageError(`Unable to parse logging level: ${globals.logLevel}`);
  }
}
