/**
 * applyPolicy: the pure core. It reads the create body the docker-flag parser built (so every
 * spelling of a flag arrives as the same field), checks it against the effective profile and
 * returns the hardened body, the changes made, the violations and the allowances used.
 * No I/O: host paths, image and engine facts are gathered by the shell and passed in.
 */
import { isLoopbackHostIp } from './loopback.js';
import { capName as normalizeCap, DOCKER_DEFAULT_CAPS } from '../api/capabilities.js';
import type { CreateBody, HostConfig, MountSpec } from '../api/types.js';
import { judgeIdentity, rootAllowed } from './identity.js';
import { RULES, type RuleId } from './rules.js';
import { grantedByAny } from './floor.js';
import { MIN_CFS_QUOTA, effectiveCpu, formatBytes, judgeLogConfig } from './limits.js';
import { joinRef, resolveJoin, type JoinField } from './joins.js';
import { dangerousVerdicts } from './seccomp-dangerous.js';
import { distrust, joinAllowance, joinChain, linkRef, volumesFromRef, type Joiner } from './join-trust.js';
import { ownLabels, requestedOwnLabels } from './own-labels.js';
import { canonicalCgroupRule, cgroupRuleBeyondLevel, describeDevice, harmlessDevice } from './devices.js';
import {
  fact, isUnder, normalizeHostPath, parseBind, sensitiveKind, spellings, splitOpts, underAllowed,
} from './paths.js';
import { classifyVolume } from './volumes.js';
import { healthcheck } from './healthcheck.js';
import { restartPolicy } from './restart.js';
import { ulimits } from './ulimits.js';
import { parseRamBytes } from '../flags/values/go-numbers.js';
import type {
  AllowSpec, Allowance, Change, EffectiveProfile, HostNamespace, JoinedContainer, LimitKey, PolicyInput, PolicyOutcome, Reasoned,
  SeccompFinding, SeccompVerdict, Violation,
} from './types.js';

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

/** The capabilities the container will hold (capabilities() has run): docker's set unless ALL is dropped, plus CapAdd. */
function containerCaps(c: Ctx): Set<string> {
  const drop = (c.hc.CapDrop ?? []).map(normalizeCap);
  const caps = new Set(drop.includes('ALL') ? [] : DOCKER_DEFAULT_CAPS.filter((x) => !drop.includes(x)));
  for (const a of c.hc.CapAdd ?? []) caps.add(normalizeCap(a));
  return caps;
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

const NS_FIELDS: { ns: HostNamespace; field: keyof HostConfig; rule: RuleId; flag: string }[] = [
  { ns: 'pid', field: 'PidMode', rule: 'SD-NS-001', flag: '--pid' },
  { ns: 'ipc', field: 'IpcMode', rule: 'SD-NS-002', flag: '--ipc' },
  { ns: 'uts', field: 'UTSMode', rule: 'SD-NS-003', flag: '--uts' },
  { ns: 'network', field: 'NetworkMode', rule: 'SD-NS-004', flag: '--network' },
  { ns: 'userns', field: 'UsernsMode', rule: 'SD-NS-005', flag: '--userns' },
  { ns: 'cgroupns', field: 'CgroupnsMode', rule: 'SD-NS-006', flag: '--cgroupns' },
];

const MEM_FLAGS = ['memory'];
const PIDS_FLAGS = ['pids-limit'];

export function applyPolicy(input: PolicyInput): PolicyOutcome {
  const { profile, mode } = input;
  const original = input.body;
  if (profile.unconfined) {
    return {
      body: structuredClone(original), changes: [], violations: [], allowances: [
        { rule: 'level', subject: 'privileged', reason: 'level privileged: sdocker changes nothing', source: profile.sources.at(-1)?.path ?? 'level:privileged' },
      ], createDirs: [], mode, refused: false, applied: false,
    };
  }
  const ctx = new Ctx(input);
  harden(ctx);
  const refused = mode === 'enforce' && ctx.violations.length > 0;
  return {
    body: mode === 'audit' ? structuredClone(original) : ctx.body,
    changes: ctx.changes,
    violations: ctx.violations,
    allowances: ctx.allowances,
    createDirs: mode === 'audit' ? [] : ctx.createDirs,
    mode,
    refused,
    applied: mode !== 'audit',
    ...(ctx.notes.length ? { notes: ctx.notes } : {}),
  };
}

class Ctx {
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

function harden(c: Ctx): void {
  labels(c);
  privileged(c);
  capabilities(c);
  namespaces(c);
  securityOpts(c);
  judgeIdentity(c);
  mounts(c);
  devices(c);
  resources(c);
  sysctls(c);
  ports(c);
  logging(c);
  runtime(c);
  restartPolicy(c);
  ulimits(c);
  healthcheck(c);
  c.body.Labels = { ...(c.body.Labels ?? {}), ...ownLabels(c.profile.level, c.input.mode, c.input.owner) };
}

/** SD-LABEL-001: the request may not set sdocker's own labels (they decide which containers may be joined). */
function labels(c: Ctx): void {
  for (const l of requestedOwnLabels(c.body)) {
    if (c.check('SD-LABEL-001', l.field, l.key, l.key, undefined, { flag: l.flag })) continue;
    c.change(l.field, l.key, null, 'SD-LABEL-001');
    if (l.field === 'Labels') delete c.body.Labels![l.key];
    else for (const m of c.hc.Mounts ?? []) if (m.VolumeOptions?.Labels) delete m.VolumeOptions.Labels[l.key];
  }
}

function privileged(c: Ctx): void {
  if (c.hc.Privileged) {
    c.check('SD-PRIV-001', 'HostConfig.Privileged', true, '--privileged', c.allow.privileged, { denialKey: 'privileged' });
  }
}

function capabilities(c: Ctx): void {
  const allowed = new Map((c.allow.capabilities ?? []).map((a) => [normalizeCap(a.name), a] as const));
  // defaults.capabilities join the request, and are judged as a --cap-add is (allow.capabilities).
  const extra = (c.profile.defaults.capabilities ?? []).filter((d) => !(c.hc.CapAdd ?? []).some((r) => normalizeCap(r) === d));
  if (extra.length) {
    c.change('HostConfig.CapAdd', c.hc.CapAdd ?? null, [...(c.hc.CapAdd ?? []), ...extra], 'SD-CAP-001', 'the profile\'s defaults.capabilities');
    c.hc.CapAdd = [...(c.hc.CapAdd ?? []), ...extra];
  }
  const requested = c.hc.CapAdd ?? [];
  const kept: string[] = [];
  for (const cap of requested) {
    const n = normalizeCap(cap);
    if (c.check('SD-CAP-001', 'HostConfig.CapAdd', cap, n, allowed.get(n) ?? allowed.get('ALL'), { denialKey: 'capabilities', denialValue: n })) kept.push(cap);
  }
  if (kept.length !== requested.length) {
    c.change('HostConfig.CapAdd', c.hc.CapAdd, kept, 'SD-CAP-001', 'capabilities outside the whitelist are not added');
    c.hc.CapAdd = kept;
  }
  if (!c.allow.defaultCapabilities) {
    const drop = c.hc.CapDrop ?? [];
    if (!(drop.length === 1 && normalizeCap(drop[0] ?? '') === 'ALL')) {
      c.change('HostConfig.CapDrop', c.hc.CapDrop ?? null, ['ALL'], 'SD-CAP-001', 'drop every capability; only whitelisted ones are added back');
      c.hc.CapDrop = ['ALL'];
    }
  }
}

function namespaces(c: Ctx): void {
  const allowed = new Map((c.allow.hostNamespaces ?? []).map((a) => [a.name, a] as const));
  for (const { ns, field, rule, flag } of NS_FIELDS) {
    const v = c.hc[field];
    if (v === 'host') {
      if (!c.check(rule, `HostConfig.${field}`, v, `${flag}=host`, allowed.get(ns), { flag, denialKey: 'hostNamespaces', denialValue: ns, allowSubject: ns })) {
        const to = ns === 'cgroupns' ? 'private' : '';
        c.change(`HostConfig.${field}`, v, to, rule);
        (c.hc as Record<string, unknown>)[field] = to;
      }
      continue;
    }
    // container:<ref>: the other container's namespace, which may be the host's (directly or
    // through a chain of joins), or a privileged container's (judged as the host's: see docs/policy.md).
    const ref = typeof v === 'string' ? joinRef(v) : undefined;
    const joined = ref !== undefined && field !== 'UsernsMode' && field !== 'CgroupnsMode'
      ? resolveJoin(ref, field as JoinField, c.input.containers) : undefined;
    if (ref !== undefined && joined) {
      const chain = joined.via.join(' → ');
      const why = joined.kind === 'host'
        ? `joined through container ${chain}, which is in the host's ${ns} namespace`
        : joined.kind === 'privileged'
          ? `joined through container ${chain}, which is privileged: a process sharing its ${ns} namespace can reach (signal, ptrace, connect to, share memory with) a process that has every capability`
          : `joined through container ${chain}: a chain of more joins than sdocker follows`;
      if (!c.check(rule, `HostConfig.${field}`, v, `${flag}=container:${ref}`, allowed.get(ns), { flag, why, denialKey: 'hostNamespaces', denialValue: ns, allowSubject: ns })) {
        c.change(`HostConfig.${field}`, v, '', rule, `the join of container ${joined.via[0]} is dropped: ${why}`);
        (c.hc as Record<string, unknown>)[field] = '';
      }
    }
  }
  for (const { field, flag } of NS_FIELDS) {
    const ref = joinRef(c.hc[field] as string | undefined);
    if (ref !== undefined && field !== 'UsernsMode' && field !== 'CgroupnsMode') joinTrust(c, ref, field as JoinField, flag);
  }
  if (!c.hc.CgroupnsMode && !allowed.has('cgroupns')) {
    c.change('HostConfig.CgroupnsMode', c.hc.CgroupnsMode ?? null, 'private', 'SD-NS-006');
    c.hc.CgroupnsMode = 'private';
  }
}

function joiner(c: Ctx): Joiner {
  return { level: c.profile.level, owner: c.input.owner, allow: c.allow, rootAllowed: rootAllowed(c.allow, c.input.engine.usernsRemap) };
}

/** SD-NS-007: every container along a `container:` chain must be one sdocker hardened for this user, or be allowed by name. */
function joinTrust(c: Ctx, ref: string, field: JoinField, flag: string): void {
  const v = c.hc[field];
  for (const x of joinChain(ref, field, c.input.containers)) {
    const why = distrust(x, joiner(c));
    if (!why) continue;
    const name = x.Name.replace(/^\//, '');
    if (!c.check('SD-NS-007', `HostConfig.${field}`, v, `${flag}=container:${ref}`, joinAllowance(c.allow, ref, x), { flag, why, denialKey: 'joinContainers', denialValue: name, allowSubject: name })) {
      c.change(`HostConfig.${field}`, v, '', 'SD-NS-007', `the join of container ${name} is dropped: ${why}`);
      (c.hc as Record<string, unknown>)[field] = '';
    }
    return;
  }
}

/** --volumes-from X: X's mounts become this container's; judged as a join of X (SD-MNT-004). */
/** A restart policy and host binds: the engine re-resolves the bind's path at every restart, without sdocker. */
function restartWithBinds(c: Ctx): void {
  const policy = c.hc.RestartPolicy?.Name ?? '';
  if (policy === '' || policy === 'no') return;
  const binds = (c.hc.Mounts ?? []).filter((m) => m.Type === 'bind' || m.VolumeOptions?.Labels?.['io.sdocker.bind'] !== undefined);
  // --volumes-from brings the other container's bind volumes, mounted again at every restart too.
  const from = c.hc.VolumesFrom ?? [];
  if (binds.length === 0 && from.length === 0 && (c.hc.Binds ?? []).every((b) => !parseBind(b).isHostPath)) return;
  const what = [...binds.map((m) => m.VolumeOptions?.Labels?.['io.sdocker.bind'] ?? m.Source), ...from.map((f) => `the mounts of ${f}`)];
  if (!c.check('SD-MNT-008', 'HostConfig.RestartPolicy', policy, `--restart ${policy}`, c.allow.restartWithBinds,
    { why: `the container binds ${what.join(', ') || 'a host path'}`, denialKey: 'restartWithBinds' })) {
    c.change('HostConfig.RestartPolicy', c.hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 }, 'SD-MNT-008');
    c.hc.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
  }
}

/**
 * References to other containers (`--link`, `--volumes-from`): each must be one sdocker hardened
 * for this user under a level at least as strict, or allowed. Returns the specs that may stay.
 */
function trustedRefs(c: Ctx, specs: string[], refOf: (spec: string) => string,
  judge: (spec: string, ref: string, why: string, x: JoinedContainer | undefined) => boolean): string[] {
  return specs.filter((spec) => {
    const ref = refOf(spec);
    const x = c.input.containers?.[ref];
    const why = x ? distrust(x, joiner(c)) : `container ${ref} was not found`;
    return !why || judge(spec, ref, why, x);
  });
}

/** `--link NAME[:ALIAS]`: the linked container's environment is copied into this one. */
function links(c: Ctx): void {
  const specs = c.hc.Links ?? [];
  if (specs.length === 0) return;
  const kept = trustedRefs(c, specs, linkRef, (spec, ref, why, x) => c.check('SD-LINK-001', 'HostConfig.Links', spec, spec,
    joinAllowance(c.allow, ref, x), { why, denialKey: 'joinContainers', denialValue: ref, allowSubject: ref }));
  if (kept.length !== specs.length) {
    c.change('HostConfig.Links', specs, kept.length ? kept : null, 'SD-LINK-001');
    c.hc.Links = kept.length ? kept : null;
  }
}

function volumesFrom(c: Ctx): void {
  const specs = c.hc.VolumesFrom ?? [];
  if (specs.length === 0) return;
  const kept = trustedRefs(c, specs, volumesFromRef, (spec, ref, why, x) => c.check('SD-MNT-004', 'HostConfig.VolumesFrom', spec, spec,
    c.allow.volumesFrom ?? joinAllowance(c.allow, ref, x), { why, denialKey: 'volumesFrom' }));
  if (kept.length !== specs.length) {
    c.change('HostConfig.VolumesFrom', specs, kept, 'SD-MNT-004');
    c.hc.VolumesFrom = kept;
  }
}

/** The shell's verdict on a profile text: from the input, else gathered with the profile (loadProfile). */
function verdictFor(c: Ctx, text: string): SeccompVerdict | undefined {
  return c.input.seccompChecks?.[text] ?? c.profile.seccompChecks?.[text];
}

/** The spellings of false that Go's strconv.ParseBool (the engine's parser) accepts. */
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function securityOpts(c: Ctx): void {
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

/** A host path's sensitive verdict, looking at every spelling. Returns true when it may be mounted. */
function checkHostPath(c: Ctx, raw: string, field: string, flag: string, how: string): { ok: boolean; writableAllowed: boolean; allowed: boolean } {
  const sp = spellings(raw, c.input.hostPaths);
  let ok = true;
  let writableAllowed = false;
  let allowed = false;
  for (const p of sp) {
    const s = sensitiveKind(p, c.input.engine);
    if (!s) continue;
    const allowance = (c.allow.hostPaths ?? []).find((a) => sp.some((q) => isUnder(q, normalizeHostPath(a.path))));
    const rule: RuleId = s.kind === 'socket' ? 'SD-MNT-001' : 'SD-MNT-002';
    const why = p === normalizeHostPath(raw)
      ? (s.matched === p ? undefined : `${p} ${isUnder(p, s.matched) ? 'is under' : 'contains'} ${s.matched}`)
      : `${raw} resolves to ${p}${s.matched === p ? '' : `, ${isUnder(p, s.matched) ? 'under' : 'which contains'} ${s.matched}`}`;
    ok = c.check(rule, field, raw, raw, allowance, { flag, allowSubject: p, why: [why, how.trim().replace(/^\((.*)\)$/, '$1')].filter(Boolean).join('; ') || undefined, denialKey: 'hostPaths', denialValue: raw });
    // Writable only when the REAL path is inside the allowed one (a symlink under it is judged by its target).
    if (allowance?.writable && underAllowed(realOf(c, raw), allowance.path, c.input.hostPaths)) writableAllowed = true;
    allowed = !!allowance;
    break;
  }
  return { ok, writableAllowed, allowed };
}

/** The path the engine will mount: the resolver's real path (the lexical one when unresolved). */
function realOf(c: Ctx, raw: string): string {
  return normalizeHostPath(fact(raw, c.input.hostPaths)?.realPath ?? raw);
}

function writableListed(c: Ctx, raw: string): Reasoned | undefined {
  if (c.allow.writableBinds) return c.allow.writableBinds;
  const real = realOf(c, raw);
  return (c.allow.writablePaths ?? []).find((a) => underAllowed(real, a.path, c.input.hostPaths));
}

/**
 * Replace a bind by an anonymous local volume with o=bind,nosuid,nodev[,ro] of the source's REAL
 * path (the engine resolves the device again at start: sdocker rechecks it then, see
 * src/cli/bind-guard.ts). Anonymous, so the engine removes it with the container (--rm, docker
 * rm -v) and a detached run leaves nothing. A regular file becomes a plain bind of its real path
 * (the local driver cannot bind a file), read-only unless listed writable.
 */
function bindToVolume(c: Ctx, raw: string, target: string, requestedRo: boolean, field: string, flag: string, createHostPath: boolean, how = ''): MountSpec | undefined {
  const check = checkHostPath(c, raw, field, flag, `${how}${how ? '; ' : ''}mounted at ${target}`);
  if (!check.ok) return undefined;
  const f = fact(raw, c.input.hostPaths);
  const device = normalizeHostPath(f?.realPath ?? raw);
  // A socket or device node only where the profile names it (hostPaths): then a plain bind.
  const special = !!f?.exists && !f.isDirectory && !f.isFile;
  const named = special && !check.allowed ? (c.allow.hostPaths ?? []).find((a) => underAllowed(device, a.path, c.input.hostPaths)) : undefined;
  if (named) c.allowances.push({ rule: 'SD-MNT-007', subject: raw, reason: named.reason, source: named.source ?? 'profile' });
  if (f?.exists && ((special && !check.allowed && !named) || f.setid)) {
    const what = f.setid ? 'a setuid or setgid file' : 'neither a directory nor a regular file (a device node, socket or fifo)';
    const ok = c.check('SD-MNT-007', field, raw, raw, undefined, { flag, why: `${device} is ${what}` });
    const last = c.violations.at(-1);
    if (special && last?.rule === 'SD-MNT-007') last.allowWith = RULES['SD-MNT-002'].allow(device);
    if (!ok) return undefined;
  }
  let ro = requestedRo;
  if (!ro) {
    const listed = writableListed(c, raw);
    if (listed || check.writableAllowed || named?.writable) {
      if (listed && listed !== c.allow.writableBinds) c.allowances.push({ rule: 'SD-MNT-003', subject: raw, reason: listed.reason, source: listed.source ?? 'profile' });
    } else {
      ro = true;
    }
  }
  const roWhy = !requestedRo && ro ? '; writable only where the profile lists the path (allow.writablePaths)' : '';
  if (f?.isFile || special) {
    c.change(field, raw, `bind of the ${special ? 'special ' : ''}file ${device}${ro ? ' (read-only)' : ''}`, 'SD-MNT-003',
      `a single file is bound as docker binds it (the local driver binds directories only), by its real path${roWhy}`);
    return { Type: 'bind', Source: device, Target: target, ...(ro ? { ReadOnly: true } : {}) };
  }
  const o = `bind,nosuid,nodev${ro ? ',ro' : ''}`;
  if (createHostPath && f && !f.exists) c.createDirs.push(device);
  c.change(field, raw, `anonymous local volume (${o}, device=${device})`, 'SD-MNT-003', `${RULES['SD-MNT-003'].why}${roWhy}`);
  // ReadOnly stays unset: runc would remount the bind `ro` and that remount clears nosuid,nodev
  // (measured on this engine). The volume's own `ro` keeps it read-only: a bind copies the flags.
  return {
    Type: 'volume',
    Target: target,
    VolumeOptions: { NoCopy: true, Labels: { 'io.sdocker.bind': device }, DriverConfig: { Name: 'local', Options: { type: 'none', o, device } } },
  };
}

interface VolumeUse {
  /** How the messages name it: `volume NAME`, `the volume at /target`. */
  subject: string;
  driver: string | undefined;
  opts: Record<string, string> | null | undefined;
  target: string;
  ro: boolean;
  field: string;
  flag: string;
}

/**
 * A volume judged by what the engine will mount (classifyVolume): 'keep' the mount as it is, a
 * replacement (a bind becomes sdocker's bind volume), or undefined (refused).
 */
function judgeVolume(c: Ctx, v: VolumeUse): MountSpec | 'keep' | undefined {
  const k = classifyVolume(v.driver, v.opts);
  const keep = (ok: boolean) => (ok ? 'keep' as const : undefined);
  switch (k.kind) {
    case 'plain': {
      // Options that mount nothing (o=bind alone, nocopy ...) are still options nobody checked: fail closed.
      const given = Object.keys(v.opts ?? {});
      if (given.length === 0) return 'keep';
      return keep(c.check('SD-MNT-006', v.field, v.opts, 'type none', (c.allow.volumeOptions ?? []).find((a) => a.type.toLowerCase() === 'none'),
        { flag: v.flag, why: `${v.subject} carries driver options (${given.join(', ')}) that sdocker cannot classify`, denialKey: 'volumeOptions', denialValue: 'none' }));
    }
    case 'driver':
      return keep(c.check('SD-MNT-006', v.field, k.driver, `driver ${k.driver}`, (c.allow.volumeDrivers ?? []).find((a) => a.name === k.driver),
        { flag: v.flag, why: `${v.subject} uses the volume driver ${k.driver}`, denialKey: 'volumeDrivers', denialValue: k.driver }));
    case 'relative': {
      const ok = c.check('SD-MNT-006', v.field, k.device, `device=${k.device}`, undefined,
        { flag: v.flag, why: `${v.subject}: device=${k.device} is relative, and the engine resolves it against its own working directory` });
      const last = c.violations.at(-1);
      if (last?.rule === 'SD-MNT-006') last.allowWith = []; // no profile makes an unknowable path known
      return keep(ok);
    }
    case 'bind':
      return bindToVolume(c, k.device, v.target, v.ro, v.field, v.flag, false, `${v.subject} is a bind of ${k.device}`);
    case 'kernel':
      return keep(checkHostPath(c, k.path, v.field, v.flag, `${v.subject} is type=${k.type}: the engine mounts the host's own ${k.path}`).ok);
    case 'options': {
      let ok = c.check('SD-MNT-006', v.field, v.opts, `type ${k.type}`, (c.allow.volumeOptions ?? []).find((a) => a.type.toLowerCase() === k.type),
        { flag: v.flag, why: `${v.subject} is a local volume of type=${k.type}`, denialKey: 'volumeOptions', denialValue: k.type });
      if (k.device) ok = checkHostPath(c, k.device, v.field, v.flag, `${v.subject} mounts device=${k.device}`).ok && ok;
      return keep(ok);
    }
  }
}

function mounts(c: Ctx): void {
  const hc = c.hc;
  const added: MountSpec[] = [];
  // --volume-driver: the driver of every volume the engine creates for -v and the image's VOLUMEs.
  if (hc.VolumeDriver && hc.VolumeDriver !== 'local') {
    const d = hc.VolumeDriver;
    if (!c.check('SD-MNT-006', 'HostConfig.VolumeDriver', d, `driver ${d}`, (c.allow.volumeDrivers ?? []).find((a) => a.name === d),
      { flag: '--volume-driver', denialKey: 'volumeDrivers', denialValue: d })) {
      c.change('HostConfig.VolumeDriver', d, '', 'SD-MNT-006');
      hc.VolumeDriver = '';
    }
  }
  // HostConfig.Binds (-v / --volume)
  if (hc.Binds) {
    const kept: string[] = [];
    for (const b of hc.Binds) {
      const p = parseBind(b);
      const ro = p.options.includes('ro');
      // An existing named volume is what the engine mounts, whatever the request says.
      const named = p.isHostPath ? undefined : c.input.namedVolumes?.[p.source];
      const m = p.isHostPath
        ? bindToVolume(c, p.source, p.target, ro, 'HostConfig.Binds', '--volume', true)
        : named
          ? judgeVolume(c, { subject: `volume ${p.source}`, driver: named.Driver, opts: named.Options, target: p.target, ro, field: 'HostConfig.Binds', flag: '--volume' })
          : 'keep';
      if (m === 'keep') kept.push(b);
      else if (m) added.push(m);
      else if (c.input.mode !== 'enforce') kept.push(b);
    }
    hc.Binds = kept.length > 0 ? kept : null;
  }
  // HostConfig.Mounts (--mount)
  if (hc.Mounts) {
    const kept: MountSpec[] = [];
    for (const m of hc.Mounts) {
      let r: MountSpec | 'keep' | undefined = 'keep';
      if (m.Type === 'bind' && m.Source) {
        r = bindToVolume(c, m.Source, m.Target, !!m.ReadOnly, 'HostConfig.Mounts', '--mount', !!m.BindOptions?.CreateMountpoint);
      } else if (m.Type === 'volume') {
        const named = m.Source ? c.input.namedVolumes?.[m.Source] : undefined;
        const dc = m.VolumeOptions?.DriverConfig;
        const use = { subject: m.Source ? `volume ${m.Source}` : `the volume at ${m.Target}`, target: m.Target, ro: !!m.ReadOnly, field: 'HostConfig.Mounts', flag: '--mount' };
        // A volume that exists is mounted as it is (the request's volume-opt are ignored); one that
        // does not is created with the request's driver and options.
        r = judgeVolume(c, named ? { ...use, driver: named.Driver, opts: named.Options } : { ...use, driver: dc?.Name, opts: dc?.Options });
        if (named && r === 'keep' && dc && (Object.keys(dc.Options ?? {}).length > 0 || (dc.Name ?? '') !== '')) {
          // An existing volume is mounted as it is: the request's volume-driver and volume-opt are
          // not carried on (the engine ignores or refuses them; the policy judged the real volume).
          c.change('HostConfig.Mounts', dc, null, 'SD-MNT-006', `volume ${m.Source} exists: the engine mounts it as it is (driver ${named.Driver}); the request's volume-driver and volume-opt are dropped`);
          r = { ...m, VolumeOptions: { ...m.VolumeOptions } };
          delete r.VolumeOptions!.DriverConfig;
        }
      }
      if (r === 'keep') kept.push(m);
      else if (r) added.push(r);
      else if (c.input.mode !== 'enforce') kept.push(m);
    }
    hc.Mounts = kept;
  }
  if (added.length) hc.Mounts = [...(hc.Mounts ?? []), ...added];
  restartWithBinds(c);
  volumesFrom(c);
  links(c);
  tmpfs(c);
  rootfs(c);
}

function tmpfsOptions(opts: string[], size: string | undefined, extra?: string): string[] {
  const set = [...opts, ...splitOpts(extra)];
  const has = (k: string) => set.some((o) => o === k || o.startsWith(`${k}=`));
  if (!has('rw') && !has('ro')) set.unshift('rw');
  if (!has('nosuid')) set.push('nosuid');
  if (!has('nodev')) set.push('nodev');
  if (!has('exec') && !has('noexec')) set.push('noexec');
  if (!has('size') && size) set.push(`size=${size}`);
  return set;
}

/** `size=0` (any unit, `0%`) and `nr_inodes=0`: tmpfs without a limit. */
const UNLIMITED_TMPFS = /^(size=0*(\.0*)?[kmgtpe%]?|nr_inodes=0*[kmg]?)$/i;

function tmpfsSize(c: Ctx, path: string): string {
  return c.profile.defaults.tmpfs.find((t) => t.path === path)?.size ?? c.profile.defaults.tmpfs[0]?.size ?? '64m';
}

function tmpfs(c: Ctx): void {
  const hc = c.hc;
  // --mount type=tmpfs: without tmpfs-size (or with 0) it has no size limit.
  for (const m of hc.Mounts ?? []) {
    if (m.Type !== 'tmpfs' || (m.TmpfsOptions?.SizeBytes ?? 0) > 0) continue;
    const size = tmpfsSize(c, m.Target);
    c.change('HostConfig.Mounts', `tmpfs ${m.Target}`, `tmpfs-size=${size}`, 'SD-TMPFS-001', 'a tmpfs without a size (or of size 0) has no size limit');
    m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: parseRamBytes(size) };
  }
  for (const [path, raw] of Object.entries(hc.Tmpfs ?? {})) {
    let opts = splitOpts(raw);
    const bad = opts.filter((o) => o === 'suid' || o === 'dev');
    if (bad.length > 0) {
      if (!c.check('SD-MNT-005', 'HostConfig.Tmpfs', `${path}:${raw}`, `${path}:${bad.join(',')}`, undefined)) {
        opts = opts.filter((o) => o !== 'suid' && o !== 'dev');
      } else continue;
    }
    const size = tmpfsSize(c, path);
    // size=0 and nr_inodes=0 mean "no limit" to tmpfs: they get the default size instead.
    const unlimited = opts.filter((o) => UNLIMITED_TMPFS.test(o));
    if (unlimited.length > 0) {
      c.change(`HostConfig.Tmpfs["${path}"]`, unlimited.join(','), `size=${size}`, 'SD-TMPFS-001', 'a tmpfs of size 0 has no size limit');
      opts = opts.filter((o) => !UNLIMITED_TMPFS.test(o));
    }
    const next = tmpfsOptions(opts, size).join(',');
    if (next !== raw) {
      c.change(`HostConfig.Tmpfs["${path}"]`, raw, next, 'SD-TMPFS-001');
      hc.Tmpfs![path] = next;
    }
  }
}

/**
 * uid=/gid= for a tmpfs sdocker adds: owned by the container's user, not root (runc keeps the
 * mode of the directory it covers, 0755 for most, so root-owned means read-only to the user).
 * Only for a numeric user: a name is only known from the image's /etc/passwd.
 */
function ownerOptions(c: Ctx, opts: string[]): string[] {
  const [u, g] = (c.body.User || c.input.image?.User || '').split(':');
  if (!u || !/^\d+$/.test(u) || u === '0') return [];
  const out: string[] = [];
  if (!opts.some((o) => o.startsWith('uid='))) out.push(`uid=${u}`);
  if (!opts.some((o) => o.startsWith('gid='))) out.push(`gid=${g !== undefined && /^\d+$/.test(g) ? g : u}`);
  return out;
}

function mountTargets(c: Ctx): Set<string> {
  const t = new Set<string>();
  for (const b of c.hc.Binds ?? []) t.add(normalizeHostPath(parseBind(b).target || b));
  for (const m of c.hc.Mounts ?? []) t.add(normalizeHostPath(m.Target));
  for (const k of Object.keys(c.hc.Tmpfs ?? {})) t.add(normalizeHostPath(k));
  for (const k of Object.keys(c.body.Volumes ?? {})) t.add(normalizeHostPath(k));
  for (const k of Object.keys(c.input.image?.Volumes ?? {})) t.add(normalizeHostPath(k));
  return t;
}

function rootfs(c: Ctx): void {
  const hc = c.hc;
  if (!hc.ReadonlyRootfs) {
    if (c.allow.writableRootfs) return;
    c.change('HostConfig.ReadonlyRootfs', hc.ReadonlyRootfs ?? false, true, 'SD-ROOTFS-001');
    hc.ReadonlyRootfs = true;
  }
  const targets = mountTargets(c);
  for (const t of c.profile.defaults.tmpfs) {
    const path = normalizeHostPath(t.path);
    if (targets.has(path)) continue;
    const opts = tmpfsOptions([], t.size ?? '64m', t.options);
    if (opts.includes('exec')) opts.splice(opts.indexOf('noexec'), 1);
    opts.push(...ownerOptions(c, opts));
    hc.Tmpfs = { ...(hc.Tmpfs ?? {}), [path]: opts.join(',') };
    c.change(`HostConfig.Tmpfs["${path}"]`, null, opts.join(','), 'SD-TMPFS-001', 'a writable scratch space on the read-only root filesystem (nosuid, nodev, noexec, sized)');
  }
}

// ---------------------------------------------------------------------------------------------
// Devices

function devices(c: Ctx): void {
  const hc = c.hc;
  const level = c.profile.level;
  if (hc.Devices?.length) {
    const kept = hc.Devices.filter((d) => {
      // The node the engine will hand over: the real path's, whatever path or symlink named it.
      const f = fact(d.PathOnHost, c.input.hostPaths);
      const real = normalizeHostPath(f?.realPath ?? d.PathOnHost);
      if (f?.device && !f.isDirectory && harmlessDevice(level, f.device)) return true;
      const allowance = (c.allow.devices ?? []).find((a) => normalizeHostPath(a.path) === real);
      const via = real !== normalizeHostPath(d.PathOnHost) ? `${d.PathOnHost} resolves to ${real}: ` : '';
      const why = !f?.exists ? `${via}${real} does not exist on this host`
        : f.isDirectory ? `${via}a directory hands over every device in it`
          : f.device ? `${via}${describeDevice(f.device)} is not on the ${level} level's list` : `${via}${real} is not a device node`;
      return c.check('SD-DEV-001', 'HostConfig.Devices', d.PathOnHost, d.PathOnHost, allowance, { why, denialKey: 'devices', denialValue: real, allowSubject: real });
    });
    if (kept.length !== hc.Devices.length) {
      c.change('HostConfig.Devices', hc.Devices.map((d) => d.PathOnHost), kept.map((d) => d.PathOnHost), 'SD-DEV-001');
      hc.Devices = kept;
    }
  }
  if (hc.DeviceCgroupRules?.length) {
    const rules = hc.DeviceCgroupRules;
    const kept = rules.filter((r) => {
      const why = cgroupRuleBeyondLevel(level, r);
      if (!why) return true;
      const allowance = (c.allow.deviceCgroupRules ?? []).find((a) => canonicalCgroupRule(a.rule) === canonicalCgroupRule(r));
      return c.check('SD-DEV-002', 'HostConfig.DeviceCgroupRules', r, r, allowance, { why, denialKey: 'deviceCgroupRules', denialValue: r });
    });
    if (kept.length !== rules.length) {
      c.change('HostConfig.DeviceCgroupRules', rules, kept, 'SD-DEV-002');
      hc.DeviceCgroupRules = kept;
    }
  }
  if (hc.DeviceRequests?.length) {
    const what = hc.DeviceRequests.map((d) => d.Driver || (d.Count === -1 ? 'all' : String(d.Count ?? ''))).join(',');
    if (!c.check('SD-DEV-003', 'HostConfig.DeviceRequests', hc.DeviceRequests, what || 'gpus', c.allow.deviceRequests, { denialKey: 'deviceRequests' })) {
      c.change('HostConfig.DeviceRequests', hc.DeviceRequests, [], 'SD-DEV-003');
      hc.DeviceRequests = [];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resources

function unlimitedAllowance(c: Ctx, r: string): Reasoned | undefined {
  return (c.allow.unlimited ?? []).find((a) => a.resource === r);
}

function resources(c: Ctx): void {
  const hc = c.hc;
  const d = c.profile.defaults;
  const l = c.profile.limits;
  // Above a maximum (limits:): allowed by an unlimited allowance; the floor's maximum binds a project.
  const over = (key: LimitKey, field: string, value: number, flag: string, line: string, allowedBy?: Reasoned): boolean =>
    c.check('SD-RES-007', field, value, `${flag} ${value}`, allowedBy, {
      flag, why: `${key} maximum ${key === 'memory' ? formatBytes(l.memory) : l[key]}`, allowSubject: line, floor: l.floor?.[key],
    });
  // memory: the reservation first (the default limit is raised to it), then the limit, then swap
  const res = hc.MemoryReservation ?? 0;
  if (res > l.memory && !over('memory', 'HostConfig.MemoryReservation', res, '--memory-reservation', `memory: ${formatBytes(res)}`, unlimitedAllowance(c, 'memory'))) {
    c.change('HostConfig.MemoryReservation', res, 0, 'SD-RES-007');
    hc.MemoryReservation = 0;
  }
  const mem = hc.Memory ?? 0;
  if (mem < 0 || (mem === 0 && c.explicit(MEM_FLAGS))) {
    if (!c.check('SD-RES-001', 'HostConfig.Memory', mem, `--memory ${mem}`, unlimitedAllowance(c, 'memory'), { denialKey: 'unlimited', denialValue: 'memory', allowSubject: 'memory' })) setMemory(c, d.memory);
  } else if (mem > l.memory) {
    if (!over('memory', 'HostConfig.Memory', mem, '--memory', `memory: ${formatBytes(mem)}`, unlimitedAllowance(c, 'memory'))) setMemory(c, d.memory);
  } else if (mem === 0) setMemory(c, d.memory);
  const swap = hc.MemorySwap ?? 0;
  if (swap < 0) {
    if (!c.check('SD-RES-001', 'HostConfig.MemorySwap', swap, `--memory-swap ${swap}`, unlimitedAllowance(c, 'memory'), { flag: '--memory-swap', why: 'unlimited swap', denialKey: 'unlimited', denialValue: 'memory', allowSubject: 'memory' })) {
      c.change('HostConfig.MemorySwap', swap, 0, 'SD-RES-001', 'the engine\'s default: swap up to the memory limit');
      hc.MemorySwap = 0;
    }
  } else if (swap > 2 * l.memory && !over('memory', 'HostConfig.MemorySwap', swap, '--memory-swap', `memory: ${formatBytes(Math.ceil(swap / 2))}`, unlimitedAllowance(c, 'memory'))) {
    c.change('HostConfig.MemorySwap', swap, 0, 'SD-RES-007');
    hc.MemorySwap = 0;
  }
  // OOM killer
  if (hc.OomKillDisable) {
    if (!c.check('SD-RES-003', 'HostConfig.OomKillDisable', true, '--oom-kill-disable', unlimitedAllowance(c, 'oom-kill-disable'), { denialKey: 'unlimited', denialValue: 'oom-kill-disable' })) {
      c.change('HostConfig.OomKillDisable', true, false, 'SD-RES-003');
      hc.OomKillDisable = false;
    }
  }
  // pids
  const pids = hc.PidsLimit;
  const explicitPids = c.explicit(PIDS_FLAGS);
  if (typeof pids === 'number' && (pids < 0 || (pids === 0 && explicitPids))) {
    if (!c.check('SD-RES-002', 'HostConfig.PidsLimit', pids, `--pids-limit ${pids}`, unlimitedAllowance(c, 'pids'), { denialKey: 'unlimited', denialValue: 'pids', allowSubject: 'pids' })) setPids(c, d.pids);
  } else if (typeof pids === 'number' && pids > l.pids) {
    if (!over('pids', 'HostConfig.PidsLimit', pids, '--pids-limit', `pids: ${pids}`, unlimitedAllowance(c, 'pids'))) setPids(c, d.pids);
  } else if (!pids) setPids(c, d.pids);
  cpu(c);
  // cgroup parent
  if (hc.CgroupParent) {
    if (!c.check('SD-RES-004', 'HostConfig.CgroupParent', hc.CgroupParent, hc.CgroupParent, c.allow.cgroupParent, { denialKey: 'cgroupParent' })) {
      c.change('HostConfig.CgroupParent', hc.CgroupParent, '', 'SD-RES-004');
      hc.CgroupParent = '';
    }
  }
}

/**
 * The CPU limit as the engine applies it (effectiveCpu: NanoCpus, then CpuPeriod and CpuQuota
 * override): a quota of 0 or below is no limit, one under 1ms fails in the kernel, and quota/period
 * is the number of CPUs, judged against the maximum. No quota at all: the default.
 */
function cpu(c: Ctx): void {
  const hc = c.hc;
  const d = c.profile.defaults;
  const l = c.profile.limits;
  const ncpu = c.input.engine.ncpu;
  const def = ncpu && ncpu > 0 ? Math.min(d.nanoCpus, ncpu * 1e9) : d.nanoCpus;
  const { quota, period, set } = effectiveCpu(hc);
  const fromQuota = !!hc.CpuQuota;
  const field = fromQuota ? 'HostConfig.CpuQuota' : 'HostConfig.NanoCpus';
  const flag = fromQuota ? '--cpu-quota' : '--cpus';
  const typed = fromQuota ? String(hc.CpuQuota) : ((hc.NanoCpus ?? 0) / 1e9).toFixed(9).replace(/\.?0+$/, '');
  const reset = (rule: RuleId) => {
    c.change(field, fromQuota ? hc.CpuQuota : hc.NanoCpus, def, rule, `${RULES['SD-RES-005'].why}: ${def / 1e9} CPUs`);
    hc.CpuQuota = 0;
    hc.CpuPeriod = 0;
    hc.NanoCpus = def;
  };
  if (!set || (!hc.NanoCpus && !hc.CpuQuota)) {
    if (d.nanoCpus <= 0) return;
    if (hc.CpuPeriod) {
      // the engine refuses NanoCpus with a period: the default as a quota over the period typed
      const q = Math.max(MIN_CFS_QUOTA, Math.round((def / 1e9) * hc.CpuPeriod));
      c.change('HostConfig.CpuQuota', 0, q, 'SD-RES-005', `${RULES['SD-RES-005'].why}: ${def / 1e9} CPUs over --cpu-period ${hc.CpuPeriod}`);
      hc.CpuQuota = q;
    } else {
      c.change('HostConfig.NanoCpus', hc.NanoCpus ?? 0, def, 'SD-RES-005', `${RULES['SD-RES-005'].why}: ${def / 1e9} CPUs`);
      hc.NanoCpus = def;
    }
    return;
  }
  if (quota < MIN_CFS_QUOTA) {
    const why = quota <= 0
      ? (fromQuota ? `a quota of ${quota} is no limit` : `the engine turns --cpus ${typed} into a quota of ${quota}: no limit`)
      : `a quota of ${quota}µs is under the kernel's 1ms minimum`;
    if (!c.check('SD-RES-006', field, fromQuota ? hc.CpuQuota : hc.NanoCpus, `${flag} ${typed}`, unlimitedAllowance(c, 'cpu'), { flag, why, denialKey: 'unlimited', denialValue: 'cpu', allowSubject: 'cpu' })) reset('SD-RES-006');
  } else if (quota / period > l.cpus) {
    const cpus = quota / period;
    if (!c.check('SD-RES-007', field, cpus, `${flag} ${typed}`, unlimitedAllowance(c, 'cpu'), {
      flag, why: `${cpus} CPUs (quota ${quota} / period ${period}), cpus maximum ${l.cpus}`, allowSubject: `cpus: ${Math.ceil(cpus)}`, floor: l.floor?.cpus,
    })) reset('SD-RES-007');
  }
}

function setMemory(c: Ctx, def: number): void {
  const hc = c.hc;
  let m = Math.max(def, hc.MemoryReservation ?? 0);
  if ((hc.MemorySwap ?? 0) > 0) m = Math.min(m, hc.MemorySwap!);
  c.change('HostConfig.Memory', hc.Memory ?? 0, m, 'SD-RES-001', `${RULES['SD-RES-001'].why}: default ${m} bytes`);
  hc.Memory = m;
}

function setPids(c: Ctx, def: number): void {
  c.change('HostConfig.PidsLimit', c.hc.PidsLimit ?? null, def, 'SD-RES-002', `${RULES['SD-RES-002'].why}: default ${def}`);
  c.hc.PidsLimit = def;
}

// ---------------------------------------------------------------------------------------------
// sysctls, ports, logging, runtime

export function sysctlAllowed(name: string, patterns: { name: string }[]): { name: string } | undefined {
  return patterns.find((p) => (p.name.endsWith('*') ? name.startsWith(p.name.slice(0, -1)) : name === p.name));
}

function sysctls(c: Ctx): void {
  const s = c.hc.Sysctls;
  if (!s) return;
  for (const name of Object.keys(s)) {
    const a = sysctlAllowed(name, c.allow.sysctls ?? []) as Reasoned | undefined;
    if (!c.check('SD-SYSCTL-001', 'HostConfig.Sysctls', `${name}=${s[name]}`, name, a, { denialKey: 'sysctls', denialValue: name })) {
      c.change(`HostConfig.Sysctls["${name}"]`, s[name], null, 'SD-SYSCTL-001');
      delete s[name];
    }
  }
}

function ports(c: Ctx): void {
  const hc = c.hc;
  const allowed = c.allow.portAddresses ?? [];
  const anyOk = allowed.find((a) => a.address === '0.0.0.0') && allowed.find((a) => a.address === '::');
  const def = c.profile.defaults.portAddress;
  for (const [port, list] of Object.entries(hc.PortBindings ?? {})) {
    for (const b of list ?? []) {
      const ip = b.HostIp ?? '';
      if (ip === '') {
        if (anyOk) continue;
        c.change(`HostConfig.PortBindings["${port}"].HostIp`, '', def, 'SD-PORT-001');
        b.HostIp = def;
      } else if (!isLoopbackHostIp(ip) && ip !== def) {
        const a = allowed.find((x) => x.address === ip);
        if (!c.check('SD-PORT-001', 'HostConfig.PortBindings', `${ip}:${b.HostPort}->${port}`, ip, a, { flag: '--publish', denialKey: 'portAddresses', denialValue: ip })) {
          c.change(`HostConfig.PortBindings["${port}"].HostIp`, ip, def, 'SD-PORT-001');
          b.HostIp = def;
        }
      }
    }
  }
  if (hc.PublishAllPorts && !anyOk) {
    const exposed = new Set([...Object.keys(c.body.ExposedPorts ?? {}), ...Object.keys(c.input.image?.ExposedPorts ?? {})]);
    const pb = { ...(hc.PortBindings ?? {}) };
    for (const p of exposed) if (!pb[p]) pb[p] = [{ HostIp: def, HostPort: '' }];
    c.change('HostConfig.PublishAllPorts', true, false, 'SD-PORT-001',
      `${RULES['SD-PORT-001'].why}: each exposed port is published on ${def} instead${c.input.image ? '' : ' (the image is not known: only the ports of --expose)'}`);
    hc.PublishAllPorts = false;
    hc.PortBindings = pb;
  }
}

function logging(c: Ctx): void {
  const hc = c.hc;
  const typedType = hc.LogConfig?.Type ?? '';
  const type = typedType || c.input.engine.loggingDriver || 'json-file';
  const l = c.profile.limits;
  for (const p of judgeLogConfig(type, hc.LogConfig?.Config ?? {}, l, typedType !== '').problems) {
    const driver = p.key === 'logDrivers';
    const field = driver ? 'HostConfig.LogConfig.Type' : 'HostConfig.LogConfig.Config';
    if (c.check('SD-LOG-002', field, p.subject, p.subject, undefined, { flag: driver ? '--log-driver' : '--log-opt', why: p.why, allowSubject: p.allow, floor: l.floor?.[p.key] })) continue;
    if (driver) {
      const to = l.logDrivers.includes('json-file') ? 'json-file' : l.logDrivers[0] ?? 'json-file';
      c.change(field, typedType, to, 'SD-LOG-002');
      hc.LogConfig = { Type: to, Config: {} };
    } else {
      const key = p.key === 'logMaxSize' ? 'max-size' : 'max-file';
      const cfg = { ...(hc.LogConfig?.Config ?? {}) };
      c.change(`${field}["${key}"]`, cfg[key], null, 'SD-LOG-002');
      delete cfg[key];
      hc.LogConfig = { Type: typedType, Config: cfg };
    }
  }
  const now = hc.LogConfig?.Type || type;
  if (now !== 'json-file' && now !== 'local') return;
  const cfg = { ...(hc.LogConfig?.Config ?? {}) };
  const d = c.profile.defaults.log;
  const add: string[] = [];
  if (!cfg['max-size']) {
    cfg['max-size'] = d.maxSize;
    add.push(`max-size=${d.maxSize}`);
  }
  if (!cfg['max-file']) {
    cfg['max-file'] = String(d.maxFile);
    add.push(`max-file=${d.maxFile}`);
  }
  if (add.length) {
    c.change('HostConfig.LogConfig.Config', hc.LogConfig?.Config ?? {}, cfg, 'SD-LOG-001', `${RULES['SD-LOG-001'].why}: ${add.join(', ')}`);
    hc.LogConfig = { Type: hc.LogConfig?.Type ?? '', Config: cfg };
  }
}

function runtime(c: Ctx): void {
  const want = c.profile.defaults.runtime;
  if (!want || c.hc.Runtime) return;
  if (c.input.engine.runtimes.includes(want)) {
    c.change('HostConfig.Runtime', null, want, 'SD-RUNTIME-001');
    c.hc.Runtime = want;
  }
}
