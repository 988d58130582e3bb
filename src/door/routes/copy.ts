/**
 * `docker cp` (GET, HEAD and PUT `/containers/{id}/archive`) in a container that reaches host
 * paths: the engine reads and writes the archive as root, inside the bind too. Out of it, a
 * client would read a host file it may not (uid 1001's 0600 file in a directory the client can
 * read); into a writable one, it would write files as root with the owner and mode the archive
 * says (a setuid-root binary in a host directory the client cannot write). So, for a client
 * known by its uid (owners.ts ownerPeer), copying in or out of such a container is refused
 * (SD-DOOR-006): the bind's files are on the host, where the client reads them as itself.
 */
import type { JudgeOptions } from '../judge.js';
import type { Peer, Verdict } from '../types.js';
import { containerHostPaths, hostPathVerdict } from './create.js';
import { ownerPeer } from './owners.js';

export async function judgeCopy(opts: JudgeOptions, id: string, peer: Peer | undefined): Promise<Verdict> {
  if (!ownerPeer(opts, peer)) return { action: 'pass' };
  const { paths } = await containerHostPaths(opts, id);
  if (paths.length === 0) return { action: 'pass' };
  return hostPathVerdict(opts, [`docker cp in a container that reaches host paths (${paths.join(', ')}): the engine copies as root; read or write them on the host as yourself`]);
}
