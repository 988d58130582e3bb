/**
 * What the judges of exec, update and build share (pure): the last value of a flag as pflag
 * leaves it, the tokens typed for each flag (for the explanation), and a violation built as
 * applyPolicy builds them (rule, guideline, why, the allowing YAML, the floor that blocks it).
 */
import type { PflagHit } from '../../flags/pflag.js';
import { RULES, type RuleId } from '../rules.js';
import type { AllowSpec, Allowance, EffectiveProfile, Reasoned, Violation } from '../types.js';

export interface Judgement {
  violations: Violation[];
  /** Requests a profile allowance let through (for the record and --debug). */
  allowances: Allowance[];
  /** argv tokens per flag name, as formatViolations reads them. */
  provenance: Map<string, string[]>;
}

/** The hit that wins: pflag sets a flag once per occurrence, the last one stays. */
export function last(hits: readonly PflagHit[], name: string): PflagHit | undefined {
  let found: PflagHit | undefined;
  for (const h of hits) if (h.spec.name === name) found = h;
  return found;
}

export function all(hits: readonly PflagHit[], name: string): PflagHit[] {
  return hits.filter((h) => h.spec.name === name);
}

export function provenanceOf(hits: readonly PflagHit[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const h of hits) {
    const typed = h.tokens.join(' ');
    const prev = out.get(h.spec.name);
    if (prev) prev.push(typed);
    else out.set(h.spec.name, [typed]);
  }
  return out;
}

export interface RefuseOptions {
  flag: string;
  /** What was requested, in the flag's words (`0`, `host`, `-1`). */
  subject: string;
  field: string;
  why?: string;
  allowSubject?: string;
  allowWith?: string[];
  denialKey?: keyof AllowSpec;
  denialValue?: string;
}

export class Judge {
  readonly violations: Violation[] = [];
  readonly allowances: Allowance[] = [];
  constructor(readonly profile: EffectiveProfile) {}

  /** Refuse unless `allowedBy` (a profile allowance) lets it through; true when it may go. */
  check(rule: RuleId, allowedBy: Reasoned | undefined, o: RefuseOptions): boolean {
    if (allowedBy) {
      this.allowances.push({ rule, subject: o.subject, reason: allowedBy.reason, source: allowedBy.source ?? 'profile' });
      return true;
    }
    const r = RULES[rule];
    const denial = o.denialKey
      ? this.profile.floorDenied.find((d) => d.key === o.denialKey && (o.denialValue === undefined || d.value === o.denialValue))
      : undefined;
    this.violations.push({
      rule, guideline: r.guideline, field: o.field, value: o.subject, flag: o.flag, subject: o.subject,
      why: o.why ? `${r.why} (${o.why})` : r.why,
      allowWith: o.allowWith ?? r.allow(o.allowSubject ?? o.subject),
      ...(denial ? { floorBlocked: denial.floor } : {}),
    });
    return false;
  }

  result(hits: readonly PflagHit[]): Judgement {
    return { violations: this.violations, allowances: this.allowances, provenance: provenanceOf(hits) };
  }
}
