/**
 * Requests that make the ENGINE fetch something itself: `POST /build?remote=URL` (an HTTP(S)
 * context or Dockerfile, or a git repository the daemon clones) and `POST /images/create?fromSrc=URL`
 * (`docker import URL`). The daemon fetches as root, from the host's own network namespace, with
 * root's git and ssh configuration: a client of the door would reach services bound to the host's
 * loopback or a cloud metadata address, and read their answers back through the engine's error
 * messages ("unknown instruction: <the first line>") or the image it built (SD-DOOR-008).
 *
 * A tenant's build context comes in the request body (`remote` empty) or over BuildKit's session
 * (`remote=client-session`), and an import from the body (`fromSrc=-`): those pass. The host's own
 * users (root over the socket, the CLI's private door) may still name URLs.
 */
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Verdict } from '../types.js';
import { judgeOne, verdictOf } from './verdict.js';

/** The `remote` values that name no URL: the body's tar, or BuildKit's session with the client. */
const CLIENT_CONTEXTS: ReadonlySet<string> = new Set(['', 'client-session']);

/** Pure: what the engine would fetch for this request (the first value, as r.FormValue reads it), or undefined. */
export function engineFetchOf(route: 'build' | 'import', query: URLSearchParams): string | undefined {
  if (route === 'build') {
    const remote = query.get('remote');
    return remote === null || CLIENT_CONTEXTS.has(remote) ? undefined : remote;
  }
  const src = query.get('fromSrc');
  return src === null || src === '' || src === '-' ? undefined : src;
}

/** Whether the client is one of the host's own users (root, or the CLI's private door), who may name URLs. */
function hostUser(opts: Pick<JudgeOptions, 'hostUser'>, req: Pick<DoorRequest, 'peer'>): boolean {
  return opts.hostUser === true || req.peer?.uid === 0;
}

/** SD-DOOR-008 for a tenant's request that makes the engine fetch a URL; undefined when nothing is fetched or it may. */
export function judgeEngineFetch(route: 'build' | 'import', req: DoorRequest, opts: JudgeOptions): Verdict | undefined {
  const p = opts.profile;
  if (p.unconfined || hostUser(opts, req)) return undefined;
  const url = engineFetchOf(route, req.query);
  if (url === undefined) return undefined;
  const option = route === 'build' ? 'remote' : 'fromSrc';
  const j = judgeOne(p, 'SD-DOOR-008', p.allow.privileged, {
    flag: route === 'build' ? 'POST /build?remote=' : 'POST /images/create?fromSrc=', subject: url, field: option, denialKey: 'privileged',
    why: `the engine would fetch ${JSON.stringify(url)} itself, as root from the host's network (its loopback services, a metadata address, root's git credentials); send the context in the request instead (docker build -, or a local directory)`,
  });
  const v = verdictOf(j.violations, undefined, p, route === 'build' ? 'build' : 'import', opts.warn);
  return v.action === 'pass' ? undefined : v;
}
