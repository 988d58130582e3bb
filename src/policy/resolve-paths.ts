/**
 * The I/O half of host-path checking: resolve every host path a create body names (bind sources,
 * --mount sources, volume-opt devices, --device paths, devices of the named volumes it uses)
 * through symlinks, so the pure policy sees where a path really leads.
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CreateBody } from '../api/types.js';
import { hostPathsOf } from './paths.js';
import type { HostDevice, HostPathFact, HostPaths, NamedVolumes } from './types.js';

/** Linux's dev_t split (glibc's gnu_dev_major/minor): 12 bits of major, 20 of minor, spread over 64 bits. */
export function majorMinor(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}

/** One path: fs.realpath when it exists, else the real path of its longest existing ancestor plus the rest. */
export function resolveHostPath(p: string, cwd = '/', depth = 0): HostPathFact {
  const abs = resolve(cwd, p);
  try {
    // A dangling symlink: follow what it names (docker would create the directory there).
    if (depth < 40 && lstatSync(abs).isSymbolicLink()) {
      try {
        realpathSync(abs);
      } catch {
        return resolveHostPath(resolve(dirname(abs), readlinkSync(abs)), '/', depth + 1);
      }
    }
  } catch {
    /* does not exist: handled below */
  }
  try {
    const real = realpathSync(abs);
    let isDirectory = false;
    let device: HostDevice | undefined;
    let isFile = false;
    let setid = false;
    try {
      const st = statSync(real);
      isDirectory = st.isDirectory();
      isFile = st.isFile();
      setid = isFile && (st.mode & 0o6000) !== 0;
      if (st.isCharacterDevice() || st.isBlockDevice()) device = { type: st.isCharacterDevice() ? 'c' : 'b', ...majorMinor(st.rdev) };
    } catch {
      /* raced away: neither (a bind of it is refused) */
    }
    return { realPath: real, exists: true, isDirectory, isFile, setid, ...(device ? { device } : {}) };
  } catch {
    let cur = abs;
    const rest: string[] = [];
    for (let i = 0; i < 64; i++) {
      const parent = dirname(cur);
      rest.unshift(cur.slice(parent === '/' ? 1 : parent.length + 1));
      if (parent === cur) break;
      cur = parent;
      try {
        lstatSync(cur);
        return { realPath: join(realpathSync(cur), ...rest), exists: false };
      } catch {
        /* keep climbing */
      }
    }
    return { realPath: abs, exists: false };
  }
}

export function resolveHostPaths(body: CreateBody, namedVolumes?: NamedVolumes, cwd = '/', extra: readonly string[] = []): HostPaths {
  const out: HostPaths = {};
  for (const p of [...hostPathsOf(body, namedVolumes), ...extra]) out[p] ??= resolveHostPath(p, cwd);
  return out;
}
