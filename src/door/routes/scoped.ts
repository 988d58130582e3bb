/**
 * Requests on an existing container (exec, start, restart, update, attach, docker cp, export) are
 * judged under the profile the container was made under: the socket's, or the project profile
 * the door recorded on it (`io.sdocker.profile`, read again for this client with the same checks:
 * ../project-profile.ts). Without `door.projectProfiles` nothing is looked up.
 */
import { EngineError } from '../../errors.js';
import type { JudgeOptions } from '../judge.js';
import { containerProfile } from '../project-profile.js';
import type { Peer, Verdict } from '../types.js';
import { containerIdOf } from './pin.js';

export async function optsForContainer(opts: JudgeOptions, id: string, peer: Peer | undefined): Promise<{ opts: JudgeOptions } | { verdict: Verdict }> {
  if (!opts.projects) return { opts };
  let labels: Record<string, string> | null | undefined;
  try {
    labels = (await opts.client.json<{ Config?: { Labels?: Record<string, string> | null } }>('GET', `/containers/${encodeURIComponent(id)}/json`)).Config?.Labels;
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return { opts }; // the engine says so itself
    throw err;
  }
  const c = await containerProfile(labels, peer, opts.profile, opts.projects);
  return 'verdict' in c ? c : { opts: { ...opts, profile: c.profile } };
}

/**
 * A container the client names (in the path, or a body's `Container`), resolved once to its full id
 * (pin.ts) and given the options it is judged under (its project profile, if any). Without
 * `door.projectProfiles` nothing is looked up here: the owner check resolves the name itself.
 */
export async function containerScope(opts: JudgeOptions, ref: string, peer: Peer | undefined): Promise<{ ref: string; opts: JudgeOptions } | { verdict: Verdict }> {
  if (!opts.projects || opts.profile.unconfined) return { ref, opts };
  const r = await containerIdOf(opts.client, ref);
  if ('verdict' in r) return r;
  const s = await optsForContainer(opts, r.id, peer);
  return 'verdict' in s ? s : { ref: r.id, opts: s.opts };
}
