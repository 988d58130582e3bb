/**
 * applyPolicy: the pure core. It reads the create body the docker-flag parser built (so every
 * spelling of a flag arrives as the same field), checks it against the effective profile and
 * returns the hardened body, the changes made, the violations and the allowances used.
 * No I/O: host paths, image and engine facts are gathered by the shell and passed in.
 */
import type { CreateBody, HostConfig, MountSpec } from '../engine/types.js';
import { RULES, type RuleId } from './rules.js';
import { joinRef, resolveJoin, type JoinField } from './joins.js';
import {
  fact, isBindVolume, isUnder, normalizeHostPath, parseBind, sensitiveKind, spellings, splitOpts,
} from './paths.js';
import type {
  AllowSpec, Allowance, Change, EffectiveProfile, HostNamespace, PolicyInput, PolicyOutcome, Reasoned,
  SeccompFinding, SeccompVerdict, Violation,
} from './types.js';

/** Docker's default capability set (14 entries: CapEff 00000000a80425fb). */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];

export function normalizeCap(c: string): string {
  const u = c.trim().toUpperCase();
  return u.startsWith('CAP_') ? u.slice(4) : u;
}

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

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

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

const FORBIDDEN_DEVICE = new RegExp(
  '^/dev/(mem|kmem|port|kmsg|snapshot|nvram|uinput|console|(tty|vcs|vcsa)\\d*|cpu/.*|mapper/.*|disk/.*|raw/.*|bsg/.*|block/.*' +
    '|dm-\\d+|(sd|hd|vd|xvd)[a-z]+\\d*|nvme\\d+.*|mmcblk\\d+.*|loop\\d*|loop-control|md\\d+|nbd\\d+|sr\\d+|sg\\d+|zram\\d+|ram\\d+' +
    '|watchdog\\d*|mei\\d*|fb\\d+|dri/.*|vfio/.*|kvm)$',
);

const MEM_FLAGS = ['--memory', '-m', 'memory', 'm'];
const PIDS_FLAGS = ['--pids-limit', 'pids-limit'];

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
  constructor(readonly input: PolicyInput) {
    this.body = structuredClone(input.body);
    this.body.HostConfig ??= {};
    this.hc = this.body.HostConfig;
    this.allow = input.profile.allow;
  }
  get profile(): EffectiveProfile {
    return this.input.profile;
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
    opts: { flag?: string; why?: string; details?: string[]; denialKey?: keyof AllowSpec; denialValue?: string; allowSubject?: string } = {},
  ): boolean {
    if (allowedBy) {
      this.allowances.push({ rule, subject, reason: allowedBy.reason, source: allowedBy.source ?? 'profile' });
      return true;
    }
    const r = RULES[rule];
    const denial = opts.denialKey
      ? this.profile.floorDenied.find((d) => d.key === opts.denialKey && (opts.denialValue === undefined || d.value === opts.denialValue
        || (d.key === 'capabilities' && d.value === 'ALL')
        || (d.key === 'hostPaths' && isUnder(normalizeHostPath(opts.denialValue), normalizeHostPath(d.value)))))
      : undefined;
    this.violations.push({
      rule, guideline: r.guideline, field, value, flag: opts.flag ?? r.flag, subject,
      why: opts.why ? `${r.why} (${opts.why})` : r.why,
      allowWith: r.allow(opts.allowSubject ?? subject), ...(denial ? { floorBlocked: denial.floor } : {}),
      ...(opts.details?.length ? { details: opts.details } : {}),
    });
    return this.input.mode !== 'enforce';
  }
  explicit(flags: string[]): boolean {
    const p = this.input.provenance;
    if (!p) return false;
    const has = (k: string): boolean => (p instanceof Map ? p.has(k) : (p as Record<string, string[]>)[k] !== undefined);
    return flags.some((f) => has(f) || has(`--${f}`));
  }
}

function harden(c: Ctx): void {
  privileged(c);
  capabilities(c);
  namespaces(c);
  securityOpts(c);
  user(c);
  mounts(c);
  devices(c);
  resources(c);
  sysctls(c);
  ports(c);
  logging(c);
  runtime(c);
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
  if (!c.hc.CgroupnsMode && !allowed.has('cgroupns')) {
    c.change('HostConfig.CgroupnsMode', c.hc.CgroupnsMode ?? null, 'private', 'SD-NS-006');
    c.hc.CgroupnsMode = 'private';
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
        }
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
    if (check.ok) {
      out.push(`seccomp=${c.profile.seccompProfile}`);
      c.change('HostConfig.SecurityOpt', 'seccomp (engine default)', `seccomp=<${c.profile.seccompProfilePath ?? 'profile'}>`, 'SD-SECCOMP-002',
        'sdocker\'s whitelist seccomp profile replaces the engine\'s default');
    } else {
      c.check(check.rule, 'defaults.seccomp', c.profile.seccompProfilePath, c.profile.seccompProfilePath ?? 'seccomp profile', undefined, { flag: 'defaults.seccomp', why: check.why, details: check.details });
      // No allowance lets the profile's own file through: it has to be fixed.
      const v = c.violations.at(-1);
      if (v?.field === 'defaults.seccomp') v.allowWith = [];
    }
  }
  if (JSON.stringify(out) !== JSON.stringify(c.hc.SecurityOpt ?? [])) c.hc.SecurityOpt = out;
}

function isRootName(s: string | undefined): boolean {
  return s === '0' || s === 'root';
}

function user(c: Ctx): void {
  const root = c.allow.root;
  const remap = c.input.engine.usernsRemap;
  const rootOk = !!root && (remap || !!root.withoutUsernsRemap);
  const rootAllowance = rootOk ? root : undefined;
  const rootWhy = root && !rootOk ? 'the profile allows root, but the engine does not remap users (userns-remap)' : undefined;
  const typed = c.body.User;
  if (typed) {
    const [u, g] = typed.split(':');
    if (isRootName(u)) {
      if (!c.check('SD-USER-001', 'User', typed, typed, rootAllowance, { why: rootWhy, flag: '--user', denialKey: 'root' })) {
        setUser(c, typed, c.profile.defaults.user, 'SD-USER-001');
      }
      return;
    }
    if (isRootName(g)) {
      if (!c.check('SD-USER-002', 'User', typed, typed, rootAllowance, { why: rootWhy, flag: '--user', denialKey: 'root' })) {
        setUser(c, typed, `${u}:${u && /^\d+$/.test(u) ? u : '65534'}`, 'SD-USER-002');
      }
    } else if (g === undefined && /^\d+$/.test(u ?? '') && !rootOk) {
      setUser(c, typed, `${u}:${u}`, 'SD-USER-002', 'a numeric user with no group runs with gid 0 unless /etc/passwd names it');
    }
  } else if (!rootOk) {
    const img = c.input.image?.User;
    const [u, g] = (img ?? '').split(':');
    if (img === undefined || img === '' || isRootName(u) || isRootName(g)) {
      setUser(c, typed, c.profile.defaults.user, 'SD-USER-001',
        img === undefined ? 'the image\'s user is not known: the profile\'s user applies' : `the image runs as ${img || 'root'}`);
    } else if (g === undefined && /^\d+$/.test(u ?? '')) {
      setUser(c, typed, `${u}:${u}`, 'SD-USER-002', 'a numeric user with no group runs with gid 0 unless /etc/passwd names it');
    }
  }
  const groups = c.hc.GroupAdd ?? [];
  const keptGroups = groups.filter((gr) => !isRootName(gr) || c.check('SD-USER-002', 'HostConfig.GroupAdd', gr, gr, rootAllowance, { why: rootWhy, denialKey: 'root' }));
  if (keptGroups.length !== groups.length) {
    c.change('HostConfig.GroupAdd', groups, keptGroups, 'SD-USER-002');
    c.hc.GroupAdd = keptGroups;
  }
}

function setUser(c: Ctx, from: string | undefined, to: string, rule: RuleId, why?: string): void {
  c.change('User', from ?? null, to, rule, why);
  c.body.User = to;
}

// ---------------------------------------------------------------------------------------------
// Mounts

/** A host path's sensitive verdict, looking at every spelling. Returns true when it may be mounted. */
function checkHostPath(c: Ctx, raw: string, field: string, flag: string, how: string): { ok: boolean; writableAllowed: boolean } {
  const sp = spellings(raw, c.input.hostPaths);
  let ok = true;
  let writableAllowed = false;
  for (const p of sp) {
    const s = sensitiveKind(p, c.input.engine);
    if (!s) continue;
    const allowance = (c.allow.hostPaths ?? []).find((a) => sp.some((q) => isUnder(q, normalizeHostPath(a.path))));
    const rule: RuleId = s.kind === 'socket' ? 'SD-MNT-001' : 'SD-MNT-002';
    const why = p === normalizeHostPath(raw)
      ? (s.matched === p ? undefined : `${p} ${isUnder(p, s.matched) ? 'is under' : 'contains'} ${s.matched}`)
      : `${raw} resolves to ${p}${s.matched === p ? '' : `, ${isUnder(p, s.matched) ? 'under' : 'which contains'} ${s.matched}`}`;
    ok = c.check(rule, field, raw, raw, allowance, { flag, allowSubject: p, why: [why, how.trim().replace(/^\((.*)\)$/, '$1')].filter(Boolean).join('; ') || undefined, denialKey: 'hostPaths', denialValue: raw });
    if (allowance?.writable) writableAllowed = true;
    break;
  }
  return { ok, writableAllowed };
}

function writableListed(c: Ctx, raw: string): Reasoned | undefined {
  if (c.allow.writableBinds) return c.allow.writableBinds;
  const sp = spellings(raw, c.input.hostPaths);
  return (c.allow.writablePaths ?? []).find((a) => sp.some((q) => isUnder(q, normalizeHostPath(a.path))));
}

/**
 * Replace a bind by an anonymous local volume with o=bind,nosuid,nodev[,ro]. Anonymous, so the
 * engine removes it with the container (--rm, docker rm -v) and a detached run leaves nothing.
 */
function bindToVolume(c: Ctx, raw: string, target: string, requestedRo: boolean, field: string, flag: string, createHostPath: boolean): MountSpec | undefined {
  const check = checkHostPath(c, raw, field, flag, ` (mounted at ${target})`);
  if (!check.ok) return undefined;
  const f = fact(raw, c.input.hostPaths);
  const device = normalizeHostPath(f?.realPath ?? raw);
  let ro = requestedRo;
  if (!ro) {
    const listed = writableListed(c, raw);
    if (listed || check.writableAllowed) {
      if (listed && listed !== c.allow.writableBinds) c.allowances.push({ rule: 'SD-MNT-003', subject: raw, reason: listed.reason, source: listed.source ?? 'profile' });
    } else {
      ro = true;
    }
  }
  const o = `bind,nosuid,nodev${ro ? ',ro' : ''}`;
  if (createHostPath && f && !f.exists) c.createDirs.push(device);
  c.change(field, raw, `anonymous local volume (${o}, device=${device})`, 'SD-MNT-003',
    `${RULES['SD-MNT-003'].why}${!requestedRo && ro ? '; writable only where the profile lists the path (allow.writablePaths)' : ''}`);
  // ReadOnly stays unset: runc would remount the bind `ro` and that remount clears nosuid,nodev
  // (measured on this engine). The volume's own `ro` keeps it read-only: a bind copies the flags.
  return {
    Type: 'volume',
    Target: target,
    VolumeOptions: { NoCopy: true, Labels: { 'io.sdocker.bind': device }, DriverConfig: { Name: 'local', Options: { type: 'none', o, device } } },
  };
}

function mounts(c: Ctx): void {
  const hc = c.hc;
  const added: MountSpec[] = [];
  // HostConfig.Binds (-v / --volume)
  if (hc.Binds) {
    const kept: string[] = [];
    for (const b of hc.Binds) {
      const p = parseBind(b);
      if (p.isHostPath) {
        const m = bindToVolume(c, p.source, p.target, p.options.includes('ro'), 'HostConfig.Binds', '--volume', true);
        if (m) added.push(m);
        else if (c.input.mode !== 'enforce') kept.push(b);
      } else {
        namedVolume(c, p.source, '--volume');
        kept.push(b);
      }
    }
    hc.Binds = kept.length > 0 ? kept : null;
  }
  // HostConfig.Mounts (--mount)
  if (hc.Mounts) {
    const kept: MountSpec[] = [];
    for (const m of hc.Mounts) {
      if (m.Type === 'bind' && m.Source) {
        const v = bindToVolume(c, m.Source, m.Target, !!m.ReadOnly, 'HostConfig.Mounts', '--mount', !!m.BindOptions?.CreateMountpoint);
        if (v) added.push(v);
        else if (c.input.mode !== 'enforce') kept.push(m);
        continue;
      }
      if (m.Type === 'volume') {
        const dc = m.VolumeOptions?.DriverConfig;
        const opts = dc?.Options;
        if (opts?.device && (!dc?.Name || dc.Name === 'local')) {
          if (!smuggledBind(c, m, opts)) {
            if (c.input.mode === 'enforce') continue;
          }
        } else if (m.Source) namedVolume(c, m.Source, '--mount');
      }
      kept.push(m);
    }
    hc.Mounts = kept;
  }
  if (added.length) hc.Mounts = [...(hc.Mounts ?? []), ...added];
  // --volumes-from
  if (hc.VolumesFrom && hc.VolumesFrom.length > 0) {
    if (!c.check('SD-MNT-004', 'HostConfig.VolumesFrom', hc.VolumesFrom, hc.VolumesFrom.join(','), c.allow.volumesFrom, { denialKey: 'volumesFrom' })) {
      c.change('HostConfig.VolumesFrom', hc.VolumesFrom, [], 'SD-MNT-004');
      hc.VolumesFrom = [];
    }
  }
  tmpfs(c);
  rootfs(c);
}

/** A `--mount type=volume,volume-opt=device=...` (local driver): a bind or a device mount in disguise. */
function smuggledBind(c: Ctx, m: MountSpec, opts: Record<string, string>): boolean {
  const device = opts.device ?? '';
  if (!device.startsWith('/')) return true;
  const bind = isBindVolume(opts);
  const check = checkHostPath(c, device, 'HostConfig.Mounts', '--mount', `volume-opt device=${device}${bind ? ' makes the volume a bind' : ''}`);
  if (!check.ok) return false;
  if (bind) {
    const o = splitOpts(opts.o);
    const want = new Set(o);
    want.add('nosuid');
    want.add('nodev');
    const ro = m.ReadOnly || o.includes('ro') || !(writableListed(c, device) || check.writableAllowed);
    if (ro) {
      want.delete('rw');
      want.add('ro');
    }
    const next = [...want].join(',');
    if (next !== o.join(',')) {
      c.change('HostConfig.Mounts', `volume-opt o=${opts.o ?? ''}`, `o=${next}`, 'SD-MNT-003');
      opts.o = next;
    }
    if (m.ReadOnly) {
      // `readonly` on the mount makes runc remount it, which drops nosuid,nodev; the volume's ro suffices.
      c.change('HostConfig.Mounts', 'readonly', 'volume-opt o=ro', 'SD-MNT-003');
      delete m.ReadOnly;
    }
  }
  return true;
}

function namedVolume(c: Ctx, name: string, flag: string): void {
  const v = c.input.namedVolumes?.[name];
  const dev = v?.Options?.device;
  if (!v || v.Driver !== 'local' || !dev?.startsWith('/')) return;
  checkHostPath(c, dev, flag === '--volume' ? 'HostConfig.Binds' : 'HostConfig.Mounts', flag, `volume ${name} is a mount of ${dev}`);
}

function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * (mult[(m[2] ?? '').toLowerCase()] ?? 1));
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

function tmpfs(c: Ctx): void {
  const hc = c.hc;
  for (const [path, raw] of Object.entries(hc.Tmpfs ?? {})) {
    let opts = splitOpts(raw);
    const bad = opts.filter((o) => o === 'suid' || o === 'dev');
    if (bad.length > 0) {
      if (!c.check('SD-MNT-005', 'HostConfig.Tmpfs', `${path}:${raw}`, `${path}:${bad.join(',')}`, undefined)) {
        opts = opts.filter((o) => o !== 'suid' && o !== 'dev');
      } else continue;
    }
    const size = c.profile.defaults.tmpfs.find((t) => t.path === path)?.size ?? c.profile.defaults.tmpfs[0]?.size ?? '64m';
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
  if (hc.Devices?.length) {
    const kept = hc.Devices.filter((d) => {
      const sp = spellings(d.PathOnHost, c.input.hostPaths);
      const f = fact(d.PathOnHost, c.input.hostPaths);
      const bad = sp.find((p) => p === '/dev' || FORBIDDEN_DEVICE.test(p) || !isUnder(p, '/dev')) ?? (f?.isDirectory ? sp[sp.length - 1] : undefined);
      if (!bad) return true;
      const allowance = (c.allow.devices ?? []).find((a) => sp.includes(normalizeHostPath(a.path)));
      const why = bad !== normalizeHostPath(d.PathOnHost) ? `${d.PathOnHost} resolves to ${bad}` : f?.isDirectory ? 'a directory hands over every device in it' : undefined;
      return c.check('SD-DEV-001', 'HostConfig.Devices', d.PathOnHost, d.PathOnHost, allowance, { why, denialKey: 'devices', denialValue: d.PathOnHost });
    });
    if (kept.length !== hc.Devices.length) {
      c.change('HostConfig.Devices', hc.Devices.map((d) => d.PathOnHost), kept.map((d) => d.PathOnHost), 'SD-DEV-001');
      hc.Devices = kept;
    }
  }
  if (hc.DeviceCgroupRules?.length) {
    const rules = hc.DeviceCgroupRules;
    const kept = rules.filter((r) => {
      if (!broadCgroupRule(r)) return true;
      const allowance = (c.allow.deviceCgroupRules ?? []).find((a) => a.rule.trim() === r.trim());
      return c.check('SD-DEV-002', 'HostConfig.DeviceCgroupRules', r, r, allowance, { denialKey: 'deviceCgroupRules', denialValue: r });
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

/** `a`, any wildcard, any block device, and the memory / kernel-log character devices. */
export function broadCgroupRule(rule: string): boolean {
  const m = /^\s*([abc])\s+(\*|\d+):(\*|\d+)\s*([rwm]*)\s*$/.exec(rule);
  if (!m) return true;
  const [, type, major, minor] = m;
  if (type === 'a' || type === 'b' || major === '*' || minor === '*') return true;
  return major === '1' && ['1', '2', '4', '11'].includes(minor ?? '');
}

// ---------------------------------------------------------------------------------------------
// Resources

function unlimitedAllowance(c: Ctx, r: string): Reasoned | undefined {
  return (c.allow.unlimited ?? []).find((a) => a.resource === r);
}

function resources(c: Ctx): void {
  const hc = c.hc;
  const d = c.profile.defaults;
  // memory
  const mem = hc.Memory ?? 0;
  if (mem < 0 || (mem === 0 && c.explicit(MEM_FLAGS))) {
    if (!c.check('SD-RES-001', 'HostConfig.Memory', mem, `--memory ${mem}`, unlimitedAllowance(c, 'memory'), { denialKey: 'unlimited', denialValue: 'memory', allowSubject: 'memory' })) setMemory(c, d.memory);
  } else if (mem === 0) setMemory(c, d.memory);
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
  } else if (!pids) setPids(c, d.pids);
  // cpu
  const hasCpu = (hc.NanoCpus ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0 || (hc.CpuPeriod ?? 0) > 0 || !!hc.CpusetCpus || (hc.CpuCount ?? 0) > 0 || (hc.CpuPercent ?? 0) > 0;
  if (!hasCpu && d.nanoCpus > 0) {
    const ncpu = c.input.engine.ncpu;
    const nano = ncpu && ncpu > 0 ? Math.min(d.nanoCpus, ncpu * 1e9) : d.nanoCpus;
    c.change('HostConfig.NanoCpus', hc.NanoCpus ?? 0, nano, 'SD-RES-005', `${RULES['SD-RES-005'].why}: ${nano / 1e9} CPUs`);
    hc.NanoCpus = nano;
  }
  // cgroup parent
  if (hc.CgroupParent) {
    if (!c.check('SD-RES-004', 'HostConfig.CgroupParent', hc.CgroupParent, hc.CgroupParent, c.allow.cgroupParent, { denialKey: 'cgroupParent' })) {
      c.change('HostConfig.CgroupParent', hc.CgroupParent, '', 'SD-RES-004');
      hc.CgroupParent = '';
    }
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

export { parseSize };

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
      } else if (!LOOPBACK.test(ip) && ip !== def) {
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
  const type = hc.LogConfig?.Type || c.input.engine.loggingDriver;
  if (type !== 'json-file' && type !== 'local') return;
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
