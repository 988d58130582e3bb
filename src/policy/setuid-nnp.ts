/**
 * Issue 10, part 6: under restricted, an image carrying setuid-root files (the scan's findings,
 * read by the shell) runs only with no-new-privileges. The level always sets it; the one way to
 * lose it is `--security-opt no-new-privileges=false` with `allow.newPrivileges` in a profile, and
 * for such an image that is refused (SD-NNP-002; nothing allows it at this level). Pure.
 */
import { rule } from './rules.js';
import { securityOf } from './invariants.js';
import type { LevelName, PolicyOutcome, Violation } from './types.js';

/** Regular files, setuid, owned by uid 0: what no-new-privileges must neutralise. */
export function setuidRootFiles(findings: ReadonlyArray<{ rule: string; severity: string; path?: string; uid?: number }>): string[] {
  return findings.filter((f) => f.rule === 'SD-SCAN-001' && f.uid === 0 && f.severity !== 'info' && f.path).map((f) => f.path!);
}

/** `files`: the setuid-root files, or 'unknown'/'not-scanned' (the image was not scanned: fail closed). */
export function setuidViolation(outcome: PolicyOutcome, level: LevelName, files: readonly string[] | 'unknown' | 'not-scanned'): Violation | undefined {
  if (level !== 'restricted' || files.length === 0) return undefined;
  const opts = outcome.body.HostConfig.SecurityOpt ?? [];
  if (securityOf(opts).nnp) return undefined;
  const r = rule('SD-NNP-002');
  const shown = typeof files === 'string'
    ? 'unknown (the image could not be scanned)'
    : files.slice(0, 8).join(', ') + (files.length > 8 ? ` and ${files.length - 8} more` : '');
  return {
    rule: r.id,
    guideline: r.guideline,
    field: 'HostConfig.SecurityOpt',
    value: opts,
    flag: r.flag,
    subject: 'no-new-privileges=false',
    why: `${r.why}; setuid-root files: ${shown}`,
    allowWith: [],
  };
}

/** Add the violation to the outcome; in enforce mode the run is then refused. */
export function judgeSetuid(outcome: PolicyOutcome, level: LevelName, files: readonly string[] | 'unknown' | 'not-scanned' | undefined): void {
  const v = files ? setuidViolation(outcome, level, files) : undefined;
  if (!v) return;
  outcome.violations.push(v);
  if (outcome.mode === 'enforce') outcome.refused = true;
}
