/**
 * --security-opt: seccomp (SD-SECCOMP-*), AppArmor, SELinux labels, no-new-privileges, systempaths.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import type { RuleId } from '../rules.js';
import { dangerousVerdicts } from '../seccomp-dangerous.js';
import type { SeccompFinding, SeccompVerdict } from '../types.js';
import type { Ctx } from '../context.js';
import { containerCaps } from './privileges.js';

/**
 * The judgement on a seccomp profile from the shell's verdict (checkProfile, isWhitelist,
 * hasErrors of src/seccomp, run outside this pure core so libseccomp never loads here). No
 * verdict: refused, nothing unchecked goes to the engine.
 */
export function judgeSeccomp(verdict: SeccompVerdict | undefined): { ok: true } | { ok: false; rule: RuleId; why: string; details: string[] } {
  if (!verdict) return { ok: false, rule: 'SD-SECCOMP-003', why: 'the profile was not checked', details: [] };
  const at = (f: SeccompFinding) => `${verdict.source}${f.line ? `:${f.line}:${f.column}` : ''}`;
  const errors = verdict.findings.filter((f) => f.severity === 'error');
  const details = errors.map((f) => `${at(f)}: ${f.message} [${f.code}]`);
  if (!verdict.whitelist) {
    if (details.length === 0) details.push(`${verdict.source}: not a whitelist [not-whitelist]`);
    return { ok: false, rule: 'SD-SECCOMP-002', why: `${verdict.source} is not a whitelist`, details };
  }
  if (errors.length > 0) return { ok: false, rule: 'SD-SECCOMP-003', why: `${verdict.source}: ${errors.length} error${errors.length === 1 ? '' : 's'}`, details };
  return { ok: true };
}

/**
 * SD-SECCOMP-004 on a profile judgeSeccomp accepted: each call of the shipped default's safety list
 * it lets through needs `allow.syscalls`. False when one is refused (the profile is not applied).
 */
function seccompDangerous(c: Ctx, verdict: SeccompVerdict | undefined, field: string, flag?: string): boolean {
  if (!verdict) return true;
  let ok = true;
  for (const d of dangerousVerdicts(verdict, c.allow, containerCaps(c))) {
    const subject = `seccomp=${verdict.source}`;
    // allow.seccompUnconfined allows no filter at all, so it allows a wider one too.
    if (!c.check('SD-SECCOMP-004', field, subject, d.name, d.allowance ?? c.allow.seccompUnconfined, { ...(flag ? { flag } : {}), details: [d.detail], denialKey: 'syscalls', denialValue: d.name })) ok = false;
  }
  return ok;
}

/** Engine security options as [key, value]; accepts `k=v` and the old `k:v`. */
function splitSecOpt(opt: string): [string, string] {
  const m = /^([a-zA-Z-]+)[=:]?(.*)$/s.exec(opt.trim());
  return m ? [(m[1] ?? '').toLowerCase(), m[2] ?? ''] : [opt, ''];
}

/** The shell's verdict on a profile text: from the input, else gathered with the profile (loadProfile). */
function verdictFor(c: Ctx, text: string): SeccompVerdict | undefined {
  return c.input.seccompChecks?.[text] ?? c.profile.seccompChecks?.[text];
}

/** The spellings of false that Go's strconv.ParseBool (the engine's parser) accepts. */
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export function securityOpts(c: Ctx): void {
  const out: string[] = [];
  let seccompSet = false;
  let nnp = false;
  for (const opt of c.hc.SecurityOpt ?? []) {
    const [k, v] = splitSecOpt(opt);
    let keep = true;
    if (k === 'seccomp') {
      seccompSet = true;
      if (v === 'unconfined') {
        keep = c.check('SD-SECCOMP-001', 'HostConfig.SecurityOpt', opt, 'seccomp=unconfined', c.allow.seccompUnconfined, { denialKey: 'seccompUnconfined' });
      } else if (v !== 'builtin') {
        const w = v.trimStart().startsWith('{')
          ? judgeSeccomp(verdictFor(c, v))
          : { ok: false as const, rule: 'SD-SECCOMP-003' as const, why: 'the profile was not read into the request', details: [] };
        if (!w.ok) {
          const source = verdictFor(c, v)?.source;
          const subject = source ? `seccomp=${source}` : 'seccomp=<profile>';
          keep = c.check(w.rule, 'HostConfig.SecurityOpt', subject, subject, c.allow.seccompUnconfined, { why: w.why, details: w.details, denialKey: 'seccompUnconfined' });
        } else keep = seccompDangerous(c, verdictFor(c, v), 'HostConfig.SecurityOpt');
      }
      if (!keep) seccompSet = false;
    } else if (k === 'apparmor' && v === 'unconfined') {
      keep = c.check('SD-MAC-001', 'HostConfig.SecurityOpt', opt, 'apparmor=unconfined', c.allow.apparmorUnconfined, { denialKey: 'apparmorUnconfined' });
    } else if (k === 'label' && (v === 'disable' || /^type:(spc_t|unconfined_t)$/.test(v))) {
      keep = c.check('SD-MAC-002', 'HostConfig.SecurityOpt', opt, `label=${v}`, c.allow.labelDisable, { denialKey: 'labelDisable' });
    } else if (k === 'systempaths' && v === 'unconfined') {
      keep = c.check('SD-PATHS-001', 'HostConfig.SecurityOpt', opt, 'systempaths=unconfined', c.allow.systemPathsUnconfined, { denialKey: 'systemPathsUnconfined' });
    } else if (k === 'no-new-privileges') {
      // The engine reads the value with Go's strconv.ParseBool: 0, f, F, FALSE, False all mean false.
      if (GO_FALSE.has(v)) {
        keep = c.check('SD-NNP-001', 'HostConfig.SecurityOpt', opt, 'no-new-privileges=false', c.allow.newPrivileges, { denialKey: 'newPrivileges' });
        nnp = keep; // kept: the request stands; dropped: the default is added below
      } else nnp = true;
    }
    if (keep) out.push(opt);
  }
  // systempaths=unconfined as the docker CLI sends it: empty MaskedPaths and ReadonlyPaths.
  const emptied = (['MaskedPaths', 'ReadonlyPaths'] as const).filter((f) => Array.isArray(c.hc[f]) && c.hc[f]!.length === 0);
  if (emptied.length > 0) {
    const ok = c.check('SD-PATHS-001', `HostConfig.${emptied[0]}`, [], 'systempaths=unconfined', c.allow.systemPathsUnconfined, { denialKey: 'systemPathsUnconfined' });
    if (!ok) {
      for (const f of emptied) {
        c.change(`HostConfig.${f}`, [], null, 'SD-PATHS-001', 'the engine\'s default masked and read-only paths apply');
        delete c.hc[f];
      }
    }
  }
  if (!nnp) {
    out.push('no-new-privileges');
    c.change('HostConfig.SecurityOpt', 'no-new-privileges (absent)', 'no-new-privileges', 'SD-NNP-001');
  }
  const d = c.profile.defaults;
  if (!seccompSet && d.seccomp !== 'engine' && c.profile.seccompProfile) {
    const check = judgeSeccomp(verdictFor(c, c.profile.seccompProfile));
    if (check.ok && seccompDangerous(c, verdictFor(c, c.profile.seccompProfile), 'defaults.seccomp', 'defaults.seccomp')) {
      out.push(`seccomp=${c.profile.seccompProfile}`);
      c.change('HostConfig.SecurityOpt', 'seccomp (engine default)', `seccomp=<${c.profile.seccompProfilePath ?? 'profile'}>`, 'SD-SECCOMP-002',
        'sdocker\'s whitelist seccomp profile replaces the engine\'s default');
    } else if (!check.ok) {
      c.check(check.rule, 'defaults.seccomp', c.profile.seccompProfilePath, c.profile.seccompProfilePath ?? 'seccomp profile', undefined, { flag: 'defaults.seccomp', why: check.why, details: check.details });
      // No allowance lets the profile's own file through: it has to be fixed.
      const v = c.violations.at(-1);
      if (v?.field === 'defaults.seccomp') v.allowWith = [];
    }
  }
  if (JSON.stringify(out) !== JSON.stringify(c.hc.SecurityOpt ?? [])) c.hc.SecurityOpt = out;
}

// ---------------------------------------------------------------------------------------------
// Mounts
