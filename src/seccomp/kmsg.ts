/**
 * The kernel log as the recorder reads it: /dev/kmsg opened non-blocking, drained to its end at
 * open, then polled. `audit: type=1326` lines are seccomp records (SECCOMP_RET_LOG and logged
 * actions) when no audit daemon holds the audit socket.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { readAvailable } from './read-available.js';

export interface AuditSeccompRecord {
  /** Thread-group id in the host's pid namespace. */
  pid: number;
  comm: string;
  exe?: string;
  /** AUDIT_ARCH_* value. */
  arch: number;
  syscall: number;
  /** SECCOMP_RET_* action that was taken, e.g. 0x7ffc0000 (LOG). */
  code: number;
  uid?: number;
  ses?: number;
}

/** Parse one kernel log line; undefined unless it is a seccomp audit record. */
export function parseAuditSeccomp(line: string): AuditSeccompRecord | undefined {
  const at = line.indexOf('type=1326');
  if (at < 0) return undefined;
  const fields = new Map<string, string>();
  const re = /(\w+)=("([^"]*)"|\S+)/g;
  for (let m = re.exec(line.slice(at)); m; m = re.exec(line.slice(at))) {
    fields.set(m[1]!, m[3] ?? m[2]!);
  }
  const pid = Number(fields.get('pid'));
  const syscall = Number(fields.get('syscall'));
  const arch = parseInt(fields.get('arch') ?? '', 16);
  if (!Number.isInteger(pid) || !Number.isInteger(syscall) || !Number.isFinite(arch)) return undefined;
  const rec: AuditSeccompRecord = {
    pid,
    comm: fields.get('comm') ?? '',
    arch: arch >>> 0,
    syscall,
    code: parseInt(fields.get('code') ?? '0', 16) >>> 0,
  };
  const exe = fields.get('exe');
  if (exe !== undefined) rec.exe = exe;
  if (fields.has('uid')) rec.uid = Number(fields.get('uid'));
  if (fields.has('ses')) rec.ses = Number(fields.get('ses'));
  return rec;
}

export class KmsgReader {
  private readonly buf = Buffer.alloc(8192);
  /** Records overwritten in the ring buffer before we read them (EPIPE). */
  lost = 0;

  private constructor(private fd: number) {}

  /** Open /dev/kmsg and skip what is already there. */
  static open(path = '/dev/kmsg'): KmsgReader {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const r = new KmsgReader(fd);
    r.read(() => undefined);
    r.lost = 0;
    return r;
  }

  /** Read every record available now; calls `line` with each message text. Returns how many. */
  read(line: (text: string) => void): number {
    let n = 0;
    for (;;) {
      const len = readAvailable(this.fd, this.buf, 'EPIPE', () => this.lost++);
      if (len === undefined || len <= 0) return n;
      // "prio,seq,usec,flags;message\n continuation lines"
      const text = this.buf.toString('utf8', 0, len);
      const semi = text.indexOf(';');
      const nl = text.indexOf('\n', semi);
      line(text.slice(semi + 1, nl < 0 ? undefined : nl));
      n++;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
