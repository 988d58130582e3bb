/**
 * Reading and writing sdocker.lock in the project's tree, which is untrusted: the file is never
 * reached through a symbolic link (O_NOFOLLOW: a lock that is a link to ~/.ssh/id_rsa or to a file
 * the user owns elsewhere is refused, not read or overwritten), must be a regular file of at most
 * 1 MiB, and is replaced atomically (a new file made with O_EXCL|O_NOFOLLOW in the same
 * directory, mode 0644, written, fsync'ed, renamed over the old one: a rename replaces a planted
 * link instead of writing through it, and a reader never sees half a file).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { type LockEntries, LOCK_NAME, parseLock, serializeLock } from './lock.js';

const LIMIT = 1024 * 1024;

/** Where the lock lives: beside the project profile, else in the working directory. */
export function lockPath(projectProfile: string | undefined, cwd: string): string {
  return join(projectProfile ? dirname(projectProfile) : cwd, LOCK_NAME);
}

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP' || code === 'EMLINK') return 'it is a symbolic link (the project tree is not trusted: replace it by a regular file or remove it)';
  if (code === 'EACCES') return 'permission denied';
  return code ?? (err as Error).message;
}

/** The lock's entries; an absent file is an empty lock. */
export function readLock(path: string): LockEntries {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new UsageError(`${path}: cannot read the lock file: ${why(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`${path}: cannot read the lock file: not a regular file`);
    const buf = Buffer.alloc(Math.min(LIMIT + 1, Math.max(st.size + 1, 4096)));
    let n = 0;
    for (;;) {
      if (n === buf.length) break;
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > LIMIT) throw new UsageError(`${path}: the lock file is larger than 1 MiB`);
    const text = buf.subarray(0, n).toString('utf8');
    if (text.includes('\uFFFD')) throw new UsageError(`${path}: the lock file is not UTF-8`);
    return parseLock(text, path);
  } finally {
    closeSync(fd);
  }
}

/** Replace the lock with `entries`, atomically, without following links. */
export function writeLock(path: string, entries: LockEntries): void {
  const tmp = join(dirname(path), `.${LOCK_NAME}.${randomBytes(8).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw new UsageError(`${path}: cannot write the lock file: ${why(err)}`);
  }
  try {
    fchmodSync(fd, 0o644);
    const data = Buffer.from(serializeLock(entries));
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    try {
      unlinkSync(tmp);
    } catch {
      // gone
    }
    throw new UsageError(`${path}: cannot write the lock file: ${why(err)}`);
  }
}
