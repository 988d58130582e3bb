/**
 * The I/O half of src/policy/binds.ts: a bind's source checked again immediately before start
 * (it must still be the real path decided on: no symlink swapped in), and the started container's
 * mounts read back from /proc/<pid>/mountinfo (a mismatch kills and removes the container).
 * Used by `sdocker run`/`create` (the session's hooks) and `sdocker start`.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import type { EngineApi } from '../engine/api.js';
import { PolicyError } from '../errors.js';
import { decidedBinds, mountMismatches, parseMountInfo, type DecidedBind } from '../policy/binds.js';
import { RULES } from '../policy/rules.js';
import type { SessionRequest } from '../session/types.js';

/** What differs between each decided bind and its source now; empty when every one still holds. */
export function recheckBinds(binds: readonly DecidedBind[]): string[] {
  const out: string[] = [];
  for (const b of binds) {
    let real: string;
    try {
      real = realpathSync(b.source);
    } catch {
      out.push(`${b.source} (mounted at ${b.target}) no longer exists`);
      continue;
    }
    if (real !== b.source) {
      out.push(`${b.source} (mounted at ${b.target}) now resolves to ${real}`);
      continue;
    }
    try {
      const st = statSync(real);
      if (b.via === 'volume' && !st.isDirectory()) out.push(`${b.source} (mounted at ${b.target}) is no longer a directory`);
      else if (b.via === 'bind' && st.isFile() && (st.mode & 0o6000) !== 0) out.push(`${b.source} (mounted at ${b.target}) is now setuid or setgid`);
    } catch {
      out.push(`${b.source} (mounted at ${b.target}) cannot be read`);
    }
  }
  return out;
}

export function bindRefusal(problems: string[], after: string): PolicyError {
  const r = RULES['SD-MNT-007'];
  return new PolicyError(`refused: ${r.id} (guideline ${r.guideline}: ${r.title}): ${problems.join('; ')}; ${after}`);
}

/**
 * The started container's mounts against the decided binds. Only where the engine's view is ours:
 * /proc/<pid> must be the container's process (its cgroup names the container), else nothing to
 * read (another pid namespace, an engine on another machine, a container already gone).
 */
export function verifyStarted(id: string, pid: number, binds: readonly DecidedBind[]): string[] {
  if (!(pid > 0)) return [];
  let container: string;
  let host: string;
  try {
    if (!readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id)) return [];
    container = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    host = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return mountMismatches(binds, parseMountInfo(container), parseMountInfo(host));
}

/**
 * For an enforced run/create: recheck the binds in beforeStart (after any check already there),
 * verify the mounts in afterStart. The session removes the container when either throws.
 */
export function guardBinds(session: SessionRequest): void {
  const binds = decidedBinds(session.body.HostConfig.Mounts);
  if (binds.length === 0) return;
  const before = session.beforeStart;
  session.beforeStart = async (api, id) => {
    if ((await before?.(api, id)) === 'discard') return 'discard';
    const problems = recheckBinds(binds);
    if (problems.length > 0) throw bindRefusal(problems, 'the container was removed before it started');
  };
  session.afterStart = async (api, id) => {
    // Already exited and removed (--rm): nothing left to read; the check before start applied.
    const pid = (await api.containers.inspect(id))?.State?.Pid ?? 0;
    const problems = verifyStarted(id, pid, binds);
    if (problems.length > 0) throw bindRefusal(problems, 'the container was killed and removed');
  };
}

/** `sdocker start`: the binds of a container sdocker created, rechecked before docker starts it (undefined: no such container). */
export async function recheckContainer(api: EngineApi, ref: string): Promise<string[] | undefined> {
  const c = await api.containers.inspect(ref);
  return c && recheckBinds(decidedBinds(c.HostConfig?.Mounts));
}
