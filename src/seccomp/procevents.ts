/**
 * The kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC): fork and exec events for
 * every process on the host, so the recorder can tell which processes belong to one container even
 * when they live a millisecond. socket() and bind() go through koffi (libc); reads and writes are
 * plain non-blocking fd I/O polled from the main thread. Needs CAP_NET_ADMIN.
 */
import { createRequire } from 'node:module';
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { readAvailable } from './read-available.js';
import { SdockerError } from '../errors.js';

const AF_NETLINK = 16;
const NETLINK_CONNECTOR = 11;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;
const CN_IDX_PROC = 1;
const CN_VAL_PROC = 1;
const PROC_CN_MCAST_LISTEN = 1;
const PROC_CN_MCAST_IGNORE = 2;
const NLMSG_DONE = 3;
const PROC_EVENT_FORK = 0x1;
const PROC_EVENT_EXEC = 0x2;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;
let libc: { socket: Fn; bind: Fn; setsockopt: Fn; errno: () => number } | undefined;

function loadLibc() {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi');
  const lib = koffi.load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
    errno: () => koffi.errno() as number,
  };
  return libc;
}

export class ProcEvents {
  /** Process (tgid) → the tgid that forked it, for processes forked while listening. */
  readonly parent = new Map<number, number>();
  /** Command lines read right after exec, for processes whose command line matched `keep`. */
  readonly cmdlines = new Map<number, string>();
  /** Set when the socket buffer overflowed (ENOBUFS): events were lost. */
  overflowed = false;
  private readonly buf = Buffer.alloc(1 << 16);

  private constructor(
    private fd: number,
    private readonly keep: (cmdline: string) => boolean,
  ) {}

  /** Start listening. `keep` selects the command lines worth remembering (read at exec time). */
  static open(keep: (cmdline: string) => boolean): ProcEvents {
    const c = loadLibc();
    const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR) as number;
    if (fd < 0) throw new SdockerError(`seccomp record: cannot open the process events connector (errno ${c.errno()})`);
    const ev = new ProcEvents(fd, keep);
    try {
      const addr = Buffer.alloc(12);
      addr.writeUInt16LE(AF_NETLINK, 0);
      addr.writeUInt32LE(CN_IDX_PROC, 8);
      if ((c.bind(fd, addr, addr.length) as number) < 0) {
        throw new SdockerError(`seccomp record: cannot bind the process events connector (errno ${c.errno()}; needs CAP_NET_ADMIN)`);
      }
      const size = Buffer.alloc(4);
      size.writeInt32LE(16 << 20);
      c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4);
      ev.control(PROC_CN_MCAST_LISTEN);
    } catch (err) {
      ev.close();
      throw err;
    }
    return ev;
  }

  private control(op: number): void {
    const msg = Buffer.alloc(40);
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(NLMSG_DONE, 4);
    msg.writeUInt32LE(CN_IDX_PROC, 16);
    msg.writeUInt32LE(CN_VAL_PROC, 20);
    msg.writeUInt16LE(4, 32);
    msg.writeUInt32LE(op, 36);
    writeSync(this.fd, msg);
  }

  /** Read every event available now. */
  poll(): void {
    if (this.fd < 0) return;
    for (;;) {
      const len = readAvailable(this.fd, this.buf, 'ENOBUFS', () => {
        this.overflowed = true;
      });
      if (len === undefined) return;
      let off = 0;
      while (off + 52 <= len) {
        const msgLen = this.buf.readUInt32LE(off);
        if (msgLen < 16) break;
        const what = this.buf.readUInt32LE(off + 36);
        const d = off + 52;
        if (what === PROC_EVENT_FORK && off + 68 <= len) {
          const parentTgid = this.buf.readUInt32LE(d + 4);
          const childPid = this.buf.readUInt32LE(d + 8);
          const childTgid = this.buf.readUInt32LE(d + 12);
          if (childPid === childTgid) {
            this.parent.set(childTgid, parentTgid);
            this.cmdlines.delete(childTgid);
          }
        } else if (what === PROC_EVENT_EXEC && off + 60 <= len) {
          const tgid = this.buf.readUInt32LE(d + 4);
          try {
            const cmd = readFileSync(`/proc/${tgid}/cmdline`, 'latin1').replace(/\0/g, ' ');
            if (this.keep(cmd)) this.cmdlines.set(tgid, cmd);
          } catch {
            /* gone already */
          }
        }
        off += (msgLen + 3) & ~3;
      }
    }
  }

  /** Every process forked (while listening) below one of `roots`, roots included. */
  descendants(roots: Iterable<number>): Set<number> {
    const children = new Map<number, number[]>();
    for (const [child, parent] of this.parent) {
      const list = children.get(parent) ?? [];
      list.push(child);
      children.set(parent, list);
    }
    const out = new Set<number>();
    const stack = [...roots];
    while (stack.length) {
      const p = stack.pop()!;
      if (out.has(p)) continue;
      out.add(p);
      stack.push(...(children.get(p) ?? []));
    }
    return out;
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.control(PROC_CN_MCAST_IGNORE);
    } catch {
      /* closing anyway */
    }
    closeSync(this.fd);
    this.fd = -1;
  }
}
