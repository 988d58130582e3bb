import { readSync } from 'node:fs';

/**
 * One read from a non-blocking descriptor (/dev/kmsg, a netlink socket): the byte count, or
 * undefined when nothing is waiting (EAGAIN). `overrun` is the errno by which the kernel says
 * records were lost before we read them (EPIPE for kmsg, ENOBUFS for netlink): `onOverrun` is told
 * and the read goes on with what comes next.
 */
export function readAvailable(fd: number, buf: Buffer, overrun: string, onOverrun: () => void): number | undefined {
  for (;;) {
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return undefined;
      if (code !== overrun) throw err;
      onOverrun();
    }
  }
}
