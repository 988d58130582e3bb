/**
 * Which pass-through commands reach the engine through a door (issue 12, part 5), and how: the
 * real docker CLI runs with DOCKER_HOST naming the door — a running `sdocker serve` named by
 * SDOCKER_HOST, else a private door started for this one command (src/door/private.ts). The
 * commands are those that can create or change a container, a volume, a network, a plugin or a
 * service (their API requests are judged by the door's routes); the read-only ones (`ps`, `logs`,
 * `images`, `volume ls`, `network inspect`...) go to docker directly: a private door costs the
 * policy's loading and a socket on every command (about 0.3-0.5 s measured on a loaded 2-core
 * machine), and they send nothing the door would judge.
 *
 * The endpoint options (-H, --context, --tls*) are the door's to use, not docker's: docker gets
 * DOCKER_HOST and no endpoint option, context or TLS variable, so it cannot go around the door.
 */
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from './io.js';

/** docker's commands (first word) that can weaken, and those that are groups of such commands. */
export const DOOR_COMMANDS: ReadonlySet<string> = new Set([
  'exec', 'update', 'build', 'builder', 'buildx', 'start', 'restart', 'container', 'image', 'volume', 'network', 'compose',
  'service', 'stack', 'swarm', 'node', 'plugin', 'secret', 'config', 'cp', 'commit', 'import', 'load',
]);

/** Groups of commands: a subcommand that only reads, stops or removes goes to docker directly. */
const GROUPS: ReadonlySet<string> = new Set(['builder', 'buildx', 'container', 'image', 'volume', 'network', 'compose', 'service', 'stack', 'swarm', 'node', 'plugin', 'secret', 'config']);
const READ_ONLY_SUBS: ReadonlySet<string> = new Set([
  'ls', 'list', 'inspect', 'ps', 'logs', 'top', 'stats', 'port', 'diff', 'history', 'events', 'df', 'wait', 'kill', 'stop', 'rm', 'rmi',
  'prune', 'pause', 'unpause', 'rename', 'tag', 'push', 'pull', 'save', 'export', 'version', 'images', 'du', 'unlock-key',
]);

/**
 * Whether `docker REST...` goes through the door: a command that can weaken, or a group's
 * subcommand other than the read-only ones. A line it cannot read to the subcommand (a flag
 * first: `volume --help create`) goes through the door: never around it by a guess.
 */
export function goesThroughDoor(rest: readonly string[]): boolean {
  const word = rest[0];
  if (word === undefined || !DOOR_COMMANDS.has(word)) return false;
  if (!GROUPS.has(word)) return true;
  const sub = rest[1];
  return sub === undefined || !READ_ONLY_SUBS.has(sub);
}

/** docker's global options for the command, without the endpoint ones (the door has them). */
export function doorGlobals(g: GlobalOptions): string[] {
  const out: string[] = [];
  if (g.configDir !== undefined) out.push(`--config=${g.configDir}`);
  if (g.debug) out.push('--debug');
  if (g.logLevel !== undefined) out.push(`--log-level=${g.logLevel}`);
  return out;
}

/** The command's environment: DOCKER_HOST is the door; no context or TLS setting can name another engine. */
export function doorEnv(env: Record<string, string | undefined>, host: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env, DOCKER_HOST: host };
  for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete out[k];
  return out;
}

/** Run `docker REST...` through a door; resolves with docker's exit code. */
export async function passThroughDoor(docker: string, rest: string[], globals: GlobalOptions, io: ProcessIO): Promise<number> {
  const { passThrough } = await import('./passthrough.js');
  const argv = [...doorGlobals(globals), ...rest];
  const named = io.env.SDOCKER_HOST;
  if (named) return passThrough(docker, argv, { ...io, env: doorEnv(io.env, named) });
  const [{ loadEffectiveProfile }, { resolveEndpoint }, { startPrivateDoor }] = await Promise.all([
    import('../policy/load-profile.js'), import('../engine/endpoint.js'), import('../door/private.js'),
  ]);
  const profile = await loadEffectiveProfile({ cwd: io.cwd, env: io.env });
  const endpoint = resolveEndpoint(globals, io.env);
  const door = await startPrivateDoor({
    endpoint, profile, env: io.env, cwd: io.cwd, warn: (t) => io.stderr.write(`sdocker: ${t.endsWith('\n') ? t : `${t}\n`}`),
  });
  try {
    return await passThrough(docker, argv, { ...io, env: doorEnv(io.env, door.host) });
  } finally {
    await door.stop();
  }
}
