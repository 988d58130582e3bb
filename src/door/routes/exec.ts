/**
 * `POST /containers/{id}/exec` judged as `sdocker exec` is (src/policy/commands/exec.ts, reused:
 * the body becomes the flags it stands for): Privileged (SD-EXEC-001), a root or named User
 * (SD-EXEC-002). The other fields of API 1.41's ExecConfig (and the CLI 28's ConsoleSize, Detach,
 * docker-py's Container) cannot weaken the container; any other field set is refused (SD-DOOR-001).
 */
import { UsageError } from '../../errors.js';
import { execNeedsUsernsFact, judgeExec } from '../../policy/commands/exec.js';
import { engineFactsFrom } from '../../policy/facts.js';
import type { EngineInfo } from '../../api/types.js';
import type { EffectiveProfile } from '../../policy/types.js';
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Verdict } from '../types.js';
import { canonicalKeys, caseDuplicates, isObject, unknownFields } from './body.js';
import { containerHostPaths, hostPathVerdict } from './create.js';
import { foreignUser } from './host-paths.js';
import { ownedContainer } from './owned.js';
import { ownerPeer } from './owners.js';
import { pinContainerPath, pinned } from './pin.js';
import { cannotJudge, forwardJudged, verdictOf } from './verdict.js';

export const EXEC_FIELDS: ReadonlySet<string> = new Set([
  'AttachStdin', 'AttachStdout', 'AttachStderr', 'DetachKeys', 'Tty', 'Env', 'Cmd', 'Privileged', 'User', 'WorkingDir', 'ConsoleSize', 'Detach',
  // docker-py sends the container's name again; the engine overwrites it with the path's (moby postContainerExecCreate).
  'Container',
]);

/** The `docker exec` arguments an exec body stands for, as far as the judge reads them. */
export function execArgs(body: Record<string, unknown>, container: string): string[] {
  const args: string[] = [];
  if (body.Privileged === true) args.push('--privileged');
  if (typeof body.User === 'string' && body.User !== '') args.push(`--user=${body.User}`);
  args.push('--', container);
  return args;
}

/** Pure: the verdict on an exec body, given whether the engine remaps users. */
export function judgeExecBody(raw: unknown, container: string, profile: EffectiveProfile, usernsRemap: boolean, warn?: (t: string) => void): Verdict {
  if (profile.unconfined) return { action: 'pass' };
  if (!isObject(raw)) return cannotJudge('POST /containers/{id}/exec: the body is not a JSON object');
  const dup = caseDuplicates(raw);
  if (dup.length) return cannotJudge(`exec: a field given twice in different case: ${dup.join(', ')}`);
  const body = canonicalKeys(raw, EXEC_FIELDS);
  const unknown = unknownFields(body, EXEC_FIELDS);
  if (unknown.length) return cannotJudge(`exec: unknown field ${unknown.join(', ')}`);
  if (body.Privileged !== undefined && body.Privileged !== null && typeof body.Privileged !== 'boolean') return cannotJudge('exec: Privileged is not a boolean');
  if (body.User !== undefined && body.User !== null && typeof body.User !== 'string') return cannotJudge('exec: User is not a string');
  try {
    const j = judgeExec(execArgs(body, container), profile, usernsRemap);
    return forwardJudged(verdictOf(j.violations, new Map([['privileged', ['Privileged: true (exec --privileged)']], ['user', [`User: ${JSON.stringify(body.User ?? '')} (exec -u)`]]]), profile, 'exec', warn), body);
  } catch (err) {
    if (err instanceof UsageError) return cannotJudge(`exec: ${err.message}`);
    throw err;
  }
}

export async function judgeExecRequest(req: DoorRequest, container: string, opts: JudgeOptions): Promise<Verdict> {
  const p = opts.profile;
  const body = judgeExecBody(req.body, container, p, false, opts.warn);
  if (body.action === 'refuse' && body.status === 400) return body;
  const owned = await ownedContainer(opts, container, req.peer, 'exec', req.client);
  if ('verdict' in owned) return owned.verdict;
  // In a container with host paths, an exec's own User would act on them as another host user
  // (`-u 1001`, or `-u 1001` with gid 0): only the client's uid:gid or 65534 (SD-DOOR-006).
  const peer = ownerPeer(opts, req.peer);
  const user = isObject(req.body) ? canonicalKeys(req.body, EXEC_FIELDS).User : undefined;
  if (peer && owned.id !== undefined && typeof user === 'string' && user !== '') {
    const { paths } = await containerHostPaths(opts, owned.id);
    const why = paths.length > 0 ? foreignUser(user, [], peer) : undefined;
    if (why) {
      const v = hostPathVerdict(opts, [`exec: ${why}, with host paths ${paths.join(', ')}`]);
      if (v.action === 'refuse') return v;
    }
  }
  const remap = !p.unconfined && execNeedsUsernsFact(p) ? engineFactsFrom(await opts.client.json<EngineInfo>('GET', '/info')).usernsRemap : false;
  // The exec is created in the container judged, by its full id (pin.ts).
  return pinned(judgeExecBody(req.body, container, p, remap, opts.warn), owned.id === undefined ? undefined : pinContainerPath(req.path, owned.id));
}
