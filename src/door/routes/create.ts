/**
 * `POST /containers/create` (any version prefix, `?name=`, `?platform=`): the body canonicalised
 * as the engine reads it (create-fields.ts; what the door cannot classify is a 400, nothing
 * created), then the run pipeline through the door's single adapter (../core.ts).
 */
import type { JudgeOptions } from '../judge.js';
import { createThroughPolicy } from '../core.js';
import type { DoorRequest, Verdict } from '../types.js';
import { canonicalCreateBody } from './create-fields.js';
import { socketsOf } from './sockets.js';
import { cannotJudge } from './verdict.js';
import { LABEL_CLIENT } from '../../policy/own-labels.js';
import { chooseCreateProfile, LABEL_PROFILE, type ChosenProfile } from '../project-profile.js';

/** A refusal under a project profile names that file as the place to allow it; a profile not read is said too. */
function fixInProject(v: Verdict, chosen: ChosenProfile): Verdict {
  if (v.action !== 'refuse') return v;
  const path = chosen.labels[LABEL_PROFILE];
  let message = path ? v.message.split('add to the profile (sdocker.yaml):').join(`add to ${path}:`) : v.message;
  if (chosen.warnings.length) message = `${message}\n${chosen.warnings.join('\n')}`;
  return { ...v, message };
}

/** Pure: the body the policy will judge, or the 400 that says what the door cannot read. */
export function readCreateBody(raw: unknown): { body: import('../../api/types.js').CreateBody } | { verdict: Verdict } {
  const r = canonicalCreateBody(raw);
  if ('problems' in r) return { verdict: cannotJudge(`POST /containers/create: ${r.problems.join('; ')}`) };
  return r;
}

export function createRoute(opts: JudgeOptions) {
  return async (req: DoorRequest): Promise<Verdict> => {
    const read = readCreateBody(req.body);
    if ('verdict' in read) return read.verdict;
    // The socket's profile, or the project's the request names (project-profile.ts), or a refusal.
    const chosen = await chooseCreateProfile(read.body, req.peer, opts.profile, opts.projects);
    if ('verdict' in chosen) return chosen.verdict;
    const ctx: Parameters<typeof createThroughPolicy>[2] = { client: opts.client, profile: chosen.profile, env: opts.env, cwd: opts.cwd, sockets: socketsOf(opts), labels: chosen.labels, notes: chosen.warnings };
    if (req.peer) ctx.peer = req.peer;
    // A TLS client has no uid: what it makes is labelled with its certificate, which owned.ts compares.
    if (req.client) {
      ctx.tlsClient = req.client;
      ctx.labels = { ...ctx.labels, [LABEL_CLIENT]: req.client.sha256 };
    }
    if (opts.warn) ctx.warn = opts.warn;
    return fixInProject(await createThroughPolicy(chosen.body, req.query, ctx), chosen);
  };
}
