/**
 * Floors (the machine's floor, then any SDOCKER_FLOOR adds) over a merged profile: each is a
 * ceiling a project cannot raise. Its allowances filter the project's, its mode is the least
 * mode, its runtime, seccomp profile and audit log replace the project's, its limits cap.
 * Pure; used by mergeProfiles (profile-merge.ts).
 */
import { PolicyError } from '../errors.js';
import { grants } from './floor.js';
import { capLimits, mergeLimits, resolveLimits } from './limits.js';
import { LIST_ALLOW } from './profile.js';
import { levelChain, mergeAllow, mergeDefaults, withSource, type FloorInput } from './profile-merge.js';
import { MODE_STRENGTH } from './types.js';
import type { AllowSpec, EffectiveProfile, FloorDenial, LevelName, PolicyMode, ProfileDefaults, ProfileLimits, Reasoned } from './types.js';

/** Keep only what the floor grants; report the rest. */
export function filterByFloor(allow: AllowSpec, floor: AllowSpec, floorPath: string): { allow: AllowSpec; denied: FloorDenial[] } {
  const out: Record<string, unknown> = {};
  const denied: FloorDenial[] = [];
  for (const [k, v] of Object.entries(allow) as [keyof AllowSpec, unknown][]) {
    const spec = LIST_ALLOW[k];
    if (spec && Array.isArray(v)) {
      const kept = v.filter((e: Record<string, unknown>) => {
        if (grants(k, e, floor)) return true;
        denied.push({ key: k, value: String(e[spec.field]), floor: floorPath, ...(e.source ? { source: String(e.source) } : {}) });
        return false;
      });
      if (kept.length) out[k] = kept;
    } else if (v) {
      if (grants(k, v as Record<string, unknown>, floor)) out[k] = v;
      else denied.push({ key: k, value: k, floor: floorPath, ...((v as Reasoned).source ? { source: (v as Reasoned).source! } : {}) });
    }
  }
  return { allow: out as AllowSpec, denied };
}

/** One floor over the profile merged so far (eff is changed in place). */
export function applyFloor(eff: EffectiveProfile, fl: FloorInput, level: LevelName): void {
  eff.floor = eff.floor ? `${eff.floor}, ${fl.path}` : fl.path;
  if (level === 'privileged' && fl.level !== 'privileged') {
    throw new PolicyError(`level privileged is not allowed on this machine: the floor ${fl.path} extends ${fl.level}`);
  }
  let fAllow: AllowSpec = {};
  let fDefaults: ProfileDefaults = {};
  let fMode: PolicyMode = 'enforce';
  let fLog: string | undefined;
  let fLimits: ProfileLimits = {};
  for (const f of levelChain(fl.level).map(withSource)) {
    fAllow = mergeAllow(fAllow, f.allow);
    fLimits = mergeLimits(fLimits, f.limits);
  }
  for (const f of fl.chain.map(withSource)) {
    fAllow = mergeAllow(fAllow, f.allow);
    fLimits = mergeLimits(fLimits, f.limits);
    fDefaults = mergeDefaults(fDefaults, f.defaults);
    if (f.mode) fMode = f.mode;
    if (f.audit?.log) fLog = f.audit.log;
  }
  const { allow: kept, denied } = filterByFloor(eff.allow, fAllow, fl.path);
  eff.allow = kept;
  eff.floorDenied.push(...denied);
  if (MODE_STRENGTH[fMode] > MODE_STRENGTH[eff.minMode]) eff.minMode = fMode;
  if (eff.mode && MODE_STRENGTH[eff.mode] < MODE_STRENGTH[eff.minMode]) eff.mode = eff.minMode;
  // The floor's runtime, seccomp profile and audit log cannot be moved by a project.
  if (fDefaults.runtime) eff.defaults.runtime = fDefaults.runtime;
  if (fDefaults.seccomp) eff.defaults.seccomp = fDefaults.seccomp;
  if (fLog) eff.auditLog = fLog;
  eff.limits = capLimits(eff.limits, resolveLimits(fLimits), fl.path);
}
