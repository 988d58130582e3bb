import { UsageError } from '../errors.js';
import type { EndpointOptions } from '../engine/endpoint.js';

/** docker's top-level options (before the subcommand), and sdocker's one addition. */
export interface GlobalOptions extends EndpointOptions {
  debug?: boolean;
  logLevel?: string;
}

export interface SplitArgv {
  globals: GlobalOptions;
  /** The top-level tokens, minus sdocker's own, to hand on to docker in pass-through. */
  dockerGlobals: string[];
  /** The subcommand and everything after it. */
  rest: string[];
}

type ValuedKey = 'host' | 'context' | 'configDir' | 'logLevel' | 'tlsCaCert' | 'tlsCert' | 'tlsKey';
type BoolKey = 'debug' | 'tls' | 'tlsVerify' | 'allowInsecureTcp';

/** docker's option name → the GlobalOptions field it sets. */
const VALUED: Record<string, ValuedKey> = {
  host: 'host',
  context: 'context',
  config: 'configDir',
  'log-level': 'logLevel',
  tlscacert: 'tlsCaCert',
  tlscert: 'tlsCert',
  tlskey: 'tlsKey',
};
const SHORT_VALUED: Record<string, string> = { H: 'host', c: 'context', l: 'log-level' };
const BOOLS: Record<string, BoolKey> = {
  debug: 'debug',
  tls: 'tls',
  tlsverify: 'tlsVerify',
  'allow-insecure-tcp': 'allowInsecureTcp',
};

/**
 * Split `sdocker [global options] COMMAND ...`. Unknown top-level flags (`--version`, `--help`)
 * end the globals: they belong to docker, which gets them in pass-through.
 */
export function splitGlobals(argv: readonly string[]): SplitArgv {
  const globals: GlobalOptions = {};
  const dockerGlobals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') break;
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      const letter = arg[1] as string;
      if (letter === 'D' && arg.length === 2) name = 'debug';
      else if (SHORT_VALUED[letter]) {
        name = SHORT_VALUED[letter] as string;
        if (arg.length > 2) inline = arg[2] === '=' ? arg.slice(3) : arg.slice(2);
      } else break;
    }
    const valued = VALUED[name];
    const bool = BOOLS[name];
    if (valued) {
      let value = inline;
      let consumed = 1;
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        value = argv[i + 1] as string;
        consumed = 2;
      }
      globals[valued] = value;
      dockerGlobals.push(...argv.slice(i, i + consumed));
      i += consumed;
    } else if (bool) {
      const v = inline === undefined ? true : !['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(inline);
      globals[bool] = v;
      if (name !== 'allow-insecure-tcp') dockerGlobals.push(arg);
      i++;
    } else break;
  }
  return { globals, dockerGlobals, rest: argv.slice(i) as string[] };
}
