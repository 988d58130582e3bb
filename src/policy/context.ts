/**
 * The context of one applyPolicy run: the body being hardened, the profile and facts, and the
 * bookkeeping every step reports through (change, check → violation or allowance, explicit).
 * Used by applyPolicy (src/policy/apply.ts) and its steps (src/policy/steps/); pure.
 */
import type { CreateBody, HostConfig } from '../api/types.js';
import { RULES, type RuleId } from './rules.js';
import { grantedByAny } from './floor.js';
import type { AllowSpec, Allowance, Change, EffectiveProfile, PolicyInput, Reasoned, Violation } from './types.js';

export class Ctx {
  readonly body: CreateBody;
  readonly hc: HostConfig;
  readonly allow: AllowSpec;
  readonly changes: Change[] = [];
  readonly violations: Violation[] = [];
  readonly allowances: Allowance[] = [];
  readonly createDirs: string[] = [];
  readonly notes: { rule: string; why: string }[] = [];
  constructor(readonly input: PolicyInput) {
    this.body = structuredClone(input.body);
    this.body.HostConfig ??= {};
    this.hc = this.body.HostConfig;
    this.allow = input.profile.allow;
  }
  get profile(): EffectiveProfile {
    return this.input.profile;
  }
  /** Reported, neither changed nor refused. */
  note(rule: RuleId, why: string): void {
    this.notes.push({ rule, why });
  }
  change(field: string, from: unknown, to: unknown, rule: RuleId, why?: string): void {
    this.changes.push({ field, from, to, rule, why: why ?? RULES[rule].why });
  }
  /**
   * A request the level forbids. Returns true when it may go through: allowed by the profile
   * (recorded as an allowance) or let through by warn mode (recorded as a violation).
   */
  check(
    rule: RuleId, field: string, value: unknown, subject: string, allowedBy: Reasoned | undefined,
    opts: { flag?: string; why?: string; details?: string[]; denialKey?: keyof AllowSpec; denialValue?: string; allowSubject?: string; floor?: string | undefined } = {},
  ): boolean {
    if (allowedBy) {
      this.allowances.push({ rule, subject, reason: allowedBy.reason, source: allowedBy.source ?? 'profile' });
      return true;
    }
    const r = RULES[rule];
    const denial = opts.denialKey ? grantedByAny(this.profile.floorDenied, opts.denialKey, opts.denialValue) : undefined;
    this.violations.push({
      rule, guideline: r.guideline, field, value, flag: opts.flag ?? r.flag, subject,
      why: opts.why ? `${r.why} (${opts.why})` : r.why,
      allowWith: r.allow(opts.allowSubject ?? subject),
      ...(denial ? { floorBlocked: denial.floor } : opts.floor ? { floorBlocked: opts.floor } : {}),
      ...(opts.details?.length ? { details: opts.details } : {}),
    });
    return this.input.mode !== 'enforce';
  }
  explicit(flags: string[]): boolean {
    const p = this.input.provenance;
    return !!p && flags.some((f) => p.has(f));
  }
}
