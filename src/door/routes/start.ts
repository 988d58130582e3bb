/**
 * `POST /containers/{id}/start` and `/restart` through the door:
 * - a start with a body is refused (SD-DOOR-004): before API 1.24 it carried a HostConfig that
 *   replaced the judged one; the docker CLI and docker-py send none;
 * - a container the policy did not make (no io.sdocker.level label: made before the door, or
 *   directly on the engine; or made under a weaker level than the door's) is refused
 *   (SD-DOOR-004): it was never judged; recreate it through the door;
 * - its binds are checked again as `sdocker start` checks them (SD-MNT-007): the source must still
 *   be the real path decided at create.
 * Level privileged judges nothing. A container the engine does not know: the engine says so.
 */
import { bindRefusal, recheckContainer } from '../../cli/bind-guard.js';
import { EngineError, PolicyError } from '../../errors.js';
import { LABEL_LEVEL, LEVEL_STRENGTH } from '../../policy/own-labels.js';
import type { EffectiveProfile, LevelName } from '../../policy/types.js';
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Verdict } from '../types.js';
import { judgeOne, refusal, verdictOf } from './verdict.js';

/** Whether the request carries a body (a start body is an old API's HostConfig). */
export function hasBody(req: Pick<DoorRequest, 'headers'>): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined && len !== '0') return true;
  return req.headers['transfer-encoding'] !== undefined;
}

/** Pure: whether a container with these labels was made by sdocker under a level at least as strict as the profile's. */
export function madeUnderPolicy(labels: Record<string, string> | null | undefined, profile: EffectiveProfile): string | undefined {
  const level = labels?.[LABEL_LEVEL];
  if (level === undefined) return 'it has no io.sdocker.level label: it was not created through sdocker';
  const strength = LEVEL_STRENGTH[level as LevelName];
  if (strength === undefined) return `its io.sdocker.level label is ${JSON.stringify(level)}, not a level`;
  if (strength < LEVEL_STRENGTH[profile.level]) return `it was created under level ${level}, weaker than the door's ${profile.level}`;
  return undefined;
}

export async function judgeStartRequest(req: DoorRequest, id: string, command: 'start' | 'restart', opts: JudgeOptions): Promise<Verdict> {
  const profile = opts.profile;
  if (profile.unconfined) return { action: 'pass' };
  if (hasBody(req)) {
    const j = judgeOne(profile, 'SD-DOOR-004', undefined, { flag: `POST /containers/{id}/${command}`, subject: 'a request body (HostConfig at start)', field: 'HostConfig', allowWith: [] });
    return verdictOf(j.violations, undefined, profile, command);
  }
  let labels: Record<string, string> | null | undefined;
  try {
    labels = (await opts.client.json<{ Config?: { Labels?: Record<string, string> | null } }>('GET', `/containers/${encodeURIComponent(id)}/json`)).Config?.Labels;
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return { action: 'pass' };
    throw err;
  }
  const why = madeUnderPolicy(labels, profile);
  if (why) {
    const j = judgeOne(profile, 'SD-DOOR-004', profile.allow.privileged, {
      flag: `docker ${command}`, subject: `container ${id}`, field: 'Config.Labels', why: `${why}; recreate it through sdocker`, denialKey: 'privileged',
    });
    if (j.violations.length) return verdictOf(j.violations, undefined, profile, command, opts.warn);
  }
  const problems = await recheckContainer(opts.client, id);
  if (problems.length > 0) {
    const err: PolicyError = bindRefusal(problems, `container ${id} was not ${command}ed`);
    return refusal(err.message, ['SD-MNT-007']);
  }
  return { action: 'pass' };
}
