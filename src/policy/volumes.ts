/**
 * What a volume really is, from its driver and driver options (pure). The `local` driver mounts
 * in the engine's own namespaces with the engine's privileges, so its options are judged by what
 * the mount does: a bind is a host path, a kernel filesystem (proc, sysfs ...) is the host's own,
 * a relative device resolves against the engine's working directory (unknowable: refused).
 */
import { isBindVolume } from './paths.js';

/** Kernel filesystems, judged as the host path where the host has them mounted. */
export const KERNEL_FS: Readonly<Record<string, string>> = {
  proc: '/proc', sysfs: '/sys', devpts: '/dev/pts', devtmpfs: '/dev', mqueue: '/dev/mqueue', hugetlbfs: '/dev/hugepages',
  cgroup: '/sys/fs/cgroup', cgroup2: '/sys/fs/cgroup', debugfs: '/sys/kernel/debug', tracefs: '/sys/kernel/tracing',
  securityfs: '/sys/kernel/security', bpf: '/sys/fs/bpf', configfs: '/sys/kernel/config', fusectl: '/sys/fs/fuse/connections',
  pstore: '/sys/fs/pstore', efivarfs: '/sys/firmware/efi/efivars', binfmt_misc: '/proc/sys/fs/binfmt_misc', nsfs: '/proc',
  // Their options name host directories (lowerdir=, upperdir=): as good as a bind of anything.
  overlay: '/', aufs: '/',
};

/** Types whose `device` is not a host path (a name, or a remote `host:/path`). */
const NO_HOST_DEVICE = new Set(['tmpfs', 'ramfs', 'nfs', 'nfs4', 'cifs', 'smb3', 'ceph', 'glusterfs']);

export type VolumeKind =
  /** The engine's own directory under its root: nothing mounted from elsewhere. */
  | { kind: 'plain' }
  /** A driver other than `local`: what it mounts is up to it. */
  | { kind: 'driver'; driver: string }
  /** A bind of a host path (o=bind / rbind, or type=none with a device). */
  | { kind: 'bind'; device: string }
  /** A host path given relative: the engine resolves it against its working directory. */
  | { kind: 'relative'; type: string; device: string }
  /** A kernel filesystem: the host's own, as the engine sees it. */
  | { kind: 'kernel'; type: string; path: string }
  /** Another filesystem type (nfs, tmpfs, ext4 of a device ...). `device` when it is a host path. */
  | { kind: 'options'; type: string; device?: string };

export function classifyVolume(driver: string | undefined, opts: Record<string, string> | null | undefined): VolumeKind {
  const d = driver || 'local';
  if (d !== 'local') return { kind: 'driver', driver: d };
  const type = (opts?.type ?? '').trim().toLowerCase();
  const device = opts?.device ?? '';
  // The local driver mounts only when a type or a device is given (its needsMount).
  if (!type && !device) return { kind: 'plain' };
  if (isBindVolume(opts)) return device.startsWith('/') ? { kind: 'bind', device } : { kind: 'relative', type: type || 'none', device };
  const kernel = KERNEL_FS[type];
  if (kernel) return { kind: 'kernel', type, path: kernel };
  if (device.startsWith('/')) return { kind: 'options', type: type || 'none', device };
  if (device && !NO_HOST_DEVICE.has(type) && !device.includes(':')) return { kind: 'relative', type: type || 'none', device };
  return { kind: 'options', type: type || 'none' };
}
