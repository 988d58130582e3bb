/**
 * SD-SECCOMP-004, the pure half: a user seccomp profile (`--security-opt seccomp=FILE`,
 * `defaults.seccomp`) that lets through a call sdocker's shipped default denies for safety needs
 * `allow.syscalls` naming that call with a reason. The shell found the calls
 * (src/seccomp/dangerous.ts, in SeccompVerdict.dangerous); this decides which of them the
 * container can reach and which the profile allows.
 */
import { capName } from '../api/capabilities.js';
import type { AllowSpec, Reasoned, SeccompDangerousCall, SeccompVerdict } from './types.js';

export interface DangerousVerdict {
  name: string;
  /** `file:line:col: <name> ...` for the refusal's details. */
  detail: string;
  allowance?: Reasoned;
}

/**
 * One entry per call name the container can reach: a rule limited to capabilities (`includes.caps`)
 * counts only when the container holds all of them (`caps`: what it will hold, names without CAP_).
 */
export function dangerousVerdicts(verdict: SeccompVerdict, allow: AllowSpec, caps: ReadonlySet<string>): DangerousVerdict[] {
  const byName = new Map<string, SeccompDangerousCall>();
  const reachable = (d: SeccompDangerousCall) => !d.caps || caps.has('ALL') || d.caps.every((c) => caps.has(capName(c)));
  for (const d of verdict.dangerous ?? []) if (reachable(d) && !byName.has(d.name)) byName.set(d.name, d);
  const allowed = new Map((allow.syscalls ?? []).map((a) => [a.name, a] as const));
  return [...byName.values()].map((d) => {
    const at = `${verdict.source}${d.line ? `:${d.line}:${d.column}` : ''}`;
    const v: DangerousVerdict = { name: d.name, detail: `${at}: lets ${d.name} through${d.why ? ` (${d.why})` : ''}${d.caps ? ` when the container holds ${d.caps.join(', ')}` : ''}` };
    const a = allowed.get(d.name);
    if (a) v.allowance = a;
    return v;
  });
}
