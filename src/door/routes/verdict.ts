/**
 * Verdicts the judged routes share (pure): a refusal worded as the CLI words it (the rule ids,
 * guideline, why, the YAML that allows it), answered as the engine answers errors so the docker
 * CLI prints `Error response from daemon: ...` and compose shows it; a request the door cannot
 * judge (SD-DOOR-001, 400).
 */
import { formatViolations } from '../../policy/explain.js';
import { effectiveMode } from '../../policy/profile-effective.js';
import { Judge, type Judgement } from '../../policy/commands/common.js';
import type { RuleId } from '../../policy/rules.js';
import type { EffectiveProfile, PolicyMode, Provenance, Violation } from '../../policy/types.js';
import type { Verdict } from '../types.js';

/** The profile's mode (the door has no --policy-mode flag: the socket's profile and the floor decide). */
export function modeOf(profile: EffectiveProfile): PolicyMode {
  return effectiveMode(undefined, profile);
}

/**
 * Violations → a refusal in enforce mode; in warn and audit mode the request goes (`pass`) and
 * the text goes to `warn`. `what`: the thing refused (`exec`, `update`, `volume`...).
 */
export function verdictOf(
  violations: Violation[],
  provenance: Provenance | undefined,
  profile: EffectiveProfile,
  what: string,
  warn?: (text: string) => void,
): Verdict {
  if (violations.length === 0) return { action: 'pass' };
  const mode = modeOf(profile);
  const text = formatViolations(violations, provenance, { level: profile.level, mode }).replace(' this container:', ` this ${what}:`);
  if (mode !== 'enforce') {
    warn?.(text);
    return { action: 'pass' };
  }
  return refusal(text, violations.map((v) => v.rule));
}

/** A pass of a JSON body becomes a forward of the body as judged (canonical keys): the engine reads what was judged. */
export function forwardJudged(v: Verdict, body: unknown): Verdict {
  return v.action === 'pass' ? { action: 'forward', body } : v;
}

export function refusal(text: string, rules: string[], status = 403): Verdict {
  return { action: 'refuse', status, message: `sdocker: ${text.trimEnd()}`, rules: [...new Set(rules)] };
}

/** A request the door cannot read or classify (SD-DOOR-001): 400, as the engine answers a bad request. */
export function cannotJudge(why: string): Verdict {
  return refusal(`${why} (SD-DOOR-001: the door forwards only what it can judge; nothing was forwarded)`, ['SD-DOOR-001'], 400);
}

/** One violation of `rule` unless `allowedBy` lets it through, as the command judges build them. */
export function judgeOne(
  profile: EffectiveProfile,
  rule: RuleId,
  allowedBy: Parameters<Judge['check']>[1],
  o: Parameters<Judge['check']>[2],
): Judgement {
  const judge = new Judge(profile);
  judge.check(rule, allowedBy, o);
  return judge.result([]);
}
