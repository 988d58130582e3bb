/**
 * Counts for `sdocker seccomp stats`: allowed names per architecture and the size of the BPF
 * program libseccomp makes of a profile, beside the engine's own default.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DOCKER_DEFAULT_CAPS, profileArches, resolveProfile, toFilterSpec, type HostContext } from './compile.js';
import type { Libseccomp } from './libseccomp.js';
import type { SeccompProfile } from './profile.js';
import { EPERM, type ArchToken } from './types.js';
import { isWhitelist } from './validate.js';

export interface ArchCount {
  arch: ArchToken;
  /** Names allowed (with or without argument conditions) that exist on this arch. */
  allowed: number;
  /** Of those, allowed only under argument conditions (clone, personality...). */
  conditional: number;
}

export interface NativeStats {
  /** The host arch the profile was resolved for (archMap entry). */
  native: ArchToken;
  arches: ArchCount[];
  /** Instructions of libseccomp's BPF program (runc adds a short ENOSYS stub on top). */
  instructions: number;
}

export interface ProfileStats {
  label: string;
  whitelist: boolean;
  natives: NativeStats[];
  /** Set when the numbers are an approximation (a name list rather than a profile). */
  note?: string;
}

export function hostNatives(profile: SeccompProfile, lib: Libseccomp): ArchToken[] {
  if (profile.archMap?.length) return profile.archMap.map((e) => e.architecture as ArchToken);
  return [lib.nativeArch()];
}

export function profileStats(label: string, profile: SeccompProfile, lib: Libseccomp, ctx: Partial<HostContext> = {}): ProfileStats {
  const natives: NativeStats[] = [];
  for (const native of hostNatives(profile, lib)) {
    const host: HostContext = { arch: native, caps: ctx.caps ?? DOCKER_DEFAULT_CAPS };
    if (ctx.kernel !== undefined) host.kernel = ctx.kernel;
    const resolved = resolveProfile(profile, host);
    const arches = profileArches(profile, native);
    const covered = arches.length ? arches : [native];
    const uncond = new Set<string>();
    const cond = new Set<string>();
    for (const r of resolved.rules) {
      if (r.action !== 'SCMP_ACT_ALLOW') continue;
      for (const n of r.names) (r.args?.length ? cond : uncond).add(n);
    }
    for (const n of uncond) cond.delete(n);
    const counts = covered.map((arch) => {
      const on = (s: Set<string>) => [...s].filter((n) => lib.syscallNumber(n, arch) !== undefined).length;
      return { arch, allowed: on(uncond) + on(cond), conditional: on(cond) };
    });
    const compiled = lib.compile(toFilterSpec(profile, host));
    natives.push({ native, arches: counts, instructions: compiled.instructions });
  }
  return { label, whitelist: isWhitelist(profile), natives };
}

export interface NameList {
  source: string;
  version: string;
  note?: string;
  names: string[];
}

/** The shipped name list of the engine's (Docker 20.10) default profile. */
export function dockerDefaultNames(): NameList {
  const file = fileURLToPath(new URL('../../profiles/seccomp/docker-default-names.json', import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as NameList;
}

/**
 * Stats of a name list as if it were a profile allowing each name without conditions (default
 * EPERM, Docker's x86_64 arch map: the list is derived for amd64): names are exact, the instruction count approximate.
 */
export function nameListStats(label: string, list: NameList, lib: Libseccomp): ProfileStats {
  const profile: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
    syscalls: [{ names: list.names, action: 'SCMP_ACT_ALLOW' }],
  };
  const s = profileStats(label, profile, lib);
  s.note = `name list of ${list.source} ${list.version}; BPF size approximate (argument conditions not kept)`;
  return s;
}
