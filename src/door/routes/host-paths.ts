/**
 * Host paths a container made through the door reaches (SD-DOOR-006). The policy judges a bind
 * for the user who runs `sdocker run`: the host's own user, whose files they are. A door's client
 * is not: the engine mounts a bind source with root's rights, so a bind of `/home/bob/notes`
 * reads a file behind bob's 0700 home, and a container running as uid 1001 (or with group 42)
 * acts on bind-mounted files as that host user or group; the engine (and the door's createDirs)
 * would also make a missing source directory as root anywhere the policy allows. So, at the door,
 * for a client known by its uid (SO_PEERCRED; root is the host's user):
 * - a bind source (Binds, Mounts, a local volume's bind `device`) must exist (checked before the
 *   create: nothing is made on the host for the client);
 * - after the create, from what the engine made (inspect, and the volumes it names): every host
 *   path must be reachable by the client's own uid and gid (each directory on the real path
 *   searchable, the end readable: owner, group or other bits; ACLs are not read, so a path open
 *   to the client only by an ACL is refused), and the container must run as `uid:gid` of the
 *   client or 65534 with no added group. Otherwise the container is removed and the create refused.
 * Without a peer (a TLS client) users cannot be told apart: nothing is compared (as owned.ts).
 */
import { realpathSync, statSync } from 'node:fs';
import type { CreateBody, InspectMount } from '../../api/types.js';
import type { Peer } from '../types.js';

const NOBODY = 65534;

/** Pure: the absolute host sources a create body names (Binds, Mounts, a volume's `device`). */
export function hostSourcesOf(body: CreateBody): string[] {
  const hc = body.HostConfig ?? {};
  const out: string[] = [];
  for (const b of hc.Binds ?? []) {
    const src = typeof b === 'string' ? b.split(':')[0] ?? '' : '';
    if (src.startsWith('/')) out.push(src);
  }
  for (const m of hc.Mounts ?? []) {
    if (m.Type === 'bind' && typeof m.Source === 'string') out.push(m.Source);
    const dev = m.VolumeOptions?.DriverConfig?.Options?.device;
    if (m.Type === 'volume' && typeof dev === 'string' && dev.startsWith('/')) out.push(dev);
  }
  return [...new Set(out)];
}

/** Pure: the host paths a created container reaches: its bind mounts, and its volumes' bind devices. */
export function hostPathsOf(mounts: readonly InspectMount[], volumeOptions: Record<string, Record<string, string> | null | undefined>): string[] {
  const out: string[] = [];
  for (const m of mounts) {
    if (m.Type === 'bind') out.push(m.Source);
    if (m.Type === 'volume' && m.Name) {
      const o = volumeOptions[m.Name] ?? {};
      if (typeof o.device === 'string' && o.device.startsWith('/')) out.push(o.device);
    }
  }
  return [...new Set(out)];
}

interface Mode {
  mode: number;
  uid: number;
  gid: number;
}

/** Pure: may `peer` do `bits` (4 read, 2 write, 1 search) on a file of this mode and owner? */
export function permits(st: Mode, peer: Pick<Peer, 'uid' | 'gid'>, bits: number): boolean {
  const shift = st.uid === peer.uid ? 6 : st.gid === peer.gid ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

/** Why `peer` cannot read `path` itself (undefined: it can). Reads the host's file system. */
export function unreachable(path: string, peer: Pick<Peer, 'uid' | 'gid'>, stat: (p: string) => Mode = statSync, real: (p: string) => string = realpathSync): string | undefined {
  let resolved: string;
  try {
    resolved = real(path);
  } catch {
    return `${path} does not exist on the host (the door makes nothing on the host for a client)`;
  }
  const parts = resolved.split('/').filter(Boolean);
  let at = '/';
  for (let i = 0; i <= parts.length; i++) {
    const st = stat(at);
    const last = i === parts.length;
    const isDir = (st.mode & 0o170000) === 0o040000;
    const need = last ? (isDir ? 5 : 4) : 1;
    if (!permits(st, peer, need)) {
      return `${path}${resolved !== path ? ` (${resolved})` : ''}: uid ${peer.uid} cannot ${last ? 'read' : 'pass'} ${at}`;
    }
    if (!last) at = `${at === '/' ? '' : at}/${parts[i]}`;
  }
  return undefined;
}

/** Pure: why the container's user would act as another host user or group on those paths (undefined: it is the client's or nobody). */
export function foreignUser(user: string | undefined, groupAdd: readonly string[] | null | undefined, peer: Pick<Peer, 'uid' | 'gid'>): string | undefined {
  const m = /^(\d+):(\d+)$/.exec(user ?? '');
  if (!m) return `the container's user ${JSON.stringify(user ?? '')} is not a numeric uid:gid`;
  const [uid, gid] = [Number(m[1]), Number(m[2])];
  if (uid !== peer.uid && uid !== NOBODY) return `the container runs as uid ${uid}, not the client's (${peer.uid}) or ${NOBODY}`;
  if (gid !== peer.gid && gid !== NOBODY) return `the container runs with gid ${gid}, not the client's (${peer.gid}) or ${NOBODY}`;
  if ((groupAdd ?? []).length > 0) return `the container adds groups ${JSON.stringify(groupAdd)}`;
  return undefined;
}
