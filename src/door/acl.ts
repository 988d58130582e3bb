/**
 * Whether an open file carries a POSIX access ACL (the `system.posix_acl_access` extended
 * attribute): fgetxattr(2) through koffi (node has no API for extended attributes), loaded on
 * first use. The door judges a project profile by its mode bits as the client would meet them
 * (project-profile.ts); an ACL can grant or deny the client what the mode bits say otherwise, so a
 * component that has one is refused rather than guessed about. Undefined: it cannot be told (koffi
 * or libc did not load, or the call failed for another reason than "no such attribute").
 */
import { createRequire } from 'node:module';

const ENODATA = 61;
/** Filesystems without extended attributes have no ACLs either. */
const ENOTSUP = 95;

type Probe = (fd: number) => boolean | undefined;
let probe: Probe | undefined;
let loadError: string | undefined;

function load(): Probe | undefined {
  if (probe || loadError) return probe;
  try {
    const require = createRequire(import.meta.url);
    /* eslint-disable @typescript-eslint/no-explicit-any */
    const koffi: any = require('koffi');
    const libc: any = koffi.load('libc.so.6');
    const fgetxattr = libc.func('intptr_t fgetxattr(int fd, const char *name, void *value, size_t size)');
    /* eslint-enable @typescript-eslint/no-explicit-any */
    probe = (fd) => {
      const n = Number(fgetxattr(fd, 'system.posix_acl_access', null, 0));
      if (n >= 0) return true;
      const e = koffi.errno() as number;
      return e === ENODATA || e === ENOTSUP ? false : undefined;
    };
  } catch (err) {
    loadError = `cannot call fgetxattr through koffi: ${(err as Error).message}`;
  }
  return probe;
}

export function hasAccessAcl(fd: number): boolean | undefined {
  const p = load();
  if (!p) return undefined;
  try {
    return p(fd);
  } catch {
    return undefined;
  }
}
