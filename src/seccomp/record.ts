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
import { KmsgReader, parseAuditSeccomp, type AuditSeccompRecord } from './kmsg.js';
import { libseccomp, type Libseccomp } from './libseccomp.js';
import { RateLimitGuard, type RateLimitOptions } from './printk.js';
import { checkRecordPrivileges } from './record-privileges.js';
import { ProcEvents } from './procevents.js';
import type { SeccompProfile } from './profile.js';
import type { ArchToken } from './types.js';
import { RET } from './types.js';

/** The profile a recording runs under: log everything, deny nothing. */
export const LOG_PROFILE: SeccompProfile = { defaultAction: 'SCMP_ACT_LOG', syscalls: [] };

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
export { checkRecordPrivileges } from './record-privileges.js';
export { allowedNames, ENOSYS_SYSCALLS, EPERM_SYSCALLS, generateProfile, recordedNames, RUNTIME_BASE_SET, type GenerateOptions } from './generate.js';

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
