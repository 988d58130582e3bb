/**
 * Version comparison for the CVE table (cves.ts): upstream versions of the engine, containerd,
 * runc and the kernel, as GET /version and /info report them. Pure.
 */
import type { Severity } from '../report/severity.js';

export interface CveEntry {
  id: string;
  component: 'engine' | 'containerd' | 'runc' | 'kernel';
  severity: Severity;
  summary: string;
  /** Affected when from <= version < below (from omitted: every earlier version). */
  affected: Array<{ from?: string; below: string }>;
  /** Distribution builds known to carry the fix (exact package versions). */
  vendorFixed?: string[];
  note?: string;
  source: string;
  vendorSource?: string;
}

export interface ParsedVersion {
  /** Numeric release parts: 1.1.5 → [1, 1, 5]. */
  nums: number[];
  /** A pre-release (`-rc7` → ['rc', 7]); sorts before the release itself. */
  pre?: [string, number];
}

/**
 * The upstream version in a reported string: `v1.1.12`, `1.1.5+ds1` (Debian), `1.6.20~ds1`,
 * `20.10.24+dfsg1`, `1.0.0-rc92`, `6.1.0-18-amd64` (a kernel: the suffix is the distribution's).
 * undefined when it does not start with a number.
 */
export function parseVersion(raw: string): ParsedVersion | undefined {
  const m = /^v?(\d+(?:\.\d+)*)(?:-?(rc|beta|alpha)\.?(\d+))?/.exec(raw.trim());
  if (!m) return undefined;
  const v: ParsedVersion = { nums: m[1]!.split('.').map(Number) };
  if (m[2]) v.pre = [m[2], Number(m[3] ?? 0)];
  return v;
}

const PRE_ORDER = ['alpha', 'beta', 'rc'];

export function compareVersions(a: ParsedVersion, b: ParsedVersion): number {
  const n = Math.max(a.nums.length, b.nums.length);
  for (let i = 0; i < n; i++) {
    const d = (a.nums[i] ?? 0) - (b.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (!a.pre && !b.pre) return 0;
  if (!a.pre) return 1;
  if (!b.pre) return -1;
  const k = PRE_ORDER.indexOf(a.pre[0]) - PRE_ORDER.indexOf(b.pre[0]);
  return k !== 0 ? Math.sign(k) : Math.sign(a.pre[1] - b.pre[1]);
}

/** Is `raw` inside one of the entry's affected ranges? */
export function inAffectedRange(raw: string, entry: CveEntry): boolean {
  const v = parseVersion(raw);
  if (!v) return false;
  return entry.affected.some((r) => {
    const below = parseVersion(r.below);
    const from = r.from !== undefined ? parseVersion(r.from) : undefined;
    return !!below && compareVersions(v, below) < 0 && (!from || compareVersions(v, from) >= 0);
  });
}

/** A distribution's build of an upstream version: anything after the version (`+ds1`, `~ds1`, `-18-amd64`, `-fc-v1045`). */
export function isDistributionBuild(raw: string): boolean {
  const m = /^v?\d+(?:\.\d+)*(?:-?(?:rc|beta|alpha)\.?\d+)?/.exec(raw.trim());
  return !!m && raw.trim().length > m[0].length;
}
