/**
 * Loading profiles from disk (I/O; the shell calls it, the pure core gets the result).
 *
 * - Project profile: `--profile PATH`, else `--policy FILE`, else $SDOCKER_PROFILE, else the first
 *   `sdocker.yaml` from the working directory upward, stopping at the repository root (a directory
 *   with .git) or at /.
 * - Level: `--policy LEVEL`, else the root of the profile's `extends` chain, else restricted.
 * - Floors: /etc/sdocker/policy.yaml (must be owned by root and not writable by others) and, in
 *   addition, $SDOCKER_FLOOR. The variable can only add a floor, never replace or remove the
 *   machine's: floors intersect, so whoever sets the environment (a CI job defined by an untrusted
 *   repository) can tighten the policy but not relax it.
 *
 * The YAML parser is imported only when a file is actually read (about 50 ms of start-up).
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { FileReadError, readBoundedText } from '../fs/read-bounded.js';
import { parseYamlBounded } from './yaml-bounded.js';
import { type KeyPath, type Locate, validateProfile } from './profile.js';
import { mergeProfiles } from './profile-effective.js';
import type { FloorInput } from './profile-merge.js';
import type { EffectiveProfile, LevelName, ProfileFile, ProfileSource } from './types.js';
import { LEVELS } from './types.js';
import { loadModule } from '../load-module.js';
import { checkProfileTrust } from './profile-trust.js';

export const MACHINE_FLOOR = '/etc/sdocker/policy.yaml';
export const PROFILE_NAMES = ['sdocker.yaml', 'sdocker.yml'];

export interface LoadOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** --profile PATH */
  profile?: string;
  /** --policy LEVEL|FILE */
  policy?: string;
  /** Replaces /etc/sdocker/policy.yaml (tests only; the CLI never sets it). */
  machineFloor?: string;
  /** Path of the shipped default seccomp profile (tests); defaults to profiles/seccomp/default.json. */
  seccompDefault?: string;
  /** False: do not read the seccomp profile (`sdocker seccomp record` replaces it by its own). */
  seccomp?: boolean;
}

const isLevel = (s: string): s is LevelName => (LEVELS as readonly string[]).includes(s);

export interface ReadFile {
  file: ProfileFile;
  text: string;
  locate: Locate;
}

/** A profile file read (bounded, no device or FIFO: readBoundedText), parsed and validated. */
export async function readProfileFile(path: string): Promise<ReadFile> {
  let text: string;
  try {
    text = readBoundedText(path, 'profile');
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new UsageError(`${path}: cannot read the profile: ${err.reason}`);
  }
  return parseProfileText(text, path);
}

/** A profile's text (read by the caller: the door reads a project's itself) parsed, validated, paths resolved. */
export async function parseProfileText(text: string, path: string): Promise<ReadFile> {
  const yaml = await loadModule<typeof import('yaml')>('yaml');
  const { isMap, isScalar } = yaml;
  const { doc, lc, value } = parseYamlBounded(yaml, text, path);
  const locate: Locate = (keyPath: KeyPath) => {
    // Point at the key of the last segment when it is a mapping key, else at the value.
    let node: unknown = doc.contents;
    let pos: number | undefined = (node as { range?: number[] } | null)?.range?.[0];
    for (const seg of keyPath) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        pos = (pair.key as { range?: number[] } | null)?.range?.[0] ?? pos;
        node = pair.value;
      } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
        const item = (node as { items: unknown[] }).items[seg as number];
        if (item === undefined) break;
        node = item;
        pos = (item as { range?: number[] } | null)?.range?.[0] ?? pos;
      } else break;
    }
    return pos === undefined ? undefined : lc.linePos(pos);
  };
  const file = validateProfile(value, path, locate);
  file.sha256 = createHash('sha256').update(text).digest('hex');
  if (file.level) throw new UsageError(`${path}${fmt(locate(['level']))}: level: only the built-in level files set it; use extends: ${file.level}`);
  resolveFilePaths(file, dirname(path));
  return { file, text, locate };
}

function fmt(p: { line: number; col: number } | undefined): string {
  return p ? `:${p.line}:${p.col}` : '';
}

/** Real path of p, or of its longest existing ancestor joined with the rest. */
export function realish(p: string): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return p;
      rest.push(cur.slice(parent.length).replace(/^\//, ''));
      cur = parent;
    }
  }
}

/** Paths in a profile are relative to the profile's directory; host paths are resolved through symlinks. */
function resolveFilePaths(f: ProfileFile, dir: string): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  for (const e of f.allow?.hostPaths ?? []) e.path = realish(abs(e.path));
  for (const e of f.allow?.writablePaths ?? []) e.path = realish(abs(e.path));
  const s = f.defaults?.seccomp;
  if (s && s !== 'default' && s !== 'engine') f.defaults!.seccomp = abs(s);
  if (f.audit?.log) f.audit.log = abs(f.audit.log);
}

/**
 * Read a file and its `extends` chain; returns the level at the root and the files, root first.
 * A project chain (`how`: how its first file was found) must be files only the user or root could
 * have written (profile-trust.ts), and cannot move the run record: `audit.log` is the machine
 * floor's alone (`trustedLog`), or the user's own (SDOCKER_STATE_DIR).
 */
async function readChain(start: string, role: 'project' | 'floor', how = '', trustedLog = false): Promise<{ level?: LevelName; files: ReadFile[]; sources: ProfileSource[] }> {
  const files: ReadFile[] = [];
  const sources: ProfileSource[] = [];
  const seen = new Set<string>();
  let path: string | undefined = start;
  let level: LevelName | undefined;
  while (path) {
    const real = realish(path);
    if (seen.has(real)) throw new UsageError(`${path}: extends loops back to ${real}`);
    if (seen.size >= 16) throw new UsageError(`${path}: extends chain is deeper than 16 files`);
    seen.add(real);
    if (role === 'project') checkProfileTrust(path, seen.size === 1 ? how : `extended by ${start}`);
    const rf = await readProfileFile(path);
    if (rf.file.audit?.log !== undefined && !trustedLog) {
      throw new UsageError(`${path}${fmt(rf.locate(['audit', 'log']))}: audit.log: only the machine floor (${MACHINE_FLOOR}) may move the run record `
        + `(a ${role === 'project' ? 'project profile' : 'floor named by SDOCKER_FLOOR'} could make sdocker append to any file of yours); `
        + 'remove it, or set SDOCKER_STATE_DIR in your own environment');
    }
    files.unshift(rf);
    sources.unshift({ path, sha256: rf.file.sha256!, role: seen.size === 1 ? role : role === 'floor' ? 'floor' : 'extends' });
    const ext = rf.file.extends;
    if (ext === undefined) break;
    if (isLevel(ext)) {
      level = ext;
      break;
    }
    path = isAbsolute(ext) ? ext : resolve(dirname(path), ext);
    if (!existsSync(path)) throw new UsageError(`${rf.file.path}: extends: ${ext}: no such level or file (levels: ${LEVELS.join(', ')})`);
  }
  return { ...(level ? { level } : {}), files, sources };
}

/** sdocker.yaml from cwd upward, stopping at the repository root. */
export function discoverProfile(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    for (const n of PROFILE_NAMES) {
      const p = join(dir, n);
      if (existsSync(p)) return p;
    }
    if (existsSync(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function checkFloorOwnership(path: string): void {
  const st = statSync(path);
  if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new UsageError(`${path}: the machine floor must be owned by root and writable by nobody else (it is uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}); refusing to run`);
  }
}

export function defaultSeccompPath(): string {
  return fileURLToPath(new URL('../../profiles/seccomp/default.json', import.meta.url));
}

/** Everything the policy core needs to know about the profiles in effect. */
export async function loadEffectiveProfile(opts: LoadOptions): Promise<EffectiveProfile> {
  let levelOverride: LevelName | undefined;
  let projectPath: string | undefined;
  let how = '--policy';
  if (opts.policy !== undefined) {
    if (isLevel(opts.policy)) levelOverride = opts.policy;
    else projectPath = resolve(opts.cwd, opts.policy);
  }
  if (opts.profile !== undefined) {
    if (projectPath) throw new UsageError('--policy FILE and --profile FILE cannot both be given');
    projectPath = resolve(opts.cwd, opts.profile);
    how = '--profile';
  }
  if (!projectPath && opts.env.SDOCKER_PROFILE) {
    projectPath = resolve(opts.cwd, opts.env.SDOCKER_PROFILE);
    how = 'SDOCKER_PROFILE';
  }
  if (!projectPath) {
    projectPath = discoverProfile(opts.cwd);
    how = `found by discovery from ${opts.cwd}`;
  } else if (!existsSync(projectPath)) throw new UsageError(`${projectPath}: no such profile`);

  const sources: ProfileSource[] = [];
  let chainFiles: ProfileFile[] = [];
  let level: LevelName = 'restricted';
  if (projectPath) {
    const ch = await readChain(projectPath, 'project', how);
    chainFiles = ch.files.map((f) => f.file);
    sources.push(...ch.sources);
    if (ch.level) level = ch.level;
  }
  if (levelOverride) level = levelOverride;
  sources.unshift({ path: `level:${level}`, role: 'level' });

  const fl = await loadFloors(opts);
  sources.push(...fl.sources);
  const eff = mergeProfiles({ chain: chainFiles, level, floors: fl.floors, sources });
  if (!eff.unconfined && opts.seccomp !== false) loadSeccomp(eff, opts.seccompDefault ?? defaultSeccompPath());
  return eff;
}

/** The floors in force (the machine's, then $SDOCKER_FLOOR's), with their sources. */
export async function loadFloors(opts: Pick<LoadOptions, 'cwd' | 'env' | 'machineFloor'>): Promise<{ floors: FloorInput[]; sources: ProfileSource[] }> {
  const sources: ProfileSource[] = [];
  const floors: FloorInput[] = [];
  const machine = opts.machineFloor ?? MACHINE_FLOOR;
  const floorPaths: string[] = [];
  if (existsSync(machine)) {
    if (opts.machineFloor === undefined) checkFloorOwnership(machine);
    floorPaths.push(machine);
  }
  const extra = opts.env.SDOCKER_FLOOR;
  if (extra) {
    const p = resolve(opts.cwd, extra);
    if (!existsSync(p)) throw new UsageError(`SDOCKER_FLOOR=${extra}: no such file (refusing to run without the floor it names)`);
    floorPaths.push(p);
  }
  for (const fp of floorPaths) {
    const ch = await readChain(fp, 'floor', '', fp === machine);
    floors.push({ chain: ch.files.map((f) => f.file), level: ch.level ?? 'restricted', path: fp });
    sources.push(...ch.sources.map((s) => ({ ...s, role: 'floor' as const })));
  }
  return { floors, sources };
}

/** One more floor, read as a floor is (its audit.log refused): the door's ceiling over project profiles. */
export async function loadExtraFloor(path: string): Promise<{ floor: FloorInput; sources: ProfileSource[] }> {
  const ch = await readChain(path, 'floor');
  return { floor: { chain: ch.files.map((f) => f.file), level: ch.level ?? 'restricted', path }, sources: ch.sources.map((s) => ({ ...s, role: 'floor' as const })) };
}

export function loadSeccomp(eff: EffectiveProfile, shipped: string): void {
  const s = eff.defaults.seccomp;
  if (s === 'engine') return;
  const path = s === 'default' ? shipped : s;
  try {
    const text = readBoundedText(path, 'seccomp');
    eff.seccompProfile = text;
    eff.seccompProfilePath = path;
    // The shipped default is checked by its tests, not on every run; any other file is checked by
    // the shell (src/seccomp/policy-check.ts) before the policy decides.
    if (path === shipped) eff.seccompChecks = { ...eff.seccompChecks, [text]: { source: path, whitelist: true, findings: [], trusted: true } };
  } catch (err) {
    if (s === 'default') return; // not shipped yet: the engine's default applies (never unconfined)
    throw new UsageError(`defaults.seccomp: cannot read ${path}: ${err instanceof FileReadError ? err.reason : String(err)}`);
  }
}

/**
 * Whether a seccomp profile in play still needs checking (src/seccomp/policy-check.ts, with
 * libseccomp): the profile's own when it is not the shipped default, or a `seccomp=<json>` of the request.
 */
export function seccompCheckNeeded(body: { HostConfig?: { SecurityOpt?: string[] | null } }, eff: EffectiveProfile): boolean {
  if (eff.unconfined) return false;
  if (eff.seccompProfile !== undefined && !eff.seccompChecks?.[eff.seccompProfile]) return true;
  return (body.HostConfig?.SecurityOpt ?? []).some((o) => /^seccomp[=:]\s*\{/.test(o));
}
