/**
 * Profile validation, one file at a time. Pure: the loader (load-profile.ts) reads files, parses
 * YAML and hands each document here as a plain object with a `locate` function for line:column.
 * Merging the files is profile-merge.ts (level → extends chain → project profile), the floors
 * over them profile-floor.ts (an allowance takes effect only when each floor grants it too).
 */
import { capName } from '../api/capabilities.js';
import { UsageError } from '../errors.js';
import { validateLimits } from './limits.js';
import { validateHealthcheck } from './healthcheck.js';
import { validateUlimits } from './ulimits.js';
import { logSize, ramSize } from './sizes.js';
import { canonicalIp } from '../flags/values/kv.js';
import type { AllowSpec, LevelName, PolicyMode, ProfileDefaults, ProfileFile, Reasoned } from './types.js';
import { HOST_NAMESPACES, LEVELS, MODES, UNLIMITED_RESOURCES } from './types.js';
import { validateImages } from '../trust/profile-images.js';
import { validateDoor } from './profile-door.js';

export type KeyPath = (string | number)[];
export type Locate = (path: KeyPath) => { line: number; col: number } | undefined;

function fail(file: string, locate: Locate | undefined, path: KeyPath, msg: string): never {
  const pos = locate?.(path);
  const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
  // An unknown key is named by its text only when that is a short identifier (a misspelt `cpu`);
  // otherwise by its place: the file may be any file the user can read (a mistyped or hostile
  // --profile /etc/shadow parses as a mapping), and its content must not reach a log.
  const last = String(path.at(-1) ?? '');
  const shown = msg.startsWith('unknown key') && !/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(last) ? path.slice(0, -1) : path;
  throw new UsageError(`${where}: ${shown.length ? `${shown.join('.')}: ` : ''}${msg}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const SINGLE_ALLOW = [
  'privileged', 'defaultCapabilities', 'writableBinds', 'writableRootfs', 'deviceRequests', 'seccompUnconfined',
  'apparmorUnconfined', 'labelDisable', 'systemPathsUnconfined', 'newPrivileges', 'cgroupParent', 'volumesFrom',
  'restartWithBinds', 'unboundedRestart',
] as const;

/** List allowances: their identifying field and its validation. */
export const LIST_ALLOW: Record<string, { field: string; check?: (v: string) => string | undefined; extra?: Record<string, 'boolean'> }> = {
  capabilities: { field: 'name', check: (v) => (/^(CAP_)?[A-Za-z_]+$/.test(v) ? undefined : 'not a capability name') },
  hostNamespaces: { field: 'name', check: (v) => ((HOST_NAMESPACES as readonly string[]).includes(v) ? undefined : `must be one of ${HOST_NAMESPACES.join(', ')}`) },
  hostPaths: { field: 'path', extra: { writable: 'boolean' } },
  writablePaths: { field: 'path' },
  devices: { field: 'path', check: (v) => (v.startsWith('/') ? undefined : 'must be an absolute path') },
  deviceCgroupRules: { field: 'rule' },
  sysctls: { field: 'name', check: (v) => (/^[a-z0-9_.*/-]+$/.test(v) ? undefined : 'not a sysctl name') },
  unlimited: { field: 'resource', check: (v) => ((UNLIMITED_RESOURCES as readonly string[]).includes(v) ? undefined : `must be one of ${UNLIMITED_RESOURCES.join(', ')}`) },
  syscalls: { field: 'name', check: (v) => (/^[a-z0-9_]+$/.test(v) ? undefined : 'not a system call name') },
  joinContainers: { field: 'name' },
  portAddresses: { field: 'address', check: (v) => ipProblem(v) },
  volumeDrivers: { field: 'name', check: (v) => (/^[A-Za-z0-9][\w.:/-]*$/.test(v) && v !== 'local' ? undefined : 'not a volume driver name (local needs no allowance)') },
  volumeOptions: { field: 'type', check: (v) => (/^[A-Za-z0-9_.-]+$/.test(v) ? undefined : 'not a filesystem type (e.g. nfs, tmpfs)') },
};

const TOP_KEYS = ['extends', 'level', 'mode', 'defaults', 'allow', 'limits', 'audit', 'images', 'door', '$schema'];
/** An address in a profile is compared as text with the engine's HostIp: only its canonical form. */
function ipProblem(v: string): string | undefined {
  const c = canonicalIp(v);
  if (c === v) return undefined;
  return c === undefined ? 'not an IP address as the engine reads it (no names, no leading zeros)' : `write it as ${c}`;
}

const DEFAULT_KEYS = ['user', 'tmpfs', 'capabilities', 'memory', 'cpus', 'pids', 'log', 'seccomp', 'runtime', 'portAddress', 'healthcheck', 'ulimits'];

function reasoned(file: string, locate: Locate | undefined, path: KeyPath, v: unknown, extra: Record<string, 'boolean'> = {}, idField?: string): Reasoned & Record<string, unknown> {
  if (!isObj(v)) fail(file, locate, path, `must be a mapping with a reason (e.g. {${idField ? `${idField}: ..., ` : ''}reason: "..."})`);
  const allowed = ['reason', ...(idField ? [idField] : []), ...Object.keys(extra)];
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) fail(file, locate, [...path, k], `unknown key (expected ${allowed.join(', ')})`);
  }
  if (typeof v.reason !== 'string' || v.reason.trim() === '') {
    fail(file, locate, path, 'every allowance needs a reason: (it goes into the run record)');
  }
  for (const [k, t] of Object.entries(extra)) {
    if (v[k] !== undefined && typeof v[k] !== t) fail(file, locate, [...path, k], `must be a ${t}`);
  }
  return { ...v, reason: v.reason.trim(), source: file } as Reasoned & Record<string, unknown>;
}

/** Validate one parsed profile document. Errors are UsageError naming `file:line:col`. */
export function validateProfile(doc: unknown, file: string, locate?: Locate): ProfileFile {
  if (doc === null || doc === undefined) return { path: file };
  if (!isObj(doc)) fail(file, locate, [], 'a profile is a YAML mapping');
  for (const k of Object.keys(doc)) if (!TOP_KEYS.includes(k)) fail(file, locate, [k], `unknown key (expected one of ${TOP_KEYS.filter((x) => x !== '$schema').join(', ')})`);
  const out: ProfileFile = { path: file };
  if (doc.extends !== undefined) {
    if (typeof doc.extends !== 'string' || !doc.extends) fail(file, locate, ['extends'], 'must be a level name or a file path');
    out.extends = doc.extends;
  }
  if (doc.level !== undefined) {
    if (!(LEVELS as readonly unknown[]).includes(doc.level)) fail(file, locate, ['level'], `must be one of ${LEVELS.join(', ')}`);
    out.level = doc.level as LevelName;
  }
  if (doc.mode !== undefined) {
    if (!(MODES as readonly unknown[]).includes(doc.mode)) fail(file, locate, ['mode'], `must be one of ${MODES.join(', ')}`);
    out.mode = doc.mode as PolicyMode;
  }
  if (doc.audit !== undefined) {
    if (!isObj(doc.audit)) fail(file, locate, ['audit'], 'must be a mapping');
    for (const k of Object.keys(doc.audit)) if (k !== 'log') fail(file, locate, ['audit', k], 'unknown key (expected log)');
    if (doc.audit.log !== undefined && typeof doc.audit.log !== 'string') fail(file, locate, ['audit', 'log'], 'must be a path');
    out.audit = doc.audit.log !== undefined ? { log: doc.audit.log as string } : {};
  }
  if (doc.defaults !== undefined) out.defaults = validateDefaults(doc.defaults, file, locate);
  if (doc.allow !== undefined) out.allow = validateAllow(doc.allow, file, locate);
  if (doc.images !== undefined) out.images = validateImages(doc.images, (path, msg) => fail(file, locate, path, msg));
  // door: sdocker serve's socket profile only (profile-door.ts); the CLI ignores it.
  if (doc.door !== undefined) out.door = validateDoor(doc.door, (path, msg) => fail(file, locate, path, msg));
  if (doc.limits !== undefined) {
    if (!isObj(doc.limits)) fail(file, locate, ['limits'], 'must be a mapping');
    const { limits, errors } = validateLimits(doc.limits);
    const e = errors[0];
    if (e) fail(file, locate, ['limits', e[0]], e[1]);
    out.limits = limits;
  }
  return out;
}

function validateDefaults(d: unknown, file: string, locate?: Locate): ProfileDefaults {
  const p = ['defaults'];
  if (!isObj(d)) fail(file, locate, p, 'must be a mapping');
  for (const k of Object.keys(d)) if (!DEFAULT_KEYS.includes(k)) fail(file, locate, [...p, k], `unknown key (expected one of ${DEFAULT_KEYS.join(', ')})`);
  const out: ProfileDefaults = {};
  const str = (k: string): string | undefined => {
    const v = d[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') fail(file, locate, [...p, k], 'must be a string');
    return String(v);
  };
  const user = str('user');
  if (user !== undefined) {
    const [u, g] = user.split(':');
    if (!u || u === '0' || u === 'root' || g === '0' || g === 'root') {
      fail(file, locate, [...p, 'user'], 'the default user must not be root (root is an allowance: allow.root)');
    }
    out.user = user;
  }
  for (const k of ['memory'] as const) {
    const v = str(k);
    if (v !== undefined) {
      const n = ramSize(v);
      if (n === undefined || n < 6 * 1024 * 1024) fail(file, locate, [...p, k], 'must be a size of at least 6m (e.g. 512m, 2g); unlimited is an allowance (allow.unlimited)');
      out[k] = v;
    }
  }
  if (d.cpus !== undefined) {
    if (typeof d.cpus !== 'number' || !(d.cpus > 0)) fail(file, locate, [...p, 'cpus'], 'must be a number above 0');
    out.cpus = d.cpus;
  }
  if (d.pids !== undefined) {
    if (typeof d.pids !== 'number' || !Number.isInteger(d.pids) || d.pids < 1) fail(file, locate, [...p, 'pids'], 'must be a whole number above 0; unlimited is an allowance (allow.unlimited)');
    out.pids = d.pids;
  }
  for (const k of ['seccomp', 'runtime', 'portAddress'] as const) {
    const v = str(k);
    if (v !== undefined) out[k] = v;
  }
  if (out.portAddress !== undefined && ipProblem(out.portAddress)) fail(file, locate, [...p, 'portAddress'], ipProblem(out.portAddress)!);
  if (d.log !== undefined) {
    if (!isObj(d.log)) fail(file, locate, [...p, 'log'], 'must be a mapping');
    const log: NonNullable<ProfileDefaults['log']> = {};
    for (const [k, v] of Object.entries(d.log)) {
      if (k === 'maxSize') {
        if (logSize(v) === undefined) fail(file, locate, [...p, 'log', k], 'must be a size (e.g. 10m)');
        log.maxSize = String(v);
      } else if (k === 'maxFile') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(file, locate, [...p, 'log', k], 'must be a whole number above 0');
        log.maxFile = v;
      } else fail(file, locate, [...p, 'log', k], 'unknown key (expected maxSize, maxFile)');
    }
    out.log = log;
  }
  if (d.capabilities !== undefined) {
    if (!Array.isArray(d.capabilities)) fail(file, locate, [...p, 'capabilities'], 'must be a list of capability names (each also under allow.capabilities)');
    out.capabilities = d.capabilities.map((c, i) => {
      if (typeof c !== 'string' || !/^(CAP_)?[A-Za-z_]+$/.test(c)) fail(file, locate, [...p, 'capabilities', i], 'not a capability name');
      return capName(c);
    });
  }
  if (d.healthcheck !== undefined) {
    const r = validateHealthcheck(d.healthcheck);
    if (!r.ok) fail(file, locate, [...p, 'healthcheck', ...r.at], r.why);
    out.healthcheck = r.value;
  }
  if (d.ulimits !== undefined) {
    const r = validateUlimits(d.ulimits);
    if (!r.ok) fail(file, locate, [...p, 'ulimits', ...r.at], r.why);
    out.ulimits = r.value;
  }
  if (d.tmpfs !== undefined) {
    if (!Array.isArray(d.tmpfs)) fail(file, locate, [...p, 'tmpfs'], 'must be a list of {path, size, options}');
    out.tmpfs = d.tmpfs.map((t, i) => {
      const tp = [...p, 'tmpfs', i];
      if (!isObj(t)) fail(file, locate, tp, 'must be a mapping {path, size, options}');
      for (const k of Object.keys(t)) if (!['path', 'size', 'options'].includes(k)) fail(file, locate, [...tp, k], 'unknown key (expected path, size, options)');
      if (typeof t.path !== 'string' || !t.path.startsWith('/')) fail(file, locate, [...tp, 'path'], 'must be an absolute path in the container');
      if (t.size !== undefined && ramSize(t.size) === undefined) fail(file, locate, [...tp, 'size'], 'must be a size (e.g. 64m)');
      if (t.options !== undefined) {
        if (typeof t.options !== 'string') fail(file, locate, [...tp, 'options'], 'must be a string of mount options');
        const bad = t.options.split(',').find((o) => o.trim() === 'suid' || o.trim() === 'dev');
        if (bad) fail(file, locate, [...tp, 'options'], `"${bad}" is not allowed (tmpfs is always nosuid,nodev)`);
      }
      return { path: t.path, ...(t.size !== undefined ? { size: String(t.size) } : {}), ...(t.options !== undefined ? { options: t.options as string } : {}) };
    });
  }
  return out;
}

function validateAllow(a: unknown, file: string, locate?: Locate): AllowSpec {
  const p = ['allow'];
  if (!isObj(a)) fail(file, locate, p, 'must be a mapping');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) {
    if ((SINGLE_ALLOW as readonly string[]).includes(k)) {
      out[k] = reasoned(file, locate, [...p, k], v);
    } else if (k === 'root') {
      out[k] = reasoned(file, locate, [...p, k], v, { withoutUsernsRemap: 'boolean' });
    } else if (LIST_ALLOW[k]) {
      const spec = LIST_ALLOW[k]!;
      if (!Array.isArray(v)) fail(file, locate, [...p, k], `must be a list of {${spec.field}, reason}`);
      out[k] = v.map((e, i) => {
        const ep = [...p, k, i];
        const r = reasoned(file, locate, ep, e, spec.extra, spec.field);
        const id = r[spec.field];
        if (typeof id !== 'string' || id === '') fail(file, locate, [...ep, spec.field], 'is required (a string)');
        const err = spec.check?.(id);
        if (err) fail(file, locate, [...ep, spec.field], `${JSON.stringify(id)}: ${err}`);
        if (k === 'capabilities') r.name = capName(id);
        return r;
      });
    } else {
      fail(file, locate, [...p, k], `unknown allowance (expected one of ${[...SINGLE_ALLOW, 'root', ...Object.keys(LIST_ALLOW)].join(', ')})`);
    }
  }
  return out as AllowSpec;
}
