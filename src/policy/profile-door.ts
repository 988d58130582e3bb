/**
 * The `door:` key of a profile: settings of `sdocker serve` read from the SOCKET's profile only
 * (the file `--profile` names; not from files it extends, not from a floor, never from a project
 * profile, which is refused when it sets it). The CLI ignores it. Pure validation.
 *
 * ```yaml
 * door:
 *   projectProfiles:
 *     roots: [/srv/projects, /home]      # where a request may name its project's directory
 *     floor: ./project-ceiling.yaml      # what a project profile may grant itself at most
 * ```
 */
export interface DoorSpec {
  /** Absent: requests that name a project profile get the socket's profile (explicit names are refused). */
  projectProfiles?: {
    /** Absolute, canonical directories (no `.`, `..`, `//`, trailing `/`), not `/` itself. */
    roots: string[];
    /** A profile file (relative to the socket's profile) used as one more floor over every project profile. */
    floor: string;
  };
}

type Fail = (path: (string | number)[], msg: string) => never;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why `p` is not an absolute canonical path (as the door compares them, segment by segment), or undefined. */
export function canonicalPathProblem(p: string): string | undefined {
  if (p.length === 0) return 'is empty';
  if (p.length > 4096) return 'is longer than 4096 characters';
  if (!p.startsWith('/')) return 'must be an absolute path';
  if (/[\x00-\x1f\x7f]/.test(p)) return 'holds a control character';
  if (p === '/') return undefined;
  if (p.endsWith('/')) return 'must not end with /';
  for (const seg of p.slice(1).split('/')) {
    if (seg === '') return 'must not hold an empty segment (//)';
    if (seg === '.' || seg === '..') return `must not hold a ${seg} segment`;
    if (seg.length > 255) return 'holds a segment longer than 255 characters';
  }
  return undefined;
}

/** Is `p` (canonical) `root` itself or under it (segment boundaries, not string prefixes)? */
export function underRoot(p: string, root: string): boolean {
  return p === root || p.startsWith(`${root}/`);
}

export function validateDoor(v: unknown, fail: Fail): DoorSpec {
  const p = ['door'];
  if (!isObj(v)) fail(p, 'must be a mapping (projectProfiles)');
  const out: DoorSpec = {};
  for (const [k, x] of Object.entries(v)) {
    if (k !== 'projectProfiles') fail([...p, k], 'unknown key (expected projectProfiles)');
    const pp = [...p, k];
    if (!isObj(x)) fail(pp, 'must be a mapping {roots, floor}');
    for (const kk of Object.keys(x)) if (kk !== 'roots' && kk !== 'floor') fail([...pp, kk], 'unknown key (expected roots, floor)');
    if (!Array.isArray(x.roots) || x.roots.length === 0) fail([...pp, 'roots'], 'must be a list of absolute directories (e.g. [/srv/projects, /home])');
    const roots = x.roots.map((r, i) => {
      if (typeof r !== 'string') fail([...pp, 'roots', i], 'must be a string (an absolute directory)');
      const why = canonicalPathProblem(r);
      if (why) fail([...pp, 'roots', i], `${JSON.stringify(r)} ${why}`);
      if (r === '/') fail([...pp, 'roots', i], 'must not be / (name the directories that hold projects)');
      return r;
    });
    if (typeof x.floor !== 'string' || x.floor === '') {
      fail([...pp, 'floor'], 'is required: a profile file that caps every project profile (what a project may grant itself at most; e.g. extends: restricted plus the allowances projects may use)');
    }
    out.projectProfiles = { roots, floor: x.floor };
  }
  return out;
}
