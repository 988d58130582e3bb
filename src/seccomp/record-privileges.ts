/**
 * What a recording needs of this process (host privileges): the kernel log (CAP_SYSLOG), the
 * process events connector (CAP_NET_ADMIN) and root for printk_ratelimit. Read from
 * /proc/self/status.
 */
import { readFileSync } from 'node:fs';
import { SdockerError } from '../errors.js';
import { PRINTK_RATELIMIT as RATELIMIT } from './printk.js';

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_SYSLOG = 34;

/** Throws a clear SdockerError unless this process can read the kernel log and process events. */
export function checkRecordPrivileges(statusFile = '/proc/self/status'): void {
  let capEff = 0n;
  let uid = -1;
  try {
    const status = readFileSync(statusFile, 'utf8');
    capEff = BigInt('0x' + (/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'));
    uid = Number(/^Uid:\s*\d+\s+(\d+)/m.exec(status)?.[1] ?? -1);
  } catch {
    /* judged below */
  }
  const has = (cap: number) => (capEff >> BigInt(cap)) & 1n;
  const missing: string[] = [];
  if (!has(CAP_SYSLOG) && !has(CAP_SYS_ADMIN)) missing.push('CAP_SYSLOG (to read the kernel log, /dev/kmsg)');
  if (!has(CAP_NET_ADMIN)) missing.push('CAP_NET_ADMIN (to follow the container\'s processes through the process events connector)');
  if (uid !== 0) missing.push(`root (to set ${RATELIMIT} to 0 for the recording)`);
  if (missing.length) {
    throw new SdockerError(
      `sdocker seccomp record needs root: run it as root (sudo sdocker seccomp record ...). Missing: ${missing.join('; ')}`,
    );
  }
}
