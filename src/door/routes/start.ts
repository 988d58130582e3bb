/**
 * `POST /containers/{id}/start` and `/restart` through the door:
 * - a start with a body is refused (SD-DOOR-004): before API 1.24 it carried a HostConfig that
 *   replaced the judged one; the docker CLI and docker-py send none;
 * - a container the policy did not make for this client is refused (SD-DOOR-004, owned.ts): it
 *   was never judged; recreate it through the door;
 * - its binds are checked again as `sdocker start` checks them (SD-MNT-007): the source must still
 *   be the real path decided at create.
 * Level privileged judges nothing. A container the engine does not know: the engine says so.
 */
import { httpApi } from '../../engine/http-api.js';
import { bindRefusal, recheckContainer } from '../../pipeline/bind-guard.js';
import type { PolicyError } from '../../errors.js';
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Verdict } from '../types.js';
import { refuseUntrusted } from './owned.js';
import { judgeOne, refusal, verdictOf } from './verdict.js';

/** Whether the request carries a body (a start body is an old API's HostConfig). */
export function hasBody(req: Pick<DoorRequest, 'headers'>): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined && len !== '0') return true;
  return req.headers['transfer-encoding'] !== undefined;
}

export async function judgeStartRequest(req: DoorRequest, id: string, command: 'start' | 'restart', opts: JudgeOptions): Promise<Verdict> {
  const profile = opts.profile;
  if (profile.unconfined) return { action: 'pass' };
  if (hasBody(req)) {
    const j = judgeOne(profile, 'SD-DOOR-004', undefined, { flag: `POST /containers/{id}/${command}`, subject: 'a request body (HostConfig at start)', field: 'HostConfig', allowWith: [] });
    return verdictOf(j.violations, undefined, profile, command);
  }
  // Both read the engine, independently: asked together (one round trip less on every start).
  const recheck = recheckContainer(httpApi(opts.client), id);
  recheck.catch(() => undefined);
  const untrusted = await refuseUntrusted(opts, id, req.peer, command);
  if (untrusted) return untrusted;
  const problems = await recheck;
  if (problems === undefined) return { action: 'pass' }; // no such container: the engine says so itself
  if (problems.length > 0) {
    const err: PolicyError = bindRefusal(problems, `container ${id} was not ${command}ed`);
    return refusal(err.message, ['SD-MNT-007']);
  }
  return { action: 'pass' };
}
