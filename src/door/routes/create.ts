/**
 * `POST /containers/create` (any version prefix, `?name=`, `?platform=`): the body canonicalised
 * as the engine reads it (create-fields.ts; what the door cannot classify is a 400, nothing
 * created), then the run pipeline through the door's single adapter (../core.ts).
 */
import type { JudgeOptions } from '../judge.js';
import { createThroughPolicy } from '../core.js';
import { doorMemory } from '../memory.js';
import { EngineWatch, EVENT_FILTERS } from '../engine-watch.js';
import { httpApi } from '../../engine/http-api.js';
import type { DoorRequest, Verdict } from '../types.js';
import { canonicalCreateBody } from './create-fields.js';
import { socketsOf } from './sockets.js';
import { cannotJudge } from './verdict.js';

/** Pure: the body the policy will judge, or the 400 that says what the door cannot read. */
export function readCreateBody(raw: unknown): { body: import('../../api/types.js').CreateBody } | { verdict: Verdict } {
  const r = canonicalCreateBody(raw);
  if ('problems' in r) return { verdict: cannotJudge(`POST /containers/create: ${r.problems.join('; ')}`) };
  return r;
}

export function createRoute(opts: JudgeOptions) {
  // The engine's answers remembered across this door's creates (../memory.ts).
  const memory = doorMemory();
  const api = httpApi(opts.client);
  // The engine's event stream, opened at the first create: what a remembered /info stands on.
  const watch = new EngineWatch(async () => {
    const res = await opts.client.request('GET', '/events', { query: { filters: EVENT_FILTERS } });
    // It never keeps the door (or a command's private door) running by itself.
    res.socket?.unref();
    return res;
  });
  return async (req: DoorRequest): Promise<Verdict> => {
    watch.start();
    const read = readCreateBody(req.body);
    if ('verdict' in read) return read.verdict;
    const ctx: Parameters<typeof createThroughPolicy>[2] = { api, profile: opts.profile, env: opts.env, cwd: opts.cwd, sockets: socketsOf(opts), memory, watch };
    if (req.peer) ctx.peer = req.peer;
    if (opts.warn) ctx.warn = opts.warn;
    return createThroughPolicy(read.body, req.query, ctx);
  };
}
