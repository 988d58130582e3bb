/**
 * Whether a project profile file may be trusted to say what it says (I/O; called by the loader).
 *
 * A profile decides what a container may do, so nobody but the user (or root) may have written
 * it: a `sdocker.yaml` that another user could create or edit, because it or its directory is
 * writable by others (a world-writable /tmp without a repository root above the working
 * directory, sticky or not), is refused, not applied. Checked on the file's real path:
 * - the file: a regular file owned by the user or root, not writable by others, nor by a group
 *   other than the user's own;
 * - its directory: owned by the user or root, not writable by others (sticky or not: in a sticky
 *   /tmp anyone may still create the file), nor by a group other than the user's own;
 * - every directory above: not writable by others unless sticky (else the path can be renamed away).
 */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';

export interface Identity {
  uid: number;
  gid: number;
}

function currentIdentity(): Identity | undefined {
  if (typeof process.getuid !== 'function' || typeof process.getgid !== 'function') return undefined;
  return { uid: process.getuid(), gid: process.getgid() };
}

const mode = (st: Stats) => (st.mode & 0o7777).toString(8).padStart(4, '0');

/** Why `st` (a file or directory) may have been written by someone else; undefined when it cannot. */
export function writableByOthers(st: Pick<Stats, 'uid' | 'gid' | 'mode'>, me: Identity, opts: { ownerMatters: boolean; stickyProtects: boolean }): string | undefined {
  if (opts.ownerMatters && st.uid !== me.uid && st.uid !== 0) return `it belongs to uid ${st.uid}`;
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o002) !== 0 && !(opts.stickyProtects && sticky)) return 'it is writable by every user';
  if ((st.mode & 0o020) !== 0 && st.gid !== me.gid && st.gid !== 0 && !(opts.stickyProtects && sticky)) return `it is writable by group ${st.gid}`;
  return undefined;
}

/**
 * Refuse (UsageError, exit 125) a profile file someone other than the user or root could have
 * written. `how`: how it was found, for the message (`found by discovery`, `--profile`, `extends`).
 */
export function checkProfileTrust(path: string, how: string, me: Identity | undefined = currentIdentity()): void {
  if (!me) return; // no uids on this platform
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    throw new UsageError(`${path}: cannot read the profile: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const refuse = (what: string, st: Stats, why: string) => {
    throw new UsageError(
      `${path}${real === path ? '' : ` (really ${real})`} (${how}): refusing a profile that someone else could have written: ${what}: ${why} `
      + `(uid ${st.uid}, gid ${st.gid}, mode ${mode(st)}). Move it into a directory only you can write, `
      + 'or run from inside a repository (a directory with .git stops the search).',
    );
  };
  const st = statSync(real);
  if (!st.isFile()) throw new UsageError(`${path} (${how}): the profile is not a regular file`);
  const f = writableByOthers(st, me, { ownerMatters: true, stickyProtects: false });
  if (f) refuse('the file', st, f);
  const dir = dirname(real);
  const dst = statSync(dir);
  const d = writableByOthers(dst, me, { ownerMatters: true, stickyProtects: false });
  if (d) refuse(`its directory ${dir}`, dst, d);
  for (let up = dirname(dir); ; up = dirname(up)) {
    const ust = statSync(up);
    const u = writableByOthers(ust, me, { ownerMatters: false, stickyProtects: true });
    if (u) refuse(`the directory ${up} above it`, ust, `${u} and not sticky (anyone can rename the path away)`);
    if (up === dirname(up)) break;
  }
}
