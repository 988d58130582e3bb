/**
 * One round of `sdocker learn` (pure): a diagnosis of the failed trial → the allowances to add,
 * each with the reason learn writes beside it (what was observed), and what it could not turn into
 * an allowance (a fix that needs a person: a path a tmpfs cannot cover, a user it cannot name).
 */
import { printable } from '../diagnose/render.js';
import type { Diagnosis, Finding, ProfileFix } from '../diagnose/types.js';

export interface LearnedEntry {
  /** Where it goes: defaults.tmpfs, defaults.user, allow.capabilities... */
  key: string;
  /** The path, user, capability name, size. */
  value: string;
  reason: string;
}

export interface LearnStep {
  /** The profile lines to set: whole values (a list replaces the profile's), as the diagnosis merged them. */
  fix: ProfileFix;
  entries: LearnedEntry[];
  /** Findings that name no allowance learn can add, and failures with no finding at all. */
  unresolved: string[];
}

const MAX_REASON = 200;

/** The `reason:` learn writes: what it saw, in one printable line. */
export function learnReason(image: string, finding: Pick<Finding, 'summary'>): string {
  const r = printable(`learn: ${image} failed: ${finding.summary}`).replace(/\s+/g, ' ');
  return r.length > MAX_REASON ? `${r.slice(0, MAX_REASON - 1)}…` : r;
}

/** A value the diagnosis could not fill in (`<the service user>`): a person has to. */
const placeholder = (v: string) => v.startsWith('<');

function entriesOf(f: Finding, reason: string): LearnedEntry[] {
  const out: LearnedEntry[] = [];
  const d = f.fix.defaults ?? {};
  if (d.user !== undefined && !placeholder(d.user)) out.push({ key: 'defaults.user', value: d.user, reason });
  for (const t of d.tmpfs ?? []) out.push({ key: 'defaults.tmpfs', value: t.options ? `${t.path} (${t.options})` : t.path, reason });
  for (const c of d.capabilities ?? []) out.push({ key: 'defaults.capabilities', value: c, reason });
  if (d.memory !== undefined) out.push({ key: 'defaults.memory', value: d.memory, reason });
  if (d.pids !== undefined) out.push({ key: 'defaults.pids', value: String(d.pids), reason });
  if (d.seccomp !== undefined) out.push({ key: 'defaults.seccomp', value: d.seccomp, reason });
  for (const c of f.fix.allow?.capabilities ?? []) out.push({ key: 'allow.capabilities', value: c.name, reason });
  if (f.fix.allow?.root) out.push({ key: 'allow.root', value: 'root', reason });
  return out;
}

export function stepFromDiagnosis(d: Diagnosis, image: string): LearnStep {
  const entries: LearnedEntry[] = [];
  const unresolved: string[] = [];
  const capReasons = new Map<string, string>();
  let rootReason: string | undefined;
  for (const f of d.findings) {
    const reason = learnReason(image, f);
    const mine = entriesOf(f, reason);
    if (mine.length === 0) unresolved.push(printable(`${f.summary}${f.note ? ` (${f.note})` : ''}`));
    entries.push(...mine);
    for (const c of f.fix.allow?.capabilities ?? []) if (!capReasons.has(c.name)) capReasons.set(c.name, reason);
    if (f.fix.allow?.root) rootReason ??= reason;
  }
  if (d.findings.length === 0) {
    const tail = d.logTail.slice(-3).map((l) => printable(l)).join(' | ');
    unresolved.push(`exit status ${d.exitCode} with no known hardening signature${tail ? `; last lines: ${tail}` : ''}`);
  }
  const fix: ProfileFix = {};
  if (d.fix.defaults) {
    const { user, ...rest } = d.fix.defaults;
    const defaults: NonNullable<ProfileFix['defaults']> = { ...rest };
    if (user !== undefined && !placeholder(user)) defaults.user = user;
    if (Object.keys(defaults).length) fix.defaults = defaults;
  }
  const caps = d.fix.allow?.capabilities?.map((c) => ({ name: c.name, reason: capReasons.get(c.name) ?? learnReason(image, { summary: c.reason }) }));
  if (caps?.length || rootReason) {
    fix.allow = {};
    if (caps?.length) fix.allow.capabilities = caps;
    if (rootReason) fix.allow.root = { reason: rootReason };
  }
  return { fix, entries, unresolved };
}
