/**
 * The `images:` key of a profile: which repositories may run (`allow`, patterns on the normalised
 * name), whether a reference must carry a digest (`requireDigest`), and whether references are
 * pinned in `sdocker.lock` (`lock`). Validation and merging; pure.
 *
 * Merging: in the project chain (level → extends → project) the last file that sets a key wins. A
 * floor's allowlist is a ceiling: an image must match the project's list (when there is one) AND
 * every floor's, so a project can narrow the allowlist but never widen it. `requireDigest` and
 * `lock` set by a floor stay on whatever the project says.
 */
import { patternError } from './patterns.js';

export interface ImagesSpec {
  allow?: string[];
  requireDigest?: boolean;
  lock?: boolean;
}

export interface PatternList {
  patterns: string[];
  /** The profile file the list comes from. */
  source: string;
}

/** The effective image trust policy. */
export interface ImageTrust {
  /** The project chain's allowlist, if any. */
  allow?: PatternList;
  /** Each floor's allowlist: an image must match every one. */
  floors: PatternList[];
  /** The file that requires digests (undefined: not required). */
  requireDigest?: string;
  /** The file that asks for sdocker.lock (undefined: no lock). */
  lock?: string;
  /** True when a floor requires the digest or the lock (no project can turn it off). */
  requireDigestByFloor?: boolean;
  lockByFloor?: boolean;
}

type Fail = (path: (string | number)[], msg: string) => never;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateImages(v: unknown, fail: Fail): ImagesSpec {
  const p = ['images'];
  if (!isObj(v)) fail(p, 'must be a mapping {allow, requireDigest, lock}');
  const out: ImagesSpec = {};
  for (const [k, val] of Object.entries(v)) {
    if (k === 'allow') {
      if (!Array.isArray(val)) fail([...p, k], 'must be a list of patterns (e.g. "docker.io/library/*")');
      out.allow = val.map((e, i) => {
        if (typeof e !== 'string') fail([...p, k, i], 'must be a string pattern');
        const err = patternError(e);
        if (err) fail([...p, k, i], err);
        return e;
      });
    } else if (k === 'requireDigest' || k === 'lock') {
      if (typeof val !== 'boolean') fail([...p, k], 'must be true or false');
      out[k] = val;
    } else {
      fail([...p, k], 'unknown key (expected allow, requireDigest, lock)');
    }
  }
  return out;
}

export interface ImagesFile {
  path: string;
  images?: ImagesSpec;
}

/** The effective image trust of a project chain under its floors; undefined when nothing is set. */
export function mergeImages(chain: readonly ImagesFile[], floors: readonly { chain: readonly ImagesFile[]; path: string }[]): ImageTrust | undefined {
  const t: ImageTrust = { floors: [] };
  for (const f of chain) {
    const im = f.images;
    if (!im) continue;
    if (im.allow) t.allow = { patterns: im.allow, source: f.path };
    if (im.requireDigest !== undefined) {
      if (im.requireDigest) t.requireDigest = f.path;
      else delete t.requireDigest;
    }
    if (im.lock !== undefined) {
      if (im.lock) t.lock = f.path;
      else delete t.lock;
    }
  }
  for (const fl of floors) {
    let allow: PatternList | undefined;
    for (const f of fl.chain) {
      const im = f.images;
      if (!im) continue;
      if (im.allow) allow = { patterns: im.allow, source: fl.path };
      if (im.requireDigest) {
        t.requireDigest = fl.path;
        t.requireDigestByFloor = true;
      }
      if (im.lock) {
        t.lock = fl.path;
        t.lockByFloor = true;
      }
    }
    if (allow) t.floors.push(allow);
  }
  return t.allow || t.floors.length || t.requireDigest || t.lock ? t : undefined;
}
