/**
 * The recorder: runs a workload under a profile whose default action is SCMP_ACT_LOG, reads the
 * kernel's seccomp audit records, keeps those of the workload's own processes and writes a
 * minimal whitelist.
 *
 * Which records are the workload's: every process under the container's filter descends from the
 * container's init, which descends from the container's shim, whose command line carries the
 * container id. The process events connector reports every fork and exec on the host while the
 * recording runs, so the recorder keeps records whose pid descends from a process whose command
 * line names the container id, however short-lived the process. Time alone would let a second
 * container's records in; the pids of the cgroup alone would miss processes that exit between polls.
 */
import { readFileSync } from 'node:fs';
import { SdockerError } from '../errors.js';
import { KmsgReader, parseAuditSeccomp, type AuditSeccompRecord } from './kmsg.js';
import { libseccomp, type Libseccomp } from './libseccomp.js';
import { PRINTK_RATELIMIT as RATELIMIT, RateLimitGuard, type RateLimitOptions } from './printk.js';
import { ProcEvents } from './procevents.js';
import type { SeccompProfile, SyscallRule } from './profile.js';
import type { ArchToken } from './types.js';
import { ENOSYS, EPERM, RET } from './types.js';

/** The profile a recording runs under: log everything, deny nothing. */
export const LOG_PROFILE: SeccompProfile = { defaultAction: 'SCMP_ACT_LOG', syscalls: [] };

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

export interface WorkloadResult {
  containerId: string;
  exitCode: number;
}

/**
 * Runs the workload container once with the given `seccomp=<json>` security option added, and
 * returns its id and exit status. The CLI passes one built on the shared flag parser and the run
 * lifecycle; tests may pass their own.
 */
export type WorkloadRunner = (seccompOpt: string) => Promise<WorkloadResult>;

export interface Recording {
  containerId: string;
  exitCode: number;
  /** Syscall names per arch the workload's processes made (runtime's own calls included). */
  syscalls: Map<ArchToken, Set<string>>;
  /** Of those, the ones made by the runtime before exec (comm "runc:[2:INIT]"). */
  runtime: Map<ArchToken, Set<string>>;
  /** Records kept / seen in all (seen includes other processes' records). */
  kept: number;
  seen: number;
  /** Processes that belonged to the workload. */
  pids: number;
  /** Problems that may make the recording incomplete. */
  warnings: string[];
}

export interface RecordOptions {
  /** How long to keep reading the kernel log after the workload exits (records lag a little). */
  settleMs?: number;
  pollMs?: number;
  lib?: Libseccomp;
  /** Overridable for tests of the privilege message. */
  statusFile?: string;
  /** Where printk_ratelimit and the host-wide registry of recordings are (tests). */
  rateLimit?: RateLimitOptions;
}

/** Shared by every recorder on the host: see printk.ts. */
export { RateLimitGuard } from './printk.js';

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

function archOfRecord(lib: Libseccomp, rec: AuditSeccompRecord): { arch: ArchToken; nr: number } | undefined {
  const arch = lib.archOfAudit(rec.arch);
  if (!arch) return undefined;
  if (arch === 'SCMP_ARCH_X86_64' && rec.syscall >= 0x40000000) return { arch: 'SCMP_ARCH_X32', nr: rec.syscall };
  return { arch, nr: rec.syscall };
}

export async function recordWorkload(run: WorkloadRunner, options: RecordOptions = {}): Promise<Recording> {
  checkRecordPrivileges(options.statusFile);
  const lib = options.lib ?? libseccomp();
  const settleMs = options.settleMs ?? 300;
  const pollMs = options.pollMs ?? 5;
  const records: AuditSeccompRecord[] = [];
  let seen = 0;
  const kmsg = KmsgReader.open();
  let events: ProcEvents | undefined;
  let guard: RateLimitGuard | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    events?.poll();
    kmsg.read((line) => {
      const rec = parseAuditSeccomp(line);
      if (rec && rec.code === RET.LOG) records.push(rec);
    });
  };
  let result: WorkloadResult;
  const warnings: string[] = [];
  try {
    events = ProcEvents.open((cmd) => /[0-9a-f]{64}/.test(cmd));
    guard = RateLimitGuard.disable(options.rateLimit);
    timer = setInterval(tick, pollMs);
    result = await run(`seccomp=${JSON.stringify(LOG_PROFILE)}`);
    // Records trail the exit a little: read until the log has been quiet for settleMs.
    let last = records.length;
    let quietSince = Date.now();
    const deadline = Date.now() + 10 * settleMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, pollMs * 4));
      tick();
      if (records.length !== last) {
        last = records.length;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= settleMs) break;
    }
  } finally {
    if (timer) clearInterval(timer);
    try {
      guard?.restore();
    } finally {
      events?.close();
      kmsg.close();
    }
  }
  seen = records.length;
  if (kmsg.lost) warnings.push(`the kernel log overwrote ${kmsg.lost} record(s) before they were read; record again on a quieter host`);
  if (events.overflowed) warnings.push('process events were lost (socket buffer overflow); some processes may be missing');

  const id = result.containerId;
  const roots = [...events.cmdlines].filter(([, cmd]) => cmd.includes(id)).map(([pid]) => pid);
  if (roots.length === 0) warnings.push(`did not see the container's shim start (no process named ${id.slice(0, 12)}); nothing could be attributed`);
  const members = events.descendants(roots);
  const syscalls = new Map<ArchToken, Set<string>>();
  const runtime = new Map<ArchToken, Set<string>>();
  let kept = 0;
  for (const rec of records) {
    if (!members.has(rec.pid)) continue;
    kept++;
    const a = archOfRecord(lib, rec);
    if (!a) {
      warnings.push(`record with unknown arch 0x${rec.arch.toString(16)} ignored`);
      continue;
    }
    const name = lib.syscallName(a.nr, a.arch);
    if (!name) {
      warnings.push(`syscall ${a.nr} unknown on ${a.arch} (libseccomp ${lib.version}); not in the profile`);
      continue;
    }
    const add = (m: Map<ArchToken, Set<string>>) => {
      const s = m.get(a.arch) ?? new Set<string>();
      s.add(name);
      m.set(a.arch, s);
    };
    add(syscalls);
    if (rec.comm.startsWith('runc:')) add(runtime);
  }
  if (kept === 0 && roots.length > 0) {
    warnings.push('no seccomp records for the container: is an audit daemon (auditd) holding the audit socket? Its records do not reach the kernel log');
  }
  return { containerId: id, exitCode: result.exitCode, syscalls, runtime, kept, seen, pids: members.size, warnings };
}

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
export function recordedNames(rec: Recording): string[] {
  const out = new Set<string>();
  for (const s of rec.syscalls.values()) for (const n of s) out.add(n);
  return [...out].sort();
}
