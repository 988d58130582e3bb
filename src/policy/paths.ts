/**
 * Host paths: parsing of binds, the sensitive-path list, lexical normalisation. Pure.
 * Symlinks are resolved by resolve-paths.ts (I/O) and handed in as HostPaths; every check here
 * looks at both spellings (the lexical one and the real one), so `..`, trailing slashes and
 * symlinks all end up at the same answer.
 */
import { posix } from 'node:path';
import type { CreateBody } from '../api/types.js';
import type { AllowSpec, EngineFacts, HostPathFact, HostPaths, NamedVolumes } from './types.js';

/** Normalise an absolute path lexically: resolves `.` and `..`, drops duplicate and trailing slashes. */
export function normalizeHostPath(p: string): string {
  const n = posix.normalize(p.startsWith('/') ? p : `/${p}`);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/** Engine and runtime sockets, wherever they are (rootless engines keep theirs under $XDG_RUNTIME_DIR). */
const SOCKET_NAMES = new Set(['docker.sock', 'containerd.sock', 'podman.sock', 'dockershim.sock', 'crio.sock', 'buildkitd.sock']);

/** Paths that may not be mounted, nor anything under them, nor any of their ancestors. */
export const SENSITIVE_PATHS: readonly string[] = [
  '/', '/etc', '/proc', '/sys', '/dev', '/boot', '/root', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32',
  '/var/lib/docker', '/var/lib/containerd', '/var/lib/kubelet', '/var/lib/sdocker',
  '/run/docker.sock', '/var/run/docker.sock', '/run/docker', '/var/run/docker', '/run/containerd', '/var/run/containerd',
  '/run/systemd', '/var/run/systemd', '/run/dbus', '/var/run/dbus',
];

export type SensitiveKind = 'socket' | 'sensitive';

/** Why a (normalised) host path may not be mounted, or undefined when it may. */
export function sensitiveKind(p: string, engine?: EngineFacts): { kind: SensitiveKind; matched: string } | undefined {
  const sockets = (engine?.socketPaths ?? []).map(normalizeHostPath);
  if (SOCKET_NAMES.has(posix.basename(p)) || sockets.includes(p)) return { kind: 'socket', matched: p };
  const list = [...SENSITIVE_PATHS, ...sockets];
  if (engine?.dockerRootDir) list.push(normalizeHostPath(engine.dockerRootDir));
  for (const s of list) {
    if (s === '/' ? p === '/' : isUnder(p, s)) return { kind: sockets.includes(s) || SOCKET_NAMES.has(posix.basename(s)) ? 'socket' : 'sensitive', matched: s };
    // An ancestor of a sensitive path contains it: /var holds /var/lib/docker, /run holds the socket.
    if (p !== '/' && isUnder(s, p)) {
      return { kind: SOCKET_NAMES.has(posix.basename(s)) || sockets.includes(s) ? 'socket' : 'sensitive', matched: s };
    }
  }
  return undefined;
}

/** Both spellings of a host path: the lexical normalisation and the resolver's real path. */
export function spellings(raw: string, facts?: HostPaths): string[] {
  const out = [normalizeHostPath(raw)];
  const real = facts?.[raw]?.realPath;
  if (real) {
    const n = normalizeHostPath(real);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

export function fact(raw: string, facts?: HostPaths): HostPathFact | undefined {
  return facts?.[raw];
}

export interface ParsedBind {
  source: string;
  target: string;
  options: string[];
  /** The source is a host path (absolute), not a volume name. */
  isHostPath: boolean;
}

/** Parse a `HostConfig.Binds` entry (`src:dst[:opts]`, Linux syntax). */
export function parseBind(spec: string): ParsedBind {
  const parts = spec.split(':');
  if (parts.length === 1) return { source: '', target: parts[0] ?? '', options: [], isHostPath: false };
  const source = parts[0] ?? '';
  const target = parts[1] ?? '';
  const options = parts.length > 2 ? parts.slice(2).join(':').split(',').filter(Boolean) : [];
  return { source, target, options, isHostPath: source.startsWith('/') || source.startsWith('.') };
}

/** `o=` options of a local volume as a list. */
export function splitOpts(o: string | undefined): string[] {
  return (o ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** A local-driver volume whose options make it a bind of `device`. */
export function isBindVolume(opts: Record<string, string> | null | undefined): boolean {
  if (!opts) return false;
  const o = splitOpts(opts.o);
  return o.includes('bind') || o.includes('rbind') || (opts.type === 'none' && !!opts.device);
}

/** Every host path the body (and the named volumes it uses) refers to: what resolve-paths.ts must resolve. */
export function hostPathsOf(body: CreateBody, namedVolumes?: NamedVolumes): string[] {
  const out = new Set<string>();
  const hc = body.HostConfig ?? {};
  for (const b of hc.Binds ?? []) {
    const p = parseBind(b);
    if (p.isHostPath) out.add(p.source);
  }
  for (const m of hc.Mounts ?? []) {
    if (m.Type === 'bind' && m.Source) out.add(m.Source);
    const dev = m.VolumeOptions?.DriverConfig?.Options?.device;
    if (m.Type === 'volume' && dev?.startsWith('/')) out.add(dev);
  }
  for (const d of hc.Devices ?? []) if (d.PathOnHost) out.add(d.PathOnHost);
  for (const v of Object.values(namedVolumes ?? {})) {
    const dev = v.Options?.device;
    if (dev?.startsWith('/')) out.add(dev);
  }
  return [...out];
}

/** The host paths a profile's allowances name: resolved too, so a writable grant compares real path with real path. */
export function allowPaths(allow: AllowSpec): string[] {
  return [...(allow.hostPaths ?? []), ...(allow.writablePaths ?? [])].map((a) => a.path).filter((p) => p.startsWith('/'));
}

/** Is the real path `real` inside an allowed path (as written, or its own real path)? */
export function underAllowed(real: string, allowed: string, facts?: HostPaths): boolean {
  const resolved = facts?.[allowed]?.realPath;
  return isUnder(real, normalizeHostPath(allowed)) || (!!resolved && isUnder(real, normalizeHostPath(resolved)));
}
