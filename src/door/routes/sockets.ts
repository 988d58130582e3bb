/** The unix sockets that reach the engine without the policy: the engine's usual ones, DOCKER_HOST's, and the door's own. */
import type { JudgeOptions } from '../judge.js';

export function socketsOf(opts: Pick<JudgeOptions, 'env' | 'sockets'>): string[] {
  const host = opts.env.DOCKER_HOST;
  const all = ['/var/run/docker.sock', '/run/docker.sock', ...(host?.startsWith('unix://') ? [host.slice('unix://'.length)] : []), ...(opts.sockets ?? [])];
  return [...new Set(all)];
}
