/**
 * A request names its project's profile (issue 12): compose's `com.docker.compose.project.working_dir`
 * label (compose v1 and v2 set it on every container), or sdocker's own `io.sdocker.project` for
 * other clients. The door reads `<dir>/sdocker.yaml` (or `.yml`) for the client only when the
 * socket's profile says `door.projectProfiles` (src/policy/profile-door.ts), and the project's
 * profile then replaces the socket's under the machine floor(s) AND the socket's
 * `projectProfiles.floor` (the ceiling of every project), never below the socket profile's mode.
 *
 * The label is written by the untrusted client and the door usually runs as root, so the file is
 * read as the client could read it, or not at all:
 * - the directory must be an absolute canonical path (no `.`, `..`, `//`) under one of the roots;
 * - it is walked from `/` one component at a time, each opened relative to the descriptor of its
 *   parent (`/proc/self/fd/N/NAME`, O_NOFOLLOW: openat without a library), and judged by `fstat`
 *   of what was opened: a symbolic link anywhere is refused, every directory must belong to root or
 *   the client and let the client search it, and none may be writable by others (a root-owned
 *   sticky directory excepted, above the project's own); the project directory and the file may
 *   be written by their owner only;
 * - the file is opened O_NOFOLLOW|O_NONBLOCK (a FIFO does not hang the door), must be a regular
 *   file with one link, owned by root or the client, readable by the client, at most 1 MiB, and
 *   is read from the descriptor that was checked. A component with an ACL is refused (acl.ts): the
 *   mode bits judged here would not be what the kernel applies to the client. Only then is it parsed: the parser's messages
 *   may quote the file (the client can read it anyway), never before.
 * - In a project profile the door refuses `door:`, `audit.log`, `extends` of a file (only a level),
 *   a seccomp profile file (`defaults.seccomp` only `default` or `engine`) and `images.lock` (the
 *   door would write beside it as root): each would make the door read or write other files.
 *
 * Over TLS there is no uid to judge ownership against: project profiles are not read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CreateBody } from '../api/types.js';
import { SdockerError } from '../errors.js';
import { FILE_LIMITS, invalidUtf8Line } from '../fs/read-bounded.js';
import { loadExtraFloor, loadFloors, loadSeccomp, parseProfileText, defaultSeccompPath, readProfileFile } from '../policy/load-profile.js';
import { canonicalPathProblem, type DoorSpec, underRoot } from '../policy/profile-door.js';
import { effectiveMode, mergeProfiles } from '../policy/profile-effective.js';
import type { FloorInput } from '../policy/profile-merge.js';
import { LEVELS, MODE_STRENGTH, type EffectiveProfile, type LevelName, type PolicyMode, type ProfileSource } from '../policy/types.js';
import type { Peer, Verdict } from './types.js';
import { hasAccessAcl } from './acl.js';

export const LABEL_COMPOSE_WORKDIR = 'com.docker.compose.project.working_dir';
/** Asked by a client: the project directory whose sdocker.yaml applies (consumed by the door, never set on the container). */
export const LABEL_PROJECT = 'io.sdocker.project';
/** Set by the door on a container made under a project profile: the file and its sha256. */
export const LABEL_PROFILE = 'io.sdocker.profile';
export const LABEL_PROFILE_SHA = 'io.sdocker.profile.sha256';
export const PROJECT_FILES = ['sdocker.yaml', 'sdocker.yml'];

/** What the door needs to read project profiles (loaded once, at start, from the socket's profile). */
export interface ProjectProfiles {
  roots: string[];
  /** The machine floor(s) and the socket's `projectProfiles.floor`, in that order. */
  floors: FloorInput[];
  floorSources: ProfileSource[];
  /** The socket profile's mode: no project runs below it. */
  minMode: PolicyMode;
  seccompDefault: string;
}

/** The door's settings from the socket's profile (`door.projectProfiles`), floors read; undefined without the key. */
export async function loadProjectProfiles(o: { socketProfile?: string; socket: EffectiveProfile; env: Record<string, string | undefined>; cwd: string }): Promise<ProjectProfiles | undefined> {
  if (!o.socketProfile) return undefined;
  const pp = (await readSocketDoorSpec(o.socketProfile))?.projectProfiles;
  if (!pp) return undefined;
  const floorPath = pp.floor.startsWith('/') ? pp.floor : join(dirname(o.socketProfile), pp.floor);
  const machine = await loadFloors({ cwd: o.cwd, env: o.env });
  const ceiling = await loadExtraFloor(floorPath);
  return {
    roots: pp.roots,
    floors: [...machine.floors, ceiling.floor],
    floorSources: [...machine.sources, ...ceiling.sources],
    minMode: effectiveMode(undefined, o.socket),
    seccompDefault: defaultSeccompPath(),
  };
}

/** The `door:` key of the socket's profile file itself (not of the files it extends). */
async function readSocketDoorSpec(path: string): Promise<DoorSpec | undefined> {
  return (await readProfileFile(path)).file.door;
}

/** Why a project profile could not be used; `quiet`: the door may fall back to its own profile (compose's label, nothing to read). */
export class ProjectRefusal extends SdockerError {
  constructor(message: string, readonly quiet = false) {
    super(message);
  }
}

/** Pure: which project directory a create names, and how. The body is not changed. */
export function namedProject(labels: Record<string, string> | null | undefined): { dir: string; how: 'label' | 'compose' } | undefined {
  const own = labels?.[LABEL_PROJECT];
  if (typeof own === 'string') return { dir: own, how: 'label' };
  const compose = labels?.[LABEL_COMPOSE_WORKDIR];
  if (typeof compose === 'string' && compose !== '') return { dir: compose, how: 'compose' };
  return undefined;
}

/** Pure: the body without the door's request label (it is a question to the door, not a label). */
export function withoutRequestLabel(body: CreateBody): CreateBody {
  if (!body.Labels || !(LABEL_PROJECT in body.Labels)) return body;
  const Labels = { ...body.Labels };
  delete Labels[LABEL_PROJECT];
  return { ...body, Labels };
}

/** Pure: why the directory a request names may not be looked at; `outside`: it is just not under a root. */
export function judgeProjectDir(dir: string, roots: readonly string[]): { why: string; outside: boolean } | undefined {
  const bad = canonicalPathProblem(dir);
  if (bad) return { why: `the project directory ${JSON.stringify(dir)} ${bad}`, outside: false };
  if (!roots.some((r) => underRoot(dir, r))) return { why: `the project directory ${dir} is not under the door's project roots (${roots.join(', ')})`, outside: true };
  return undefined;
}

const S_ISVTX = 0o1000;
const mode = (st: Pick<Stats, 'mode'>) => (st.mode & 0o7777).toString(8).padStart(4, '0');

/** Pure: may the peer search (dir) or read (file) this, by its mode bits? Root may. */
function peerMay(st: Pick<Stats, 'uid' | 'gid' | 'mode'>, peer: Peer, bit: 1 | 4): boolean {
  if (peer.uid === 0) return true;
  if (st.uid === peer.uid) return (st.mode & (bit << 6)) !== 0;
  if (st.gid === peer.gid) return (st.mode & (bit << 3)) !== 0;
  return (st.mode & bit) !== 0;
}

/**
 * Pure: why one component of the walk is not the peer's to use. `role`: a directory above the
 * project's, the project's directory, or the profile file.
 */
export function componentProblem(st: Pick<Stats, 'uid' | 'gid' | 'mode'> & { isDirectory(): boolean; isFile(): boolean; nlink: number; size: number }, peer: Peer, role: 'above' | 'project' | 'file'): string | undefined {
  const what = `(uid ${st.uid}, gid ${st.gid}, mode ${mode(st)})`;
  if (role === 'file' ? !st.isFile() : !st.isDirectory()) return role === 'file' ? `is not a regular file ${what}` : `is not a directory ${what}`;
  if (st.uid !== 0 && st.uid !== peer.uid) return `belongs to uid ${st.uid}, not to the client (uid ${peer.uid}) or root ${what}`;
  const sticky = (st.mode & S_ISVTX) !== 0 && st.uid === 0 && role === 'above';
  if ((st.mode & 0o022) !== 0 && !sticky) return `is writable by ${(st.mode & 0o002) !== 0 ? 'every user' : `group ${st.gid}`}: someone else could have written the profile ${what}`;
  if (role === 'file') {
    if (st.nlink !== 1) return `has ${st.nlink} hard links ${what}`;
    if (!peerMay(st, peer, 4)) return `is not readable by the client (uid ${peer.uid}) ${what}`;
    if (st.size > FILE_LIMITS.profile) return `is larger than ${FILE_LIMITS.profile} bytes`;
  } else if (!peerMay(st, peer, 1)) return `cannot be searched by the client (uid ${peer.uid}) ${what}`;
  return undefined;
}

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const O_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

function openAt(dirFd: number, name: string, flags: number): number {
  // The magic link of dirFd is the directory itself: NAME is looked up in it, O_NOFOLLOW on NAME alone.
  return openSync(`/proc/self/fd/${dirFd}/${name}`, flags);
}

/** An ACL could give or take what the mode bits say: a component with one is refused (acl.ts). */
function aclProblem(fd: number): string | undefined {
  const acl = hasAccessAcl(fd);
  if (acl === false) return undefined;
  return acl ? 'has an ACL (the door judges owners and mode bits only; remove it with setfacl -b)' : 'cannot be checked for an ACL';
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

/** Read at most limit + 1 bytes from an open descriptor. */
function readFd(fd: number, limit: number): Buffer {
  const buf = Buffer.alloc(limit + 1);
  let used = 0;
  for (;;) {
    const n = readSync(fd, buf, used, buf.length - used, null);
    if (n === 0) break;
    used += n;
    if (used > limit) throw new ProjectRefusal(`is larger than ${limit} bytes`);
  }
  return buf.subarray(0, used);
}

/**
 * I/O: the profile file in `dir` as the peer could read it, or undefined when the directory holds
 * none. Throws ProjectRefusal (quiet when a directory of the path does not exist).
 */
export function readProjectFile(dir: string, peer: Peer): { path: string; text: string } | undefined {
  const segs = dir === '/' ? [] : dir.slice(1).split('/');
  let fd = openSync('/', O_DIR);
  let at = '/';
  try {
    // A directory the client may search but that others could change is not the end: when it
    // holds no profile at all there is nothing to distrust (compose's label then falls back to the
    // door's profile); when it holds one, the first such problem refuses it.
    let problem: string | undefined;
    const judge = (st: Stats, dfd: number, path: string, role: 'above' | 'project') => {
      const acl = aclProblem(dfd);
      if (acl) throw new ProjectRefusal(`${path} ${acl}`);
      const why = componentProblem(st, peer, role);
      if (why && (!st.isDirectory() || !peerMay(st, peer, 1))) throw new ProjectRefusal(`${path} ${why}`);
      if (why) problem ??= `${path} ${why}`;
    };
    judge(fstatSync(fd), fd, '/', segs.length === 0 ? 'project' : 'above');
    for (let i = 0; i < segs.length; i++) {
      const next = `${at === '/' ? '' : at}/${segs[i]}`;
      let nfd: number;
      try {
        nfd = openAt(fd, segs[i]!, O_DIR);
      } catch (err) {
        const c = errno(err);
        if (c === 'ENOENT') throw new ProjectRefusal(`${next} does not exist on the door's host`, true);
        if (c === 'ELOOP' || c === 'ENOTDIR') throw new ProjectRefusal(`${next} is a symbolic link or not a directory (the path must be the real one)`);
        throw new ProjectRefusal(`${next} cannot be opened (${c})`);
      }
      closeSync(fd);
      fd = nfd;
      at = next;
      judge(fstatSync(fd), fd, at, i === segs.length - 1 ? 'project' : 'above');
    }
    if (problem) {
      const present = PROJECT_FILES.some((name) => {
        try {
          closeSync(openAt(fd, name, O_FILE));
          return true;
        } catch (err) {
          return errno(err) !== 'ENOENT';
        }
      });
      throw present ? new ProjectRefusal(problem) : new ProjectRefusal(`${problem}, and there is no ${PROJECT_FILES.join(' or ')} in ${dir}: nothing to apply`, true);
    }
    for (const name of PROJECT_FILES) {
      const path = join(at, name);
      let ffd: number;
      try {
        ffd = openAt(fd, name, O_FILE);
      } catch (err) {
        const c = errno(err);
        if (c === 'ENOENT') continue;
        if (c === 'ELOOP') throw new ProjectRefusal(`${path} is a symbolic link (the profile must be a regular file in the project directory)`);
        throw new ProjectRefusal(`${path} cannot be opened (${c})`);
      }
      try {
        const why = componentProblem(fstatSync(ffd), peer, 'file') ?? aclProblem(ffd);
        if (why) throw new ProjectRefusal(`${path} ${why}`);
        const buf = readFd(ffd, FILE_LIMITS.profile);
        const bad = invalidUtf8Line(buf);
        if (bad !== undefined) throw new ProjectRefusal(`${path}: invalid utf8 bytes at line ${bad}`);
        return { path, text: buf.toString('utf8') };
      } catch (err) {
        if (err instanceof ProjectRefusal) throw err.message.startsWith('is larger') ? new ProjectRefusal(`${path} ${err.message}`) : err;
        throw new ProjectRefusal(`${path} cannot be read (${errno(err)})`);
      } finally {
        closeSync(ffd);
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The project's effective profile: its file over its level, under every floor and the ceiling, never below the socket's mode. */
export async function projectProfile(file: { path: string; text: string }, pp: ProjectProfiles): Promise<EffectiveProfile> {
  let rf;
  try {
    rf = await parseProfileText(file.text, file.path);
  } catch (err) {
    throw new ProjectRefusal((err as Error).message);
  }
  const f = rf.file;
  const at = (k: (string | number)[]) => {
    const p = rf.locate(k);
    return p ? `${file.path}:${p.line}:${p.col}` : file.path;
  };
  const refuse = (k: (string | number)[], why: string): never => {
    throw new ProjectRefusal(`${at(k)}: ${k.join('.')}: ${why}`);
  };
  if (f.door) refuse(['door'], "only the socket's profile (sdocker serve --profile) sets door:");
  if (f.audit?.log !== undefined) refuse(['audit', 'log'], 'only the machine floor moves the run record');
  if (f.extends !== undefined && !(LEVELS as readonly string[]).includes(f.extends)) refuse(['extends'], `a project profile read by the door extends a level only (${LEVELS.join(', ')}), not a file`);
  const sc = f.defaults?.seccomp;
  if (sc !== undefined && sc !== 'default' && sc !== 'engine') refuse(['defaults', 'seccomp'], 'a project profile read by the door names default or engine, not a file');
  if (f.images?.lock) refuse(['images', 'lock'], 'the door does not write sdocker.lock into a project (it runs as another user)');
  const level = (f.extends as LevelName | undefined) ?? 'restricted';
  const sources: ProfileSource[] = [{ path: `level:${level}`, role: 'level' }, { path: file.path, sha256: f.sha256!, role: 'project' }, ...pp.floorSources];
  let eff: EffectiveProfile;
  try {
    eff = mergeProfiles({ chain: [f], level, floors: pp.floors, sources });
  } catch (err) {
    throw new ProjectRefusal(`${file.path}: ${(err as Error).message}`);
  }
  if (MODE_STRENGTH[pp.minMode] > MODE_STRENGTH[eff.minMode]) eff.minMode = pp.minMode;
  if (eff.mode && MODE_STRENGTH[eff.mode] < MODE_STRENGTH[eff.minMode]) eff.mode = eff.minMode;
  if (!eff.unconfined) loadSeccomp(eff, pp.seccompDefault);
  return eff;
}

/** The profile a create is judged by, the labels the door sets on what it creates, and what to tell the client. */
export interface ChosenProfile {
  profile: EffectiveProfile;
  body: CreateBody;
  labels: Record<string, string>;
  warnings: string[];
}

function refusal(text: string): Verdict {
  return { action: 'refuse', status: 403, message: `sdocker: ${text} (SD-DOOR-007: a project profile the door may not use; nothing was created)`, rules: ['SD-DOOR-007'] };
}

/**
 * The profile for one create: the socket's, or the project's the request names (see the top of
 * this file), or a refusal. `pp` undefined: the socket's profile does not allow project profiles.
 */
export async function chooseCreateProfile(raw: CreateBody, peer: Peer | undefined, socket: EffectiveProfile, pp: ProjectProfiles | undefined): Promise<ChosenProfile | { verdict: Verdict }> {
  const named = namedProject(raw.Labels);
  const body = withoutRequestLabel(raw);
  const plain: ChosenProfile = { profile: socket, body, labels: {}, warnings: [] };
  if (!named) return plain;
  const fallBack = (why: string): ChosenProfile | { verdict: Verdict } => named.how === 'label'
    ? { verdict: refusal(`${LABEL_PROJECT}=${named.dir}: ${why}`) }
    : { ...plain, warnings: [`sdocker: the project profile was not read (${why}); the door's own profile applied`] };
  if (!pp) return fallBack("this door's profile does not allow project profiles (door.projectProfiles)");
  if (!peer) return fallBack('the client has no uid here (TLS): the door cannot tell whose files it would read');
  const where = judgeProjectDir(named.dir, pp.roots);
  if (where) return where.outside ? fallBack(where.why) : { verdict: refusal(where.why) };
  try {
    const file = readProjectFile(named.dir, peer);
    if (!file) return fallBack(`no ${PROJECT_FILES.join(' or ')} in ${named.dir}`);
    const profile = await projectProfile(file, pp);
    const sha = profile.sources.find((s) => s.role === 'project')?.sha256 ?? '';
    return { profile, body, labels: { [LABEL_PROFILE]: file.path, [LABEL_PROFILE_SHA]: sha }, warnings: [] };
  } catch (err) {
    if (!(err instanceof ProjectRefusal)) throw err;
    return err.quiet ? fallBack(err.message) : { verdict: refusal(`project profile of ${named.dir}: ${err.message}`) };
  }
}

/**
 * The profile an existing container is judged by (exec, start, update...): the project profile
 * the door recorded on it when it was made (`io.sdocker.profile`), read again for this client
 * with the same checks, else the socket's. A label the door cannot use any more is a refusal.
 */
export async function containerProfile(labels: Record<string, string> | null | undefined, peer: Peer | undefined, socket: EffectiveProfile, pp: ProjectProfiles | undefined): Promise<{ profile: EffectiveProfile } | { verdict: Verdict }> {
  const path = labels?.[LABEL_PROFILE];
  if (!pp || !path) return { profile: socket };
  const dir = dirname(path);
  if (!peer) return { verdict: refusal(`the container was made under the project profile ${path}; the client has no uid here (TLS)`) };
  const where = judgeProjectDir(dir, pp.roots);
  if (where || !PROJECT_FILES.some((n) => path === join(dir, n))) return { verdict: refusal(`the container's profile label ${JSON.stringify(path)}: ${where?.why ?? 'not a project profile'}`) };
  try {
    const file = readProjectFile(dir, peer);
    if (!file || file.path !== path) throw new ProjectRefusal(`${path} is gone`);
    return { profile: await projectProfile(file, pp) };
  } catch (err) {
    if (!(err instanceof ProjectRefusal)) throw err;
    return { verdict: refusal(`the container was made under the project profile ${path}, which cannot be used now: ${err.message}`) };
  }
}
