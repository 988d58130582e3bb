/**
 * Who is on the other end of an accepted unix socket: getsockopt(fd, SOL_SOCKET, SO_PEERCRED)
 * through koffi (node has no API for it), loaded on first use. The credentials are the peer's at
 * connect() time, kept by the kernel: a client cannot change them afterwards.
 *
 * When koffi or libc cannot be loaded, or the call fails, the peer is unknown (undefined): the
 * decision is still made and logged, with `peer=unknown`. `peerCredentialsError()` says why.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Peer } from './types.js';

const SOL_SOCKET = 1;
/** asm-generic (x86_64, arm64, riscv64...); powerpc and mips number it differently. */
const SO_PEERCRED = 17;

type GetPeer = (fd: number) => Peer | undefined;

let getPeer: GetPeer | undefined;
let loadError: string | undefined;

function load(): GetPeer | undefined {
  if (getPeer || loadError) return getPeer;
  try {
    const require = createRequire(import.meta.url);
    /* eslint-disable @typescript-eslint/no-explicit-any */
    const koffi: any = require('koffi');
    const libc: any = koffi.load('libc.so.6');
    try {
      koffi.struct('sdocker_ucred', { pid: 'int32', uid: 'uint32', gid: 'uint32' });
    } catch {
      /* declared already by an earlier load in this process */
    }
    const getsockopt = libc.func('int getsockopt(int fd, int level, int optname, _Out_ sdocker_ucred *optval, _Inout_ uint32 *optlen)');
    /* eslint-enable @typescript-eslint/no-explicit-any */
    getPeer = (fd) => {
      const out: Partial<Peer> = {};
      const len = [12];
      const rc = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, out, len) as number;
      if (rc !== 0 || len[0] !== 12 || out.uid === undefined || out.gid === undefined || out.pid === undefined) return undefined;
      return { uid: out.uid, gid: out.gid, pid: out.pid };
    };
  } catch (err) {
    loadError = `cannot call getsockopt(SO_PEERCRED) through koffi: ${(err as Error).message}`;
  }
  return getPeer;
}

/** The file descriptor of an accepted socket (libuv's handle; not a public API of node). */
function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The peer's uid, gid and pid, or undefined when they cannot be read. */
export function peerOf(socket: Socket): Peer | undefined {
  const fd = fdOf(socket);
  if (fd === undefined) return undefined;
  const get = load();
  if (!get) return undefined;
  try {
    return get(fd);
  } catch {
    return undefined;
  }
}

/** Why peers are unknown, when loading koffi failed (undefined otherwise). */
export function peerCredentialsError(): string | undefined {
  return loadError;
}
