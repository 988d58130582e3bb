/**
 * `docker exec` / `docker container exec` judged before docker runs it (pure). docker CLI 28.2's
 * flags (cli/command/container/exec.go, non-interspersed: the container name ends them); an
 * unknown flag is refused as docker refuses it. Refused under a confined level:
 * - `--privileged` (SD-EXEC-001) unless the profile allows privileged;
 * - a root `-u/--user` (SD-EXEC-002) unless the profile allows root (allow.root, and the engine
 *   remaps users unless withoutUsernsRemap): a uid or gid that runc reads as 0 (`0`, `00`, `+0`,
 *   `-0`, `0:0`, `1000:00` — src/policy/ids.ts), and any name: names are resolved from the
 *   container's own /etc/passwd and /etc/group, which its image (the project) controls.
 */
import { parsePflag, type PflagSpec } from '../../flags/pflag.js';
import { idPart } from '../ids.js';
import { rootAllowed } from '../identity.js';
import type { EffectiveProfile } from '../types.js';
import { Judge, type Judgement, last } from './common.js';

export const EXEC_FLAGS: readonly PflagSpec[] = [
  { name: 'detach-keys', kind: 'value' },
  { name: 'interactive', short: 'i', kind: 'bool' },
  { name: 'tty', short: 't', kind: 'bool' },
  { name: 'detach', short: 'd', kind: 'bool' },
  { name: 'user', short: 'u', kind: 'value' },
  { name: 'privileged', kind: 'bool' },
  { name: 'env', short: 'e', kind: 'value' },
  { name: 'env-file', kind: 'value' },
  { name: 'workdir', short: 'w', kind: 'value' },
  { name: 'help', short: 'h', kind: 'bool' },
];

/** Whether judging needs to know if the engine remaps users (only when the profile allows root with it). */
export function execNeedsUsernsFact(profile: EffectiveProfile): boolean {
  return !!profile.allow.root && !profile.allow.root.withoutUsernsRemap;
}

/** Why a `-u` value is root or cannot be told from root, or undefined when it is a non-zero numeric id. */
export function rootInUserSpec(spec: string): string | undefined {
  const [u = '', g = ''] = spec.split(':');
  for (const [part, what] of [[u, 'uid'], [g, 'gid']] as const) {
    if (part === '') continue;
    const p = idPart(part);
    if ('name' in p) return `${what} "${part}" is a name, resolved from the container's own files; give the numeric ${what}`;
    if (p.id === 0) return `${what} "${part}" is ${what} 0 as runc reads it`;
  }
  return undefined;
}

export function judgeExec(args: readonly string[], profile: EffectiveProfile, usernsRemap = false): Judgement {
  const parsed = parsePflag(args, EXEC_FLAGS, { interspersed: false });
  const judge = new Judge(profile);
  const privileged = last(parsed.hits, 'privileged');
  if (privileged?.value === 'true') {
    judge.check('SD-EXEC-001', profile.allow.privileged, {
      flag: '--privileged', subject: '--privileged', field: 'ExecConfig.Privileged', denialKey: 'privileged',
    });
  }
  const user = last(parsed.hits, 'user');
  const why = user && user.value !== '' ? rootInUserSpec(user.value) : undefined;
  if (user && why) {
    judge.check('SD-EXEC-002', rootAllowed(profile.allow, usernsRemap) ? profile.allow.root : undefined, {
      flag: '--user', subject: user.value, field: 'ExecConfig.User', why, denialKey: 'root',
    });
  }
  return judge.result(parsed.hits);
}
