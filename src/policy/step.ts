/**
 * What a policy step in a file of its own sees of the policy's context (apply.ts's Ctx): the body
 * being hardened, the profile and the input facts, and the three ways to report.
 */
import type { CreateBody, HostConfig } from '../api/types.js';
import type { RuleId } from './rules.js';
import type { AllowSpec, EffectiveProfile, PolicyInput, Reasoned } from './types.js';

export interface StepCtx {
  readonly body: CreateBody;
  readonly hc: HostConfig;
  readonly allow: AllowSpec;
  readonly input: PolicyInput;
  readonly profile: EffectiveProfile;
  change(field: string, from: unknown, to: unknown, rule: RuleId, why?: string): void;
  check(rule: RuleId, field: string, value: unknown, subject: string, allowedBy: Reasoned | undefined,
    opts?: { flag?: string; why?: string; denialKey?: keyof AllowSpec }): boolean;
  /** Reported, neither changed nor refused. */
  note(rule: RuleId, why: string): void;
}
