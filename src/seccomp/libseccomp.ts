/**
 * libseccomp through koffi, loaded lazily on first use: nothing here runs at start-up of
 * `sdocker run` unless a seccomp profile has to be compiled or checked.
 *
 * Only the facade below leaves this module; koffi types and pointers stay inside.
 * FFI runs in the main thread of its process only (vitest's forks pool, never worker threads).
 */
import { createRequire } from 'node:module';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdockerError } from '../errors.js';
import { ARCH_TOKENS, type ArchToken, type ArgOp } from './types.js';

/** One comparison of a rule: `args[index] <op> a` (MASKED_EQ: `(args[index] & a) == b`). */
export interface FilterCondition {
  index: number;
  op: ArgOp;
  a: bigint;
  b: bigint;
}

/** One libseccomp rule; `action` is the kernel's 32-bit SECCOMP_RET_* value. */
export interface FilterRule {
  name: string;
  action: number;
  conditions: FilterCondition[];
}

/** What libseccomp is asked to compile: already resolved for one host (arches, caps, kernel). */
export interface FilterSpec {
  defaultAction: number;
  /** The first is the filter's own arch; the rest are added with seccomp_arch_add. Empty: native only. */
  arches: ArchToken[];
  rules: FilterRule[];
}

export interface CompiledFilter {
  /** Classic BPF as the kernel loads it: 8 bytes per instruction, host byte order. */
  bpf: Buffer;
  instructions: number;
  /** Names no listed arch knows (runc skips them the same way). */
  skipped: string[];
}

export interface Libseccomp {
  /** "2.5.4" */
  readonly version: string;
  nativeArch(): ArchToken;
  /** The AUDIT_ARCH_* value of an arch (what seccomp_data.arch and audit records carry). */
  auditArch(arch: ArchToken): number;
  /** The arch of an AUDIT_ARCH_* value, as in the kernel's audit records (`arch=c000003e`). */
  archOfAudit(audit: number): ArchToken | undefined;
  /** The syscall number on this arch, or undefined when the arch has no such syscall. */
  syscallNumber(name: string, arch: ArchToken): number | undefined;
  /** The syscall name of a number on this arch, or undefined. */
  syscallName(nr: number, arch: ArchToken): string | undefined;
  /** True when libseccomp knows the name on some architecture (pseudo-syscalls included). */
  knowsName(name: string): boolean;
  compile(spec: FilterSpec): CompiledFilter;
}

const OP_CODES: Record<ArgOp, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** libseccomp's own names of the SCMP_ARCH_* tokens, as seccomp_arch_resolve_name reads them. */
export function archLibName(arch: ArchToken): string {
  return arch.slice('SCMP_ARCH_'.length).toLowerCase();
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;

interface Native {
  archNative: Fn;
  archResolveName: Fn;
  resolveNameArch: Fn;
  resolveName: Fn;
  resolveNumArch: Fn;
  init: Fn;
  release: Fn;
  archAdd: Fn;
  archExist: Fn;
  archRemove: Fn;
  ruleAddArray: Fn;
  exportBpf: Fn;
  version: Fn;
}

let cached: Libseccomp | undefined;

/**
 * The libseccomp facade, loaded on first call. Throws SdockerError with the package to install
 * when libseccomp.so.2 (or koffi's native module) is missing.
 */
export function libseccomp(): Libseccomp {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let koffi: any;
  try {
    koffi = require('koffi');
  } catch (err) {
    throw new SdockerError(`seccomp: cannot load koffi, needed to call libseccomp: ${(err as Error).message}`);
  }
  let lib: any;
  try {
    lib = koffi.load('libseccomp.so.2');
  } catch (err) {
    throw new SdockerError(
      'seccomp: libseccomp.so.2 not found; install it (Debian/Ubuntu: apt-get install libseccomp2; ' +
        `Fedora: dnf install libseccomp): ${(err as Error).message}`,
    );
  }
  if (!koffi.types?.scmp_arg_cmp) {
    try {
      koffi.struct('scmp_arg_cmp', { arg: 'uint', op: 'int', datum_a: 'uint64_t', datum_b: 'uint64_t' });
    } catch {
      /* declared already by an earlier load in this process */
    }
  }
  const VersionStruct = koffi.struct({ major: 'uint', minor: 'uint', micro: 'uint' });
  const n: Native = {
    archNative: lib.func('uint32_t seccomp_arch_native()'),
    archResolveName: lib.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    resolveNameArch: lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch, const char *name)'),
    resolveName: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
    resolveNumArch: lib.func('char *! seccomp_syscall_resolve_num_arch(uint32_t arch, int num)'),
    init: lib.func('void *seccomp_init(uint32_t def_action)'),
    release: lib.func('void seccomp_release(void *ctx)'),
    archAdd: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch)'),
    archExist: lib.func('int seccomp_arch_exist(void *ctx, uint32_t arch)'),
    archRemove: lib.func('int seccomp_arch_remove(void *ctx, uint32_t arch)'),
    ruleAddArray: lib.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int count, const scmp_arg_cmp *args)',
    ),
    exportBpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
    version: lib.func('const void *seccomp_version()'),
  };
  const vptr = n.version();
  const v = vptr ? koffi.decode(vptr, VersionStruct) : { major: 0, minor: 0, micro: 0 };
  cached = makeFacade(n, `${v.major}.${v.minor}.${v.micro}`);
  return cached;
}

function makeFacade(n: Native, version: string): Libseccomp {
  const auditCache = new Map<ArchToken, number>();
  const auditArch = (arch: ArchToken): number => {
    let v = auditCache.get(arch);
    if (v === undefined) {
      v = n.archResolveName(archLibName(arch)) as number;
      if (!v) throw new SdockerError(`seccomp: libseccomp ${version} does not know the architecture ${arch}`);
      auditCache.set(arch, v);
    }
    return v;
  };
  const syscallNumber = (name: string, arch: ArchToken): number | undefined => {
    const nr = n.resolveNameArch(auditArch(arch), name) as number;
    return nr >= 0 ? nr : undefined;
  };
  const facade: Libseccomp = {
    version,
    nativeArch() {
      const audit = n.archNative() as number;
      const arch = facade.archOfAudit(audit);
      if (!arch) throw new SdockerError(`seccomp: unsupported native architecture 0x${audit.toString(16)}`);
      return arch;
    },
    auditArch,
    archOfAudit(audit) {
      for (const arch of ARCH_TOKENS) {
        const v = n.archResolveName(archLibName(arch)) as number;
        if (v >>> 0 === audit >>> 0) return arch;
      }
      return undefined;
    },
    syscallNumber,
    syscallName(nr, arch) {
      const name = n.resolveNumArch(auditArch(arch), nr) as string | null;
      return name ?? undefined;
    },
    knowsName(name) {
      return (n.resolveName(name) as number) !== -1;
    },
    compile(spec) {
      return compile(n, auditArch, spec);
    },
  };
  return facade;
}

function compile(n: Native, auditArch: (a: ArchToken) => number, spec: FilterSpec): CompiledFilter {
  const ctx = n.init(spec.defaultAction >>> 0);
  if (!ctx) throw new SdockerError('seccomp: seccomp_init failed (invalid default action?)');
  const dir = mkdtempSync(join(tmpdir(), 'sdocker-bpf-'));
  try {
    if (spec.arches.length > 0) {
      const tokens = spec.arches.map(auditArch);
      for (let k = 0; k < tokens.length; k++) {
        if (n.archExist(ctx, tokens[k]) !== 0) check(n.archAdd(ctx, tokens[k]), `seccomp_arch_add(${spec.arches[k]})`);
      }
      // seccomp_init starts with the native arch; keep it out of a filter that does not list it.
      const native = n.archNative() as number;
      if (!tokens.includes(native)) check(n.archRemove(ctx, native) as number, 'seccomp_arch_remove(native)');
    }
    const skipped: string[] = [];
    for (const rule of spec.rules) {
      const nr = n.resolveName(rule.name) as number;
      if (nr === -1) {
        if (!skipped.includes(rule.name)) skipped.push(rule.name);
        continue;
      }
      if (rule.action >>> 0 === spec.defaultAction >>> 0) continue;
      const args = rule.conditions.map((c) => ({ arg: c.index, op: OP_CODES[c.op], datum_a: c.a, datum_b: c.b }));
      const rc = n.ruleAddArray(ctx, rule.action >>> 0, nr, args.length, args.length ? args : null) as number;
      check(rc, `seccomp_rule_add(${rule.name})`);
    }
    const file = join(dir, 'filter.bpf');
    const fd = openSync(file, 'w+');
    try {
      check(n.exportBpf(ctx, fd), 'seccomp_export_bpf');
    } finally {
      closeSync(fd);
    }
    const bpf = readFileSync(file);
    return { bpf, instructions: bpf.length / 8, skipped };
  } finally {
    n.release(ctx);
    rmSync(dir, { recursive: true, force: true });
  }
}

function check(rc: number, what: string): void {
  if (rc < 0) {
    throw new SdockerError(`seccomp: ${what} failed: errno ${-rc}`);
  }
}
