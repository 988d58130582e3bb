/**
 * Which seccomp profile a container gets and how big it is, for `--dry-run`. Loaded (with
 * libseccomp) only for a dry run: the counts need libseccomp's syscall tables and its BPF output.
 */
import { capName } from '../api/capabilities.js';
import type { CreateBody } from '../api/types.js';
import type { SeccompSummary } from '../policy/explain.js';
import type { EffectiveProfile } from '../policy/types.js';
import { DOCKER_DEFAULT_CAPS, resolveProfile } from './compile.js';
import { libseccomp, type Libseccomp } from './libseccomp.js';
import { parseProfile } from './profile.js';
import { dockerDefaultNames, nameListStats, profileStats, type ProfileStats } from './stats.js';
import type { ArchToken } from './types.js';

const short = (a: string) => a.replace(/^SCMP_ARCH_/, '').toLowerCase();

/** The capabilities the container will have ("CAP_*"): they decide rules with includes.caps. */
export function containerCaps(body: CreateBody): string[] {
  const hc = body.HostConfig ?? {};
  const norm = (c: string) => `CAP_${capName(c)}`;
  const drop = (hc.CapDrop ?? []).map(norm);
  const add = (hc.CapAdd ?? []).map(norm);
  const base = drop.includes('CAP_ALL') ? [] : DOCKER_DEFAULT_CAPS.filter((c) => !drop.includes(c));
  return [...new Set([...base, ...add.filter((c) => c !== 'CAP_ALL')])];
}

function hostArch(lib: Libseccomp | undefined): ArchToken {
  if (lib) return lib.nativeArch();
  return process.arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : process.arch === 'arm' ? 'SCMP_ARCH_ARM' : process.arch === 'ia32' ? 'SCMP_ARCH_X86' : 'SCMP_ARCH_X86_64';
}

function fromStats(s: ProfileStats, native: ArchToken): Pick<SeccompSummary, 'arch' | 'allowed' | 'conditional' | 'instructions'> {
  const n = s.natives.find((x) => x.native === native) ?? s.natives[0];
  const a = n?.arches.find((x) => x.arch === native) ?? n?.arches[0];
  const out: Pick<SeccompSummary, 'arch' | 'allowed' | 'conditional' | 'instructions'> = {};
  if (a) {
    out.arch = short(a.arch);
    out.allowed = a.allowed;
    out.conditional = a.conditional;
  }
  if (n) out.instructions = n.instructions;
  return out;
}

/**
 * The summary for the body as it goes to the engine: its `seccomp=` option (the last one wins, as
 * in the engine), else the engine's default.
 */
export function seccompSummary(body: CreateBody, profile: EffectiveProfile, opts: { lib?: Libseccomp | null } = {}): SeccompSummary {
  let lib: Libseccomp | undefined;
  let libError: string | undefined;
  if (opts.lib === undefined) {
    try {
      lib = libseccomp();
    } catch (err) {
      libError = (err as Error).message;
    }
  } else if (opts.lib) lib = opts.lib;
  else libError = 'libseccomp not used';
  const noLib = `libseccomp unavailable, names not checked against the arch and no BPF count: ${libError ?? ''}`.replace(/: $/, '');

  const opt = [...(body.HostConfig?.SecurityOpt ?? [])].reverse().find((o) => /^seccomp[=:]/.test(o));
  const v = opt?.slice('seccomp='.length);
  if (v === 'unconfined') return { profile: 'unconfined', note: 'no system call filter' };
  if (v === undefined || v === 'builtin' || !v.trimStart().startsWith('{')) {
    const names = dockerDefaultNames();
    const profileName = 'engine default';
    if (!lib) return { profile: profileName, allowed: names.names.length, note: `Docker ${names.version}'s allow list, all arches; ${noLib}` };
    const native = lib.nativeArch();
    return { profile: profileName, ...fromStats(nameListStats(profileName, names, lib), native), note: `Docker ${names.version}'s allow list; BPF count approximate` };
  }
  const file = profile.seccompChecks?.[v]?.source ?? (v === profile.seccompProfile ? profile.seccompProfilePath : undefined);
  const label = file ?? 'inline profile';
  let parsed;
  try {
    parsed = parseProfile(v, label).profile;
  } catch (err) {
    return { profile: label, ...(file ? { file } : {}), note: `not a valid profile: ${(err as Error).message}` };
  }
  const caps = containerCaps(body);
  const out: SeccompSummary = { profile: label };
  if (file) out.file = file;
  try {
    if (!lib) {
      const arch = hostArch(undefined);
      const allowed = new Set(resolveProfile(parsed, { arch, caps }).rules.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
      return { ...out, arch: short(arch), allowed: allowed.size, note: noLib };
    }
    return { ...out, ...fromStats(profileStats(label, parsed, lib, { caps }), lib.nativeArch()) };
  } catch (err) {
    return { ...out, note: `not counted: ${(err as Error).message}` };
  }
}
