/**
 * What a profile means on one host, as the Docker daemon and runc read it: the arch list from
 * `architectures` or the native arch's `archMap` entry, rules filtered by includes/excludes
 * (caps, arches, minKernel), several comparisons on one argument OR-ed as separate rules, rules
 * equal to the default skipped. Pure: no FFI.
 */
import { DOCKER_DEFAULT_CAPS as DEFAULT_CAPS } from '../api/capabilities.js';
import { SdockerError } from '../errors.js';
import type { FilterCondition, FilterRule, FilterSpec } from './libseccomp.js';
import type { SeccompProfile, SyscallRule, RuleFilter } from './profile.js';
import {
  ACTIONS,
  ARG_OPS,
  DOCKER_ARCH_NAMES,
  actionValue,
  isArchToken,
  type ArchToken,
  type ArgOp,
  type SeccompAction,
} from './types.js';

/** Docker 20.10's default capability set as "CAP_*" (what a container gets without --cap-add/--cap-drop). */
export const DOCKER_DEFAULT_CAPS = DEFAULT_CAPS.map((c) => `CAP_${c}`);

export interface HostContext {
  /** The native arch the container runs on. */
  arch: ArchToken;
  /** The container's capabilities ("CAP_*"). */
  caps: string[];
  /** Kernel release ("6.1.0-18-amd64"); undefined: minKernel conditions are taken as met. */
  kernel?: string;
}

export interface ResolvedProfile {
  defaultAction: number;
  arches: ArchToken[];
  rules: SyscallRule[];
}

export function isAction(s: string): s is SeccompAction {
  return (ACTIONS as readonly string[]).includes(s);
}

export function isArgOp(s: string): s is ArgOp {
  return (ARG_OPS as readonly string[]).includes(s);
}

export function defaultActionValue(profile: SeccompProfile): number {
  if (!isAction(profile.defaultAction)) throw new SdockerError(`seccomp: unknown defaultAction ${profile.defaultAction}`);
  return actionValue(profile.defaultAction, profile.defaultErrnoRet);
}

export function ruleActionValue(rule: SyscallRule): number {
  if (!isAction(rule.action)) throw new SdockerError(`seccomp: unknown action ${rule.action}`);
  return actionValue(rule.action, rule.errnoRet);
}

/** The arches a filter of this profile covers on a host of `native`. */
export function profileArches(profile: SeccompProfile, native: ArchToken): ArchToken[] {
  const list: string[] = [];
  if (profile.architectures?.length) list.push(...profile.architectures);
  else {
    const entry = profile.archMap?.find((e) => e.architecture === native);
    if (entry) list.push(entry.architecture, ...entry.subArchitectures);
  }
  const out: ArchToken[] = [];
  for (const a of list) {
    if (!isArchToken(a)) throw new SdockerError(`seccomp: unknown architecture ${a}`);
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

/** Every arch a profile names anywhere (architectures, archMap primaries and subarches). */
export function allProfileArches(profile: SeccompProfile): string[] {
  const out = new Set<string>();
  for (const a of profile.architectures ?? []) out.add(a);
  for (const e of profile.archMap ?? []) {
    out.add(e.architecture);
    for (const s of e.subArchitectures) out.add(s);
  }
  return [...out];
}

export function kernelAtLeast(release: string, min: string): boolean {
  const parse = (s: string) => (/^(\d+)(?:\.(\d+))?/.exec(s) ?? []).slice(1, 3).map((x) => Number(x ?? 0));
  const [a1 = 0, a2 = 0] = parse(release);
  const [b1 = 0, b2 = 0] = parse(min);
  return a1 !== b1 ? a1 > b1 : a2 >= b2;
}

function archMatches(list: string[], native: ArchToken): boolean {
  const dockerName = DOCKER_ARCH_NAMES[native];
  return list.some((a) => a === native || a === dockerName || a === native.slice('SCMP_ARCH_'.length).toLowerCase());
}

/** Whether a rule applies on this host, by its includes and excludes (the daemon's reading). */
export function ruleApplies(rule: SyscallRule, ctx: HostContext): boolean {
  const ex: RuleFilter = rule.excludes ?? {};
  const inc: RuleFilter = rule.includes ?? {};
  if (ex.arches?.length && archMatches(ex.arches, ctx.arch)) return false;
  if (ex.caps?.length && ex.caps.some((c) => ctx.caps.includes(c))) return false;
  if (ex.minKernel && ctx.kernel !== undefined && kernelAtLeast(ctx.kernel, ex.minKernel)) return false;
  if (inc.arches?.length && !archMatches(inc.arches, ctx.arch)) return false;
  if (inc.caps?.length && !inc.caps.every((c) => ctx.caps.includes(c))) return false;
  if (inc.minKernel && ctx.kernel !== undefined && !kernelAtLeast(ctx.kernel, inc.minKernel)) return false;
  return true;
}

export function resolveProfile(profile: SeccompProfile, ctx: HostContext): ResolvedProfile {
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new SdockerError("seccomp: 'architectures' and 'archMap' both given; use one of them");
  }
  return {
    defaultAction: defaultActionValue(profile),
    arches: profileArches(profile, ctx.arch),
    rules: profile.syscalls.filter((r) => ruleApplies(r, ctx)),
  };
}

export function toFilterSpec(profile: SeccompProfile, ctx: HostContext): FilterSpec {
  const resolved = resolveProfile(profile, ctx);
  const rules: FilterRule[] = [];
  for (const rule of resolved.rules) {
    const action = ruleActionValue(rule);
    if (action === resolved.defaultAction) continue;
    const conds: FilterCondition[] = (rule.args ?? []).map((a) => {
      if (!isArgOp(a.op)) throw new SdockerError(`seccomp: unknown comparison ${a.op}`);
      if (a.index > 5) throw new SdockerError(`seccomp: argument index ${a.index} out of range 0..5`);
      return { index: a.index, op: a.op, a: BigInt(a.value), b: BigInt(a.valueTwo ?? 0) };
    });
    const perIndex = new Map<number, number>();
    for (const c of conds) perIndex.set(c.index, (perIndex.get(c.index) ?? 0) + 1);
    const orSplit = [...perIndex.values()].some((n) => n > 1);
    for (const name of rule.names) {
      if (orSplit) for (const c of conds) rules.push({ name, action, conditions: [c] });
      else rules.push({ name, action, conditions: conds });
    }
  }
  return { defaultAction: resolved.defaultAction, arches: resolved.arches, rules };
}
