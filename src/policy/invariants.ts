/**
 * The policy's invariants, judged on a container as the engine will run it: a create body, or the
 * engine's own view of a created container (GET /containers/{id}/json, Config + HostConfig). Pure.
 *
 * Written apart from apply.ts on purpose: it shares no judgement with the code that builds the
 * request (only the id parser of ids.ts and the sensitive-path data of paths.ts), and reads each
 * value the way the engine and runc read it (last option wins, Go's ParseBool and Atoi, `k=v` or
 * the old `k:v`). It is the net under the policy: what it finds, the policy missed.
 */
import { isLoopbackHostIp } from './loopback.js';
import { capName } from '../api/capabilities.js';
import type { CreateBody, HostConfig } from '../api/types.js';
import { goAtoi, parseUserSpec } from './ids.js';
import { LEVEL_DEVICES } from './devices.js';
import { mounts, norm, pathsOf } from './invariants-mounts.js';
import type { RuleId } from './rules.js';
import type {
  AllowSpec, EffectiveProfile, EngineFacts, HostNamespace, HostPaths, JoinedContainers, LevelName, NamedVolumes,
} from './types.js';

/** One way a container breaks the policy: a stable name, the field, what was found, the rule it maps to. */
export interface Difference {
  /** Stable and specific (`cap-add:SYS_ADMIN`, `ns-host:pid`): warn mode tells known ones from new ones by it. */
  name: string;
  field: string;
  found: unknown;
  rule?: RuleId;
  /** What was expected instead, in words. */
  expected?: string;
}

export interface InvariantContext {
  level: LevelName;
  /** The effective profile's allowances (the level's, the project's, under the floor). */
  allow: AllowSpec;
  /** The engine remaps users (root may then be allowed by allow.root). */
  usernsRemap: boolean;
  /** The profile sets a CPU limit by default (defaults.nanoCpus > 0). */
  cpuLimit: boolean;
  /**
   * The image's USER, for a body whose User is empty; undefined when not known. An inspected
   * container's Config.User already holds it (pass '').
   */
  imageUser?: string;
  /** Real paths of host paths, keyed as they appear (bind sources, devices, volume devices). */
  hostPaths?: HostPaths;
  /** Named volumes a body mounts, as the engine reports them. */
  namedVolumes?: NamedVolumes;
  /** Containers named by `container:<ref>` joins (and the ones they join). */
  containers?: JoinedContainers;
  /** The engine socket(s) and DockerRootDir: never mounted. */
  socketPaths?: string[];
  dockerRootDir?: string;
}

export { mountFlags, volumeOptionDifferences } from './invariants-mounts.js';

/** The context of a profile and an engine (host paths, volumes, image user to be added by the caller). */
export function contextOf(profile: EffectiveProfile, engine: EngineFacts): InvariantContext {
  const ctx: InvariantContext = {
    level: profile.level, allow: profile.allow, usernsRemap: engine.usernsRemap, cpuLimit: profile.defaults.nanoCpus > 0,
  };
  if (engine.socketPaths) ctx.socketPaths = engine.socketPaths;
  if (engine.dockerRootDir) ctx.dockerRootDir = engine.dockerRootDir;
  return ctx;
}

/** Devices that expose nothing of the host at a level (the level's list, data shared with the policy); any other needs allow.devices. */
export function harmlessDevices(level: LevelName): readonly string[] {
  return LEVEL_DEVICES[level].map((d) => d.path);
}

const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** SecurityOpt as the engine's parseSecurityOpt reads it: what it ends up with. */
export function securityOf(opts: readonly string[] | null | undefined): {
  nnp: boolean; seccomp?: string; apparmor?: string; labels: string[]; systempaths?: string; unknown: string[];
} {
  const out: ReturnType<typeof securityOf> = { nnp: false, labels: [], unknown: [] };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.nnp = true;
      continue;
    }
    if (opt === 'disable') {
      out.labels.push('disable');
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    const at = sep ? opt.indexOf(sep) : -1;
    const [k, v] = at < 0 ? [opt, ''] : [opt.slice(0, at), opt.slice(at + 1)];
    if (k === 'label') out.labels.push(v);
    else if (k === 'apparmor') out.apparmor = v;
    else if (k === 'seccomp') out.seccomp = v;
    else if (k === 'systempaths') out.systempaths = v;
    else if (k === 'no-new-privileges' && GO_TRUE.has(v)) out.nnp = true;
    else if (k === 'no-new-privileges' && GO_FALSE.has(v)) out.nnp = false;
    else out.unknown.push(opt); // the engine refuses it: nothing to judge, but nothing to trust either
  }
  return out;
}

/** Root may run: allow.root, and either the engine remaps users or the allowance says it need not. */
export function rootAllowedBy(ctx: InvariantContext): boolean {
  const r = ctx.allow.root;
  return !!r && (ctx.usernsRemap || !!r.withoutUsernsRemap);
}

/**
 * The invariants a create body (or a created container's Config + HostConfig) must satisfy under
 * `ctx`: each difference found. Empty: the container is one the policy allows.
 */
export function bodyInvariants(body: CreateBody, ctx: InvariantContext): Difference[] {
  const out: Difference[] = [];
  const hc: HostConfig = body.HostConfig ?? {};
  const a = ctx.allow;
  const add = (name: string, field: string, found: unknown, rule?: RuleId, expected?: string) =>
    out.push({ name, field, found, ...(rule ? { rule } : {}), ...(expected ? { expected } : {}) });

  if (hc.Privileged && !a.privileged) add('privileged', 'HostConfig.Privileged', true, 'SD-PRIV-001', 'false');

  // capabilities
  const capsOk = new Set((a.capabilities ?? []).map((c) => capName(c.name)));
  for (const c of hc.CapAdd ?? []) {
    if (!capsOk.has('ALL') && !capsOk.has(capName(c))) add(`cap-add:${capName(c)}`, 'HostConfig.CapAdd', c, 'SD-CAP-001', `only ${[...capsOk].join(', ') || 'none'}`);
  }
  if (!a.defaultCapabilities && !(hc.CapDrop ?? []).some((c) => capName(c) === 'ALL')) add('cap-drop-all', 'HostConfig.CapDrop', hc.CapDrop ?? null, 'SD-CAP-001', 'ALL');

  users(body, ctx, add);

  if (!hc.ReadonlyRootfs && !a.writableRootfs) add('rootfs-writable', 'HostConfig.ReadonlyRootfs', hc.ReadonlyRootfs ?? false, 'SD-ROOTFS-001', 'true');

  namespaces(hc, ctx, add);
  security(hc, ctx, add);
  devices(hc, ctx, add);
  mounts(body, ctx, add);
  limits(hc, ctx, add);

  for (const name of Object.keys(hc.Sysctls ?? {})) {
    const ok = (a.sysctls ?? []).some((s) => (s.name.endsWith('*') ? name.startsWith(s.name.slice(0, -1)) : name === s.name));
    if (!ok) add(`sysctl:${name}`, 'HostConfig.Sysctls', name, 'SD-SYSCTL-001');
  }
  ports(body, ctx, add);
  return out;
}

export type Add = (name: string, field: string, found: unknown, rule?: RuleId, expected?: string) => void;

/** A user spec's parts as runc reads them: ids (0 included however spelled), names, absent. */
function users(body: CreateBody, ctx: InvariantContext, add: Add): void {
  if (rootAllowedBy(ctx)) return;
  const typed = body.User ?? '';
  const spec = typed !== '' ? typed : ctx.imageUser;
  if (spec === undefined) {
    add('user-unknown', 'User', '', 'SD-USER-001', 'a non-root numeric uid:gid');
  } else {
    const { user, group } = parseUserSpec(spec);
    if (!user || ('id' in user && user.id === 0)) add('user-root', 'User', spec, 'SD-USER-001', 'a uid other than 0');
    else if ('name' in user) add('user-name', 'User', spec, 'SD-USER-001', 'a numeric uid (a name is uid 0 if the image says so)');
    if (user && 'id' in user && user.id !== 0) {
      if (!group) add('group-missing', 'User', spec, 'SD-USER-002', 'uid:gid (without a group runc uses the passwd gid, 0 when the uid is not listed)');
      else if ('id' in group && group.id === 0) add('group-root', 'User', spec, 'SD-USER-002', 'a gid other than 0');
      else if ('name' in group) add('group-name', 'User', spec, 'SD-USER-002', 'a numeric gid');
    }
  }
  for (const g of body.HostConfig?.GroupAdd ?? []) {
    const n = goAtoi(g);
    if (n === 0) add(`group-add-root:${g}`, 'HostConfig.GroupAdd', g, 'SD-USER-002', 'no group 0');
    else if (n === undefined) add(`group-add-name:${g}`, 'HostConfig.GroupAdd', g, 'SD-USER-002', 'a numeric gid');
  }
}

const NS: { ns: HostNamespace; field: 'PidMode' | 'IpcMode' | 'UTSMode' | 'NetworkMode' | 'UsernsMode'; rule: RuleId }[] = [
  { ns: 'pid', field: 'PidMode', rule: 'SD-NS-001' },
  { ns: 'ipc', field: 'IpcMode', rule: 'SD-NS-002' },
  { ns: 'uts', field: 'UTSMode', rule: 'SD-NS-003' },
  { ns: 'network', field: 'NetworkMode', rule: 'SD-NS-004' },
  { ns: 'userns', field: 'UsernsMode', rule: 'SD-NS-005' },
];

function namespaces(hc: HostConfig, ctx: InvariantContext, add: Add): void {
  const allowed = new Set((ctx.allow.hostNamespaces ?? []).map((n) => n.name));
  for (const { ns, field, rule } of NS) {
    const v = hc[field] ?? '';
    if (allowed.has(ns)) continue;
    if (v === 'host') add(`ns-host:${ns}`, `HostConfig.${field}`, v, rule, 'a private namespace');
    else if (v.startsWith('container:') && field !== 'UsernsMode') {
      // Where the join leads: the host's namespace or a privileged container's is the host's.
      let ref = v.slice('container:'.length);
      for (let depth = 0; depth < 8; depth++) {
        const c = ctx.containers?.[ref];
        if (!c) break;
        const mode = c[field] ?? '';
        if (mode === 'host' || c.Privileged) {
          add(`ns-join:${ns}`, `HostConfig.${field}`, v, rule, `not a join of a container that is ${c.Privileged ? 'privileged' : `in the host's ${ns} namespace`}`);
          break;
        }
        if (!mode.startsWith('container:')) break;
        ref = mode.slice('container:'.length);
        if (depth === 7) add(`ns-join:${ns}`, `HostConfig.${field}`, v, rule, 'a chain of joins sdocker can follow');
      }
    }
  }
  if (!allowed.has('cgroupns') && hc.CgroupnsMode !== 'private') add('cgroupns', 'HostConfig.CgroupnsMode', hc.CgroupnsMode ?? '', 'SD-NS-006', 'private');
}

function security(hc: HostConfig, ctx: InvariantContext, add: Add): void {
  const a = ctx.allow;
  const s = securityOf(hc.SecurityOpt);
  if (!s.nnp && !a.newPrivileges) add('no-new-privileges', 'HostConfig.SecurityOpt', hc.SecurityOpt ?? null, 'SD-NNP-001', 'no-new-privileges');
  if (s.seccomp === 'unconfined' && !a.seccompUnconfined) add('seccomp-unconfined', 'HostConfig.SecurityOpt', 'seccomp=unconfined', 'SD-SECCOMP-001', 'a seccomp profile');
  if (s.apparmor === 'unconfined' && !a.apparmorUnconfined) add('apparmor-unconfined', 'HostConfig.SecurityOpt', 'apparmor=unconfined', 'SD-MAC-001', 'an AppArmor profile');
  // The engine itself adds label=disable to a privileged container and to one in the host's pid or
  // ipc namespace (generateSecurityOpt): allowed with what caused it.
  const hostNs = new Set((a.hostNamespaces ?? []).map((n) => n.name));
  const engineDisables = (!!hc.Privileged && !!a.privileged) || (hc.PidMode === 'host' && hostNs.has('pid')) || (hc.IpcMode === 'host' && hostNs.has('ipc'));
  for (const l of s.labels) {
    if ((l === 'disable' || /^type:(spc_t|unconfined_t)$/.test(l)) && !a.labelDisable && !(l === 'disable' && engineDisables)) {
      add(`label:${l}`, 'HostConfig.SecurityOpt', `label=${l}`, 'SD-MAC-002', 'SELinux labelling');
    }
  }
  const unmasked = (['MaskedPaths', 'ReadonlyPaths'] as const).filter((f) => Array.isArray(hc[f]) && hc[f]!.length === 0);
  if ((unmasked.length > 0 || s.systempaths === 'unconfined') && !a.systemPathsUnconfined) {
    add('systempaths', `HostConfig.${unmasked[0] ?? 'SecurityOpt'}`, [], 'SD-PATHS-001', 'the engine\'s masked and read-only paths');
  }
}

function devices(hc: HostConfig, ctx: InvariantContext, add: Add): void {
  const a = ctx.allow;
  for (const d of hc.Devices ?? []) {
    const sp = pathsOf(d.PathOnHost, ctx);
    const allowed = (a.devices ?? []).some((x) => sp.includes(norm(x.path)));
    const harmless = harmlessDevices(ctx.level);
    if (!allowed && !sp.every((p) => harmless.includes(p))) add(`device:${d.PathOnHost}`, 'HostConfig.Devices', d.PathOnHost, 'SD-DEV-001', `one of ${harmless.join(' ')} or allow.devices`);
  }
  for (const r of hc.DeviceCgroupRules ?? []) {
    const allowed = (a.deviceCgroupRules ?? []).some((x) => x.rule.trim() === r.trim());
    // Restricted: none without an allowance. Other levels: none that reaches all, block or memory devices.
    const m = /^\s*c\s+(\d+):(\d+)\s*[rwm]*\s*$/.exec(r);
    const narrow = ctx.level !== 'restricted' && !!m && m[1] !== '1';
    if (!allowed && !narrow) add(`device-cgroup-rule:${r}`, 'HostConfig.DeviceCgroupRules', r, 'SD-DEV-002', 'allow.deviceCgroupRules');
  }
  if ((hc.DeviceRequests ?? []).length > 0 && !a.deviceRequests) add('device-requests', 'HostConfig.DeviceRequests', hc.DeviceRequests, 'SD-DEV-003');
}

function limits(hc: HostConfig, ctx: InvariantContext, add: Add): void {
  const unlimited = new Set((ctx.allow.unlimited ?? []).map((u) => u.resource));
  if (!((hc.Memory ?? 0) > 0) && !unlimited.has('memory')) add('memory', 'HostConfig.Memory', hc.Memory ?? 0, 'SD-RES-001', 'a memory limit');
  if (!((hc.PidsLimit ?? 0) > 0) && !unlimited.has('pids')) add('pids', 'HostConfig.PidsLimit', hc.PidsLimit ?? null, 'SD-RES-002', 'a pids limit');
  if (hc.OomKillDisable && !unlimited.has('oom-kill-disable')) add('oom-kill-disable', 'HostConfig.OomKillDisable', true, 'SD-RES-003', 'false');
  if (ctx.cpuLimit && !((hc.NanoCpus ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0)) {
    add('cpu', 'HostConfig.NanoCpus', { NanoCpus: hc.NanoCpus ?? 0, CpuQuota: hc.CpuQuota ?? 0 }, 'SD-RES-005', 'a CPU limit');
  }
  if (hc.CgroupParent && !ctx.allow.cgroupParent) add('cgroup-parent', 'HostConfig.CgroupParent', hc.CgroupParent, 'SD-RES-004', 'the engine\'s cgroup');
  const type = hc.LogConfig?.Type ?? '';
  if ((type === 'json-file' || type === 'local') && !hc.LogConfig?.Config?.['max-size']) add('log-rotation', 'HostConfig.LogConfig', hc.LogConfig, 'SD-LOG-001', 'max-size');
}

function ports(body: CreateBody, ctx: InvariantContext, add: Add): void {
  const hc = body.HostConfig ?? {};
  const ok = new Set((ctx.allow.portAddresses ?? []).map((p) => p.address));
  const any = ok.has('0.0.0.0') && ok.has('::');
  for (const [port, list] of Object.entries(hc.PortBindings ?? {})) {
    for (const b of list ?? []) {
      const ip = b.HostIp ?? '';
      if (any || isLoopbackHostIp(ip) || (ip !== '' && ok.has(ip))) continue;
      add(`port:${ip}:${port}`, 'HostConfig.PortBindings', `${ip || '(every address)'}:${b.HostPort}->${port}`, 'SD-PORT-001', '127.0.0.1 or allow.portAddresses');
    }
  }
  if (hc.PublishAllPorts && !any) add('publish-all', 'HostConfig.PublishAllPorts', true, 'SD-PORT-001', 'ports published on 127.0.0.1');
}
