/**
 * Which of the calls sdocker's shipped default denies for safety a user profile lets through
 * (SD-SECCOMP-004). Pure: the shell (policy-check.ts) hands in the shipped profile it read, so the
 * list is derived from profiles/seccomp/default.json and never copied by hand:
 *
 * - every name the shipped default refuses unconditionally with EPERM (its "for safety" answer:
 *   namespaces, mounts, keys, bpf, ptrace, modules, kexec, io_uring, open_by_handle_at ...);
 * - DANGEROUS_SYSCALLS of validate.ts (the table `sdocker seccomp check` warns about), which adds
 *   clone3: the shipped default answers it ENOSYS so that C libraries fall back to clone, whose
 *   flags it can filter; clone3's flags are in a struct no seccomp filter can read, so clone3 is
 *   namespace creation unfiltered;
 * - the names the shipped default allows only under argument conditions (clone without namespace
 *   flags, personality for its safe values): a user rule for one of them must be at least as narrow
 *   as one of the shipped conditions, else it lets through what the shipped default refuses.
 *
 * A rule lets a call through when its action is ALLOW or LOG, or hands the decision to someone
 * else (TRACE: a tracer; NOTIFY: a listener). A rule limited to capabilities (`includes.caps`)
 * applies only when the container holds all of them; the policy core decides that, knowing the
 * capabilities it grants. Architecture and kernel filters are not trusted to narrow anything.
 */
import type { JsonPath } from '../text/json-located.js';
import type { SeccompArg, SeccompProfile, SyscallRule } from './profile.js';
import { DANGEROUS_SYSCALLS } from './validate.js';

const LETS_THROUGH = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_NOTIFY']);

export interface DangerousTable {
  /** Refused whatever the arguments. */
  denied: Set<string>;
  /** Allowed by the shipped default only under one of these conditions (each a single comparison). */
  conditional: Map<string, SeccompArg[]>;
}

/** The table, from the shipped default profile. */
export function dangerousTable(shipped: SeccompProfile): DangerousTable {
  const denied = new Set<string>(DANGEROUS_SYSCALLS);
  const conditional = new Map<string, SeccompArg[]>();
  const unconditionalAllow = new Set<string>();
  for (const r of shipped.syscalls) {
    const args = r.args ?? [];
    if (r.action === 'SCMP_ACT_ALLOW') {
      if (args.length === 0) r.names.forEach((n) => unconditionalAllow.add(n));
      else for (const n of r.names) conditional.set(n, [...(conditional.get(n) ?? []), ...args]);
    } else if (args.length === 0 && r.action === 'SCMP_ACT_ERRNO' && (r.errnoRet ?? 1) === 1) {
      r.names.forEach((n) => denied.add(n));
    }
  }
  for (const n of unconditionalAllow) conditional.delete(n);
  for (const n of conditional.keys()) denied.delete(n);
  return { denied, conditional };
}

export interface DangerousAllowed {
  name: string;
  /** Where the rule names it, for file:line:column. */
  path: JsonPath;
  /** The rule applies only when the container holds every one of these capabilities. */
  caps?: string[];
  /** Why this rule is not narrow enough (conditional names only). */
  why?: string;
}

const big = (n: number | undefined): bigint => BigInt.asUintN(64, BigInt(Math.trunc(n ?? 0)));

/** Does comparison `u` (of a user rule) imply the shipped condition `s` (same argument)? */
function implies(u: SeccompArg, s: SeccompArg): boolean {
  if (u.index !== s.index) return false;
  const sv = big(s.value);
  const s2 = big(s.valueTwo);
  const uv = big(u.value);
  const u2 = big(u.valueTwo);
  if (s.op === 'SCMP_CMP_EQ') return u.op === 'SCMP_CMP_EQ' && uv === sv;
  if (s.op === 'SCMP_CMP_MASKED_EQ') {
    // (arg & mask) == datum: in JSON, value is the mask and valueTwo the datum.
    if (u.op === 'SCMP_CMP_EQ') return (uv & sv) === s2;
    if (u.op === 'SCMP_CMP_MASKED_EQ') return (uv & sv) === sv && (u2 & sv) === s2;
  }
  return false;
}

/**
 * Whether a rule's conditions keep a conditional name within the shipped conditions. runc ANDs the
 * comparisons of a rule, except when two of them test the same argument: then each becomes a rule
 * of its own (OR), so every one of them must be narrow enough.
 */
function narrowEnough(rule: SyscallRule, shipped: SeccompArg[]): boolean {
  const args = rule.args ?? [];
  if (args.length === 0) return false;
  const narrow = (a: SeccompArg) => shipped.some((s) => implies(a, s));
  const indexes = args.map((a) => a.index);
  const split = new Set(indexes).size !== indexes.length;
  return split ? args.every(narrow) : args.some(narrow);
}

/** Every place the profile lets through a call the shipped default denies for safety. */
export function dangerousAllowed(profile: SeccompProfile, table: DangerousTable): DangerousAllowed[] {
  const out: DangerousAllowed[] = [];
  profile.syscalls.forEach((rule, i) => {
    if (!LETS_THROUGH.has(rule.action)) return;
    rule.names.forEach((name, k) => {
      const cond = table.conditional.get(name);
      let why: string | undefined;
      if (cond) {
        if (narrowEnough(rule, cond)) return;
        why = rule.args?.length ? 'its argument conditions are wider than the shipped default\'s' : 'without the shipped default\'s argument conditions';
      } else if (!table.denied.has(name)) return;
      const d: DangerousAllowed = { name, path: ['syscalls', i, 'names', k] };
      if (rule.includes?.caps?.length) d.caps = [...rule.includes.caps];
      if (why) d.why = why;
      out.push(d);
    });
  });
  return out;
}
