/**
 * The recording margin: calls a workload needs on paths a short trial rarely takes, added to a
 * recorded profile beside what was seen. A recording only holds what was exercised: redis
 * recorded without a background save lacked wait4, so BGSAVE's child could not be reaped
 * ("waitpid() returned an error: Operation not permitted"), and `docker exec` of a shell or a
 * health check runs inside the same filter as the workload. Each group says why it is there and
 * what triggers it; none of them is on the shipped default's list of calls denied for safety
 * (namespaces, mounts, keyctl, bpf, ptrace, ...), so the margin never widens the dangerous surface.
 */

export interface MarginGroup {
  name: string;
  /** Why these calls are added. */
  reason: string;
  /** Added when any of these was recorded; undefined: always added. */
  trigger?: readonly string[];
  names: readonly string[];
}

export const MARGIN_GROUPS: readonly MarginGroup[] = [
  {
    name: 'process',
    reason: 'a process that forks or starts threads also reaps children and signals them (fork paths such as a background save run rarely in a trial)',
    trigger: ['clone', 'clone3', 'fork', 'vfork'],
    names: [
      'wait4', 'waitid', 'kill', 'tkill', 'tgkill', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigsuspend',
      'rt_sigtimedwait', 'getppid', 'setpgid', 'getpgid', 'getpgrp', 'setsid', 'exit', 'exit_group', 'sched_yield',
      'pipe', 'pipe2', 'dup', 'dup2', 'dup3',
    ],
  },
  {
    name: 'sockets',
    reason: 'a program that serves or connects also inspects and tunes its sockets on paths a trial may not take (errors, slow clients, shutdown)',
    trigger: ['socket', 'accept', 'accept4', 'bind', 'listen', 'connect'],
    names: [
      'socket', 'connect', 'getsockname', 'getpeername', 'getsockopt', 'setsockopt', 'shutdown', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg',
      'sendmmsg', 'recvmmsg', 'accept', 'accept4', 'poll', 'ppoll', 'select', 'pselect6', 'epoll_create1',
      'epoll_ctl', 'epoll_wait', 'epoll_pwait',
    ],
  },
  {
    name: 'files',
    reason: 'a program that writes files also flushes, renames and removes them on paths a trial rarely takes (a save, a rotation, a crash-safe replace)',
    trigger: ['write', 'pwrite64', 'writev', 'pwritev'],
    names: [
      'fsync', 'fdatasync', 'sync_file_range', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'ftruncate', 'truncate',
      'fallocate', 'mkdir', 'mkdirat', 'rmdir', 'link', 'linkat', 'symlink', 'symlinkat', 'utimensat', 'fchmod', 'fchmodat',
      'pwrite64', 'pread64', 'lseek',
    ],
  },
  {
    name: 'exec',
    reason: '`docker exec` of a shell or a health check runs inside the same filter: a dynamically linked tool needs these to start and do simple work',
    names: [
      'execve', 'brk', 'mmap', 'mprotect', 'munmap', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq',
      'prlimit64', 'getrlimit', 'access', 'faccessat', 'faccessat2', 'open', 'openat', 'read', 'write', 'readv', 'writev',
      'close', 'fstat', 'stat', 'lstat', 'newfstatat', 'statx', 'pread64', 'lseek', 'getrandom', 'getuid', 'geteuid',
      'getgid', 'getegid', 'getgroups', 'ioctl', 'getcwd', 'chdir', 'fcntl', 'dup2', 'dup3', 'pipe2', 'wait4', 'clone',
      'vfork', 'uname', 'readlink', 'readlinkat', 'getdents64', 'sysinfo', 'exit_group', 'rt_sigaction',
      'rt_sigprocmask', 'rt_sigreturn', 'getpid', 'getppid', 'nanosleep', 'clock_nanosleep', 'clock_gettime',
      'gettimeofday', 'time', 'futex', 'poll', 'sched_getaffinity', 'umask', 'sigaltstack',
    ],
  },
];

export interface MarginAdded {
  group: string;
  reason: string;
  /** Names this group added that the recording did not hold. */
  names: string[];
}

/** The margin for a recording: per group, the names it adds beyond those recorded. */
export function recordingMargin(recorded: Iterable<string>): MarginAdded[] {
  const have = new Set(recorded);
  const out: MarginAdded[] = [];
  for (const g of MARGIN_GROUPS) {
    if (g.trigger && !g.trigger.some((t) => have.has(t))) continue;
    const names = g.names.filter((n) => !have.has(n));
    for (const n of names) have.add(n);
    if (names.length) out.push({ group: g.name, reason: g.reason, names });
  }
  return out;
}
