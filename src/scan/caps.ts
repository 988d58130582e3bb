/**
 * File capabilities: the `security.capability` extended attribute (struct vfs_cap_data,
 * linux/capability.h), decoded to capability names. Pure.
 *
 *   le32 magic_etc   revision (0x01000000 v1, 0x02000000 v2, 0x03000000 v3) | VFS_CAP_FLAGS_EFFECTIVE (1)
 *   le32 permitted, le32 inheritable               (v1: 32 capabilities)
 *   le32 permitted_hi, le32 inheritable_hi         (v2, v3: 64)
 *   le32 rootid                                    (v3: the user namespace root the caps apply to)
 */

/** Capability numbers 0..40 (linux/capability.h), as docker names them without the CAP_ prefix. */
export const CAP_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

export interface FileCaps {
  version: 1 | 2 | 3;
  /** VFS_CAP_FLAGS_EFFECTIVE: the permitted set is raised at exec (`+ep`). */
  effective: boolean;
  permitted: string[];
  inheritable: string[];
  /** v3 only. */
  rootid?: number;
}

function names(lo: number, hi: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    const word = bit < 32 ? lo : hi;
    if (((word >>> (bit % 32)) & 1) === 1) out.push(CAP_NAMES[bit] ?? `CAP_${bit}`);
  }
  return out;
}

/** Decode; a value that is not a vfs_cap_data of a known revision and size is an error (the caller reports it as unreadable). */
export function decodeFileCaps(raw: Buffer): FileCaps | { error: string } {
  if (raw.length < 4) return { error: `security.capability of ${raw.length} bytes` };
  const magic = raw.readUInt32LE(0);
  const rev = magic & 0xff000000;
  const flags = magic & 0x00ffffff;
  if ((flags & ~1) !== 0) return { error: `security.capability with unknown flags 0x${flags.toString(16)}` };
  const effective = (flags & 1) === 1;
  const want = rev === 0x01000000 ? 12 : rev === 0x02000000 ? 20 : rev === 0x03000000 ? 24 : -1;
  if (want < 0) return { error: `security.capability revision 0x${(rev >>> 0).toString(16)} is not known` };
  if (raw.length !== want) return { error: `security.capability of ${raw.length} bytes, revision ${rev >>> 24} has ${want}` };
  const plo = raw.readUInt32LE(4);
  const ilo = raw.readUInt32LE(8);
  const phi = want >= 20 ? raw.readUInt32LE(12) : 0;
  const ihi = want >= 20 ? raw.readUInt32LE(16) : 0;
  const out: FileCaps = { version: (rev >>> 24) as 1 | 2 | 3, effective, permitted: names(plo, phi), inheritable: names(ilo, ihi) };
  if (want === 24) out.rootid = raw.readUInt32LE(20);
  return out;
}

/** The encoding setcap writes (v2), for tests and for images built by them. */
export function encodeFileCaps(permitted: readonly string[], opts: { effective?: boolean; inheritable?: readonly string[]; rootid?: number } = {}): Buffer {
  const bits = (list: readonly string[]): [number, number] => {
    let lo = 0;
    let hi = 0;
    for (const n of list) {
      const bit = CAP_NAMES.indexOf(n.toUpperCase().replace(/^CAP_/, '') as (typeof CAP_NAMES)[number]);
      if (bit < 0) throw new Error(`unknown capability ${n}`);
      if (bit < 32) lo = (lo | (1 << bit)) >>> 0;
      else hi = (hi | (1 << (bit - 32))) >>> 0;
    }
    return [lo, hi];
  };
  const [plo, phi] = bits(permitted);
  const [ilo, ihi] = bits(opts.inheritable ?? []);
  const v3 = opts.rootid !== undefined;
  const b = Buffer.alloc(v3 ? 24 : 20);
  b.writeUInt32LE(((v3 ? 0x03000000 : 0x02000000) | (opts.effective === false ? 0 : 1)) >>> 0, 0);
  b.writeUInt32LE(plo, 4);
  b.writeUInt32LE(ilo, 8);
  b.writeUInt32LE(phi, 12);
  b.writeUInt32LE(ihi, 16);
  if (v3) b.writeUInt32LE(opts.rootid!, 20);
  return b;
}

/** `cap_net_raw+ep` as getcap prints it (names lower case). */
export function capsText(c: FileCaps): string {
  const p = c.permitted.map((n) => `cap_${n.toLowerCase()}`).join(',');
  const i = c.inheritable.map((n) => `cap_${n.toLowerCase()}`).join(',');
  const parts: string[] = [];
  if (p) parts.push(`${p}+${c.effective ? 'e' : ''}p`);
  if (i) parts.push(`${i}+i`);
  return parts.join(' ') || '(empty)';
}
