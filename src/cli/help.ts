import { FLAGS, type FlagGroup } from '../flags/table.js';
import { loadModule } from '../load-module.js';

const GROUP_TITLES: Record<FlagGroup, string> = {
  general: 'General:',
  security: 'Security:',
  network: 'Network:',
  storage: 'Storage and logging:',
  health: 'Health checks:',
  resources: 'Resources:',
  runtime: 'Runtime:',
  client: 'Client:',
  sdocker: 'sdocker (policy):',
};

/** `sdocker run --help`: the flag table rendered by yargs (loaded only when help is asked for). */
export async function runHelp(mode: 'run' | 'create'): Promise<string> {
  const { default: yargs } = await loadModule<typeof import('yargs')>('yargs');
  let y = yargs([])
    .scriptName('sdocker')
    .usage(`Usage:  sdocker ${mode} [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n${mode === 'run' ? 'Create and run a new container from an image' : 'Create a new container'}, hardened by the policy in force (default: restricted).`)
    .help(false)
    .version(false)
    .wrap(110);
  for (const f of FLAGS) {
    if (mode === 'create' && f.runOnly) continue;
    const opt: Record<string, unknown> = {
      describe: f.help + (f.deprecated ? ' (deprecated)' : '') + (f.refused ? ' (refused by sdocker)' : ''),
      group: GROUP_TITLES[f.group],
      type: f.kind === 'bool' ? 'boolean' : f.kind === 'list' ? 'array' : 'string',
    };
    if (f.short) opt.alias = f.short;
    if (f.defaultValue !== undefined) opt.default = f.defaultValue;
    y = y.option(f.name, opt);
  }
  return y.getHelp();
}

export const MAIN_HELP = `Usage:  sdocker [OPTIONS] COMMAND

sdocker is docker with hardened defaults: 'run' and 'create' take every docker flag and apply
the policy in force; 'exec', 'update' and 'build' are judged by it, then handed to the docker
CLI unchanged, as is every other command.

Commands of sdocker's own:
  run          Create and run a new container, hardened
  create       Create a new container, hardened
  seccomp      check | stats | record: seccomp profiles
  init         Write a starter sdocker.yaml profile
  learn        Run an image until it works hardened; write the profile that makes it work
  audit        Check the daemon, the host and the containers (findings with fixes; json, sarif)
  audit-log    verify: check the run record's hash chain
  scan         Report an image's setuid/setgid files, file capabilities, root USER ... (table, json, sarif)
  image harden Write a copy of an image without setuid/setgid bits (and file capabilities)
  serve        The door: an Engine API socket whose every request is judged (docs/serve.md)

Global options (as docker's): -H/--host, -c/--context, --config, --tls, --tlsverify,
--tlscacert, --tlscert, --tlskey, -D/--debug, -l/--log-level; and sdocker's own
--allow-insecure-tcp to accept a tcp:// endpoint without TLS (it gives root on the host to
anyone who can reach the port: guideline 2).

Run 'sdocker run --help' for the run flags; 'docker --help' for everything else.
`;
