/**
 * One extended attribute of a path, never following a symbolic link: libc's lgetxattr through
 * koffi (node has no xattr API), loaded lazily on first use like src/seccomp/libseccomp.ts. Only the
 * local scan path (src/scan/overlay-walk.ts) uses it: `security.capability` of regular files,
 * `trusted.overlay.opaque` of directories in the engine's overlay2 layer directories.
 */
import { createRequire } from 'node:module';

/** The attribute's bytes, or undefined when the path has none (ENODATA) or its filesystem has none (ENOTSUP). */
export type GetXattr = (path: string, name: string) => Buffer | undefined;

const ENODATA = 61;
const ENOTSUP = 95;
/** Larger than any value read here (vfs_cap_data is at most 24 bytes, the opaque mark 1). */
const MAX = 256;

let cached: GetXattr | undefined;

/** Throws when koffi or libc cannot be loaded (the caller then uses the save stream). */
export function lgetxattr(): GetXattr {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const koffi: any = require('koffi');
  const libc = koffi.load('libc.so.6');
  const fn = libc.func('long lgetxattr(const char *path, const char *name, void *value, size_t size)') as (p: string, n: string, b: Buffer, s: number) => number;
  const buf = Buffer.alloc(MAX);
  cached = (path, name) => {
    const n = fn(path, name, buf, MAX);
    if (n >= 0) return Buffer.from(buf.subarray(0, n));
    const errno = koffi.errno() as number;
    if (errno === ENODATA || errno === ENOTSUP) return undefined;
    throw new Error(`lgetxattr ${path} ${name}: errno ${errno}`);
  };
  return cached;
}
