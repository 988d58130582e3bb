/**
 * The engine's view of a created container against what the policy decided. Pure: the shell
 * (src/cli/verify-created.ts) reads GET /containers/{id}/json and GET /volumes/{name} and hands
 * them in. Two judgements: the invariants (invariants.ts) on the engine's own Config + HostConfig
 * and on its mounts with their real sources, and field by field, the created container against the
 * decided body (the engine fills some defaults; those are told apart from a changed request).
 */
import type { ContainerInspect, CreateBody, HostConfig, InspectMount, MountSpec } from '../api/types.js';

export type { ContainerInspect, InspectMount };
import { bodyInvariants, type Difference, type InvariantContext } from './invariants.js';
import { fileBindProblem, norm, volumeOptionDifferences } from './invariants-mounts.js';
import type { RuleId } from './rules.js';


/** GET /volumes/{name}, keyed by name. */
export type VolumeInspects = Record<string, { Driver: string; Options?: Record<string, string> | null; Labels?: Record<string, string> | null }>;

export interface CreatedOptions {
  /** Judge the invariants too (enforce mode); else only what differs from the decision. */
  invariants: boolean;
  /** The image's USER as the policy read it. */
  imageUser?: string;
  /** The id of the image the policy judged. */
  imageId?: string;
  /**
   * For each `container:<ref>` the decision names, the full id of that container as the engine
   * resolves the reference now (GET /containers/<ref>/json, by the shell): the engine stores a
   * join as `container:<id>`. A reference missing here is compared as written.
   */
  joinIds?: Record<string, string>;
}

const NAME_DIFFS = /^(user-name|group-name|group-add-name:.*)$/;

/**
 * What differs between the created container and the policy: invariant breaches (`invariants`:
 * in enforce mode; warn mode lets known violations through, so only the comparison runs) and
 * every field the engine holds other than decided.
 */
export function createdDifferences(
  inspect: ContainerInspect,
  volumes: VolumeInspects,
  decided: CreateBody,
  ctx: InvariantContext,
  opts: CreatedOptions,
): Difference[] {
  const out: Difference[] = [];
  // The users, groups and VOLUMEs were judged on this image: a tag moved between the image's
  // inspect and the create gives a container of another image.
  if (opts.imageId && inspect.Image && inspect.Image !== opts.imageId) {
    out.push({ name: 'image', field: 'Image', found: inspect.Image, expected: `the image the policy judged (${opts.imageId})` });
  }
  const c = inspect.HostConfig ?? {};
  const d = decided.HostConfig ?? {};
  if (opts.invariants) {
    const view: CreateBody = { ...inspect.Config, HostConfig: c };
    // The engine merged the image's USER into Config.User: empty is root. Volumes: judged from the
    // engine's list of what it mounted (realMounts), named or not.
    const viewCtx: InvariantContext = { ...ctx, imageUser: '' };
    delete viewCtx.namedVolumes;
    for (const diff of bodyInvariants(view, viewCtx)) {
      // A name is resolved from the image's files before start (run-policy.ts checkIdentity) when it is the one decided.
      if (NAME_DIFFS.test(diff.name) && sameNames(inspect, decided, opts.imageUser)) continue;
      out.push(diff);
    }
    realMounts(inspect, volumes, decided, ctx, out, inheritedOk(decided, ctx));
  }
  compare(inspect, decided, c, d, out, opts.joinIds ?? {});
  sdockerVolumes(inspect, volumes, d, out);
  const seen = new Set<string>();
  return out.filter((x) => !seen.has(x.name) && !!seen.add(x.name));
}

/** The user and groups are the ones decided: the body's User, else the image's USER as the policy read it. */
function sameNames(inspect: ContainerInspect, decided: CreateBody, imageUser: string | undefined): boolean {
  const want = decided.User || imageUser;
  return want !== undefined && (inspect.Config.User ?? '') === want && sameSet(inspect.HostConfig.GroupAdd, decided.HostConfig.GroupAdd);
}

function sameSet(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
  const x = [...new Set(a ?? [])].sort();
  const y = [...new Set(b ?? [])].sort();
  return JSON.stringify(x) === JSON.stringify(y);
}

function diff(out: Difference[], field: string, found: unknown, decided: unknown, rule?: RuleId): void {
  out.push({ name: `differs:${field}`, field, found, expected: `as decided: ${JSON.stringify(decided ?? null)}`, ...(rule ? { rule } : {}) });
}

const NS_FIELDS: { field: keyof HostConfig; rule: RuleId }[] = [
  { field: 'PidMode', rule: 'SD-NS-001' }, { field: 'IpcMode', rule: 'SD-NS-002' }, { field: 'UTSMode', rule: 'SD-NS-003' },
  { field: 'NetworkMode', rule: 'SD-NS-004' }, { field: 'UsernsMode', rule: 'SD-NS-005' }, { field: 'CgroupnsMode', rule: 'SD-NS-006' },
];

/** A number the engine stores as sent; an unset one reads back as 0 or null. */
function num(v: number | null | undefined): number {
  return v ?? 0;
}

function mountKey(m: MountSpec): string {
  const o = m.VolumeOptions?.DriverConfig?.Options ?? {};
  const opts = Object.keys(o).sort().map((k) => `${k}=${o[k]}`).join(',');
  return JSON.stringify([m.Type, m.Source ?? '', m.Target, !!m.ReadOnly, m.VolumeOptions?.DriverConfig?.Name ?? '', opts, m.BindOptions?.Propagation ?? '']);
}

/**
 * The created namespace mode is the decided one: the same text, or the join the decision named,
 * which the engine stores by the joined container's full id. Decided empty: the engine fills its
 * default (private, shareable, default), never host or a join.
 */
function sameMode(cv: string, dv: string, joinIds: Record<string, string>): boolean {
  if (!dv) return cv !== 'host' && !cv.startsWith('container:');
  if (cv === dv) return true;
  const id = dv.startsWith('container:') ? joinIds[dv.slice('container:'.length)] : undefined;
  return !!id && cv === `container:${id}`;
}

function compare(inspect: ContainerInspect, decided: CreateBody, c: HostConfig, d: HostConfig, out: Difference[], joinIds: Record<string, string>): void {
  if (!!c.Privileged !== !!d.Privileged) diff(out, 'HostConfig.Privileged', !!c.Privileged, !!d.Privileged, 'SD-PRIV-001');
  if (!!c.ReadonlyRootfs !== !!d.ReadonlyRootfs) diff(out, 'HostConfig.ReadonlyRootfs', !!c.ReadonlyRootfs, !!d.ReadonlyRootfs, 'SD-ROOTFS-001');
  if (decided.User && inspect.Config.User !== decided.User) diff(out, 'User', inspect.Config.User, decided.User, 'SD-USER-001');
  const sets: { field: keyof HostConfig; rule?: RuleId }[] = [
    { field: 'GroupAdd', rule: 'SD-USER-002' }, { field: 'CapAdd', rule: 'SD-CAP-001' }, { field: 'CapDrop', rule: 'SD-CAP-001' },
    { field: 'Binds', rule: 'SD-MNT-003' }, { field: 'VolumesFrom', rule: 'SD-MNT-004' },
    { field: 'DeviceCgroupRules', rule: 'SD-DEV-002' },
  ];
  for (const { field, rule } of sets) {
    if (!sameSet(c[field] as string[] | null, d[field] as string[] | null)) diff(out, `HostConfig.${field}`, c[field] ?? null, d[field], rule);
  }
  const secOpt = engineLabels(c, d);
  if (!sameSet(secOpt, d.SecurityOpt)) diff(out, 'HostConfig.SecurityOpt', secOpt, d.SecurityOpt);
  for (const { field, rule } of NS_FIELDS) {
    const cv = (c[field] as string | undefined) ?? '';
    const dv = (d[field] as string | undefined) ?? '';
    if (!sameMode(cv, dv, joinIds)) diff(out, `HostConfig.${field}`, cv, dv, rule);
  }
  const devs = (h: HostConfig) => (h.Devices ?? []).map((x) => `${x.PathOnHost}:${x.PathInContainer}:${x.CgroupPermissions}`);
  if (!sameSet(devs(c), devs(d))) diff(out, 'HostConfig.Devices', devs(c), devs(d), 'SD-DEV-001');
  if ((c.DeviceRequests ?? []).length !== (d.DeviceRequests ?? []).length) diff(out, 'HostConfig.DeviceRequests', c.DeviceRequests, d.DeviceRequests, 'SD-DEV-003');
  const nums: { field: keyof HostConfig; rule?: RuleId }[] = [
    { field: 'Memory', rule: 'SD-RES-001' }, { field: 'PidsLimit', rule: 'SD-RES-002' }, { field: 'NanoCpus', rule: 'SD-RES-005' },
    { field: 'CpuQuota', rule: 'SD-RES-005' }, { field: 'CpuPeriod', rule: 'SD-RES-005' },
  ];
  for (const { field, rule } of nums) if (num(c[field] as number) !== num(d[field] as number)) diff(out, `HostConfig.${field}`, c[field], d[field], rule);
  if (!!c.OomKillDisable !== !!d.OomKillDisable) diff(out, 'HostConfig.OomKillDisable', !!c.OomKillDisable, !!d.OomKillDisable, 'SD-RES-003');
  if ((c.CgroupParent ?? '') !== (d.CgroupParent ?? '')) diff(out, 'HostConfig.CgroupParent', c.CgroupParent, d.CgroupParent, 'SD-RES-004');
  if (d.Runtime && c.Runtime !== d.Runtime) diff(out, 'HostConfig.Runtime', c.Runtime, d.Runtime, 'SD-RUNTIME-001');
  if (d.LogConfig?.Type && c.LogConfig?.Type !== d.LogConfig.Type) diff(out, 'HostConfig.LogConfig.Type', c.LogConfig?.Type, d.LogConfig.Type, 'SD-LOG-001');
  for (const [k, v] of Object.entries(d.LogConfig?.Config ?? {})) {
    if (c.LogConfig?.Config?.[k] !== v) diff(out, `HostConfig.LogConfig.Config.${k}`, c.LogConfig?.Config?.[k], v, 'SD-LOG-001');
  }
  const mounts = (h: HostConfig) => (h.Mounts ?? []).map(mountKey);
  if (!sameSet(mounts(c), mounts(d))) diff(out, 'HostConfig.Mounts', c.Mounts ?? null, d.Mounts, 'SD-MNT-003');
  if (JSON.stringify(sorted(c.Tmpfs)) !== JSON.stringify(sorted(d.Tmpfs))) diff(out, 'HostConfig.Tmpfs', c.Tmpfs, d.Tmpfs, 'SD-TMPFS-001');
  if (JSON.stringify(sorted(c.Sysctls)) !== JSON.stringify(sorted(d.Sysctls))) diff(out, 'HostConfig.Sysctls', c.Sysctls, d.Sysctls, 'SD-SYSCTL-001');
  for (const f of ['MaskedPaths', 'ReadonlyPaths'] as const) {
    if (d[f] && !sameSet(c[f], d[f])) diff(out, `HostConfig.${f}`, c[f], d[f], 'SD-PATHS-001');
  }
  // sdocker's own labels: only those it set (an image's LABEL io.sdocker.x is merged into the container's).
  const own = (l: Record<string, string> | undefined) => Object.entries(l ?? {}).filter(([k]) => k.startsWith('io.sdocker.')).map(([k, v]) => `${k}=${v}`);
  const extra = own(inspect.Config.Labels).filter((l) => !own(decided.Labels).includes(l));
  for (const l of extra) out.push({ name: `label:${l.split('=')[0]}`, field: 'Labels', found: l, expected: 'no io.sdocker.* label but sdocker\'s own' });
}

/**
 * The created SecurityOpt without the labels the engine adds by itself (generateSecurityOpt): when
 * no label was sent, `label=disable` for a privileged container or one in the host's pid or ipc
 * namespace, and the joined container's labels for a `container:` pid or ipc (with SELinux).
 */
function engineLabels(c: HostConfig, d: HostConfig): string[] {
  const sent = d.SecurityOpt ?? [];
  const cause = !!c.Privileged || [c.PidMode, c.IpcMode].some((m) => m === 'host' || (m ?? '').startsWith('container:'));
  if (!cause || sent.some((o) => o.split('=')[0] === 'label')) return c.SecurityOpt ?? [];
  return (c.SecurityOpt ?? []).filter((o) => sent.includes(o) || !o.startsWith('label='));
}

function sorted(m: Record<string, string> | undefined): [string, string][] {
  return Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The mounts the engine really made: binds with their sources, volumes with their driver options.
 * A plain bind only as the decision made it for a single file (same real source, target and
 * read-only), and only of a file that is still a plain one (fileBindProblem).
 */
function realMounts(inspect: ContainerInspect, volumes: VolumeInspects, decided: CreateBody, ctx: InvariantContext, out: Difference[], inherited: (dest: string) => boolean): void {
  const add = (name: string, field: string, found: unknown, rule?: RuleId, expected?: string) =>
    out.push({ name, field, found, ...(rule ? { rule } : {}), ...(expected ? { expected } : {}) });
  for (const m of inspect.Mounts ?? []) {
    if (inherited(m.Destination)) continue;
    if (m.Type === 'bind') {
      const ro = m.RW === false;
      const asDecided = (decided.HostConfig?.Mounts ?? []).some((x) => x.Type === 'bind' && x.Source === m.Source && norm(x.Target) === norm(m.Destination) && !!x.ReadOnly === ro);
      const bad = asDecided ? fileBindProblem(m.Source, ro, ctx) : { rule: 'SD-MNT-003' as const, expected: 'a bind made a read-only nosuid,nodev volume' };
      if (bad) add(`mount-bind:${m.Source}`, 'Mounts', `${m.Source}:${m.Destination}`, bad.rule, bad.expected);
    } else if (m.Type === 'volume') {
      const v = m.Name ? volumes[m.Name] : undefined;
      if (!v) add(`mount-volume:${m.Destination}`, 'Mounts', m.Name ?? '', undefined, 'a volume the engine can show');
      else volumeOptionDifferences(m.Destination, 'Mounts', v.Driver, v.Options, ctx, add);
    } else if (m.Type !== 'tmpfs') {
      add(`mount-type:${m.Destination}`, 'Mounts', m.Type, 'SD-MNT-003', 'volume or tmpfs');
    }
  }
}

/**
 * With `--volumes-from` allowed (allow.volumesFrom: "copies another container's mounts, including
 * binds sdocker cannot check"), the mounts at paths the decided body does not mount itself are the
 * other container's: not judged here.
 */
function inheritedOk(decided: CreateBody, ctx: InvariantContext): (dest: string) => boolean {
  const d = decided.HostConfig ?? {};
  if (!ctx.allow.volumesFrom || (d.VolumesFrom ?? []).length === 0) return () => false;
  const own = new Set<string>([
    ...(d.Binds ?? []).map((b) => b.split(':')[1] ?? b),
    ...(d.Mounts ?? []).map((m) => m.Target),
    ...Object.keys(d.Tmpfs ?? {}),
    ...Object.keys(decided.Volumes ?? {}),
  ].map((t) => t.replace(/\/+$/, '') || '/'));
  return (dest) => !own.has(dest.replace(/\/+$/, '') || '/');
}

/** A volume with driver options must be one sdocker made for this container, with the options it decided. */
function sdockerVolumes(inspect: ContainerInspect, volumes: VolumeInspects, d: HostConfig, out: Difference[]): void {
  const decidedAt = new Map<string, Record<string, string>>();
  for (const m of d.Mounts ?? []) {
    const o = m.VolumeOptions?.DriverConfig?.Options;
    if (m.Type === 'volume' && o && Object.keys(o).length > 0) decidedAt.set(m.Target, o);
  }
  for (const m of inspect.Mounts ?? []) {
    if (m.Type !== 'volume' || !m.Name) continue;
    const opts = volumes[m.Name]?.Options ?? null;
    const want = decidedAt.get(m.Destination);
    if (!want) continue; // a named or anonymous volume: judged by its options in realMounts
    const same = !!opts && Object.keys(want).length === Object.keys(opts).length && Object.entries(want).every(([k, v]) => opts[k] === v);
    if (!same) out.push({ name: `volume-options:${m.Destination}`, field: 'Mounts', found: opts, expected: `as decided: ${JSON.stringify(want)}`, rule: 'SD-MNT-003' });
  }
}
