/**
 * Profile validation and merging. Pure: the loader (load-profile.ts) reads files, parses YAML and
 * hands each document here as a plain object with a `locate` function for line:column.
 *
 * Merge order: level → extends chain → project profile. The machine floor is a ceiling: an
 * allowance takes effect only when the floor (its level plus its own allow list) grants it too.
 */
import { capName } from '../api/capabilities.js';
import { PolicyError, UsageError } from '../errors.js';
import { LEVEL_FILES } from './levels.js';
import { grants } from './floor.js';
import { validateHealthcheck } from './healthcheck.js';
import { validateUlimits } from './ulimits.js';
import { capLimits, clampDefaults, mergeLimits, resolveLimits, validateLimits } from './limits.js';
import { logSize, ramSize } from './sizes.js';
import { isLoopbackHostIp } from './loopback.js';
import { canonicalIp } from '../flags/values/kv.js';
import type {
  AllowSpec, EffectiveProfile, FloorDenial, LevelName, PolicyMode, ProfileDefaults, ProfileFile, ProfileLimits, ProfileSource,
  Reasoned, ResolvedDefaults,
} from './types.js';
import { HOST_NAMESPACES, LEVELS, MODES, MODE_STRENGTH, UNLIMITED_RESOURCES } from './types.js';
import { mergeImages, validateImages } from '../trust/profile-images.js';

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
const LIST_ALLOW: Record<string, { field: string; check?: (v: string) => string | undefined; extra?: Record<string, 'boolean'> }> = {
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

const TOP_KEYS = ['extends', 'level', 'mode', 'defaults', 'allow', 'limits', 'audit', 'images', '$schema'];
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

// ---------------------------------------------------------------------------------------------
// Merging

function mergeDefaults(a: ProfileDefaults, b: ProfileDefaults | undefined): ProfileDefaults {
  if (!b) return a;
  return { ...a, ...b, log: { ...(a.log ?? {}), ...(b.log ?? {}) } };
}

/** Union of two allow specs; for list entries with the same id the later one wins. */
export function mergeAllow(a: AllowSpec, b: AllowSpec | undefined): AllowSpec {
  if (!b) return a;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const spec = LIST_ALLOW[k];
    if (spec && Array.isArray(v)) {
      const prev = ((a as Record<string, unknown>)[k] as Record<string, unknown>[] | undefined) ?? [];
      const ids = new Set(v.map((e: Record<string, unknown>) => e[spec.field]));
      out[k] = [...prev.filter((e) => !ids.has(e[spec.field])), ...v];
    } else out[k] = v;
  }
  return out as AllowSpec;
}

function resolveDefaults(d: ProfileDefaults): ResolvedDefaults {
  const r: ResolvedDefaults = {
    user: d.user ?? '65534:65534',
    tmpfs: d.tmpfs ?? [{ path: '/tmp', size: '64m' }],
    memory: ramSize(d.memory ?? '1g') ?? 1024 ** 3,
    nanoCpus: Math.round((d.cpus ?? 2) * 1e9),
    pids: d.pids ?? 512,
    log: { maxSize: d.log?.maxSize ?? '10m', maxFile: d.log?.maxFile ?? 3 },
    seccomp: d.seccomp ?? 'default',
    portAddress: d.portAddress ?? '127.0.0.1',
    ulimits: d.ulimits ?? [],
  };
  if (d.runtime) r.runtime = d.runtime;
  if (d.capabilities?.length) r.capabilities = d.capabilities;
  if (d.healthcheck) r.healthcheck = d.healthcheck;
  return r;
}

/** Keep only what the floor grants; report the rest. */
export function filterByFloor(allow: AllowSpec, floor: AllowSpec, floorPath: string): { allow: AllowSpec; denied: FloorDenial[] } {
  const out: Record<string, unknown> = {};
  const denied: FloorDenial[] = [];
  for (const [k, v] of Object.entries(allow) as [keyof AllowSpec, unknown][]) {
    const spec = LIST_ALLOW[k];
    if (spec && Array.isArray(v)) {
      const kept = v.filter((e: Record<string, unknown>) => {
        if (grants(k, e, floor)) return true;
        denied.push({ key: k, value: String(e[spec.field]), floor: floorPath, ...(e.source ? { source: String(e.source) } : {}) });
        return false;
      });
      if (kept.length) out[k] = kept;
    } else if (v) {
      if (grants(k, v as Record<string, unknown>, floor)) out[k] = v;
      else denied.push({ key: k, value: k, floor: floorPath, ...((v as Reasoned).source ? { source: (v as Reasoned).source! } : {}) });
    }
  }
  return { allow: out as AllowSpec, denied };
}

export interface MergeInput {
  /** The project chain, outermost last: e.g. [extended.yaml, sdocker.yaml]. Empty: the level alone. */
  chain: ProfileFile[];
  /** The built-in level at the root (from the chain's `extends`, or `--policy LEVEL`). */
  level: LevelName;
  /** Floors (machine floor, then any added by SDOCKER_FLOOR): each a ceiling on the allowances. */
  floors?: { chain: ProfileFile[]; level: LevelName; path: string }[];
  sources: ProfileSource[];
}

/** The level chain of a built-in level (baseline extends restricted). */
export function levelChain(level: LevelName): ProfileFile[] {
  const out: ProfileFile[] = [];
  let cur: ProfileFile | undefined = LEVEL_FILES[level];
  while (cur) {
    out.unshift(cur);
    cur = cur.extends && (LEVELS as readonly string[]).includes(cur.extends) ? LEVEL_FILES[cur.extends as LevelName] : undefined;
  }
  return out;
}

function withSource<T extends ProfileFile>(f: T): T {
  if (!f.allow) return f;
  const allow: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f.allow)) {
    allow[k] = Array.isArray(v) ? v.map((e: Reasoned) => ({ ...e, source: e.source ?? f.path })) : { ...(v as Reasoned), source: (v as Reasoned).source ?? f.path };
  }
  return { ...f, allow: allow as AllowSpec };
}

export function mergeProfiles(input: MergeInput): EffectiveProfile {
  const files = [...levelChain(input.level), ...input.chain].map(withSource);
  let defaults: ProfileDefaults = {};
  let allow: AllowSpec = {};
  let limits: ProfileLimits = {};
  let mode: PolicyMode | undefined;
  for (const f of files) {
    defaults = mergeDefaults(defaults, f.defaults);
    allow = mergeAllow(allow, f.allow);
    limits = mergeLimits(limits, f.limits);
    if (f.mode) mode = f.mode;
    // audit.log: only a floor moves the run record (a project's is refused by the loader).
  }
  const eff: EffectiveProfile = {
    level: input.level,
    unconfined: input.level === 'privileged',
    defaults: resolveDefaults(defaults),
    limits: resolveLimits(limits),
    allow,
    floorDenied: [],
    sources: input.sources,
    minMode: 'audit',
  };
  if (mode) eff.mode = mode;
  for (const fl of input.floors ?? []) {
    eff.floor = eff.floor ? `${eff.floor}, ${fl.path}` : fl.path;
    if (input.level === 'privileged' && fl.level !== 'privileged') {
      throw new PolicyError(`level privileged is not allowed on this machine: the floor ${fl.path} extends ${fl.level}`);
    }
    let fAllow: AllowSpec = {};
    let fDefaults: ProfileDefaults = {};
    let fMode: PolicyMode = 'enforce';
    let fLog: string | undefined;
    let fLimits: ProfileLimits = {};
    for (const f of levelChain(fl.level).map(withSource)) {
      fAllow = mergeAllow(fAllow, f.allow);
      fLimits = mergeLimits(fLimits, f.limits);
    }
    for (const f of fl.chain.map(withSource)) {
      fAllow = mergeAllow(fAllow, f.allow);
      fLimits = mergeLimits(fLimits, f.limits);
      fDefaults = mergeDefaults(fDefaults, f.defaults);
      if (f.mode) fMode = f.mode;
      if (f.audit?.log) fLog = f.audit.log;
    }
    const { allow: kept, denied } = filterByFloor(eff.allow, fAllow, fl.path);
    eff.allow = kept;
    eff.floorDenied.push(...denied);
    if (MODE_STRENGTH[fMode] > MODE_STRENGTH[eff.minMode]) eff.minMode = fMode;
    if (eff.mode && MODE_STRENGTH[eff.mode] < MODE_STRENGTH[eff.minMode]) eff.mode = eff.minMode;
    // The floor's runtime, seccomp profile and audit log cannot be moved by a project.
    if (fDefaults.runtime) eff.defaults.runtime = fDefaults.runtime;
    if (fDefaults.seccomp) eff.defaults.seccomp = fDefaults.seccomp;
    if (fLog) eff.auditLog = fLog;
    eff.limits = capLimits(eff.limits, resolveLimits(fLimits), fl.path);
  }
  eff.defaults = clampDefaults(eff.defaults, eff.limits);
  const images = mergeImages(files, input.floors ?? []);
  if (images) eff.images = images;
  if (!isLoopbackOrAllowed(eff.defaults.portAddress, eff.allow)) {
    throw new UsageError(`defaults.portAddress ${eff.defaults.portAddress} is not allowed: list it under allow.portAddresses with a reason`);
  }
  return eff;
}

function isLoopbackOrAllowed(addr: string, allow: AllowSpec): boolean {
  return isLoopbackHostIp(addr) || (allow.portAddresses ?? []).some((a) => a.address === addr);
}

/** Resolve the mode of a run: the flag, else the profile's, else enforce; never below the floor's. */
export function effectiveMode(flag: PolicyMode | undefined, profile: EffectiveProfile): PolicyMode {
  const want = flag ?? profile.mode ?? 'enforce';
  return MODE_STRENGTH[want] < MODE_STRENGTH[profile.minMode] ? profile.minMode : want;
}

