/**
 * Engine plugins through the door. A managed plugin (API 1.41, Docker 20.10) runs as root on the
 * host, in a container of the engine's own making: docker's default capabilities plus the ones it
 * declares, no seccomp, no user namespace, and whatever host network, namespaces, mounts and
 * devices its config.json asks for. The engine grants a plugin exactly the privileges the client
 * accepted at install (moby's validatePrivileges: the list must equal the plugin's), so the door
 * judges that list as the policy judges a container asking for the same things:
 *
 * - `network` host, `host pid namespace`, `host ipc namespace`: allow.hostNamespaces (SD-PLUGIN-001);
 * - `mount` SOURCE (mounted read-write, as root): allow.hostPaths with `writable: true` covering the
 *   path as typed and its real path on this host;
 * - `device` PATH: allow.devices, both spellings;
 * - `capabilities` NAME...: allow.capabilities, each;
 * - `allow-all-devices`, and any privilege name or network type the door does not know: only
 *   allow.privileged (SD-DOOR-002, fail closed).
 *
 * The restricted level therefore refuses any plugin asking for more than none. Routes:
 * `POST /plugins/pull` and `/plugins/{name}/upgrade` judge the body (the accepted privileges);
 * `/plugins/{name}/enable` judges the INSTALLED plugin's config as the engine reports it (it may
 * have been installed around the door, or `set` since); `/plugins/{name}/set` judges the mount
 * sources and device paths it changes. `POST /plugins/create` passes: a created plugin is disabled,
 * runs nothing, and its config is judged at enable as for any other plugin.
 */
import { EngineError } from '../../errors.js';
import { resolveHostPath } from '../../policy/resolve-paths.js';
import { isUnder, normalizeHostPath } from '../../policy/paths.js';
import { Judge, type Judgement } from '../../policy/commands/common.js';
import type { EffectiveProfile, HostNamespace } from '../../policy/types.js';
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Verdict } from '../types.js';
import { canonicalKeys, caseDuplicates, isObject, unknownFields } from './body.js';
import { cannotJudge, forwardJudged, verdictOf } from './verdict.js';

export interface PluginPrivilege {
  Name: string;
  Description?: string;
  Value: string[];
}

const PRIVILEGE_FIELDS: ReadonlySet<string> = new Set(['Name', 'Description', 'Value']);
const REASON = 'reason: "<why this plugin needs it>"';

/** The privileges body of pull/upgrade as the engine's decoder reads it, or why the door cannot. */
export function readPrivileges(raw: unknown): PluginPrivilege[] | string {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) return 'the body is not a JSON list of privileges';
  const out: PluginPrivilege[] = [];
  for (const [i, item] of raw.entries()) {
    if (!isObject(item)) return `privilege ${i} is not an object`;
    const dup = caseDuplicates(item);
    if (dup.length) return `privilege ${i}: a field given twice in different case: ${dup.join(', ')}`;
    const p = canonicalKeys(item, PRIVILEGE_FIELDS);
    const unknown = unknownFields(p, PRIVILEGE_FIELDS, `privilege ${i}.`);
    if (unknown.length) return `unknown field ${unknown.join(', ')}`;
    if (typeof p.Name !== 'string') return `privilege ${i}: Name is not a string`;
    const value = p.Value ?? [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return `privilege ${i}: Value is not a list of strings`;
    if (p.Description !== undefined && p.Description !== null && typeof p.Description !== 'string') return `privilege ${i}: Description is not a string`;
    out.push({ Name: p.Name, ...(typeof p.Description === 'string' ? { Description: p.Description } : {}), Value: value as string[] });
  }
  return out;
}

/** Real paths of host paths (I/O, by the route); the judge checks both spellings. */
export type RealPaths = Record<string, string>;

function namespaceCheck(j: Judge, profile: EffectiveProfile, ns: HostNamespace, what: string): void {
  j.check('SD-PLUGIN-001', profile.allow.hostNamespaces?.find((a) => a.name === ns), {
    flag: 'plugin privilege', subject: `${what} (host ${ns} namespace)`, field: what, denialKey: 'hostNamespaces', denialValue: ns,
    allowWith: ['allow:', '  hostNamespaces:', `    - name: ${ns}`, `      ${REASON}`],
  });
}

function spellingsOf(path: string, real: RealPaths): string[] {
  const out = [normalizeHostPath(path)];
  const r = real[path];
  if (r && !out.includes(normalizeHostPath(r))) out.push(normalizeHostPath(r));
  return out;
}

function mountCheck(j: Judge, profile: EffectiveProfile, source: string, real: RealPaths): void {
  const names = spellingsOf(source, real);
  const entry = (profile.allow.hostPaths ?? []).find((h) => h.writable === true && names.every((n) => isUnder(n, normalizeHostPath(h.path))));
  j.check('SD-PLUGIN-001', entry, {
    flag: 'plugin privilege', subject: `mount ${source}${names.length > 1 ? ` (really ${names[1]})` : ''}, read-write as root`, field: 'mount',
    denialKey: 'hostPaths', denialValue: source,
    allowWith: ['allow:', '  hostPaths:', `    - path: ${JSON.stringify(names.at(-1))}`, '      writable: true', `      ${REASON}`],
  });
}

function deviceCheck(j: Judge, profile: EffectiveProfile, path: string, real: RealPaths): void {
  const names = spellingsOf(path, real);
  const entry = (profile.allow.devices ?? []).find((d) => names.every((n) => n === normalizeHostPath(d.path)));
  j.check('SD-PLUGIN-001', entry, {
    flag: 'plugin privilege', subject: `device ${path}${names.length > 1 ? ` (really ${names[1]})` : ''}`, field: 'device',
    denialKey: 'devices', denialValue: path,
    allowWith: ['allow:', '  devices:', `    - path: ${JSON.stringify(names.at(-1))}`, `      ${REASON}`],
  });
}

function capName(c: string): string {
  const up = c.trim().toUpperCase();
  return up.startsWith('CAP_') ? up.slice(4) : up;
}

function privilegedOnly(j: Judge, profile: EffectiveProfile, subject: string): void {
  j.check('SD-DOOR-002', profile.allow.privileged, { flag: 'plugin privilege', subject, field: 'privilege', denialKey: 'privileged' });
}

/**
 * Pure: the privileges judged. `real` maps mount sources and device paths to their real paths on
 * this host (what the kernel will mount).
 */
export function judgePrivileges(privileges: readonly PluginPrivilege[], profile: EffectiveProfile, real: RealPaths = {}): Judgement {
  const j = new Judge(profile);
  for (const p of privileges) {
    const one = p.Value.length === 1 && p.Value[0] === 'true';
    switch (p.Name) {
      case 'network':
        for (const v of p.Value) {
          if (v === 'host') namespaceCheck(j, profile, 'network', 'network host');
          else if (v !== 'none' && v !== 'null' && v !== 'bridge' && v !== '') privilegedOnly(j, profile, `network ${v} (a network type the door does not know)`);
        }
        break;
      case 'host pid namespace':
        if (one) namespaceCheck(j, profile, 'pid', p.Name);
        else privilegedOnly(j, profile, `${p.Name} ${JSON.stringify(p.Value)}`);
        break;
      case 'host ipc namespace':
        if (one) namespaceCheck(j, profile, 'ipc', p.Name);
        else privilegedOnly(j, profile, `${p.Name} ${JSON.stringify(p.Value)}`);
        break;
      case 'mount':
        for (const v of p.Value) mountCheck(j, profile, v, real);
        break;
      case 'device':
        for (const v of p.Value) deviceCheck(j, profile, v, real);
        break;
      case 'capabilities':
        for (const v of p.Value) {
          const name = capName(v);
          j.check('SD-PLUGIN-001', profile.allow.capabilities?.find((c) => capName(c.name) === name), {
            flag: 'plugin privilege', subject: `capability ${name}`, field: 'capabilities', denialKey: 'capabilities', denialValue: name,
            allowWith: ['allow:', '  capabilities:', `    - name: ${name}`, `      ${REASON}`],
          });
        }
        break;
      case 'allow-all-devices':
        privilegedOnly(j, profile, "allow-all-devices ('rwm' on every host device)");
        break;
      default:
        privilegedOnly(j, profile, `${JSON.stringify(p.Name)} ${JSON.stringify(p.Value)} (a privilege the door does not know)`);
    }
  }
  return j.result([]);
}

/** The host paths a privileges list names (mount sources, device paths), resolved on this host. */
export function realPathsOf(privileges: readonly PluginPrivilege[]): RealPaths {
  const out: RealPaths = {};
  for (const p of privileges) {
    if (p.Name !== 'mount' && p.Name !== 'device') continue;
    for (const v of p.Value) if (v.startsWith('/')) out[v] = resolveHostPath(v).realPath;
  }
  return out;
}

function verdictOn(privileges: readonly PluginPrivilege[], profile: EffectiveProfile, what: string, warn?: (t: string) => void): Verdict {
  const relative = privileges.flatMap((p) => (p.Name === 'mount' || p.Name === 'device' ? p.Value.filter((v) => !v.startsWith('/')) : []));
  if (relative.length) return cannotJudge(`${what}: a host path that is not absolute: ${relative.map((v) => JSON.stringify(v)).join(', ')}`);
  const j = judgePrivileges(privileges, profile, realPathsOf(privileges));
  return verdictOf(j.violations, undefined, profile, what, warn);
}

/** `POST /plugins/pull?remote=&name=` and `POST /plugins/{name}/upgrade?remote=`: the accepted privileges. */
export function judgePluginInstall(req: DoorRequest, profile: EffectiveProfile, warn?: (t: string) => void): Verdict {
  if (profile.unconfined) return { action: 'pass' };
  const remote = req.query.get('remote') ?? '';
  const what = `plugin ${remote || req.path}`;
  const privileges = readPrivileges(req.body);
  if (typeof privileges === 'string') return cannotJudge(`${req.method} ${req.path}: ${privileges}`);
  return forwardJudged(verdictOn(privileges, profile, what, warn), privileges);
}

/** The part of GET /plugins/{name}/json the door reads. */
export interface PluginInspect {
  Id?: string;
  Name?: string;
  Enabled?: boolean;
  Settings?: { Mounts?: PluginMount[] | null; Devices?: PluginDevice[] | null } | null;
  Config?: {
    Network?: { Type?: string } | null;
    Mounts?: PluginMount[] | null;
    Linux?: { Capabilities?: string[] | null; AllowAllDevices?: boolean; Devices?: PluginDevice[] | null } | null;
    PidHost?: boolean;
    IpcHost?: boolean;
    Env?: { Name: string; Settable?: string[] | null }[] | null;
    Args?: { Name: string } | null;
  } | null;
}
interface PluginMount {
  Name?: string;
  Source?: string | null;
  Destination?: string;
  Type?: string;
  Options?: string[] | null;
  Settable?: string[] | null;
}
interface PluginDevice {
  Name?: string;
  Path?: string | null;
  Settable?: string[] | null;
}

/**
 * Pure: the privileges an installed plugin runs with, as moby's computePrivileges derives them
 * from its config, plus the mount sources and device paths of its settings (what `set` changed).
 */
export function privilegesOfInstalled(p: PluginInspect): PluginPrivilege[] {
  const c = p.Config ?? {};
  const out: PluginPrivilege[] = [];
  const net = c.Network?.Type ?? '';
  if (net !== '' && net !== 'null' && net !== 'bridge') out.push({ Name: 'network', Value: [net] });
  if (c.IpcHost) out.push({ Name: 'host ipc namespace', Value: ['true'] });
  if (c.PidHost) out.push({ Name: 'host pid namespace', Value: ['true'] });
  const mounts = new Set<string>();
  for (const m of [...(c.Mounts ?? []), ...(p.Settings?.Mounts ?? [])]) if (typeof m.Source === 'string' && m.Source !== '') mounts.add(m.Source);
  for (const s of mounts) out.push({ Name: 'mount', Value: [s] });
  const devices = new Set<string>();
  for (const d of [...(c.Linux?.Devices ?? []), ...(p.Settings?.Devices ?? [])]) if (typeof d.Path === 'string' && d.Path !== '') devices.add(d.Path);
  for (const d of devices) out.push({ Name: 'device', Value: [d] });
  if (c.Linux?.AllowAllDevices) out.push({ Name: 'allow-all-devices', Value: ['true'] });
  if ((c.Linux?.Capabilities ?? []).length) out.push({ Name: 'capabilities', Value: [...(c.Linux?.Capabilities ?? [])] });
  return out;
}

/**
 * Pure: the mount sources and device paths a `plugin set` body would give the plugin, resolved as
 * moby's Plugin.Set resolves each `NAME[.FIELD]=VALUE` (an env, a mount's source, a device's path,
 * the args); env and args change no privilege. A body that is not a list of strings: a string why.
 */
export function privilegesOfSet(raw: unknown, p: PluginInspect): PluginPrivilege[] | string {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((a) => typeof a === 'string')) return 'the body is not a JSON list of strings';
  const out: PluginPrivilege[] = [];
  const c = p.Config ?? {};
  for (const arg of raw as string[]) {
    const eq = arg.indexOf('=');
    if (eq < 0) return `${JSON.stringify(arg)} is not NAME=VALUE`;
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    const dot = key.indexOf('.');
    const name = dot < 0 ? key : key.slice(0, dot);
    const field = dot < 0 ? '' : key.slice(dot + 1);
    // moby checks the env first, then mounts, then devices: the first with the name takes the value.
    if ((c.Env ?? []).some((e) => e.Name === name)) continue;
    const mount = (c.Mounts ?? []).find((m) => m.Name === name);
    if (mount) {
      if (field === '' || field === 'source') out.push({ Name: 'mount', Value: [value] });
      continue;
    }
    const device = (c.Linux?.Devices ?? []).find((d) => d.Name === name);
    if (device) {
      if (field === '' || field === 'path') out.push({ Name: 'device', Value: [value] });
      continue;
    }
    // The args, or a name the plugin does not have: the engine sets the args or refuses.
  }
  return out;
}

function pluginPath(name: string): string {
  return `/plugins/${name.split('/').map(encodeURIComponent).join('/')}/json`;
}

async function inspect(opts: JudgeOptions, name: string): Promise<PluginInspect | Verdict> {
  try {
    return await opts.client.json<PluginInspect>('GET', pluginPath(name));
  } catch (err) {
    // The engine's own answer (404 no such plugin): as the engine would have given it.
    if (err instanceof EngineError) return { action: 'respond', status: err.statusCode, body: { message: err.message } };
    throw err;
  }
}

const isVerdict = (v: unknown): v is Verdict => isObject(v) && typeof (v as { action?: unknown }).action === 'string';

/** `POST /plugins/{name}/enable`: the installed plugin's config, as the engine reports it. */
export async function judgePluginEnable(name: string, opts: JudgeOptions): Promise<Verdict> {
  if (opts.profile.unconfined) return { action: 'pass' };
  const p = await inspect(opts, name);
  if (isVerdict(p)) return p;
  return pinPlugin(verdictOn(privilegesOfInstalled(p), opts.profile, `plugin ${p.Name ?? name}`, opts.warn), p, 'enable');
}

/** The plugin judged is the one acted on: the request goes to its full id, not the name (which may be re-used meanwhile). */
function pinPlugin(v: Verdict, p: PluginInspect, what: 'enable' | 'set'): Verdict {
  if ((v.action !== 'pass' && v.action !== 'forward') || typeof p.Id !== 'string' || !/^[0-9a-f]{64}$/.test(p.Id)) return v;
  return { ...v, path: `/plugins/${p.Id}/${what}` };
}

/** `POST /plugins/{name}/set`: the mount sources and device paths the settings change. */
export async function judgePluginSet(req: DoorRequest, name: string, opts: JudgeOptions): Promise<Verdict> {
  if (opts.profile.unconfined) return { action: 'pass' };
  if (req.body !== null && req.body !== undefined && (!Array.isArray(req.body) || !req.body.every((a) => typeof a === 'string'))) {
    return cannotJudge(`POST /plugins/${name}/set: the body is not a JSON list of strings`);
  }
  const p = await inspect(opts, name);
  if (isVerdict(p)) return p;
  const changed = privilegesOfSet(req.body, p);
  if (typeof changed === 'string') return cannotJudge(`POST /plugins/${name}/set: ${changed}`);
  return pinPlugin(forwardJudged(verdictOn(changed, opts.profile, `plugin ${p.Name ?? name} setting`, opts.warn), req.body ?? []), p, 'set');
}
