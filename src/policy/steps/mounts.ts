/**
 * Binds, --mount and volumes (SD-MNT-*): host paths judged as the engine will resolve them, binds
 * turned into sdocker's bind volumes, and a restart policy with binds (SD-MNT-008).
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import type { MountSpec } from '../../api/types.js';
import { RULES, type RuleId } from '../rules.js';
import { fact, isUnder, normalizeHostPath, parseBind, sensitiveKind, spellings, underAllowed } from '../paths.js';
import { classifyVolume } from '../volumes.js';
import type { Reasoned } from '../types.js';
import type { Ctx } from '../context.js';
import { links, volumesFrom } from './joins.js';
import { rootfs, tmpfs } from './tmpfs-rootfs.js';

/** A host path's sensitive verdict, looking at every spelling. Returns true when it may be mounted. */
function checkHostPath(c: Ctx, raw: string, field: string, flag: string, how: string): { ok: boolean; writableAllowed: boolean; allowed: boolean } {
  const sp = spellings(raw, c.input.hostPaths);
  let ok = true;
  let writableAllowed = false;
  let allowed = false;
  for (const p of sp) {
    const s = sensitiveKind(p, c.input.engine);
    if (!s) continue;
    const allowance = (c.allow.hostPaths ?? []).find((a) => sp.some((q) => isUnder(q, normalizeHostPath(a.path))));
    const rule: RuleId = s.kind === 'socket' ? 'SD-MNT-001' : 'SD-MNT-002';
    const why = p === normalizeHostPath(raw)
      ? (s.matched === p ? undefined : `${p} ${isUnder(p, s.matched) ? 'is under' : 'contains'} ${s.matched}`)
      : `${raw} resolves to ${p}${s.matched === p ? '' : `, ${isUnder(p, s.matched) ? 'under' : 'which contains'} ${s.matched}`}`;
    ok = c.check(rule, field, raw, raw, allowance, { flag, allowSubject: p, why: [why, how.trim().replace(/^\((.*)\)$/, '$1')].filter(Boolean).join('; ') || undefined, denialKey: 'hostPaths', denialValue: raw });
    // Writable only when the REAL path is inside the allowed one (a symlink under it is judged by its target).
    if (allowance?.writable && underAllowed(realOf(c, raw), allowance.path, c.input.hostPaths)) writableAllowed = true;
    allowed = !!allowance;
    break;
  }
  return { ok, writableAllowed, allowed };
}

/** The path the engine will mount: the resolver's real path (the lexical one when unresolved). */
function realOf(c: Ctx, raw: string): string {
  return normalizeHostPath(fact(raw, c.input.hostPaths)?.realPath ?? raw);
}

function writableListed(c: Ctx, raw: string): Reasoned | undefined {
  if (c.allow.writableBinds) return c.allow.writableBinds;
  const real = realOf(c, raw);
  return (c.allow.writablePaths ?? []).find((a) => underAllowed(real, a.path, c.input.hostPaths));
}

/**
 * Replace a bind by an anonymous local volume with o=bind,nosuid,nodev[,ro] of the source's REAL
 * path (the engine resolves the device again at start: sdocker rechecks it then, see
 * src/cli/bind-guard.ts). Anonymous, so the engine removes it with the container (--rm, docker
 * rm -v) and a detached run leaves nothing. A regular file becomes a plain bind of its real path
 * (the local driver cannot bind a file), read-only unless listed writable.
 */
function bindToVolume(c: Ctx, raw: string, target: string, requestedRo: boolean, field: string, flag: string, createHostPath: boolean, how = ''): MountSpec | undefined {
  const check = checkHostPath(c, raw, field, flag, `${how}${how ? '; ' : ''}mounted at ${target}`);
  if (!check.ok) return undefined;
  const f = fact(raw, c.input.hostPaths);
  const device = normalizeHostPath(f?.realPath ?? raw);
  // A socket or device node only where the profile names it (hostPaths): then a plain bind.
  const special = !!f?.exists && !f.isDirectory && !f.isFile;
  const named = special && !check.allowed ? (c.allow.hostPaths ?? []).find((a) => underAllowed(device, a.path, c.input.hostPaths)) : undefined;
  if (named) c.allowances.push({ rule: 'SD-MNT-007', subject: raw, reason: named.reason, source: named.source ?? 'profile' });
  if (f?.exists && ((special && !check.allowed && !named) || f.setid)) {
    const what = f.setid ? 'a setuid or setgid file' : 'neither a directory nor a regular file (a device node, socket or fifo)';
    const ok = c.check('SD-MNT-007', field, raw, raw, undefined, { flag, why: `${device} is ${what}` });
    const last = c.violations.at(-1);
    if (special && last?.rule === 'SD-MNT-007') last.allowWith = RULES['SD-MNT-002'].allow(device);
    if (!ok) return undefined;
  }
  let ro = requestedRo;
  if (!ro) {
    const listed = writableListed(c, raw);
    if (listed || check.writableAllowed || named?.writable) {
      if (listed && listed !== c.allow.writableBinds) c.allowances.push({ rule: 'SD-MNT-003', subject: raw, reason: listed.reason, source: listed.source ?? 'profile' });
    } else {
      ro = true;
    }
  }
  const roWhy = !requestedRo && ro ? '; writable only where the profile lists the path (allow.writablePaths)' : '';
  if (f?.isFile || special) {
    c.change(field, raw, `bind of the ${special ? 'special ' : ''}file ${device}${ro ? ' (read-only)' : ''}`, 'SD-MNT-003',
      `a single file is bound as docker binds it (the local driver binds directories only), by its real path${roWhy}`);
    return { Type: 'bind', Source: device, Target: target, ...(ro ? { ReadOnly: true } : {}) };
  }
  const o = `bind,nosuid,nodev${ro ? ',ro' : ''}`;
  if (createHostPath && f && !f.exists) c.createDirs.push(device);
  c.change(field, raw, `anonymous local volume (${o}, device=${device})`, 'SD-MNT-003', `${RULES['SD-MNT-003'].why}${roWhy}`);
  // ReadOnly stays unset: runc would remount the bind `ro` and that remount clears nosuid,nodev
  // (measured on this engine). The volume's own `ro` keeps it read-only: a bind copies the flags.
  return {
    Type: 'volume',
    Target: target,
    VolumeOptions: { NoCopy: true, Labels: { 'io.sdocker.bind': device }, DriverConfig: { Name: 'local', Options: { type: 'none', o, device } } },
  };
}

interface VolumeUse {
  /** How the messages name it: `volume NAME`, `the volume at /target`. */
  subject: string;
  driver: string | undefined;
  opts: Record<string, string> | null | undefined;
  target: string;
  ro: boolean;
  field: string;
  flag: string;
}

/**
 * A volume judged by what the engine will mount (classifyVolume): 'keep' the mount as it is, a
 * replacement (a bind becomes sdocker's bind volume), or undefined (refused).
 */
function judgeVolume(c: Ctx, v: VolumeUse): MountSpec | 'keep' | undefined {
  const k = classifyVolume(v.driver, v.opts);
  const keep = (ok: boolean) => (ok ? 'keep' as const : undefined);
  switch (k.kind) {
    case 'plain': {
      // Options that mount nothing (o=bind alone, nocopy ...) are still options nobody checked: fail closed.
      const given = Object.keys(v.opts ?? {});
      if (given.length === 0) return 'keep';
      return keep(c.check('SD-MNT-006', v.field, v.opts, 'type none', (c.allow.volumeOptions ?? []).find((a) => a.type.toLowerCase() === 'none'),
        { flag: v.flag, why: `${v.subject} carries driver options (${given.join(', ')}) that sdocker cannot classify`, denialKey: 'volumeOptions', denialValue: 'none' }));
    }
    case 'driver':
      return keep(c.check('SD-MNT-006', v.field, k.driver, `driver ${k.driver}`, (c.allow.volumeDrivers ?? []).find((a) => a.name === k.driver),
        { flag: v.flag, why: `${v.subject} uses the volume driver ${k.driver}`, denialKey: 'volumeDrivers', denialValue: k.driver }));
    case 'relative': {
      const ok = c.check('SD-MNT-006', v.field, k.device, `device=${k.device}`, undefined,
        { flag: v.flag, why: `${v.subject}: device=${k.device} is relative, and the engine resolves it against its own working directory` });
      const last = c.violations.at(-1);
      if (last?.rule === 'SD-MNT-006') last.allowWith = []; // no profile makes an unknowable path known
      return keep(ok);
    }
    case 'bind':
      return bindToVolume(c, k.device, v.target, v.ro, v.field, v.flag, false, `${v.subject} is a bind of ${k.device}`);
    case 'kernel':
      return keep(checkHostPath(c, k.path, v.field, v.flag, `${v.subject} is type=${k.type}: the engine mounts the host's own ${k.path}`).ok);
    case 'options': {
      let ok = c.check('SD-MNT-006', v.field, v.opts, `type ${k.type}`, (c.allow.volumeOptions ?? []).find((a) => a.type.toLowerCase() === k.type),
        { flag: v.flag, why: `${v.subject} is a local volume of type=${k.type}`, denialKey: 'volumeOptions', denialValue: k.type });
      if (k.device) ok = checkHostPath(c, k.device, v.field, v.flag, `${v.subject} mounts device=${k.device}`).ok && ok;
      return keep(ok);
    }
  }
}

export function mounts(c: Ctx): void {
  const hc = c.hc;
  const added: MountSpec[] = [];
  // --volume-driver: the driver of every volume the engine creates for -v and the image's VOLUMEs.
  if (hc.VolumeDriver && hc.VolumeDriver !== 'local') {
    const d = hc.VolumeDriver;
    if (!c.check('SD-MNT-006', 'HostConfig.VolumeDriver', d, `driver ${d}`, (c.allow.volumeDrivers ?? []).find((a) => a.name === d),
      { flag: '--volume-driver', denialKey: 'volumeDrivers', denialValue: d })) {
      c.change('HostConfig.VolumeDriver', d, '', 'SD-MNT-006');
      hc.VolumeDriver = '';
    }
  }
  // HostConfig.Binds (-v / --volume)
  if (hc.Binds) {
    const kept: string[] = [];
    for (const b of hc.Binds) {
      const p = parseBind(b);
      const ro = p.options.includes('ro');
      // An existing named volume is what the engine mounts, whatever the request says.
      const named = p.isHostPath ? undefined : c.input.namedVolumes?.[p.source];
      const m = p.isHostPath
        ? bindToVolume(c, p.source, p.target, ro, 'HostConfig.Binds', '--volume', true)
        : named
          ? judgeVolume(c, { subject: `volume ${p.source}`, driver: named.Driver, opts: named.Options, target: p.target, ro, field: 'HostConfig.Binds', flag: '--volume' })
          : 'keep';
      if (m === 'keep') kept.push(b);
      else if (m) added.push(m);
      else if (c.input.mode !== 'enforce') kept.push(b);
    }
    hc.Binds = kept.length > 0 ? kept : null;
  }
  // HostConfig.Mounts (--mount)
  if (hc.Mounts) {
    const kept: MountSpec[] = [];
    for (const m of hc.Mounts) {
      let r: MountSpec | 'keep' | undefined = 'keep';
      if (m.Type === 'bind' && m.Source) {
        r = bindToVolume(c, m.Source, m.Target, !!m.ReadOnly, 'HostConfig.Mounts', '--mount', !!m.BindOptions?.CreateMountpoint);
      } else if (m.Type === 'volume') {
        const named = m.Source ? c.input.namedVolumes?.[m.Source] : undefined;
        const dc = m.VolumeOptions?.DriverConfig;
        const use = { subject: m.Source ? `volume ${m.Source}` : `the volume at ${m.Target}`, target: m.Target, ro: !!m.ReadOnly, field: 'HostConfig.Mounts', flag: '--mount' };
        // A volume that exists is mounted as it is (the request's volume-opt are ignored); one that
        // does not is created with the request's driver and options.
        r = judgeVolume(c, named ? { ...use, driver: named.Driver, opts: named.Options } : { ...use, driver: dc?.Name, opts: dc?.Options });
        if (named && r === 'keep' && dc && (Object.keys(dc.Options ?? {}).length > 0 || (dc.Name ?? '') !== '')) {
          // An existing volume is mounted as it is: the request's volume-driver and volume-opt are
          // not carried on (the engine ignores or refuses them; the policy judged the real volume).
          c.change('HostConfig.Mounts', dc, null, 'SD-MNT-006', `volume ${m.Source} exists: the engine mounts it as it is (driver ${named.Driver}); the request's volume-driver and volume-opt are dropped`);
          r = { ...m, VolumeOptions: { ...m.VolumeOptions } };
          delete r.VolumeOptions!.DriverConfig;
        }
      }
      if (r === 'keep') kept.push(m);
      else if (r) added.push(r);
      else if (c.input.mode !== 'enforce') kept.push(m);
    }
    hc.Mounts = kept;
  }
  if (added.length) hc.Mounts = [...(hc.Mounts ?? []), ...added];
  restartWithBinds(c);
  volumesFrom(c);
  links(c);
  tmpfs(c);
  rootfs(c);
}

/** --volumes-from X: X's mounts become this container's; judged as a join of X (SD-MNT-004). */
/** A restart policy and host binds: the engine re-resolves the bind's path at every restart, without sdocker. */
function restartWithBinds(c: Ctx): void {
  const policy = c.hc.RestartPolicy?.Name ?? '';
  if (policy === '' || policy === 'no') return;
  const binds = (c.hc.Mounts ?? []).filter((m) => m.Type === 'bind' || m.VolumeOptions?.Labels?.['io.sdocker.bind'] !== undefined);
  // --volumes-from brings the other container's bind volumes, mounted again at every restart too.
  const from = c.hc.VolumesFrom ?? [];
  if (binds.length === 0 && from.length === 0 && (c.hc.Binds ?? []).every((b) => !parseBind(b).isHostPath)) return;
  const what = [...binds.map((m) => m.VolumeOptions?.Labels?.['io.sdocker.bind'] ?? m.Source), ...from.map((f) => `the mounts of ${f}`)];
  if (!c.check('SD-MNT-008', 'HostConfig.RestartPolicy', policy, `--restart ${policy}`, c.allow.restartWithBinds,
    { why: `the container binds ${what.join(', ') || 'a host path'}`, denialKey: 'restartWithBinds' })) {
    c.change('HostConfig.RestartPolicy', c.hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 }, 'SD-MNT-008');
    c.hc.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
  }
}
