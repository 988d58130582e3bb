/**
 * Findings about a seccomp profile: what `sdocker seccomp check` prints and what the policy uses
 * to refuse a weak `--security-opt seccomp=FILE`. Severity "error": the profile is broken or not
 * a whitelist; "warning": it works, but a rule is dead, redundant or opens a risky surface;
 * "info": worth knowing.
 *
 * The semantics of dead rules are libseccomp's, measured with its BPF output: an unconditional
 * rule for a name beats every conditional rule for that name whatever the order, and of two
 * unconditional rules the first wins.
 */
import type { JsonPath, Position } from '../text/json-located.js';
import type { Libseccomp } from './libseccomp.js';
import { libseccomp } from './libseccomp.js';
import type { SeccompProfile, SyscallRule, RuleFilter } from './profile.js';
import { allProfileArches, isAction, isArgOp } from './compile.js';
import { actionValue, isArchToken, type ArchToken } from './types.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** Stable id, e.g. "not-whitelist", "unknown-syscall". */
  code: string;
  message: string;
  /** Where in the JSON: ["syscalls", 3, "names", 2]. */
  path?: JsonPath;
  line?: number;
  column?: number;
}

export interface CheckOptions {
  /** The libseccomp facade for name checks; null skips them; undefined loads it (a warning if it cannot). */
  lib?: Libseccomp | null;
  /** From readProfile/parseProfile: adds line and column to findings. */
  locate?: (path: JsonPath) => Position | undefined;
}

/**
 * Syscalls whose unconditional ALLOW is worth a warning: they open kernel surfaces with a history
 * of container escapes or let a container act on the host (mounts, namespaces, modules, clocks...).
 */
export const DANGEROUS_SYSCALLS: readonly string[] = [
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'process_madvise', 'pidfd_getfd', 'kcmp',
  'bpf', 'perf_event_open', 'userfaultfd', 'keyctl', 'add_key', 'request_key',
  'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module',
  'mount', 'umount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr',
  'unshare', 'setns', 'clone3', 'open_by_handle_at', 'name_to_handle_at',
  'acct', 'swapon', 'swapoff', 'reboot', 'settimeofday', 'stime', 'clock_settime', 'clock_settime64',
  'lookup_dcookie', 'vm86', 'vm86old', 'quotactl', 'quotactl_fd', 'nfsservctl', 'iopl', 'ioperm', 'syslog', 'uselib',
];

const ALLOWING_DEFAULTS = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']);

/** True when the profile denies what it does not list (its default neither allows nor only logs). */
export function isWhitelist(profile: SeccompProfile): boolean {
  return isAction(profile.defaultAction) && !ALLOWING_DEFAULTS.has(profile.defaultAction) && profile.defaultAction !== 'SCMP_ACT_NOTIFY';
}

export function hasErrors(findings: Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

export function checkProfile(profile: SeccompProfile, options: CheckOptions = {}): Finding[] {
  const out: Finding[] = [];
  const add = (severity: Severity, code: string, message: string, path?: JsonPath) => {
    const f: Finding = { severity, code, message };
    if (path) {
      f.path = path;
      const pos = options.locate?.(path);
      if (pos) {
        f.line = pos.line;
        f.column = pos.column;
      }
    }
    out.push(f);
  };

  // The default action.
  if (!isAction(profile.defaultAction)) {
    add('error', 'unknown-action', `unknown defaultAction "${profile.defaultAction}"`, ['defaultAction']);
  } else if (ALLOWING_DEFAULTS.has(profile.defaultAction)) {
    add('error', 'not-whitelist',
      `defaultAction ${profile.defaultAction} allows every syscall the profile does not name: not a whitelist`, ['defaultAction']);
  } else if (profile.defaultAction === 'SCMP_ACT_NOTIFY' && !profile.listenerPath) {
    add('error', 'notify-without-listener', 'defaultAction SCMP_ACT_NOTIFY needs a listenerPath', ['defaultAction']);
  }
  if (profile.defaultErrnoRet !== undefined) {
    if (profile.defaultErrnoRet > 4095) add('error', 'errno-range', `defaultErrnoRet ${profile.defaultErrnoRet} is not an errno (1..4095)`, ['defaultErrnoRet']);
    if (profile.defaultAction !== 'SCMP_ACT_ERRNO' && profile.defaultAction !== 'SCMP_ACT_TRACE') {
      add('warning', 'errno-ignored', `defaultErrnoRet has no effect with ${profile.defaultAction}`, ['defaultErrnoRet']);
    }
  }
  const defaultValue = isAction(profile.defaultAction) ? actionValue(profile.defaultAction, profile.defaultErrnoRet) : undefined;

  // Architectures.
  if (profile.architectures?.length && profile.archMap?.length) {
    add('error', 'arch-conflict', "both 'architectures' and 'archMap' are given; the engine refuses that", ['architectures']);
  }
  const arches: ArchToken[] = [];
  (profile.architectures ?? []).forEach((a, i) => {
    if (isArchToken(a)) arches.push(a);
    else add('error', 'unknown-arch', `unknown architecture "${a}"`, ['architectures', i]);
  });
  (profile.archMap ?? []).forEach((e, i) => {
    if (isArchToken(e.architecture)) arches.push(e.architecture);
    else add('error', 'unknown-arch', `unknown architecture "${e.architecture}"`, ['archMap', i, 'architecture']);
    e.subArchitectures.forEach((s, j) => {
      if (isArchToken(s)) arches.push(s);
      else add('error', 'unknown-arch', `unknown architecture "${s}"`, ['archMap', i, 'subArchitectures', j]);
    });
  });
  if (allProfileArches(profile).length === 0) {
    add('info', 'native-arch-only', 'no architectures listed: the filter covers the native architecture only', []);
  }

  // libseccomp for name checks.
  let lib: Libseccomp | null = null;
  if (options.lib === undefined) {
    try {
      lib = libseccomp();
    } catch (err) {
      add('warning', 'names-unchecked', `syscall names not checked: ${(err as Error).message}`);
    }
  } else lib = options.lib;
  const checkArches: ArchToken[] = arches.length ? [...new Set(arches)] : lib ? [lib.nativeArch()] : [];

  // Rules.
  const unconditional = new Map<string, { index: number; rule: SyscallRule }[]>();
  const seen = new Map<string, number[]>();
  profile.syscalls.forEach((rule, i) => {
    const path: JsonPath = ['syscalls', i];
    if (rule.names.length === 0) add('error', 'empty-names', 'a rule without syscall names', [...path, 'names']);
    let value: number | undefined;
    if (!isAction(rule.action)) add('error', 'unknown-action', `unknown action "${rule.action}"`, [...path, 'action']);
    else {
      value = actionValue(rule.action, rule.errnoRet);
      if (rule.action === 'SCMP_ACT_NOTIFY' && !profile.listenerPath) {
        add('error', 'notify-without-listener', 'SCMP_ACT_NOTIFY needs a listenerPath', [...path, 'action']);
      }
      if (rule.errnoRet !== undefined && rule.action !== 'SCMP_ACT_ERRNO' && rule.action !== 'SCMP_ACT_TRACE') {
        add('warning', 'errno-ignored', `errnoRet has no effect with ${rule.action}`, [...path, 'errnoRet']);
      }
      if (value === defaultValue) {
        if (rule.action === 'SCMP_ACT_ERRNO' && rule.errnoRet !== undefined && profile.defaultErrnoRet !== undefined) {
          add('info', 'same-as-default',
            `rule for ${list(rule.names)} repeats the default errno ${rule.errnoRet}: kept for engines that ignore defaultErrnoRet (Docker before 23.0 answers EPERM by default)`,
            [...path, 'action']);
        } else {
          add('warning', 'same-as-default',
            `rule for ${list(rule.names)} has the default action; the runtime skips it`, [...path, 'action']);
        }
      }
    }
    if (rule.errnoRet !== undefined && rule.errnoRet > 4095) {
      add('error', 'errno-range', `errnoRet ${rule.errnoRet} is not an errno (1..4095)`, [...path, 'errnoRet']);
    }
    (rule.args ?? []).forEach((a, j) => {
      if (!isArgOp(a.op)) add('error', 'unknown-op', `unknown comparison "${a.op}"`, [...path, 'args', j, 'op']);
      if (a.index > 5) add('error', 'arg-index', `argument index ${a.index} out of range 0..5`, [...path, 'args', j, 'index']);
    });
    const perIndex = new Map<number, number>();
    for (const a of rule.args ?? []) perIndex.set(a.index, (perIndex.get(a.index) ?? 0) + 1);
    if ([...perIndex.values()].some((n) => n > 1)) {
      add('info', 'args-or', 'several comparisons on one argument: runc adds them as separate rules (OR, not AND)', [...path, 'args']);
    }
    for (const [k, name] of rule.names.entries()) {
      const npath: JsonPath = [...path, 'names', k];
      if (rule.names.indexOf(name) !== k) {
        add('warning', 'duplicate-name', `${name} is listed twice in this rule`, npath);
        continue;
      }
      if (lib) checkName(name, rule, npath);
      const key = `${name}\u0000${rule.action}\u0000${rule.errnoRet ?? ''}\u0000${JSON.stringify(rule.args ?? [])}\u0000${scope(rule)}`;
      const dup = seen.get(key);
      if (dup) add('warning', 'duplicate-rule', `${name} has the same rule in syscalls[${dup[0]}]`, npath);
      else seen.set(key, [i]);
    }
    if (!rule.args?.length) {
      for (const name of rule.names) {
        const list = unconditional.get(name) ?? [];
        list.push({ index: i, rule });
        unconditional.set(name, list);
      }
      if (rule.action === 'SCMP_ACT_ALLOW' && !rule.includes?.caps?.length) {
        const risky = rule.names.filter((n) => DANGEROUS_SYSCALLS.includes(n));
        if (risky.length) add('warning', 'dangerous-allowed', `allows ${list(risky)} unconditionally`, [...path, 'names']);
        if (rule.names.includes('clone')) add('warning', 'dangerous-allowed', 'allows clone with namespace flags (no argument filter)', [...path, 'names']);
        if (rule.names.includes('personality')) add('warning', 'dangerous-allowed', 'allows every personality (no argument filter)', [...path, 'names']);
      }
    }
  });

  // Dead rules: what an unconditional rule for the same name (in a scope at least as wide) overrides.
  profile.syscalls.forEach((rule, i) => {
    rule.names.forEach((name, k) => {
      const winners = (unconditional.get(name) ?? []).filter((u) => u.index !== i && covers(u.rule, rule));
      if (rule.args?.length) {
        const w = winners[0];
        if (w) {
          add('warning', 'never-matches',
            `${name}: this conditional rule never decides; syscalls[${w.index}] ${w.rule.action} it unconditionally`, ['syscalls', i, 'names', k]);
        }
      } else {
        const w = winners.find((u) => u.index < i);
        if (w && !sameAction(w.rule, rule)) {
          add('error', 'conflict',
            `${name}: ${rule.action} here never applies; syscalls[${w.index}] already gives it ${w.rule.action}`, ['syscalls', i, 'names', k]);
        } else if (w && scope(w.rule) !== scope(rule)) {
          add('warning', 'redundant', `${name}: syscalls[${w.index}] already gives it ${w.rule.action} everywhere`, ['syscalls', i, 'names', k]);
        }
      }
    });
  });
  return out;

  function checkName(name: string, rule: SyscallRule, path: JsonPath): void {
    if (!lib) return;
    if (!lib.knowsName(name)) {
      add('error', 'unknown-syscall', `unknown syscall "${name}" (libseccomp ${lib.version} knows it on no architecture)`, path);
      return;
    }
    const ruleArches = restrictArches(checkArches, rule.includes);
    if (ruleArches.length === 0) return;
    if (!ruleArches.some((a) => lib!.syscallNumber(name, a) !== undefined)) {
      add('warning', 'not-on-arches', `${name} does not exist on ${ruleArches.join(', ')}: the rule never matches`, path);
    }
  }
}

/** The arches of the profile a rule can act on, narrowed by includes.arches (Docker's arch names). */
function restrictArches(arches: ArchToken[], includes?: RuleFilter): ArchToken[] {
  if (!includes?.arches?.length) return arches;
  const wanted = includes.arches;
  const families: Record<string, ArchToken[]> = {
    amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    x86: ['SCMP_ARCH_X86'],
    x32: ['SCMP_ARCH_X32'],
    arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    arm: ['SCMP_ARCH_ARM'],
    s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
    s390: ['SCMP_ARCH_S390'],
  };
  const allowed = new Set(wanted.flatMap((w) => families[w] ?? []));
  return allowed.size ? arches.filter((a) => allowed.has(a)) : arches;
}

function scope(rule: SyscallRule): string {
  return JSON.stringify([rule.includes ?? {}, rule.excludes ?? {}]);
}

const EMPTY_SCOPE = JSON.stringify([{}, {}]);

/** Whether rule `u` applies on every host where `r` applies (no filters, or the same filters). */
function covers(u: SyscallRule, r: SyscallRule): boolean {
  const s = scope(u);
  return s === EMPTY_SCOPE || s === scope(r);
}

function sameAction(a: SyscallRule, b: SyscallRule): boolean {
  return a.action === b.action && (a.errnoRet ?? 1) === (b.errnoRet ?? 1);
}

function list(names: string[]): string {
  return names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
}
