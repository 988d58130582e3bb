/**
 * tmpfs mounts (bounded, nosuid/nodev) and the read-only root filesystem with its writable tmpfs.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { normalizeHostPath, parseBind, splitOpts } from '../paths.js';
import { parseRamBytes } from '../../flags/values/go-numbers.js';
import type { Ctx } from '../context.js';

function tmpfsOptions(opts: string[], size: string | undefined, extra?: string): string[] {
  const set = [...opts, ...splitOpts(extra)];
  const has = (k: string) => set.some((o) => o === k || o.startsWith(`${k}=`));
  if (!has('rw') && !has('ro')) set.unshift('rw');
  if (!has('nosuid')) set.push('nosuid');
  if (!has('nodev')) set.push('nodev');
  if (!has('exec') && !has('noexec')) set.push('noexec');
  if (!has('size') && size) set.push(`size=${size}`);
  return set;
}

/** `size=0` (any unit, `0%`) and `nr_inodes=0`: tmpfs without a limit. */
const UNLIMITED_TMPFS = /^(size=0*(\.0*)?[kmgtpe%]?|nr_inodes=0*[kmg]?)$/i;

function tmpfsSize(c: Ctx, path: string): string {
  return c.profile.defaults.tmpfs.find((t) => t.path === path)?.size ?? c.profile.defaults.tmpfs[0]?.size ?? '64m';
}

export function tmpfs(c: Ctx): void {
  const hc = c.hc;
  // --mount type=tmpfs: without tmpfs-size (or with 0) it has no size limit.
  for (const m of hc.Mounts ?? []) {
    if (m.Type !== 'tmpfs' || (m.TmpfsOptions?.SizeBytes ?? 0) > 0) continue;
    const size = tmpfsSize(c, m.Target);
    c.change('HostConfig.Mounts', `tmpfs ${m.Target}`, `tmpfs-size=${size}`, 'SD-TMPFS-001', 'a tmpfs without a size (or of size 0) has no size limit');
    m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: parseRamBytes(size) };
  }
  for (const [path, raw] of Object.entries(hc.Tmpfs ?? {})) {
    let opts = splitOpts(raw);
    const bad = opts.filter((o) => o === 'suid' || o === 'dev');
    if (bad.length > 0) {
      if (!c.check('SD-MNT-005', 'HostConfig.Tmpfs', `${path}:${raw}`, `${path}:${bad.join(',')}`, undefined)) {
        opts = opts.filter((o) => o !== 'suid' && o !== 'dev');
      } else continue;
    }
    const size = tmpfsSize(c, path);
    // size=0 and nr_inodes=0 mean "no limit" to tmpfs: they get the default size instead.
    const unlimited = opts.filter((o) => UNLIMITED_TMPFS.test(o));
    if (unlimited.length > 0) {
      c.change(`HostConfig.Tmpfs["${path}"]`, unlimited.join(','), `size=${size}`, 'SD-TMPFS-001', 'a tmpfs of size 0 has no size limit');
      opts = opts.filter((o) => !UNLIMITED_TMPFS.test(o));
    }
    const next = tmpfsOptions(opts, size).join(',');
    if (next !== raw) {
      c.change(`HostConfig.Tmpfs["${path}"]`, raw, next, 'SD-TMPFS-001');
      hc.Tmpfs![path] = next;
    }
  }
}

/**
 * uid=/gid= for a tmpfs sdocker adds: owned by the container's user, not root (runc keeps the
 * mode of the directory it covers, 0755 for most, so root-owned means read-only to the user).
 * Only for a numeric user: a name is only known from the image's /etc/passwd.
 */
function ownerOptions(c: Ctx, opts: string[]): string[] {
  const [u, g] = (c.body.User || c.input.image?.User || '').split(':');
  if (!u || !/^\d+$/.test(u) || u === '0') return [];
  const out: string[] = [];
  if (!opts.some((o) => o.startsWith('uid='))) out.push(`uid=${u}`);
  if (!opts.some((o) => o.startsWith('gid='))) out.push(`gid=${g !== undefined && /^\d+$/.test(g) ? g : u}`);
  return out;
}

function mountTargets(c: Ctx): Set<string> {
  const t = new Set<string>();
  for (const b of c.hc.Binds ?? []) t.add(normalizeHostPath(parseBind(b).target || b));
  for (const m of c.hc.Mounts ?? []) t.add(normalizeHostPath(m.Target));
  for (const k of Object.keys(c.hc.Tmpfs ?? {})) t.add(normalizeHostPath(k));
  for (const k of Object.keys(c.body.Volumes ?? {})) t.add(normalizeHostPath(k));
  for (const k of Object.keys(c.input.image?.Volumes ?? {})) t.add(normalizeHostPath(k));
  return t;
}

export function rootfs(c: Ctx): void {
  const hc = c.hc;
  if (!hc.ReadonlyRootfs) {
    if (c.allow.writableRootfs) return;
    c.change('HostConfig.ReadonlyRootfs', hc.ReadonlyRootfs ?? false, true, 'SD-ROOTFS-001');
    hc.ReadonlyRootfs = true;
  }
  const targets = mountTargets(c);
  for (const t of c.profile.defaults.tmpfs) {
    const path = normalizeHostPath(t.path);
    if (targets.has(path)) continue;
    const opts = tmpfsOptions([], t.size ?? '64m', t.options);
    if (opts.includes('exec')) opts.splice(opts.indexOf('noexec'), 1);
    opts.push(...ownerOptions(c, opts));
    hc.Tmpfs = { ...(hc.Tmpfs ?? {}), [path]: opts.join(',') };
    c.change(`HostConfig.Tmpfs["${path}"]`, null, opts.join(','), 'SD-TMPFS-001', 'a writable scratch space on the read-only root filesystem (nosuid, nodev, noexec, sized)');
  }
}

// ---------------------------------------------------------------------------------------------
// Devices
