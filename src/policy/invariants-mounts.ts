/**
 * The mount half of the invariants (invariants.ts): binds, volumes and their driver options, tmpfs,
 * host paths with their real paths, read as the kernel and the local volume driver read them. Pure.
 */
import { posix } from 'node:path';
import type { CreateBody, MountSpec } from '../api/types.js';
import type { Add, InvariantContext } from './invariants.js';
import { SENSITIVE_PATHS } from './paths.js';
import type { RuleId } from './rules.js';

export function norm(p: string): string {
  const n = posix.normalize(p.startsWith('/') ? p : `/${p}`);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function under(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`);
}

/** A host path's spellings: lexical and, when known, real. */
export function pathsOf(raw: string, ctx: InvariantContext): string[] {
  const out = [norm(raw)];
  const real = ctx.hostPaths?.[raw]?.realPath;
  if (real && !out.includes(norm(real))) out.push(norm(real));
  return out;
}

const SOCKET_NAMES = /(^|\/)(docker|containerd|podman|dockershim|crio|buildkitd)\.sock$/;

/** The sensitive path (or socket) a host path is, is under, or contains; undefined when it is an ordinary path. */
function sensitive(p: string, ctx: InvariantContext): { rule: RuleId; matched: string } | undefined {
  const sockets = (ctx.socketPaths ?? []).map(norm);
  if (SOCKET_NAMES.test(p) || sockets.includes(p)) return { rule: 'SD-MNT-001', matched: p };
  const list = [...SENSITIVE_PATHS, ...sockets, ...(ctx.dockerRootDir ? [norm(ctx.dockerRootDir)] : [])];
  for (const s of list) {
    if ((s === '/' ? p === '/' : under(p, s)) || (p !== '/' && under(s, p))) {
      return { rule: SOCKET_NAMES.test(s) || sockets.includes(s) ? 'SD-MNT-001' : 'SD-MNT-002', matched: s };
    }
  }
  return undefined;
}

/** Mount options in order, as the kernel's option parser reads them: the last of a pair wins. */
export function mountFlags(opts: string[], defaults: string[] = []): { ro: boolean; nosuid: boolean; nodev: boolean; bind: boolean } {
  const f = { ro: false, nosuid: false, nodev: false, bind: false };
  for (const o of [...defaults, ...opts]) {
    const k = o.trim();
    if (k === 'ro') f.ro = true;
    else if (k === 'rw') f.ro = false;
    else if (k === 'nosuid') f.nosuid = true;
    else if (k === 'suid') f.nosuid = false;
    else if (k === 'nodev') f.nodev = true;
    else if (k === 'dev') f.nodev = false;
    else if (k === 'bind' || k === 'rbind') f.bind = true;
  }
  return f;
}

function csv(s: string | undefined): string[] {
  return (s ?? '').split(',').filter((x) => x !== '');
}


/** A host path may be mounted: ordinary, or allowed by allow.hostPaths. `writable`: may it be writable? */
function hostPathOk(raw: string, ctx: InvariantContext): { ok: boolean; rule?: RuleId; writable: boolean; named?: boolean } {
  const sp = pathsOf(raw, ctx);
  const a = ctx.allow;
  const within = (list: { path: string }[] | undefined) => (list ?? []).find((x) => sp.some((p) => under(p, norm(x.path))));
  const hp = within(a.hostPaths) as { writable?: boolean } | undefined;
  for (const p of sp) {
    const s = sensitive(p, ctx);
    if (s && !hp) return { ok: false, rule: s.rule, writable: false };
  }
  return { ok: true, writable: !!a.writableBinds || !!within(a.writablePaths) || !!hp?.writable, named: !!hp };
}

/**
 * A plain bind of a single file (the local volume driver binds directories only, so the policy
 * binds a file as docker does): what is wrong with it, or undefined. It must be, as resolved now,
 * a regular file at that very path (the policy binds by real path: no symlink leading elsewhere),
 * without setuid or setgid bits, not a sensitive path or an engine socket, and read-only unless
 * the profile lets the path be writable. A socket, device node or fifo only where allow.hostPaths
 * names it (as the policy binds it then). Anything else (a directory, a path not known) is a bind
 * that should have been sdocker's nosuid,nodev volume.
 */
export function fileBindProblem(source: string, readOnly: boolean, ctx: InvariantContext): { rule: RuleId; expected: string } | undefined {
  const f = ctx.hostPaths?.[source];
  const atPath = !!f && f.exists && !f.isDirectory && norm(f.realPath) === norm(source);
  const plainFile = atPath && f.isFile === true && !f.device;
  const special = atPath && f.isFile !== true;
  if (special && hostPathOk(source, ctx).named) {
    const p = hostPathOk(source, ctx);
    return !readOnly && !p.writable ? { rule: 'SD-MNT-003', expected: 'read-only (allow.hostPaths does not say writable)' } : undefined;
  }
  if (!plainFile) return { rule: 'SD-MNT-003', expected: 'a bind made a read-only nosuid,nodev volume (a plain bind only of a regular file, by its real path)' };
  if (f.setid) return { rule: 'SD-MNT-007', expected: 'a file without setuid or setgid bits' };
  const p = hostPathOk(source, ctx);
  if (!p.ok) return { rule: p.rule ?? 'SD-MNT-002', expected: 'an ordinary host path' };
  if (!readOnly && !p.writable) return { rule: 'SD-MNT-003', expected: 'read-only (the path is not in allow.writablePaths)' };
  return undefined;
}

/** A local volume's options: none, or a bind sdocker's way (type=none, o=bind,nosuid,nodev[,ro], an absolute device). */
export function volumeOptionDifferences(what: string, field: string, driver: string | undefined, opts: Record<string, string> | null | undefined, ctx: InvariantContext, add: Add): void {
  if (driver && driver !== 'local') {
    add(`volume-driver:${what}`, field, driver, 'SD-MNT-003', 'the local volume driver');
    return;
  }
  if (!opts || Object.keys(opts).length === 0) return;
  const device = opts.device ?? '';
  const o = mountFlags(csv(opts.o));
  const extra = Object.keys(opts).filter((k) => !['type', 'o', 'device'].includes(k));
  // A bind ignores the file system type: an absent type is `none`.
  if ((opts.type ?? 'none') !== 'none' || !o.bind || !device.startsWith('/') || extra.length > 0) {
    add(`volume-options:${what}`, field, opts, 'SD-MNT-003', 'no volume driver options but sdocker\'s bind (type=none,o=bind,nosuid,nodev,ro,device=/path)');
    return;
  }
  const p = hostPathOk(device, ctx);
  if (!p.ok) add(`volume-device:${what}`, field, device, p.rule, 'an ordinary host path');
  if (!o.nosuid || !o.nodev) add(`volume-suid-dev:${what}`, field, opts.o ?? '', 'SD-MNT-003', 'nosuid,nodev');
  if (!o.ro && !p.writable) add(`volume-writable:${what}`, field, opts.o ?? '', 'SD-MNT-003', 'ro (the path is not in allow.writablePaths)');
}

export function mounts(body: CreateBody, ctx: InvariantContext, add: Add): void {
  const hc = body.HostConfig ?? {};
  for (const b of hc.Binds ?? []) {
    const parts = b.split(':');
    const src = parts.length > 1 ? (parts[0] ?? '') : '';
    if (src === '') continue; // an anonymous volume
    if (src.startsWith('/') || src.startsWith('.')) {
      add(`bind:${src}`, 'HostConfig.Binds', b, 'SD-MNT-003', 'a bind made a read-only nosuid,nodev volume');
      continue;
    }
    const v = ctx.namedVolumes?.[src];
    if (v) volumeOptionDifferences(src, 'HostConfig.Binds', v.Driver, v.Options, ctx, add);
  }
  if (hc.VolumeDriver && hc.VolumeDriver !== 'local') add('volume-driver', 'HostConfig.VolumeDriver', hc.VolumeDriver, 'SD-MNT-003', 'the local volume driver');
  for (const m of hc.Mounts ?? []) mountSpec(m, ctx, add);
  for (const [path, raw] of Object.entries(hc.Tmpfs ?? {})) {
    // The engine mounts a --tmpfs noexec,nosuid,nodev and appends the request's options: the last wins.
    const f = mountFlags(csv(raw), ['nosuid', 'nodev']);
    if (!f.nosuid || !f.nodev) add(`tmpfs:${path}`, `HostConfig.Tmpfs`, `${path}:${raw}`, 'SD-MNT-005', 'nosuid,nodev');
  }
  if ((hc.VolumesFrom ?? []).length > 0 && !ctx.allow.volumesFrom) add('volumes-from', 'HostConfig.VolumesFrom', hc.VolumesFrom, 'SD-MNT-004');
}

function mountSpec(m: MountSpec, ctx: InvariantContext, add: Add): void {
  if (m.Type === 'bind') {
    if (!m.Source) return; // the engine refuses a bind without a source
    const bad = fileBindProblem(m.Source, !!m.ReadOnly, ctx);
    if (bad) add(`bind:${m.Source}`, 'HostConfig.Mounts', m.Source, bad.rule, bad.expected);
  } else if (m.Type === 'volume') {
    const dc = m.VolumeOptions?.DriverConfig;
    if (dc?.Options && Object.keys(dc.Options).length > 0) {
      volumeOptionDifferences(m.Target, 'HostConfig.Mounts', dc.Name, dc.Options, ctx, add);
    } else if (dc?.Name && dc.Name !== 'local') {
      add(`volume-driver:${m.Target}`, 'HostConfig.Mounts', dc.Name, 'SD-MNT-003', 'the local volume driver');
    } else if (m.Source) {
      const v = ctx.namedVolumes?.[m.Source];
      if (v) volumeOptionDifferences(m.Source, 'HostConfig.Mounts', v.Driver, v.Options, ctx, add);
    }
  } else if (m.Type !== 'tmpfs') {
    add(`mount-type:${m.Type}`, 'HostConfig.Mounts', m.Type, 'SD-MNT-003', 'volume or tmpfs');
  }
}
