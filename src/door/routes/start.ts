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
import { ownedContainer } from './owned.js';
import { pinContainerPath, pinned } from './pin.js';
import { judgeOne, refusal, verdictOf } from './verdict.js';

/** Whether the request carries a body (a start body is an old API's HostConfig). */
export function hasBody(req: Pick<DoorRequest, 'headers'>): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined && len !== '0') return true;
  return req.headers['transfer-encoding'] !== undefined;
}

const FULL_ID = /^[0-9a-f]{64}$/;

export async function judgeStartRequest(req: DoorRequest, id: string, command: 'start' | 'restart', opts: JudgeOptions): Promise<Verdict> {
  const profile = opts.profile;
  if (profile.unconfined) return { action: 'pass' };
  if (hasBody(req)) {
    const j = judgeOne(profile, 'SD-DOOR-004', undefined, { flag: `POST /containers/{id}/${command}`, subject: 'a request body (HostConfig at start)', field: 'HostConfig', allowWith: [] });
    return verdictOf(j.violations, undefined, profile, command);
  }
  // The bind recheck and the ownership check read the engine independently: asked together when
  // the client named the full id (one round trip less on every start); a name is resolved first,
  // so that the container rechecked is the one judged and started (pin.ts).
  const early = FULL_ID.test(id) ? recheckContainer(httpApi(opts.client), id) : undefined;
  early?.catch(() => undefined);
  const owned = await ownedContainer(opts, id, req.peer, command, req.client);
  if ('verdict' in owned) return owned.verdict;
  const full = owned.id ?? id;
  const problems = await (early && full === id ? early : recheckContainer(httpApi(opts.client), full));
  // The container judged is the one started: by its full id (pin.ts).
  const path = owned.id === undefined ? undefined : pinContainerPath(req.path, owned.id);
  if (problems === undefined) return pinned({ action: 'pass' }, path); // gone meanwhile: the engine says so itself
  if (problems.length > 0) {
    const err: PolicyError = bindRefusal(problems, `container ${id} was not ${command}ed`);
    return refusal(err.message, ['SD-MNT-007']);
  }
  return pinned({ action: 'pass' }, path);
}
