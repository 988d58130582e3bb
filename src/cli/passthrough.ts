import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { SdockerError, UsageError } from '../errors.js';
import type { ProcessIO } from '../io/process-io.js';

/**
 * The real docker CLI: $SDOCKER_DOCKER, else the first `docker` on PATH that is not sdocker
 * itself (an `alias docker=sdocker` or a `docker` symlink to sdocker must not loop).
 */
export function findDocker(env: Record<string, string | undefined>, self: string): string {
  if (env.SDOCKER_DOCKER) return env.SDOCKER_DOCKER;
  let selfReal = self;
  try {
    selfReal = realpathSync(self);
  } catch {
    // keep as given
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'docker');
    try {
      accessSync(candidate, constants.X_OK);
      if (realpathSync(candidate) === selfReal) continue;
      return candidate;
    } catch {
      // not there
    }
  }
  throw new SdockerError('the docker CLI was not found on PATH (set SDOCKER_DOCKER to its path); sdocker hands every command but run and create to it', 127);
}

/**
 * docker runs the CLI plugins of its config directory (`DIR/cli-plugins/docker-NAME`) as the
 * user: a `--config DIR` on the command line (a deploy script's, a project's) must not be a way
 * to run the project's code. The user's own DOCKER_CONFIG (environment) is trusted and not judged.
 */
export function refuseConfigPlugins(configDir: string, cwd: string): void {
  const plugins = join(resolve(cwd, configDir), 'cli-plugins');
  if (existsSync(plugins)) {
    throw new UsageError(`--config ${configDir}: ${plugins} holds docker CLI plugins, which docker would run as you; sdocker does not hand docker a command-line config directory with plugins (set DOCKER_CONFIG in your own environment if you trust it)`);
  }
}

const FORWARD: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
const SIGNUM: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13, SIGTERM: 15 };

/** Hand the command to docker unchanged, with our stdio; resolve with its exit code. */
export function passThrough(docker: string, args: string[], io: ProcessIO): Promise<number> {
  return new Promise((resolve, reject) => {
    const env = { ...io.env };
    // bin/sdocker moved it aside for node's start-up; docker and its plugins get it as the user set it.
    if (env.SDOCKER_EXTRA_CA_CERTS && !env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = env.SDOCKER_EXTRA_CA_CERTS;
    delete env.SDOCKER_EXTRA_CA_CERTS;
    const child = spawn(docker, args, { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
    const offs = FORWARD.map((sig) =>
      io.onSignal(sig, () => {
        child.kill(sig);
      }),
    );
    child.on('error', (err) => {
      offs.forEach((off) => off());
      reject(new SdockerError(`cannot run ${docker}: ${err.message}`, 126));
    });
    child.on('exit', (code, signal) => {
      offs.forEach((off) => off());
      resolve(code ?? 128 + (signal ? (SIGNUM[signal] ?? 1) : 1));
    });
  });
}
