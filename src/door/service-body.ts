/**
 * A swarm service spec and the policy's create body, both ways (pure). The engine makes a
 * service's containers itself (moby's swarm executor, daemon/cluster/executor/container), from
 * TaskTemplate.ContainerSpec, Resources, RestartPolicy, LogDriver, Networks and EndpointSpec; so
 * the door reads those as the container create body the executor will derive from them
 * (`serviceCreateBody`), lets the policy decide on that body as on any other, and writes the
 * hardened body back into the spec (`hardenedServiceSpec`).
 *
 * Both ways are allowlists. A field of the spec the translation does not know, set, is a problem
 * (the door answers 400, SD-DOOR-001). A field of the hardened body that API 1.41's service spec
 * cannot carry (no-new-privileges: API 1.46; a seccomp or AppArmor profile: API 1.44; a cgroup
 * namespace, a tmpfs with exec or a uid, an OCI runtime: none) is returned as `inexpressible`,
 * with the profile lines that accept the engine's default instead (SD-SVC-001).
 */
import { isDeepStrictEqual } from 'node:util';
import type { CreateBody, MountSpec } from '../api/types.js';
import { isOwnLabelKey } from '../policy/own-labels.js';
import { canonicalKeys, caseDuplicates, isObject, isZero, unknownFields, type JsonObject } from './routes/body.js';

const SPEC = ['Name', 'Labels', 'TaskTemplate', 'Mode', 'UpdateConfig', 'RollbackConfig', 'Networks', 'EndpointSpec'];
const TASK = ['ContainerSpec', 'PluginSpec', 'NetworkAttachmentSpec', 'Resources', 'RestartPolicy', 'Placement', 'Networks', 'LogDriver', 'ForceUpdate', 'Runtime'];
const CONTAINER = [
  'Image', 'Labels', 'Command', 'Args', 'Hostname', 'Env', 'Dir', 'User', 'Groups', 'Privileges', 'Init', 'StopSignal', 'TTY', 'OpenStdin',
  'ReadOnly', 'Mounts', 'StopGracePeriod', 'Healthcheck', 'Hosts', 'DNSConfig', 'Secrets', 'Configs', 'Isolation', 'Sysctls', 'CapabilityAdd',
  'CapabilityDrop', 'Ulimits',
];
const PRIVILEGES = ['CredentialSpec', 'SELinuxContext'];
const SELINUX = ['Disable', 'User', 'Role', 'Type', 'Level'];
const RESOURCES = ['Limits', 'Reservations'];
const LIMITS = ['NanoCPUs', 'MemoryBytes', 'Pids'];
const RESERVATIONS = ['NanoCPUs', 'MemoryBytes', 'GenericResources'];
const RESTART = ['Condition', 'Delay', 'MaxAttempts', 'Window'];
const ATTACHMENT = ['Target', 'Aliases', 'DriverOpts'];
const LOG_DRIVER = ['Name', 'Options'];
const ENDPOINT = ['Mode', 'Ports'];
const PORT = ['Name', 'Protocol', 'TargetPort', 'PublishedPort', 'PublishMode'];
const DNS = ['Nameservers', 'Search', 'Options'];
const SECRET = ['File', 'SecretID', 'SecretName'];
const CONFIG = ['File', 'Runtime', 'ConfigID', 'ConfigName'];
const FILE = ['Name', 'UID', 'GID', 'Mode'];

/** How the door found a network a service attaches to (GET /networks/{target}). */
export type NetworkKind = 'host' | 'none' | 'other';

/** The spec with every judged object's keys in their canonical spelling. */
export interface ServiceSpec {
  spec: JsonObject;
  task: JsonObject;
  container: JsonObject;
  /** Network targets (ids or names) of TaskTemplate.Networks and the deprecated Spec.Networks. */
  targets: string[];
}

class Reader {
  readonly problems: string[] = [];

  /** `v` as an object of `fields` (canonical keys), {} when absent; a problem otherwise. */
  obj(v: unknown, fields: readonly string[], path: string): JsonObject {
    if (v === undefined || v === null) return {};
    if (!isObject(v)) {
      this.problems.push(`${path} is not an object`);
      return {};
    }
    const dup = caseDuplicates(v, path ? `${path}.` : '');
    if (dup.length) this.problems.push(`a field given twice in different case: ${dup.join(', ')}`);
    const known = new Set(fields);
    const o = canonicalKeys(v, known);
    const unknown = unknownFields(o, known, path ? `${path}.` : '');
    if (unknown.length) this.problems.push(`unknown field ${unknown.join(', ')}`);
    return o;
  }

  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problems.push(`${path} is not a list`);
      return [];
    }
    return v;
  }

  strings(v: unknown, path: string): string[] {
    const l = this.list(v, path);
    if (!l.every((s) => typeof s === 'string')) this.problems.push(`${path} is not a list of strings`);
    return l as string[];
  }

  str(v: unknown, path: string): string {
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') this.problems.push(`${path} is not a string`);
    return typeof v === 'string' ? v : '';
  }

  int(v: unknown, path: string): number {
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.problems.push(`${path} is not an integer`);
    return typeof v === 'number' ? v : 0;
  }
}

/** Pure: the spec read against the allowlists (keys canonicalised in place), or what is wrong. */
export function readServiceSpec(raw: unknown): ServiceSpec | { problems: string[] } {
  const r = new Reader();
  if (!isObject(raw)) return { problems: ['the body is not a JSON object'] };
  const spec = r.obj(raw, SPEC, '');
  const task = r.obj(spec.TaskTemplate, TASK, 'TaskTemplate');
  const container = r.obj(task.ContainerSpec, CONTAINER, 'TaskTemplate.ContainerSpec');
  const cs = 'TaskTemplate.ContainerSpec';
  if (!isZero(task.PluginSpec) || task.Runtime === 'plugin') r.problems.push('TaskTemplate.PluginSpec: a plugin run as a service (root on every node) is not judged');
  if (!isZero(task.NetworkAttachmentSpec)) r.problems.push('TaskTemplate.NetworkAttachmentSpec is set (swarm sets it itself)');
  const runtime = r.str(task.Runtime, 'TaskTemplate.Runtime');
  if (runtime !== '' && runtime !== 'container' && runtime !== 'plugin') r.problems.push(`TaskTemplate.Runtime ${JSON.stringify(runtime)} is not one the door knows`);
  if (typeof container.Image !== 'string' || container.Image === '') r.problems.push(`${cs}.Image is missing`);
  const priv = r.obj(container.Privileges, PRIVILEGES, `${cs}.Privileges`);
  if (!isZero(priv.CredentialSpec)) r.problems.push(`${cs}.Privileges.CredentialSpec is a Windows setting`);
  const selinux = r.obj(priv.SELinuxContext, SELINUX, `${cs}.Privileges.SELinuxContext`);
  for (const k of ['User', 'Role', 'Type', 'Level']) r.str(selinux[k], `${cs}.Privileges.SELinuxContext.${k}`);
  if (selinux.Disable !== undefined && selinux.Disable !== null && typeof selinux.Disable !== 'boolean') r.problems.push(`${cs}.Privileges.SELinuxContext.Disable is not a boolean`);
  if (Object.keys(priv).length) priv.SELinuxContext = selinux;
  if (Object.keys(priv).length) container.Privileges = priv;
  const iso = r.str(container.Isolation, `${cs}.Isolation`);
  if (iso !== '' && iso !== 'default') r.problems.push(`${cs}.Isolation ${JSON.stringify(iso)} is not Linux's`);
  const dns = r.obj(container.DNSConfig, DNS, `${cs}.DNSConfig`);
  if (Object.keys(dns).length) container.DNSConfig = dns;
  for (const [key, fields] of [['Secrets', SECRET], ['Configs', CONFIG]] as const) {
    const items = r.list(container[key], `${cs}.${key}`).map((s, i) => {
      const o = r.obj(s, fields, `${cs}.${key}[${i}]`);
      const file = r.obj(o.File, FILE, `${cs}.${key}[${i}].File`);
      const mode = r.int(file.Mode, `${cs}.${key}[${i}].File.Mode`);
      // A secret or config file with the setuid or setgid bit would be a setid file the image did not have.
      if (mode & 0o7000) r.problems.push(`${cs}.${key}[${i}].File.Mode ${mode.toString(8)} has the setuid, setgid or sticky bit`);
      if (Object.keys(file).length) o.File = file;
      return o;
    });
    if (container[key] !== undefined && container[key] !== null) container[key] = items;
  }
  const res = r.obj(task.Resources, RESOURCES, 'TaskTemplate.Resources');
  const limits = r.obj(res.Limits, LIMITS, 'TaskTemplate.Resources.Limits');
  for (const k of LIMITS) r.int(limits[k], `TaskTemplate.Resources.Limits.${k}`);
  const reservations = r.obj(res.Reservations, RESERVATIONS, 'TaskTemplate.Resources.Reservations');
  if (Object.keys(limits).length) res.Limits = limits;
  if (Object.keys(reservations).length) res.Reservations = reservations;
  if (Object.keys(res).length) task.Resources = res;
  const restart = r.obj(task.RestartPolicy, RESTART, 'TaskTemplate.RestartPolicy');
  const cond = r.str(restart.Condition, 'TaskTemplate.RestartPolicy.Condition');
  if (!['', 'none', 'on-failure', 'any'].includes(cond)) r.problems.push(`TaskTemplate.RestartPolicy.Condition ${JSON.stringify(cond)} is not one the door knows`);
  r.int(restart.MaxAttempts, 'TaskTemplate.RestartPolicy.MaxAttempts');
  if (Object.keys(restart).length) task.RestartPolicy = restart;
  const log = r.obj(task.LogDriver, LOG_DRIVER, 'TaskTemplate.LogDriver');
  r.str(log.Name, 'TaskTemplate.LogDriver.Name');
  if (Object.keys(log).length) task.LogDriver = log;
  const targets: string[] = [];
  for (const [where, list] of [['TaskTemplate.Networks', task.Networks], ['Networks', spec.Networks]] as const) {
    const items = r.list(list, where).map((n, i) => {
      const o = r.obj(n, ATTACHMENT, `${where}[${i}]`);
      const t = r.str(o.Target, `${where}[${i}].Target`);
      if (t === '') r.problems.push(`${where}[${i}].Target is missing`);
      else targets.push(t);
      return o;
    });
    if (where === 'Networks' && list !== undefined && list !== null) spec.Networks = items;
    if (where === 'TaskTemplate.Networks' && list !== undefined && list !== null) task.Networks = items;
  }
  const endpoint = r.obj(spec.EndpointSpec, ENDPOINT, 'EndpointSpec');
  const ports = r.list(endpoint.Ports, 'EndpointSpec.Ports').map((p, i) => {
    const o = r.obj(p, PORT, `EndpointSpec.Ports[${i}]`);
    r.int(o.TargetPort, `EndpointSpec.Ports[${i}].TargetPort`);
    r.int(o.PublishedPort, `EndpointSpec.Ports[${i}].PublishedPort`);
    r.str(o.Protocol, `EndpointSpec.Ports[${i}].Protocol`);
    return o;
  });
  if (endpoint.Ports !== undefined && endpoint.Ports !== null) endpoint.Ports = ports;
  if (Object.keys(endpoint).length) spec.EndpointSpec = endpoint;
  for (const k of ['Command', 'Args', 'Env', 'Groups', 'Hosts', 'CapabilityAdd', 'CapabilityDrop']) r.strings(container[k], `${cs}.${k}`);
  for (const k of ['Hostname', 'Dir', 'User', 'StopSignal']) r.str(container[k], `${cs}.${k}`);
  if (r.problems.length) return { problems: r.problems };
  task.ContainerSpec = container;
  spec.TaskTemplate = task;
  return { spec, task, container, targets };
}

const obj = (v: unknown): JsonObject => (isObject(v) ? v : {});
const strs = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** The executor's restart policy as the policy reads one (SD-RESTART-001 bounds it). */
function restartOf(task: JsonObject): { Name: string; MaximumRetryCount: number } {
  const r = obj(task.RestartPolicy);
  const cond = typeof r.Condition === 'string' && r.Condition !== '' ? r.Condition : 'any';
  const max = num(r.MaxAttempts);
  if (cond === 'none') return { Name: 'no', MaximumRetryCount: 0 };
  // `any` restarts after a clean exit too: unbounded it is `always`; bounded, its count is what the policy bounds.
  if (cond === 'any' && max === 0) return { Name: 'always', MaximumRetryCount: 0 };
  return { Name: 'on-failure', MaximumRetryCount: max };
}

/**
 * Pure: the container create body the engine's swarm executor derives from the spec (before the
 * policy), as a raw API body for the door's create canonicalisation. `networks`: what each
 * target is. Labels under io.sdocker. (the container's, a mount's volume labels) are dropped: the
 * policy sets its own (an update sends back the ones the door wrote).
 */
export function serviceCreateBody(s: ServiceSpec, networks: Readonly<Record<string, NetworkKind>>): JsonObject {
  const c = s.container;
  const task = s.task;
  const labels = Object.fromEntries(Object.entries(obj(c.Labels)).filter(([k]) => !isOwnLabelKey(k)));
  const limits = obj(obj(task.Resources).Limits);
  const reservations = obj(obj(task.Resources).Reservations);
  const kinds = s.targets.map((t) => networks[t] ?? 'other');
  const selinux = obj(obj(c.Privileges).SELinuxContext);
  const securityOpt: string[] = [];
  if (selinux.Disable === true) securityOpt.push('label=disable');
  for (const [k, opt] of [['User', 'user'], ['Role', 'role'], ['Type', 'type'], ['Level', 'level']] as const) {
    if (typeof selinux[k] === 'string' && selinux[k] !== '') securityOpt.push(`label=${opt}:${selinux[k] as string}`);
  }
  const exposed: JsonObject = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of strsObj(obj(s.spec.EndpointSpec).Ports)) {
    const key = `${num(p.TargetPort)}/${typeof p.Protocol === 'string' && p.Protocol !== '' ? p.Protocol : 'tcp'}`;
    exposed[key] = {};
    // ingress (the routing mesh) and host mode both listen on every address of every node.
    (bindings[key] ??= []).push({ HostIp: '0.0.0.0', HostPort: num(p.PublishedPort) ? String(num(p.PublishedPort)) : '' });
  }
  const log = obj(task.LogDriver);
  const dns = obj(c.DNSConfig);
  const hc: JsonObject = {
    CapAdd: c.CapabilityAdd ?? null,
    CapDrop: c.CapabilityDrop ?? null,
    ReadonlyRootfs: c.ReadOnly === true,
    Mounts: Array.isArray(c.Mounts) ? c.Mounts.map(withoutOwnVolumeLabels) : (c.Mounts ?? []),
    Sysctls: c.Sysctls ?? {},
    Ulimits: c.Ulimits ?? [],
    GroupAdd: c.Groups ?? null,
    // moby's executor: "IP host [aliases]" becomes "host:IP", aliases ignored.
    ExtraHosts: strs(c.Hosts).map((h) => h.trim().split(/\s+/)).filter((f) => f.length > 1).map((f) => `${f[1]}:${f[0]}`),
    Dns: dns.Nameservers ?? [],
    DnsSearch: dns.Search ?? [],
    DnsOptions: dns.Options ?? [],
    Memory: num(limits.MemoryBytes),
    MemoryReservation: num(reservations.MemoryBytes),
    NanoCpus: num(limits.NanoCPUs),
    PidsLimit: num(limits.Pids),
    NetworkMode: kinds.includes('host') ? 'host' : kinds.length > 0 && kinds.every((k) => k === 'none') ? 'none' : '',
    PortBindings: bindings,
    RestartPolicy: restartOf(task),
    SecurityOpt: securityOpt,
  };
  if (typeof c.Init === 'boolean') hc.Init = c.Init;
  if (!isZero(log)) hc.LogConfig = { Type: typeof log.Name === 'string' ? log.Name : '', Config: obj(log.Options) };
  const body: JsonObject = {
    Image: c.Image,
    Labels: labels,
    Hostname: c.Hostname ?? '',
    Env: c.Env ?? [],
    WorkingDir: c.Dir ?? '',
    User: c.User ?? '',
    Tty: c.TTY === true,
    OpenStdin: c.OpenStdin === true,
    StopSignal: c.StopSignal ?? '',
    ExposedPorts: exposed,
    HostConfig: hc,
  };
  if (strs(c.Command).length) body.Entrypoint = c.Command;
  if (strs(c.Args).length) body.Cmd = c.Args;
  if (c.Healthcheck !== undefined && c.Healthcheck !== null) body.Healthcheck = c.Healthcheck;
  return body;
}

/** A mount without the io.sdocker. volume labels the door wrote (an update sends them back); the policy sets its own. */
function withoutOwnVolumeLabels(m: unknown): unknown {
  if (!isObject(m) || !isObject(m.VolumeOptions) || !isObject(m.VolumeOptions.Labels)) return m;
  const labels = Object.fromEntries(Object.entries(m.VolumeOptions.Labels).filter(([k]) => !isOwnLabelKey(k)));
  return { ...m, VolumeOptions: { ...m.VolumeOptions, Labels: labels } };
}

function strsObj(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** A hardening the service spec of API 1.41 cannot carry. */
export interface Inexpressible {
  /** The create body field (`HostConfig.SecurityOpt`). */
  field: string;
  /** The setting as the hardened body has it (`no-new-privileges`). */
  setting: string;
  /** Where a later API carries it, or why none does. */
  api: string;
  /** Profile lines that accept the engine's default instead; empty when none can. */
  allowWith: string[];
}

const REASON = 'reason: "<why this service may run without it>"';

function securityOptBack(opt: string, selinux: JsonObject, out: Inexpressible[]): void {
  const eq = opt.indexOf('=');
  const colon = opt.indexOf(':');
  const cut = eq >= 0 && (colon < 0 || eq < colon) ? eq : colon;
  const key = cut >= 0 ? opt.slice(0, cut) : opt;
  const value = cut >= 0 ? opt.slice(cut + 1) : '';
  if (key === 'no-new-privileges' && value !== 'false') {
    out.push({ field: 'HostConfig.SecurityOpt', setting: 'no-new-privileges', api: 'API 1.46 (ContainerSpec.Privileges.NoNewPrivileges, Docker 27)', allowWith: ['allow:', '  newPrivileges:', `    ${REASON}`] });
  } else if (key === 'seccomp') {
    out.push({ field: 'HostConfig.SecurityOpt', setting: value === 'unconfined' ? 'seccomp=unconfined' : "seccomp=<the profile's seccomp profile>", api: 'API 1.44 (ContainerSpec.Privileges.Seccomp, Docker 25)', allowWith: ['defaults:', '  seccomp: engine   # the engine\'s default profile, which service containers get'] });
  } else if (key === 'apparmor') {
    out.push({ field: 'HostConfig.SecurityOpt', setting: opt, api: 'API 1.44 (ContainerSpec.Privileges.AppArmor, Docker 25)', allowWith: [] });
  } else if (key === 'label' && value === 'disable') {
    selinux.Disable = true;
  } else if (key === 'label' && /^(user|role|type|level):/.test(value)) {
    const [k, v] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
    selinux[k.charAt(0).toUpperCase() + k.slice(1)] = v;
  } else if (!(key === 'no-new-privileges' && value === 'false')) {
    out.push({ field: 'HostConfig.SecurityOpt', setting: opt, api: 'no API version (a service spec has no such option)', allowWith: [] });
  }
}

const SIZE = /^(\d+)([kmg]?)$/i;

/** A tmpfs option string → a service tmpfs mount, or what API 1.41 cannot carry. */
function tmpfsBack(target: string, options: string, out: Inexpressible[]): MountSpec {
  const m: MountSpec = { Type: 'tmpfs', Target: target };
  const t: { SizeBytes?: number; Mode?: number } = {};
  let owned = false;
  for (const o of options.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [k, v = ''] = o.split('=', 2) as [string, string?];
    // The engine mounts every tmpfs noexec,nosuid,nodev unless told otherwise (oci_linux.go setMounts).
    if (['rw', 'nosuid', 'nodev', 'noexec'].includes(k)) continue;
    if (k === 'ro') m.ReadOnly = true;
    else if (k === 'size' && SIZE.test(v)) {
      const [, n, u] = SIZE.exec(v)!;
      t.SizeBytes = Number(n) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[u!.toLowerCase()]!;
    } else if (k === 'mode' && /^[0-7]{1,4}$/.test(v)) t.Mode = parseInt(v, 8);
    else if (k === 'uid' || k === 'gid') owned = true;
    else out.push({ field: `HostConfig.Tmpfs[${JSON.stringify(target)}]`, setting: `tmpfs ${target} ${o}`, api: 'API 1.46 (TmpfsOptions.Options)', allowWith: [] });
  }
  // uid=/gid= (a scratch space owned by the container's user): API 1.41 has no tmpfs owner; a
  // sticky world-writable directory gives the same user the same writable space.
  if (owned && t.Mode === undefined) t.Mode = 0o1777;
  if (Object.keys(t).length) m.TmpfsOptions = t;
  return m;
}

function same(a: unknown, b: unknown): boolean {
  return (isZero(a) && isZero(b)) || isDeepStrictEqual(a, b);
}

/** HostConfig fields the executor reads from the spec and the way back writes: anything else hardened must be unchanged. */
const HC_BACK = new Set([
  'CapAdd', 'CapDrop', 'ReadonlyRootfs', 'Mounts', 'Tmpfs', 'Sysctls', 'Ulimits', 'Init', 'Memory', 'NanoCpus', 'PidsLimit', 'LogConfig', 'RestartPolicy',
  'SecurityOpt', 'GroupAdd', 'CgroupnsMode', 'MemorySwappiness',
]);
const TOP_BACK = new Set(['User', 'Labels', 'Healthcheck', 'Env', 'Image', 'HostConfig']);

/**
 * Pure: the spec carrying the hardened body (`hardened`, the policy's outcome on `asked`, the body
 * `serviceCreateBody` made) as far as it can, and the hardenings it cannot carry (none: the spec
 * is the hardened body). `acceptNewPrivileges`: the profile's allow.newPrivileges. `logDriver`: the engine's default
 * log driver, named when the policy sets log options without a driver.
 */
export function hardenedServiceSpec(
  s: ServiceSpec,
  asked: CreateBody,
  hardened: CreateBody,
  o: { logDriver: string; acceptNewPrivileges?: boolean },
): { spec: JsonObject; inexpressible: Inexpressible[] } {
  const out: Inexpressible[] = [];
  const a = asked as unknown as JsonObject;
  const h = hardened as unknown as JsonObject;
  const ahc = obj(a.HostConfig);
  const hhc = obj(h.HostConfig);
  for (const k of Object.keys(h)) {
    if (!TOP_BACK.has(k) && !same(h[k], a[k])) out.push({ field: k, setting: `${k}: ${JSON.stringify(h[k])}`, api: 'no API version (not a service setting)', allowWith: [] });
  }
  for (const k of Object.keys(hhc)) {
    if (!HC_BACK.has(k) && !same(hhc[k], ahc[k])) out.push({ field: `HostConfig.${k}`, setting: `${k}: ${JSON.stringify(hhc[k])}`, api: 'no API version (not a service setting)', allowWith: [] });
  }
  const hc = hardened.HostConfig;
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness !== -1 && !same(hc.MemorySwappiness, ahc.MemorySwappiness)) {
    out.push({ field: 'HostConfig.MemorySwappiness', setting: `MemorySwappiness ${hc.MemorySwappiness}`, api: 'no API version', allowWith: [] });
  }
  if (hc.CgroupnsMode && hc.CgroupnsMode !== 'host' && !same(hc.CgroupnsMode, ahc.CgroupnsMode)) {
    out.push({
      field: 'HostConfig.CgroupnsMode', setting: `cgroupns=${hc.CgroupnsMode}`,
      api: "no API version (a service's containers get the engine's default cgroup namespace: the host's on cgroup v1, private on v2 unless the daemon says otherwise)",
      allowWith: ['allow:', '  hostNamespaces:', '    - name: cgroupns', `      ${REASON}`],
    });
  }
  const spec = structuredClone(s.spec);
  const task = obj(spec.TaskTemplate);
  const c = obj(task.ContainerSpec);
  const selinux: JsonObject = { ...obj(obj(c.Privileges).SELinuxContext) };
  for (const opt of hc.SecurityOpt ?? []) securityOptBack(opt, selinux, out);
  // The policy always adds no-new-privileges (allow.newPrivileges only lets a request turn it off):
  // a profile that allows running without it accepts the service's engine default.
  if (o.acceptNewPrivileges) {
    for (let i = out.length - 1; i >= 0; i--) if (out[i]!.setting === 'no-new-privileges') out.splice(i, 1);
  }
  const mounts: MountSpec[] = [...(hc.Mounts ?? [])];
  for (const [target, options] of Object.entries(hc.Tmpfs ?? {})) mounts.push(tmpfsBack(target, options, out));
  c.Image = hardened.Image;
  c.User = hardened.User ?? '';
  c.Labels = hardened.Labels ?? {};
  c.Env = hardened.Env ?? [];
  if (hardened.Healthcheck) c.Healthcheck = hardened.Healthcheck;
  c.CapabilityAdd = hc.CapAdd ?? null;
  c.CapabilityDrop = hc.CapDrop ?? null;
  c.ReadOnly = hc.ReadonlyRootfs === true;
  c.Mounts = mounts;
  c.Sysctls = hc.Sysctls ?? {};
  c.Ulimits = hc.Ulimits ?? [];
  if (hc.GroupAdd && hc.GroupAdd.length) c.Groups = hc.GroupAdd;
  if (typeof hc.Init === 'boolean') c.Init = hc.Init;
  if (!isZero(selinux)) c.Privileges = { ...obj(c.Privileges), SELinuxContext: selinux };
  const res = obj(task.Resources);
  res.Limits = { ...obj(res.Limits), MemoryBytes: hc.Memory ?? 0, NanoCPUs: hc.NanoCpus ?? 0, Pids: hc.PidsLimit ?? 0 };
  task.Resources = res;
  if (hc.LogConfig && !same(hc.LogConfig, ahc.LogConfig)) {
    task.LogDriver = { Name: hc.LogConfig.Type || o.logDriver, Options: hc.LogConfig.Config ?? {} };
  }
  const rp = hc.RestartPolicy;
  if (rp && !same(rp, ahc.RestartPolicy)) {
    const prev = obj(task.RestartPolicy);
    task.RestartPolicy = rp.Name === 'no' ? { ...prev, Condition: 'none' } : { ...prev, Condition: 'on-failure', MaxAttempts: rp.MaximumRetryCount };
  }
  task.ContainerSpec = c;
  spec.TaskTemplate = task;
  return { spec, inexpressible: out };
}

function olderThan(version: string, than: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = than.split('.').map(Number);
  return a < c || (a === c && b < d);
}

/**
 * Pure: what the engine would drop from `spec` for a request made under an older API version
 * (moby's adjustForAPIVersion: below 1.41 it clears CapabilityAdd/Drop, Ulimits and
 * Resources.Limits.Pids). `apiVersion` undefined: an unversioned path, the engine's own version.
 */
export function droppedForVersion(spec: JsonObject, apiVersion: string | undefined): Inexpressible[] {
  if (apiVersion === undefined || !olderThan(apiVersion, '1.41')) return [];
  const task = obj(spec.TaskTemplate);
  const c = obj(task.ContainerSpec);
  const out: Inexpressible[] = [];
  const lost = (field: string, v: unknown) => {
    if (!isZero(v)) out.push({ field, setting: `${field}: ${JSON.stringify(v)}`, api: `API 1.41 (this request uses /v${apiVersion}/, for which the engine drops it; send it unversioned or as /v1.41/)`, allowWith: [] });
  };
  lost('ContainerSpec.CapabilityDrop', c.CapabilityDrop);
  lost('ContainerSpec.CapabilityAdd', c.CapabilityAdd);
  lost('ContainerSpec.Ulimits', c.Ulimits);
  lost('Resources.Limits.Pids', obj(obj(task.Resources).Limits).Pids);
  return out;
}
