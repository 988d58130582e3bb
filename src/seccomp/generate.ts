/**
 * A seccomp profile from recorded syscall names (pure): a minimal whitelist, the runtime's own
 * calls merged in, ENOSYS for everything else and EPERM for the dangerous calls docker's default
 * also keeps out. The recording itself is record.ts.
 */
import type { SeccompProfile, SyscallRule } from './profile.js';
import { ENOSYS, EPERM } from './types.js';

/**
 * What runc 1.1 (Go) itself calls between loading the filter and exec'ing the workload (records with
 * comm "runc:[2:INIT]"), measured on Docker 20.10 over 5 runs each: without no-new-privileges the
 * filter loads before runc drops privileges (capget, capset, setgroups, setgid, setuid, prctl,
 * chdir...); with it, just before exec (close, openat, getdents64, fstatfs, write, futex, epoll_ctl,
 * getpid, execve). Plus the Go runtime's background calls that can land in that window at random
 * (rt_sigreturn was seen in 2 of 10 runs; sysmon and GC: nanosleep, sched_yield, madvise, mmap,
 * munmap, tgkill, sigaltstack, rt_sigprocmask, gettid, epoll_pwait, clone for a new thread, exit).
 * Merged into every recorded profile so the container starts whatever the timing.
 */
export const RUNTIME_BASE_SET: readonly string[] = [
  'capget', 'capset', 'chdir', 'clone', 'close', 'epoll_ctl', 'epoll_pwait', 'execve', 'exit', 'exit_group',
  'faccessat2', 'fcntl', 'fstat', 'fstatfs', 'futex', 'getcwd', 'getdents64', 'getpid', 'getppid', 'gettid',
  'madvise', 'mmap', 'munmap', 'nanosleep', 'newfstatat', 'openat', 'prctl', 'read', 'rt_sigprocmask',
  'rt_sigreturn', 'sched_yield', 'setgid', 'setgroups', 'setuid', 'sigaltstack', 'tgkill', 'write',
];

const NS_FLAGS: Record<string, number> = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};
const ALL_NS = Object.values(NS_FLAGS).reduce((a, b) => a | b, 0);
const SAFE_PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** Syscalls a generated profile answers with EPERM when the workload did not use them. */
export const EPERM_SYSCALLS: readonly string[] = [
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'process_madvise', 'pidfd_getfd', 'kcmp', 'bpf',
  'perf_event_open', 'userfaultfd', 'keyctl', 'add_key', 'request_key', 'io_uring_setup', 'io_uring_enter',
  'io_uring_register', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'mount',
  'umount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'mount_setattr', 'unshare', 'setns', 'open_by_handle_at', 'name_to_handle_at', 'acct', 'swapon', 'swapoff',
  'reboot', 'settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'adjtimex', 'clock_adjtime',
  'clock_adjtime64', 'lookup_dcookie', 'vm86', 'vm86old', 'quotactl', 'quotactl_fd', 'nfsservctl', 'iopl',
  'ioperm', 'syslog', 'uselib', 'vhangup', 'fanotify_init', 'mbind', 'set_mempolicy', 'migrate_pages',
  'move_pages', 'modify_ldt',
];

/**
 * Calls that C libraries probe and fall back from only on ENOSYS (glibc 2.34+ creates threads with
 * clone3 and retries with clone on ENOSYS alone). The default action says ENOSYS already, but the
 * Docker daemon before 23.0 drops defaultErrnoRet and answers EPERM: these rules keep ENOSYS there.
 */
export const ENOSYS_SYSCALLS: readonly string[] = [
  'clone3', 'io_pgetevents', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'memfd_secret', 'process_mrelease',
];

export interface GenerateOptions {
  /** Add the runtime's base set (default true). */
  base?: boolean;
  /** Earlier profiles whose unconditionally allowed names are merged in. */
  merge?: SeccompProfile[];
}

/** The names a profile allows without conditions (what --merge takes from an earlier recording). */
export function allowedNames(profile: SeccompProfile): string[] {
  return profile.syscalls
    .filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length && !r.includes?.caps?.length)
    .flatMap((r) => r.names);
}

/**
 * A minimal whitelist from recorded names: ENOSYS for everything else, EPERM for the dangerous
 * calls the workload did not make, clone without namespace flags, personality to the safe values.
 */
export function generateProfile(names: Iterable<string>, options: GenerateOptions = {}): SeccompProfile {
  const set = new Set<string>(names);
  if (options.base ?? true) for (const n of RUNTIME_BASE_SET) set.add(n);
  for (const p of options.merge ?? []) {
    for (const n of allowedNames(p)) set.add(n);
    for (const r of p.syscalls) if (r.action === 'SCMP_ACT_ALLOW' && r.args?.length) for (const n of r.names) set.add(n);
  }
  const cloneUsed = set.delete('clone');
  const personalityUsed = set.delete('personality');
  const syscalls: SyscallRule[] = [{ names: [...set].sort(), action: 'SCMP_ACT_ALLOW' }];
  if (cloneUsed) {
    syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: ALL_NS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] });
    for (const flag of Object.values(NS_FLAGS)) {
      syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
    }
  }
  if (personalityUsed) {
    for (const v of SAFE_PERSONALITIES) {
      syscalls.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: v, valueTwo: 0, op: 'SCMP_CMP_EQ' }] });
    }
  }
  const eperm = EPERM_SYSCALLS.filter((n) => !set.has(n));
  if (eperm.length) syscalls.push({ names: eperm, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM });
  const enosys = ENOSYS_SYSCALLS.filter((n) => !set.has(n));
  if (enosys.length) syscalls.push({ names: enosys, action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: ENOSYS,
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls,
  };
}

/** All names of a recording, every arch together (names are translated per arch by libseccomp). */
export function recordedNames(rec: { syscalls: ReadonlyMap<string, ReadonlySet<string>> }): string[] {
  const out = new Set<string>();
  for (const s of rec.syscalls.values()) for (const n of s) out.add(n);
  return [...out].sort();
}
