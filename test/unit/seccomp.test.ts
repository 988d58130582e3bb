import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBpf } from '../../src/seccomp/bpf.js';
import { DOCKER_DEFAULT_CAPS, toFilterSpec, type HostContext } from '../../src/seccomp/compile.js';
import { parseAuditSeccomp } from '../../src/seccomp/kmsg.js';
import { libseccomp } from '../../src/seccomp/libseccomp.js';
import { parseProfile, formatProfile, type SeccompProfile } from '../../src/seccomp/profile.js';
import { generateProfile, RUNTIME_BASE_SET } from '../../src/seccomp/record.js';
import { profileStats } from '../../src/seccomp/stats.js';
import { describeAction } from '../../src/seccomp/types.js';
import { checkProfile, isWhitelist, type Finding } from '../../src/seccomp/validate.js';
import { UsageError } from '../../src/errors.js';

const DEFAULT_FILE = fileURLToPath(new URL('../../profiles/seccomp/default.json', import.meta.url));
const shipped = (): SeccompProfile => parseProfile(readFileSync(DEFAULT_FILE, 'utf8'), DEFAULT_FILE).profile;
const X86_64 = 0xc000003e;
const AARCH64 = 0xc00000b7;
const I386 = 0x40000003;
const lib = libseccomp();

function decide(profile: SeccompProfile, name: string, args: (number | bigint)[] = [], arch = X86_64, native: HostContext['arch'] = 'SCMP_ARCH_X86_64'): string {
  const archToken = arch === X86_64 ? 'SCMP_ARCH_X86_64' : arch === AARCH64 ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86';
  const nr = lib.syscallNumber(name, archToken);
  if (nr === undefined) throw new Error(`${name} unknown on ${archToken}`);
  const { bpf } = lib.compile(toFilterSpec(profile, { arch: native, caps: [] }));
  return describeAction(runBpf(bpf, { nr, arch, args }));
}

describe('libseccomp facade', () => {
  it('resolves names and numbers per architecture', () => {
    expect(lib.syscallNumber('read', 'SCMP_ARCH_X86_64')).toBe(0);
    expect(lib.syscallNumber('execve', 'SCMP_ARCH_X86_64')).toBe(59);
    expect(lib.syscallNumber('execve', 'SCMP_ARCH_AARCH64')).toBe(221);
    expect(lib.syscallNumber('execve', 'SCMP_ARCH_X86')).toBe(11);
    expect(lib.syscallNumber('read', 'SCMP_ARCH_X32')).toBe(0x40000000);
    expect(lib.syscallNumber('open', 'SCMP_ARCH_AARCH64')).toBeUndefined();
    expect(lib.syscallNumber('no_such_call', 'SCMP_ARCH_X86_64')).toBeUndefined();
    expect(lib.syscallName(59, 'SCMP_ARCH_X86_64')).toBe('execve');
    expect(lib.syscallName(221, 'SCMP_ARCH_AARCH64')).toBe('execve');
    expect(lib.syscallName(99999, 'SCMP_ARCH_X86_64')).toBeUndefined();
    expect(lib.knowsName('socketcall')).toBe(true);
    expect(lib.knowsName('no_such_call')).toBe(false);
  });
  it('knows the native arch and audit arch values', () => {
    expect(lib.nativeArch()).toBe('SCMP_ARCH_X86_64');
    expect(lib.auditArch('SCMP_ARCH_X86_64')).toBe(X86_64);
    expect(lib.archOfAudit(AARCH64)).toBe('SCMP_ARCH_AARCH64');
    expect(lib.version).toMatch(/^2\.\d+\.\d+$/);
  });
});

describe('BPF decisions of the shipped default', () => {
  const p = shipped();
  it('allows ordinary calls and answers unlisted ones with ENOSYS', () => {
    expect(decide(p, 'read')).toBe('ALLOW');
    expect(decide(p, 'execve')).toBe('ALLOW');
    expect(decide(p, 'pkey_alloc')).toBe('ERRNO(38)');
    expect(decide(p, 'clone3')).toBe('ERRNO(38)');
    // and an explicit ENOSYS rule for clone3, for engines that drop defaultErrnoRet (Docker 20.10)
    expect(p.syscalls.some((r) => r.names.includes('clone3') && r.errnoRet === 38)).toBe(true);
  });
  it('answers dangerous calls with EPERM', () => {
    for (const n of ['ptrace', 'bpf', 'io_uring_setup', 'userfaultfd', 'keyctl', 'mount', 'unshare', 'setns', 'kexec_load', 'init_module', 'open_by_handle_at', 'perf_event_open', 'process_vm_readv']) {
      expect(decide(p, n), n).toBe('ERRNO(1)');
    }
  });
  it('filters clone flags and personality values', () => {
    const CLONE_THREAD_FLAGS = 0x3d0f00; // what glibc's pthread_create passes
    expect(decide(p, 'clone', [CLONE_THREAD_FLAGS])).toBe('ALLOW');
    expect(decide(p, 'clone', [0x11])).toBe('ALLOW'); // fork(): SIGCHLD
    expect(decide(p, 'clone', [0x10000000 | 0x11])).toBe('ERRNO(1)'); // CLONE_NEWUSER
    expect(decide(p, 'clone', [0x40000000 | 0x11])).toBe('ERRNO(1)'); // CLONE_NEWNET
    expect(decide(p, 'personality', [0])).toBe('ALLOW');
    expect(decide(p, 'personality', [0xffffffff])).toBe('ALLOW');
    expect(decide(p, 'personality', [0x0040000])).toBe('ERRNO(38)'); // ADDR_NO_RANDOMIZE
  });
  it('covers the 32-bit and aarch64 sub-architectures', () => {
    expect(decide(p, 'socketcall', [], I386)).toBe('ALLOW');
    expect(decide(p, 'ptrace', [], I386)).toBe('ERRNO(1)');
    expect(decide(p, 'execve', [], AARCH64, 'SCMP_ARCH_AARCH64')).toBe('ALLOW');
    expect(decide(p, 'mount', [], AARCH64, 'SCMP_ARCH_AARCH64')).toBe('ERRNO(1)');
    // A foreign arch is killed (libseccomp's bad-arch action).
    const { bpf } = lib.compile(toFilterSpec(p, { arch: 'SCMP_ARCH_X86_64', caps: [] }));
    expect(describeAction(runBpf(bpf, { nr: 0, arch: AARCH64 }))).toBe('KILL_THREAD');
  });
  it('is a clean whitelist of at most 300 names on x86_64', () => {
    expect(isWhitelist(p)).toBe(true);
    expect(checkProfile(p, { lib }).filter((f) => f.severity !== 'info')).toEqual([]);
    const s = profileStats('default', p, lib, { caps: DOCKER_DEFAULT_CAPS });
    const x64 = s.natives.find((n) => n.native === 'SCMP_ARCH_X86_64')!.arches.find((a) => a.arch === 'SCMP_ARCH_X86_64')!;
    expect(x64.allowed).toBeLessThanOrEqual(300);
    const allowed = new Set(p.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
    for (const n of ['io_uring_setup', 'userfaultfd', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'ptrace',
      'process_vm_readv', 'process_vm_writev', 'kexec_load', 'init_module', 'finit_module', 'delete_module', 'mount', 'umount2',
      'pivot_root', 'move_mount', 'fsopen', 'unshare', 'setns', 'clone3', 'open_by_handle_at', 'name_to_handle_at', 'acct',
      'swapon', 'swapoff', 'reboot', 'settimeofday', 'clock_settime', 'lookup_dcookie', 'vm86', 'quotactl', 'nfsservctl',
      'iopl', 'ioperm', 'syslog']) {
      expect(allowed.has(n), n).toBe(false);
    }
  });
});

const codes = (f: Finding[]) => f.map((x) => x.code).sort();

describe('validation', () => {
  it('refuses defaults that allow everything', () => {
    for (const d of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']) {
      const p: SeccompProfile = { defaultAction: d, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] };
      expect(isWhitelist(p)).toBe(false);
      expect(checkProfile(p, { lib }).find((f) => f.code === 'not-whitelist')?.severity).toBe('error');
    }
    expect(isWhitelist({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [] })).toBe(true);
  });
  it('reports unknown names, duplicates, dead and redundant rules with their line', () => {
    const text = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    { "names": ["read", "write", "read", "no_such_call", "arm_fadvise64_64"], "action": "SCMP_ACT_ALLOW" },
    { "names": ["write"], "action": "SCMP_ACT_ALLOW" },
    { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 1, "op": "SCMP_CMP_EQ" }] },
    { "names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 },
    { "names": ["close"], "action": "SCMP_ACT_ERRNO" },
    { "names": ["openat"], "action": "SCMP_ACT_BOGUS" },
    { "names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 7, "value": 1, "op": "SCMP_CMP_LIKE" }] }
  ]
}`;
    const loaded = parseProfile(text, 'p.json');
    const f = checkProfile(loaded.profile, { lib, locate: loaded.locate });
    expect(codes(f)).toEqual(['arg-index', 'conflict', 'duplicate-name', 'duplicate-rule', 'never-matches', 'not-on-arches', 'same-as-default', 'same-as-default', 'unknown-action', 'unknown-op', 'unknown-syscall'].sort());
    const unknown = f.find((x) => x.code === 'unknown-syscall')!;
    expect(unknown).toMatchObject({ severity: 'error', line: 5 });
    expect(f.find((x) => x.code === 'never-matches')).toMatchObject({ severity: 'warning', line: 7 });
    expect(f.find((x) => x.code === 'conflict')).toMatchObject({ severity: 'error', line: 8 });
  });
  it('warns about risky unconditional allows', () => {
    const p: SeccompProfile = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'ptrace', 'clone'], action: 'SCMP_ACT_ALLOW' }] };
    expect(checkProfile(p, { lib }).filter((f) => f.code === 'dangerous-allowed')).toHaveLength(2);
  });
  it('names the file, line and column of malformed JSON and wrong shapes', () => {
    expect(() => parseProfile('{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [,]\n}', 'bad.json')).toThrow(/^bad\.json:3:16: invalid JSON/);
    expect(() => parseProfile('{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]\n}', 'shape.json'))
      .toThrow(UsageError);
    expect(() => parseProfile('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "x"}]}', 'shape.json'))
      .toThrow(/^shape\.json:1:60: syscalls\.0\.names: expected a list of strings/);
  });
  it('round-trips through formatProfile', () => {
    const p = shipped();
    expect(parseProfile(formatProfile(p)).profile).toEqual(p);
  });
});

describe('recorder pieces', () => {
  it('parses seccomp audit records from the kernel log', () => {
    const line = 'audit: type=1326 audit(1700000000.123:42): auid=4294967295 uid=100000 gid=100000 ses=4294967295 subj=unconfined pid=12345 comm="sh" exe="/bin/busybox" sig=0 arch=c000003e syscall=59 compat=0 ip=0x4a1b2c code=0x7ffc0000';
    expect(parseAuditSeccomp(line)).toEqual({ pid: 12345, comm: 'sh', exe: '/bin/busybox', arch: X86_64, syscall: 59, code: 0x7ffc0000, uid: 100000, ses: 4294967295 });
    expect(parseAuditSeccomp('docker0: port 1(veth) entered disabled state')).toBeUndefined();
  });
  it('generates a minimal whitelist with the runtime base, filtered clone and EPERM for the rest', () => {
    const p = generateProfile(['read', 'write', 'clone', 'wait4']);
    expect(checkProfile(p, { lib }).filter((f) => f.severity !== 'info')).toEqual([]);
    expect(p.defaultErrnoRet).toBe(38);
    expect(p.syscalls[0]!.names).toContain('wait4');
    for (const n of RUNTIME_BASE_SET) if (n !== 'clone') expect(p.syscalls[0]!.names).toContain(n);
    expect(decide(p, 'wait4')).toBe('ALLOW');
    expect(decide(p, 'socket')).toBe('ERRNO(38)');
    expect(decide(p, 'unshare')).toBe('ERRNO(1)');
    expect(decide(p, 'clone', [0x11])).toBe('ALLOW');
    expect(decide(p, 'clone', [0x10000011])).toBe('ERRNO(1)');
    const merged = generateProfile(['read'], { base: false, merge: [p] });
    expect(merged.syscalls[0]!.names).toContain('wait4');
  });
});
