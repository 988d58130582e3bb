/**
 * From a dead container's state and last log lines to the hardening that killed it and the
 * sdocker.yaml lines that would fix it. Pure: everything comes in through DiagnosisInput.
 *
 * Signatures (measured on Debian's nginx, postgres and redis, coreutils, busybox, setpriv):
 * - EROFS "Read-only file system" / "(30: ...)" on a path → the read-only root (SD-ROOTFS-001):
 *   a tmpfs owned by the container's user (the directory that was being written into);
 * - EPERM on chown/chmod/utime of a path → not its owner without CAP_CHOWN/CAP_FOWNER: as non-root,
 *   run as the path's owner (SD-USER-001); as root, the capabilities (SD-CAP-001);
 * - EPERM on setuid/setgid/setgroups (setpriv, gosu, su, nginx's workers) → a non-root user cannot
 *   switch users (run as the target user), root needs SETUID/SETGID;
 * - EACCES on bind() of a port below 1024 → NET_BIND_SERVICE;
 * - EACCES on a path → the user does not own it (run as the owner, or a tmpfs it owns);
 * - another "Operation not permitted" / "Function not implemented" from a call → seccomp;
 * - OOMKilled (or 137 with the memory limit when the state is gone) → the memory limit (SD-RES-001);
 * - EAGAIN "Resource temporarily unavailable" on fork/clone/pthread_create → the pids limit (SD-RES-002).
 */
import { posix } from 'node:path';
import type { CreateBody } from '../api/types.js';
import type { TmpfsDefault } from '../policy/types.js';
import type { Diagnosis, DiagnosisInput, Finding, PathFact, ProfileFix } from './types.js';

const NUMERIC = /^\d+$/;

/** The container's user as the engine ran it: numeric parts as given, names through passwd. */
export function containerUser(body: CreateBody, imageUser: string | undefined, passwd: DiagnosisInput['passwd']): Diagnosis['user'] {
  const spec = body.User || imageUser || '';
  const [u = '', g] = spec.split(':');
  const byName = passwd?.find((p) => p.name === u);
  const byUid = NUMERIC.test(u) ? passwd?.find((p) => p.uid === Number(u)) : undefined;
  const uid = u === '' ? 0 : NUMERIC.test(u) ? Number(u) : (byName?.uid ?? -1);
  const entry = byName ?? byUid ?? (u === '' ? passwd?.find((p) => p.uid === 0) : undefined);
  let gid = entry?.gid ?? (NUMERIC.test(u) ? Number(u) : -1);
  if (g !== undefined && g !== '') gid = NUMERIC.test(g) ? Number(g) : gid;
  if (u === '' && !entry) gid = 0;
  const out: Diagnosis['user'] = { uid, gid };
  const name = entry?.name ?? (u !== '' && !NUMERIC.test(u) ? u : undefined);
  if (name) out.name = name;
  return out;
}

/** A path quoted in a log line: "…", '…', `…`, or bare ("cannot create /run/x.pid:", redis's "(in server root dir /data)"). */
// ‘ “ ’ ” escaped: the bundles are ASCII (scripts/bundle.mjs).
const QUOTED_PATH = /["'`\u2018\u201c](\/[^"'`\u2019\u201d\s]*)["'`\u2019\u201d]/;
const BARE_PATH = /(?:^|\s)(\/[\w.@+\-/]+)(?=[:\s),;]|$)/;

function pathIn(line: string): string | undefined {
  return QUOTED_PATH.exec(line)?.[1] ?? BARE_PATH.exec(line)?.[1];
}

const EROFS = /read-only file system|\(30:|EROFS/i;
const EPERM = /operation not permitted|\(1:|EPERM/i;
const EACCES = /permission denied|\(13:|EACCES/i;
const EAGAIN = /resource temporarily unavailable|\(11:|EAGAIN|cannot fork|can't fork|fork: retry/i;
const ENOSYS = /function not implemented|\(38:|ENOSYS/i;
const CHOWN_CHMOD = /\bch(own|mod|grp)\b|changing (ownership|permissions|group)|change (ownership|permissions|owner)|\butime|\bfchown|\bfchmod/i;
const SWITCH_USER = /\bset(res|re|e)?[ug]id\b|\bsetgroups\b|\binitgroups\b|cannot set (user|group)|\bsetpriv\b|\bgosu\b|\bsu-exec\b|\bsu:/i;
const BIND_PORT = /\bbind\b[^\n]*?(?::|port\s*)(\d{1,5})\b|(?::|port\s*)(\d{1,5})\b[^\n]*\bbind\b/i;
const FORK = /\bfork\b|\bclone\d?\b|pthread_create|\bvfork\b|can't fork|cannot fork/i;
/** A syscall-ish word before the error: `waitpid() returned an error`, `unshare: ...`. */
const CALL = /\b([a-z_][a-z0-9_]{2,})(?:\(\))?(?::| failed| returned)/i;

/**
 * Directories too wide to cover with a tmpfs (they hold the image's own files): the tmpfs goes
 * on the path itself instead of its parent.
 */
const WIDE = new Set(['/', '/var', '/var/lib', '/var/cache', '/usr', '/usr/local', '/usr/share', '/etc', '/home', '/opt', '/srv', '/lib', '/bin', '/sbin']);

/**
 * Where a tmpfs makes a failed write work: an existing directory itself, else the directory the
 * file or new directory was being made in. Undefined when that is too wide to cover.
 */
function tmpfsTarget(path: string, fact: PathFact | undefined): string | undefined {
  const p = posix.normalize(path).replace(/\/+$/, '') || '/';
  if (fact?.dir) return WIDE.has(p) ? undefined : p;
  const parent = posix.dirname(p);
  return WIDE.has(parent) ? undefined : parent;
}

function sizeOf(bytes: number): string {
  const mib = Math.max(1, Math.ceil(bytes / 1024 ** 2));
  return mib % 1024 === 0 ? `${mib / 1024}g` : `${mib}m`;
}

function userLabel(u: Diagnosis['user']): string {
  return `${u.name ? `${u.name} ` : ''}(uid ${u.uid}, gid ${u.gid})`;
}

function ownerName(input: DiagnosisInput, uid: number): string | undefined {
  return input.passwd?.find((p) => p.uid === uid)?.name;
}

/** The user value for the profile: the name when the image knows it, else uid:gid. */
function userValue(input: DiagnosisInput, owner: { uid: number; gid: number }): string {
  return ownerName(input, owner.uid) ?? `${owner.uid}:${owner.gid}`;
}

/**
 * The tmpfs entry for a path, owned by the user: sdocker adds uid/gid itself for a numeric user;
 * for a named one the profile says them (they are only known from the image's passwd).
 */
function tmpfsFor(path: string, user: Diagnosis['user'], named: boolean): TmpfsDefault {
  const t: TmpfsDefault = { path, size: '64m' };
  if (named && user.uid >= 0) t.options = `uid=${user.uid},gid=${user.gid}`;
  return t;
}

export function diagnose(input: DiagnosisInput): Diagnosis {
  const user = containerUser(input.body, input.imageUser, input.passwd);
  const spec = input.body.User || input.imageUser || '';
  const namedUser = spec !== '' && !NUMERIC.test(spec.split(':')[0] ?? '');
  const root = user.uid === 0;
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (key: string, f: Finding) => {
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(f);
  };
  const hc = input.body.HostConfig;
  const tmpfsPaths = Object.keys(hc.Tmpfs ?? {});

  for (const raw of input.logLines) {
    const line = raw.trim();
    if (!line) continue;
    const path = pathIn(line);
    if (EROFS.test(line) && path) {
      const target = tmpfsTarget(path, input.owners?.[path]);
      const note = target
        ? /^\/(run|var\/run|tmp)(\/|$)/.test(target)
          ? undefined
          : `data that must outlive the container belongs on a volume (-v NAME:${target}) instead`
        : `a tmpfs cannot cover ${posix.dirname(path)} without hiding the image's files: configure the program to write elsewhere (e.g. under /tmp), or bind a file there`;
      const f: Finding = {
        kind: 'read-only',
        rule: 'SD-ROOTFS-001',
        summary: `${path} is on the read-only root filesystem`,
        evidence: line,
        path: target ?? path,
        fix: target ? { defaults: { tmpfs: [tmpfsFor(target, user, namedUser)] } } : {},
        flags: target ? [`--tmpfs ${target}:uid=${user.uid},gid=${user.gid}`] : [],
      };
      if (note) f.note = note;
      add(`ro:${target ?? path}`, f);
      continue;
    }
    if (EPERM.test(line) && SWITCH_USER.test(line)) {
      if (root) {
        add('caps:setid', {
          kind: 'capability',
          rule: 'SD-CAP-001',
          summary: 'the entrypoint switches users, which needs CAP_SETUID and CAP_SETGID (dropped)',
          evidence: line,
          fix: capsFix(['SETUID', 'SETGID'], 'the entrypoint switches to its service user'),
          flags: ['--cap-add SETUID', '--cap-add SETGID'],
        });
      } else {
        add('switch-user', {
          kind: 'switch-user',
          rule: 'SD-USER-001',
          summary: `the entrypoint switches users, which ${userLabel(user)} cannot do: run as the service user from the start`,
          evidence: line,
          fix: { defaults: { user: '<the service user>' } },
          flags: ['-u <the service user>'],
        });
      }
      continue;
    }
    if (EPERM.test(line) && CHOWN_CHMOD.test(line)) {
      const owner = path ? input.owners?.[path] : undefined;
      if (!root && owner?.uid === 0) {
        // Never "run as root": that is an allowance (allow.root with userns-remap), not a fix to paste.
        const f: Finding = {
          kind: 'not-owner',
          rule: 'SD-USER-001',
          summary: `${userLabel(user)} may not change ${path ?? 'a file'} (owned by root)`,
          evidence: line,
          fix: {},
          flags: [],
          note: 'sdocker does not run images as root: give the path to the service user in the image, or put it on a tmpfs or volume the user owns',
        };
        if (path) f.path = path;
        add(`owner:${path ?? ''}`, f);
      } else if (!root) {
        const value = owner ? userValue(input, owner) : '<the owner of ' + (path ?? 'the path') + '>';
        const f: Finding = {
          kind: 'not-owner',
          rule: 'SD-USER-001',
          summary: `${userLabel(user)} may not change ${path ?? 'a file'}${owner ? ` (owned by ${userValue(input, owner)})` : ''}: run as its owner`,
          evidence: line,
          fix: { defaults: { user: value } },
          flags: [`-u ${value}`],
          note: 'a root entrypoint that chowns and drops privileges skips that step when started as the service user',
        };
        if (path) f.path = path;
        add(`owner:${path ?? ''}`, f);
      } else {
        const f: Finding = {
          kind: 'capability',
          rule: 'SD-CAP-001',
          summary: `root without CAP_CHOWN/CAP_FOWNER may not change ${path ?? 'a file'} it does not own`,
          evidence: line,
          fix: capsFix(['CHOWN', 'FOWNER', 'DAC_OVERRIDE'], `the entrypoint chowns ${path ?? 'its files'}`),
          flags: ['--cap-add CHOWN', '--cap-add FOWNER', '--cap-add DAC_OVERRIDE'],
        };
        if (path) f.path = path;
        add('caps:chown', f);
      }
      continue;
    }
    const port = EACCES.test(line) ? BIND_PORT.exec(line) : null;
    const portNum = port ? Number(port[1] ?? port[2]) : NaN;
    if (port && portNum > 0 && portNum < 1024) {
      add('port', {
        kind: 'low-port',
        rule: 'SD-CAP-001',
        summary: `binding port ${portNum} (below 1024) needs CAP_NET_BIND_SERVICE (dropped)`,
        evidence: line,
        fix: capsFix(['NET_BIND_SERVICE'], `listens on port ${portNum}`),
        flags: ['--cap-add NET_BIND_SERVICE'],
        note: root ? undefined : 'a capability reaches a non-root process only through its file capabilities: prefer a port from 1024 up',
      } as Finding);
      continue;
    }
    if (EACCES.test(line) && path) {
      const owner = input.owners?.[path];
      const under = tmpfsPaths.find((t) => path === t || path.startsWith(`${t}/`));
      if (under && !root) {
        add(`ro:${under}`, {
          kind: 'not-owner',
          rule: 'SD-TMPFS-001',
          summary: `the tmpfs at ${under} is not owned by ${userLabel(user)}`,
          evidence: line,
          path: under,
          fix: { defaults: { tmpfs: [{ ...tmpfsFor(under, user, true) }] } },
          flags: [`--tmpfs ${under}:uid=${user.uid},gid=${user.gid}`],
        });
      } else if (owner && owner.uid !== user.uid && owner.uid !== 0) {
        add(`owner:${path}`, {
          kind: 'not-owner',
          rule: 'SD-USER-001',
          summary: `${userLabel(user)} may not use ${path} (owned by ${userValue(input, owner)}): run as its owner`,
          evidence: line,
          path,
          fix: { defaults: { user: userValue(input, owner) } },
          flags: [`-u ${userValue(input, owner)}`],
        });
      } else if (!owner) {
        const target = tmpfsTarget(path, undefined);
        add(`ro:${target ?? path}`, {
          kind: 'not-owner',
          rule: 'SD-USER-001',
          summary: `${userLabel(user)} may not write ${path}${target ? `: a tmpfs it owns at ${target}, or run as the owner` : ': run as its owner'}`,
          evidence: line,
          path: target ?? path,
          fix: target ? { defaults: { tmpfs: [tmpfsFor(target, user, namedUser)] } } : {},
          flags: target ? [`--tmpfs ${target}:uid=${user.uid},gid=${user.gid}`] : [],
        });
      }
      continue;
    }
    if (EAGAIN.test(line) && FORK.test(line)) {
      const pids = (hc.PidsLimit ?? input.profile.pids) || input.profile.pids;
      add('pids', {
        kind: 'pids',
        rule: 'SD-RES-002',
        summary: `a fork failed: the pids limit (${pids}) is reached`,
        evidence: line,
        fix: { defaults: { pids: pids * 2 } },
        flags: [`--pids-limit ${pids * 2}`],
      });
      continue;
    }
    if ((EPERM.test(line) || ENOSYS.test(line)) && !/\bno such\b/i.test(line)) {
      const call = CALL.exec(line)?.[1];
      add('seccomp', {
        kind: 'syscall',
        rule: 'SD-SECCOMP-001',
        summary: `a system call${call ? ` (${call})` : ''} was refused: seccomp (profile ${input.profile.seccomp}) or a dropped capability`,
        evidence: line,
        fix: { defaults: { seccomp: 'engine' } },
        flags: ['--security-opt seccomp=<a profile that allows it>'],
        note: 'if the engine\'s profile does not help either, it is a capability: record with `sdocker seccomp record` or add the capability the call needs',
      });
    }
  }

  const memory = hc.Memory || input.profile.memory;
  const oom = input.oomKilled === true || (input.oomKilled === undefined && input.exitCode === 137 && memory > 0);
  if (oom) {
    add('oom', {
      kind: 'oom',
      rule: 'SD-RES-001',
      summary: input.oomKilled
        ? `killed by the kernel's OOM killer at the memory limit (${sizeOf(memory)})`
        : `killed by SIGKILL (137): if not by you, the memory limit (${sizeOf(memory)})`,
      fix: { defaults: { memory: sizeOf(memory * 2) } },
      flags: [`--memory ${sizeOf(memory * 2)}`],
    });
  }
  return {
    exitCode: input.exitCode,
    oomKilled: input.oomKilled === true,
    user,
    findings,
    fix: mergeFixes(findings.map((f) => f.fix), input),
    logTail: input.logLines.slice(-10),
  };
}

function capsFix(names: string[], reason: string): ProfileFix {
  return {
    defaults: { capabilities: names },
    allow: { capabilities: names.map((name) => ({ name, reason })) },
  };
}

/** One suggestion: tmpfs lists merged over the profile's current ones (a list replaces, so it is whole). */
export function mergeFixes(fixes: ProfileFix[], input: DiagnosisInput): ProfileFix {
  const out: ProfileFix = {};
  const d: NonNullable<ProfileFix['defaults']> = {};
  const tmpfs = new Map<string, TmpfsDefault>();
  const caps = new Set<string>();
  const allowCaps = new Map<string, { name: string; reason: string }>();
  for (const f of fixes) {
    for (const t of f.defaults?.tmpfs ?? []) tmpfs.set(t.path, t);
    for (const c of f.defaults?.capabilities ?? []) caps.add(c);
    for (const c of f.allow?.capabilities ?? []) if (!allowCaps.has(c.name)) allowCaps.set(c.name, c);
    if (f.defaults?.user !== undefined) d.user ??= f.defaults.user;
    if (f.defaults?.memory !== undefined) d.memory = f.defaults.memory;
    if (f.defaults?.pids !== undefined) d.pids = f.defaults.pids;
    if (f.defaults?.seccomp !== undefined) d.seccomp = f.defaults.seccomp;
  }
  if (tmpfs.size) {
    // Nested paths: the outer tmpfs covers the inner one. Owned by the user the fix runs as.
    const owner = d.user !== undefined ? input.passwd?.find((p) => p.name === d.user) : undefined;
    const keep = [...tmpfs.values()]
      .filter((t) => ![...tmpfs.keys()].some((o) => o !== t.path && t.path.startsWith(`${o}/`)))
      .map((t) => (owner ? { ...t, options: `uid=${owner.uid},gid=${owner.gid}` } : d.user !== undefined ? { path: t.path, ...(t.size ? { size: t.size } : {}) } : t));
    const current = input.profile.tmpfs.filter((t) => !tmpfs.has(t.path));
    d.tmpfs = [...current, ...keep];
  }
  if (caps.size) d.capabilities = [...new Set([...input.profile.capabilities, ...caps])];
  if (Object.keys(d).length) out.defaults = d;
  if (allowCaps.size) out.allow = { capabilities: [...allowCaps.values()] };
  return out;
}

/** Paths whose owner or type decides a finding (EROFS/EPERM/EACCES on them): the shell reads them from the container. */
export function pathsToOwn(lines: readonly string[]): string[] {
  const out = new Set<string>();
  for (const l of lines) {
    if (!(EPERM.test(l) || EACCES.test(l) || EROFS.test(l))) continue;
    const p = pathIn(l);
    if (p) out.add(p);
  }
  return [...out];
}
