/**
 * Requests on an existing container (exec, start, restart, update, attach, docker cp, export) are
 * judged under the profile the container was made under: the socket's, or the project profile
 * the door recorded on it (`io.sdocker.profile`, read again for this client with the same checks:
 * ../project-profile.ts). Without `door.projectProfiles` nothing is looked up.
 */
import type { JudgeOptions } from '../judge.js';
import { containerProfile } from '../project-profile.js';
import type { Peer, Verdict } from '../types.js';
import { containerIdOf } from './pin.js';

/**
 * A container the client names (in the path, or a body's `Container`), resolved once to its full id
 * (pin.ts) and given the options it is judged under (its project profile, if any). Without
 * `door.projectProfiles` nothing is looked up here: the owner check resolves the name itself.
 */
export async function containerScope(opts: JudgeOptions, ref: string, peer: Peer | undefined): Promise<{ ref: string; opts: JudgeOptions } | { verdict: Verdict }> {
  if (!opts.projects || opts.profile.unconfined) return { ref, opts };
  // One inspect: the full id, and the labels that name the profile it was made under.
  const r = await containerIdOf(opts.client, ref);
  if ('verdict' in r) return r;
  const c = await containerProfile(r.labels, peer, opts.profile, opts.projects);
  return 'verdict' in c ? c : { ref: r.id, opts: { ...opts, profile: c.profile } };
}
