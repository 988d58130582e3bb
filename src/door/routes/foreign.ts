/**
 * Requests that name another container indirectly, judged as the owned routes are (owned.ts):
 * - `POST /exec/{id}/start`: exec instances are global, and any client can list them
 *   (`GET /containers/{id}/json` shows `ExecIDs`). An exec root created in its own container and
 *   has not started yet would run, with the client's stdin and output, in a container the client
 *   may not act in: the exec's container must be one it may (SD-DOOR-004). An exec id is looked up
 *   exactly (no prefix), so the id checked is the one started.
 * - `POST /commit?container=X`: an image of X's files, which the client could then save
 *   (`GET /images/get`) or run: `docker cp` out of X by another way. Only a container the client
 *   may act in, pinned to its full id in the query forwarded.
 */
import { EngineError } from '../../errors.js';
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Peer, Verdict, TlsClient } from '../types.js';
import { ownedContainer } from './owned.js';
import { containerScope } from './scoped.js';

export async function judgeExecStart(opts: JudgeOptions, execId: string, peer: Peer | undefined, client?: TlsClient): Promise<Verdict> {
  if (opts.profile.unconfined) return { action: 'pass' };
  let container: unknown;
  try {
    container = (await opts.client.json<{ ContainerID?: unknown } | undefined>('GET', `/exec/${encodeURIComponent(execId)}/json`))?.ContainerID;
  } catch (err) {
    if (err instanceof EngineError) return { action: 'respond', status: err.statusCode || 502, body: { message: err.message } };
    throw err;
  }
  if (typeof container !== 'string' || container === '') return { action: 'respond', status: 502, body: { message: `sdocker serve: the engine named no container for exec ${execId}` } };
  const scope = await containerScope(opts, container, peer);
  if ('verdict' in scope) return scope.verdict;
  const o = await ownedContainer(scope.opts, scope.ref, peer, 'exec start', client);
  return 'verdict' in o ? o.verdict : { action: 'pass' };
}

export async function judgeCommit(opts: JudgeOptions, req: DoorRequest): Promise<Verdict> {
  if (opts.profile.unconfined) return { action: 'pass' };
  // The engine reads the first value (r.Form.Get); an absent one is the engine's own error.
  const ref = req.query.get('container');
  if (ref === null || ref === '') return { action: 'pass' };
  const scope = await containerScope(opts, ref, req.peer);
  if ('verdict' in scope) return scope.verdict;
  const o = await ownedContainer(scope.opts, scope.ref, req.peer, 'commit', req.client);
  if ('verdict' in o) return o.verdict;
  const id = o.id ?? (scope.ref !== ref ? scope.ref : undefined);
  if (id === undefined) return { action: 'pass' };
  const q = new URLSearchParams(req.query);
  q.set('container', id);
  return { action: 'pass', path: `/commit?${q.toString()}` };
}
