/**
 * Where the door listens.
 *
 * A unix socket, made safe before anyone can reach it:
 * - its directory, and every directory above it, must be one that only root or the user running
 *   the door can change: owned by one of them, not writable by others (a sticky, root-owned
 *   directory such as /tmp is fine above, not as the socket's own directory), and not writable by
 *   a group other than root's. Whoever could write there could replace the socket with their own
 *   and read every client's requests (X-Registry-Auth credentials among them) or answer in the
 *   engine's name. That includes the door's own group: its members are the very users the door
 *   restricts, so they must not be able to move or replace its socket;
 * - an existing file at the path is removed only when it is a socket and nothing answers on it
 *   (a stale socket of a door that died); anything else is refused;
 * - the socket is bound in a fresh private directory (0700) beside its final place, given mode
 *   0660 and its group there, then renamed into place: there is never a moment when it is
 *   reachable with the process umask's mode or the wrong group.
 * TCP only with TLS and client certificates (requestCert, rejectUnauthorized); plain TCP is refused
 * by the command (src/cli/serve.ts) before it gets here.
 */
import { chmodSync, chownSync, lstatSync, mkdtempSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:net';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { SdockerError, UsageError } from '../errors.js';

const S_ISVTX = 0o1000;

/** Why `dir` cannot hold the door's socket (or sit above it), or undefined when it can. */
export function unsafeDirectory(dir: string, st: { uid: number; gid: number; mode: number }, euid: number, own: boolean): string | undefined {
  if (st.uid !== 0 && st.uid !== euid) return `${dir} belongs to uid ${st.uid}, who could replace the socket`;
  const sticky = (st.mode & S_ISVTX) !== 0;
  // Above the socket's own directory, a sticky bit keeps others from renaming what they do not own.
  const guarded = !own && sticky && st.uid === 0;
  if ((st.mode & 0o002) !== 0 && !guarded) return `${dir} is writable by every user (mode ${(st.mode & 0o7777).toString(8)})`;
  if ((st.mode & 0o020) !== 0 && st.gid !== 0 && !guarded) {
    return `${dir} is writable by group ${st.gid} (mode ${(st.mode & 0o7777).toString(8)}), whose members could replace the socket`;
  }
  return undefined;
}

/** Check the socket's directory and every directory above it; return the directory's real path. */
export function checkSocketDirectory(socketPath: string, euid: number): string {
  let dir: string;
  try {
    dir = realpathSync(dirname(socketPath));
  } catch (err) {
    throw new UsageError(`--socket ${socketPath}: its directory cannot be used: ${(err as Error).message}`);
  }
  let d = dir;
  let own = true;
  for (;;) {
    const why = unsafeDirectory(d, statSync(d), euid, own);
    if (why) throw new UsageError(`--socket ${socketPath}: refused: ${why}. Put the socket in a directory only root can change (e.g. /run/sdocker, mode 0755)`);
    if (d === '/') break;
    d = dirname(d);
    own = false;
  }
  return dir;
}

/** Does anything accept a connection on this unix socket? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2000, () => done(true));
    s.on('connect', () => done(true));
    s.on('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

/** Remove a stale socket at `path`; refuse anything else there. */
export async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UsageError(`--socket ${path}: ${(err as Error).message}`);
  }
  if (!st.isSocket()) throw new UsageError(`--socket ${path}: refused: the path exists and is not a socket; sdocker will not remove it`);
  if (await answers(path)) throw new UsageError(`--socket ${path}: refused: a server already answers on this socket (another door, or the engine itself)`);
  unlinkSync(path);
}

function listenOn(server: Server, arg: string | { fd: number } | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new SdockerError(`cannot listen: ${err.message}`));
    server.once('error', onError);
    const ok = () => {
      server.off('error', onError);
      resolve();
    };
    if (typeof arg === 'string') server.listen(arg, ok);
    else server.listen(arg, ok);
  });
}

export interface UnixListener {
  /** The socket's real path. */
  path: string;
  /** Remove the socket, if it is still the one this door made. */
  remove(): void;
}

/** Listen on a unix socket at `socketPath` (absolute), mode 0660, group `gid` (undefined: the process's). */
export async function listenUnix(server: Server, socketPath: string, gid: number | undefined, euid: number): Promise<UnixListener> {
  const dir = checkSocketDirectory(socketPath, euid);
  const path = join(dir, basename(socketPath));
  await clearStale(path);
  const tmp = mkdtempSync(join(dir, '.sdocker-serve-'));
  const tmpSock = join(tmp, 's');
  try {
    await listenOn(server, tmpSock);
    chmodSync(tmpSock, 0o660);
    if (gid !== undefined) chownSync(tmpSock, -1, gid);
    renameSync(tmpSock, path);
  } catch (err) {
    server.close();
    rmSync(tmp, { recursive: true, force: true });
    throw err instanceof SdockerError ? err : new SdockerError(`--socket ${path}: ${(err as Error).message}`);
  }
  rmdirSync(tmp);
  const { ino, dev } = lstatSync(path);
  return {
    path,
    remove() {
      try {
        const st = lstatSync(path);
        if (st.ino === ino && st.dev === dev) unlinkSync(path);
      } catch {
        /* gone already */
      }
    },
  };
}

/** Listen on a socket systemd passed (socket activation: LISTEN_FDS, the first at fd 3). */
export function listenActivated(server: Server): Promise<void> {
  return listenOn(server, { fd: 3 });
}

export function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return listenOn(server, { host, port });
}

/** The same file (device and inode)? For the engine's socket against the door's own. */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}
