/**
 * The one way sdocker reads a file on a project's behalf (profiles, seccomp JSON, env and label
 * files, the docker config, remembered facts, the audit log): a regular file, under a size limit
 * for its kind, read from the descriptor that was checked.
 *
 * - The path is stat'ed first, so a device, FIFO, socket or directory is refused without being
 *   opened at all (opening some devices has effects of its own).
 * - The open is O_NONBLOCK (a FIFO swapped in after the stat does not hang the open) and
 *   O_NOCTTY; the descriptor is then fstat'ed, and only that answer counts: no gap between the
 *   check and the read. O_NONBLOCK stays on, so a "regular" file whose read would block
 *   (/proc/kmsg) fails with EAGAIN instead of hanging.
 * - At most limit + 1 bytes are read, whatever fstat said (a file growing meanwhile, /proc files
 *   that report size 0).
 * - Errors name the file and say what is wrong with it; they never contain its bytes.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from '../errors.js';

export type FileKind = 'profile' | 'seccomp' | 'env-file' | 'label-file' | 'docker-config' | 'state' | 'audit-log';

const MiB = 1024 * 1024;

/** Size limits per kind (bytes). A file larger than its limit is refused, not truncated. */
export const FILE_LIMITS: Readonly<Record<FileKind, number>> = {
  profile: 1 * MiB,
  seccomp: 4 * MiB,
  'env-file': 1 * MiB,
  'label-file': 1 * MiB,
  'docker-config': 1 * MiB,
  state: 4 * MiB,
  'audit-log': 256 * MiB,
};

const KIND_NAMES: Readonly<Record<FileKind, string>> = {
  profile: 'profiles',
  seccomp: 'seccomp profiles',
  'env-file': 'env files',
  'label-file': 'label files',
  'docker-config': 'docker configuration files',
  state: 'state files',
  'audit-log': 'audit logs',
};

/**
 * Why a file was not read. `code` is the errno for a failed system call (ENOENT, EACCES...), or
 * ENOTREG (not a regular file), EFBIG (over the limit), EILSEQ (not UTF-8; `line` is set).
 * `reason` is the message without the path, for callers that word it their own way (docker's
 * "open FILE: no such file or directory").
 */
export class FileReadError extends UsageError {
  constructor(
    readonly path: string,
    readonly code: string,
    readonly reason: string,
    readonly line?: number,
  ) {
    super(`${path}: ${reason}`);
  }
}

function typeOf(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EAGAIN: 'reading it would block',
  ENXIO: 'no such device or address',
  EISDIR: 'is a directory',
};

function sysError(path: string, err: unknown): FileReadError {
  if (err instanceof FileReadError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new FileReadError(path, code, ERRNO_TEXT[code] ?? `cannot read it (${code})`);
}

function checkRegular(path: string, st: Stats, kind: FileKind): void {
  const t = typeOf(st);
  if (t) throw new FileReadError(path, 'ENOTREG', `not a regular file (${t}): ${KIND_NAMES[kind]} are read only from regular files`);
  checkSize(path, st.size, kind);
}

function checkSize(path: string, size: number, kind: FileKind): void {
  const limit = FILE_LIMITS[kind];
  if (size > limit) throw new FileReadError(path, 'EFBIG', `larger than ${formatLimit(limit)}, the limit for ${KIND_NAMES[kind]}`);
}

function formatLimit(n: number): string {
  return n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}

/** The file's bytes, or a FileReadError. */
export function readBounded(path: string, kind: FileKind): Buffer {
  const limit = FILE_LIMITS[kind];
  let fd: number;
  try {
    checkRegular(path, statSync(path), kind);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw sysError(path, err);
  }
  try {
    const st = fstatSync(fd);
    checkRegular(path, st, kind);
    // One byte more than the limit tells a file that grew past it from one that is exactly at it.
    const buf = Buffer.allocUnsafe(Math.min(limit, Math.max(st.size, 64 * 1024)) + 1);
    let chunks: Buffer[] | undefined;
    let used = 0;
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, used, buf.length - used, null);
      if (n === 0) break;
      used += n;
      total += n;
      checkSize(path, total, kind);
      if (used === buf.length) {
        (chunks ??= []).push(Buffer.from(buf.subarray(0, used)));
        used = 0;
      }
    }
    const last = buf.subarray(0, used);
    return chunks ? Buffer.concat([...chunks, last]) : Buffer.from(last);
  } catch (err) {
    throw sysError(path, err);
  } finally {
    closeSync(fd);
  }
}

/** Line (1-based) of the first byte that is not part of valid UTF-8, or undefined. */
export function invalidUtf8Line(buf: Buffer): number | undefined {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return undefined;
  } catch {
    // Find the first bad byte: decode growing prefixes line by line (lines never split a character).
    let line = 1;
    let start = 0;
    const dec = new TextDecoder('utf-8', { fatal: true });
    while (start <= buf.length) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      try {
        dec.decode(buf.subarray(start, end));
      } catch {
        return line;
      }
      start = end + 1;
      line++;
    }
    return line;
  }
}

/** The file as UTF-8 text; bytes that are not UTF-8 are an error naming the line (never the bytes). */
export function readBoundedText(path: string, kind: FileKind): string {
  const buf = readBounded(path, kind);
  const line = invalidUtf8Line(buf);
  if (line !== undefined) throw new FileReadError(path, 'EILSEQ', `invalid utf8 bytes at line ${line}`, line);
  return buf.toString('utf8');
}
