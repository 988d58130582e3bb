/**
 * The binds a decided body makes, and how to tell from mountinfo whether the engine mounted what
 * was decided (pure; the reads are in src/cli/bind-guard.ts). A bind is resolved when the
 * container starts, not when it is created: a source swapped for a symlink in between would be
 * followed, so the source is checked again before start and the container's mounts after it.
 */
import { posix } from 'node:path';
import type { MountSpec } from '../api/types.js';
import { isUnder, normalizeHostPath } from './paths.js';

export const BIND_LABEL = 'io.sdocker.bind';

export interface DecidedBind {
  /** Where the container sees it. */
  target: string;
  /** The real host path decided on. */
  source: string;
  /** sdocker's bind volumes bind directories; plain binds are files (or what docker made). */
  via: 'volume' | 'bind';
}

/** sdocker's bind volumes (by their label) and the plain binds of a body's (or a container's) HostConfig.Mounts. */
export function decidedBinds(mounts: readonly MountSpec[] | null | undefined): DecidedBind[] {
  const out: DecidedBind[] = [];
  for (const m of mounts ?? []) {
    const label = m.VolumeOptions?.Labels?.[BIND_LABEL];
    if (m.Type === 'volume' && label !== undefined) {
      out.push({ target: m.Target, source: m.VolumeOptions?.DriverConfig?.Options?.device ?? label, via: 'volume' });
    } else if (m.Type === 'bind' && m.Source) {
      out.push({ target: m.Target, source: m.Source, via: 'bind' });
    }
  }
  return out;
}

export interface MountInfo {
  dev: string;
  root: string;
  mountPoint: string;
  fstype: string;
  source: string;
}

/** The kernel escapes space, tab, newline and backslash in mountinfo as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** /proc/<pid>/mountinfo, one entry a line (proc(5)); lines that do not parse are left out. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 3) continue;
    out.push({ dev: f[2]!, root: unescape(f[3]!), mountPoint: unescape(f[4]!), fstype: unescape(f[sep + 1]!), source: unescape(f[sep + 2]!) });
  }
  return out;
}

/** Where a host path lives as mountinfo names it: its filesystem (major:minor) and its path from that filesystem's root. */
export function locate(hostMounts: readonly MountInfo[], path: string): { dev: string; root: string } | undefined {
  let best: MountInfo | undefined;
  for (const m of hostMounts) {
    // Later entries stack on earlier ones at the same point.
    if (isUnder(path, m.mountPoint) && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  if (!best) return undefined;
  const rest = best.mountPoint === '/' ? path : path.slice(best.mountPoint.length);
  return { dev: best.dev, root: normalizeHostPath(posix.join(best.root, rest)) };
}

/**
 * The decided binds the container's mountinfo does not show as decided: the mount at each target
 * must be the decided source's filesystem and path (its root field). Each entry says what differs.
 */
export function mountMismatches(binds: readonly DecidedBind[], container: readonly MountInfo[], host: readonly MountInfo[]): string[] {
  const out: string[] = [];
  for (const b of binds) {
    const want = locate(host, normalizeHostPath(b.source));
    if (!want) continue;
    const target = normalizeHostPath(b.target);
    const got = container.filter((m) => m.mountPoint === target).at(-1);
    if (!got) out.push(`nothing is mounted at ${target} (decided: ${b.source})`);
    else if (got.dev !== want.dev || got.root !== want.root) out.push(`${target} is ${got.root} of device ${got.dev}, not the decided ${b.source} (${want.root} of device ${want.dev})`);
  }
  return out;
}
