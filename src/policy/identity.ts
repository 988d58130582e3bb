/**
 * The user and groups a container runs with (SD-USER-001, SD-USER-002), decided on what the
 * engine will do, not on what was typed. Pure; called by applyPolicy.
 *
 * Every spelling is resolved as the engine resolves it (user-names.ts: runc's Atoi, its passwd
 * and group parsing, the image's own files read by the shell), judged on the resulting ids, and
 * the engine is then sent numbers only: `User` becomes `uid:gid` and `GroupAdd` the numeric
 * supplementary groups docker would have given (membership of the user's name in the image's
 * /etc/group, then `--group-add`), so the daemon resolves no name. What runc still looks up by
 * name at start (every supplementary gid, in the container's /etc/group) is simulated on the
 * image's file, and a mount that could replace that file is refused.
 *
 * Root allowed (allow.root with userns-remap, or withoutUsernsRemap): nothing is resolved or
 * rewritten; the allowance is recorded as before.
 */
import { posix } from 'node:path';
import type { CreateBody } from '../api/types.js';
import { goAtoi, inIdRange, isZeroId, MAX_ID } from './ids.js';
import { RULES, type RuleId } from './rules.js';
import type { Ctx } from './context.js';
import type { AllowSpec, Violation } from './types.js';
import {
  additionalGroups, engineIdentity, execUser, failed, parseGroup, parsePasswd,
  type ExecUser, type GroupEntry, type IdentityFiles,
} from './user-names.js';

type Source = 'request' | 'image' | 'default';

const LITERAL_ROOT = (s: string | undefined) => s === 'root' || s === '0';
const ROOT_SPELLING = (s: string | undefined) => s === 'root' || (s !== undefined && isZeroId(s));

/** A spec resolved on the image's files (or, without them, on its numbers alone). */
interface Resolved extends ExecUser {
  /** Where the primary gid came from. */
  gidFrom: 'explicit' | 'entry' | 'none';
}

function resolve(spec: string, files: IdentityFiles | undefined): Resolved | { error: string } {
  const [u = '', g = ''] = spec.split(':');
  if (!files) {
    const uid = u === 'root' ? 0 : goAtoi(u);
    const gid = g === 'root' ? 0 : goAtoi(g);
    if (uid === undefined || (g !== '' && gid === undefined)) {
      return { error: `${spec} names a user or group, and the image's /etc/passwd and /etc/group could not be read` };
    }
    if (!inIdRange(uid) || (gid !== undefined && !inIdRange(gid))) return { error: `uids and gids must be in range 0-${MAX_ID}` };
    return { uid, gid: gid ?? 0, sgids: [], gidFrom: g !== '' ? 'explicit' : 'none' };
  }
  const passwd = files.passwd === null ? null : parsePasswd(files.passwd);
  if (failed(passwd)) return passwd;
  const e = execUser(spec, passwd, files.group === null ? null : parseGroup(files.group));
  if (failed(e)) return e;
  return { ...e, gidFrom: g !== '' ? 'explicit' : e.matched ? 'entry' : 'none' };
}

/** One `--group-add` entry resolved alone (judged one by one; the engine resolves the list). */
function resolveGroup(ag: string, files: IdentityFiles | undefined): { gid: number; via?: GroupEntry } | { error: string } {
  if (!files) {
    const n = ag === 'root' ? 0 : goAtoi(ag);
    if (n === undefined) return { error: `group ${ag} is a name, and the image's /etc/group could not be read` };
    return { gid: n };
  }
  const r = additionalGroups([ag], files.group === null ? null : parseGroup(files.group));
  if (failed(r)) return r;
  const first = r[0];
  return first ? (first.via ? { gid: first.gid, via: first.via } : { gid: first.gid }) : { gid: 0 };
}

/** Root is allowed: allow.root and a remapping engine, or allow.root.withoutUsernsRemap. */
export function rootAllowed(allow: AllowSpec, usernsRemap: boolean): boolean {
  return !!allow.root && (usernsRemap || !!allow.root.withoutUsernsRemap);
}
const rootOk = (c: Ctx) => rootAllowed(c.allow, c.input.engine.usernsRemap);

export function judgeIdentity(c: Ctx): void {
  if (rootOk(c)) {
    recordRootAllowance(c);
    return;
  }
  const rootWhy = c.allow.root ? 'the profile allows root, but the engine does not remap users (userns-remap)' : undefined;
  const files = c.input.identityFiles;
  const typed = c.body.User || undefined;
  const img = c.input.image;
  let spec: string;
  let source: Source;
  let note: string | undefined;
  if (typed !== undefined) {
    spec = typed;
    source = 'request';
  } else if (img === undefined) {
    spec = c.profile.defaults.user;
    source = 'default';
    note = 'the image\'s user is not known: the profile\'s user applies';
  } else {
    const [u, g] = (img.User ?? '').split(':');
    if (!u || LITERAL_ROOT(u) || LITERAL_ROOT(g)) {
      spec = c.profile.defaults.user;
      source = 'default';
      note = `the image runs as ${img.User || 'root'}`;
    } else {
      spec = img.User ?? '';
      source = 'image';
    }
  }
  const flag = source === 'request' ? '--user' : source === 'image' ? 'USER' : 'defaults.user';
  const from = (s: string) => (source === 'image' ? `the image's USER ${s}` : source === 'default' ? `the profile's user ${s}` : `user ${s}`);
  /** A violation; true when it goes through anyway (warn mode): then the body stays as typed. */
  const deny = (rule: RuleId, field: string, value: string, why: string | undefined, f = flag): boolean =>
    c.check(rule, field, value, value, undefined, { flag: f, why: [why, rootWhy].filter(Boolean).join('; ') || undefined, denialKey: 'root' });

  let passed = false;
  let r = resolve(spec, files);
  const [u = ''] = spec.split(':');
  // The user: uid 0 in any spelling, out of range, or not resolvable is refused (SD-USER-001).
  const userProblem = failed(r)
    ? `${from(spec)}: ${r.error}`
    : !inIdRange(r.uid)
      ? `${from(spec)}: uid ${r.uid}${r.matched ? ` (the image's /etc/passwd, line ${r.matched.line})` : ''} is outside 0..${MAX_ID}; the engine cuts it to 32 bits (4294967296 is 0)`
      : r.uid === 0
        ? (source === 'request' && LITERAL_ROOT(u) ? '' : `${from(spec)}: ${zeroWhy(u, r)}`)
        : undefined;
  if (userProblem !== undefined) {
    if (deny('SD-USER-001', 'User', spec, userProblem || undefined)) passed = true;
    else if (source !== 'default') {
      spec = c.profile.defaults.user;
      source = 'default';
      r = resolve(spec, files);
      if (failed(r) || !inIdRange(r.uid) || r.uid === 0) {
        // The profile's own user is root in this image: nothing safe to fall back to.
        deny('SD-USER-001', 'User', spec, `the profile's user ${spec}: ${failed(r) ? r.error : 'uid 0 in the image'}`, 'defaults.user');
        return;
      }
    } else return;
  }
  // Past a violation let through (warn mode) the body stays as typed; every violation is still reported.
  const groups: number[] = [];
  let gid = 0;
  if (!failed(r) && !passed) {
    // The primary group (not judged again for a user already refused as root).
    gid = r.gid;
    const [uPart = '', gPart = ''] = spec.split(':');
    if (!inIdRange(gid) || gid === 0) {
      const literal = source === 'request' && LITERAL_ROOT(gPart);
      let why: string | undefined;
      if (r.gidFrom === 'explicit') {
        const how = goAtoi(gPart) !== undefined ? ' as runc reads it (Go\'s Atoi)' : r.via ? ` in the image's /etc/group (line ${r.via.line})` : '';
        why = literal ? undefined : `${from(spec)}: ${gPart} is ${gidText(gid)}${how}`;
      } else if (r.gidFrom === 'entry' && goAtoi(uPart) === undefined) {
        why = `${from(spec)}: ${uPart}'s primary group in the image's /etc/passwd (line ${r.matched?.line}) is ${gidText(gid)}`;
      }
      if ((why !== undefined || r.gidFrom === 'explicit') && deny('SD-USER-002', 'User', spec, why)) passed = true;
      // A bare uid without a group of its own (or gid 0 in its entry) gets its own number as group.
      note ??= r.gidFrom === 'none' ? 'a numeric user with no group runs with gid 0 unless /etc/passwd names it'
        : r.gidFrom === 'entry' ? `uid ${r.uid}'s group in the image's /etc/passwd is ${gidText(gid)}` : undefined;
      gid = r.uid;
    }
    // Supplementary groups: membership of the user's name (no explicit group), then --group-add.
    for (const s of r.sgids) {
      if (inIdRange(s.gid) && s.gid !== 0) groups.push(s.gid);
      else if (deny('SD-USER-002', 'User', spec,
        `${from(spec)}: ${r.matched?.name} is a member of ${s.name} (${gidText(s.gid)}) in the image's /etc/group (line ${s.line}), and a user without a group gets its groups`)) passed = true;
    }
  }
  const asked = c.hc.GroupAdd ?? [];
  for (const ag of asked) {
    const a = resolveGroup(ag, files);
    const bad = failed(a) ? a.error : !inIdRange(a.gid) || a.gid === 0
      ? (LITERAL_ROOT(ag) ? '' : `${ag} is ${gidText(a.gid)}${a.via ? ` in the image's /etc/group (line ${a.via.line})` : ' as runc reads it'}`)
      : undefined;
    if (bad === undefined) {
      if (!failed(a)) groups.push(a.gid);
    } else if (deny('SD-USER-002', 'HostConfig.GroupAdd', ag, bad || undefined, '--group-add')) passed = true;
  }
  if (!mountsKeepGroupFile(c, files, deny) || passed || failed(r)) return;

  // What the engine is sent: numbers only.
  const user = `${r.uid}:${gid}`;
  const groupAdd = [...new Set(groups)].map(String);
  if (user !== (c.body.User ?? '')) {
    c.change('User', c.body.User || null, user, source === 'default' ? 'SD-USER-001' : gid === r.gid ? 'SD-USER-001' : 'SD-USER-002',
      note ?? `${from(spec)} is sent as numbers: the engine resolves no name`);
    c.body.User = user;
  }
  if (JSON.stringify(groupAdd) !== JSON.stringify(asked) && (asked.length > 0 || groupAdd.length > 0)) {
    c.change('HostConfig.GroupAdd', c.hc.GroupAdd ?? null, groupAdd, 'SD-USER-002',
      'supplementary groups as numbers, with those docker gives from the image\'s /etc/group; a group 0 is not added');
    c.hc.GroupAdd = groupAdd;
  }
  if (files) runtimeLookups(files, user, groupAdd, deny);
}

function gidText(n: number): string {
  return inIdRange(n) ? `gid ${n}` : `gid ${n}, outside 0..${MAX_ID} (the engine cuts it to 32 bits)`;
}

function zeroWhy(u: string, r: Resolved): string {
  if (u === '') return 'an empty user is uid 0';
  if (goAtoi(u) !== undefined) return `${u} is uid 0 as runc reads it (Go's Atoi)`;
  return `${u} is uid 0 in the image's /etc/passwd (line ${r.matched?.line})`;
}

type Deny = (rule: RuleId, field: string, value: string, why: string | undefined, f?: string) => boolean;

/**
 * runc looks every supplementary gid up again, by name first, in the container's /etc/group at
 * start: simulate it on the image's file (a group NAMED `4242` with gid 0 turns 4242 into 0).
 */
function runtimeLookups(files: IdentityFiles, user: string, groupAdd: string[], deny: Deny): void {
  const id = engineIdentity(user, groupAdd, files);
  if (failed(id)) {
    deny('SD-USER-002', 'User', user, `the engine would not resolve ${user}: ${id.error}`);
    return;
  }
  for (const gr of id.groups) {
    if (inIdRange(gr.gid) && gr.gid !== 0) continue;
    const line = gr.via ? ` (the image's /etc/group, line ${gr.via.line}: the group named ${gr.via.name} has ${gidText(gr.gid)})` : '';
    if (!deny('SD-USER-002', 'HostConfig.GroupAdd', gr.asked, `runc looks gid ${gr.asked} up by name in /etc/group at start${line}`, '--group-add')) return;
  }
}

/**
 * A bind or volume on /etc, /etc/group or any path the image's /etc/group resolves through
 * replaces the file runc reads the groups from at start (its content is then the project's, and
 * can change): refused. A tmpfs starts empty and is fine. False when one was refused.
 */
function mountsKeepGroupFile(c: Ctx, files: IdentityFiles | undefined, deny: Deny): boolean {
  const covered = (files?.groupPaths?.length ? files.groupPaths : ['/etc/group']).map((p) => posix.normalize(p));
  const covers = (dest: string) => {
    const d = posix.normalize(`/${dest}`).replace(/(.)\/+$/, '$1');
    return covered.some((p) => p === d || p.startsWith(d === '/' ? '/' : `${d}/`));
  };
  const why = (dest: string) => `a mount at ${dest} replaces the image's /etc/group, in which runc looks up the container's groups by name at start (a group named like one of them, with gid 0, gives group 0)`;
  let ok = true;
  for (const b of c.hc.Binds ?? []) {
    const parts = b.split(':');
    const dest = parts[1];
    if (parts.length >= 2 && dest && covers(dest) && !deny('SD-USER-002', 'HostConfig.Binds', b, why(dest), '--volume')) ok = false;
  }
  for (const m of c.hc.Mounts ?? []) {
    if (m.Type === 'tmpfs' || !m.Target || !covers(m.Target)) continue;
    if (!deny('SD-USER-002', 'HostConfig.Mounts', `${m.Source ?? ''}:${m.Target}`, why(m.Target), '--mount')) ok = false;
  }
  return ok;
}

/** Root allowed: record the allowance for what is visibly root, change nothing. */
function recordRootAllowance(c: Ctx): void {
  const root = c.allow.root;
  const typed = c.body.User;
  if (typed) {
    const [u, g] = typed.split(':');
    if (ROOT_SPELLING(u)) c.check('SD-USER-001', 'User', typed, typed, root, { flag: '--user', denialKey: 'root' });
    else if (ROOT_SPELLING(g)) c.check('SD-USER-002', 'User', typed, typed, root, { flag: '--user', denialKey: 'root' });
  }
  for (const gr of c.hc.GroupAdd ?? []) if (ROOT_SPELLING(gr)) c.check('SD-USER-002', 'HostConfig.GroupAdd', gr, gr, root, { denialKey: 'root' });
}

/**
 * Whether the container may see another /etc/group than the image's: a bind or volume (not a
 * tmpfs, which starts empty) or --volumes-from. Then, after create, the shell reads /etc/group
 * through the created container (which mounts them as the start will) and runtimeGroupViolations
 * judges it: this catches what no path comparison can (a mount on a directory the image's /etc
 * symlinks into, the mounts of a --volumes-from container).
 */
export function groupFileMayChange(body: CreateBody): boolean {
  const hc = body.HostConfig;
  return (hc.Binds ?? []).some((b) => b.split(':').length >= 2)
    || (hc.Mounts ?? []).some((m) => m.Type !== 'tmpfs')
    || (hc.VolumesFrom ?? []).length > 0;
}

/**
 * runc's start-time look-up of the sent supplementary groups in the /etc/group the container
 * really has (`runtimeGroup`, null when absent): each gid that comes out 0 or out of range is
 * SD-USER-002. Pure.
 */
export function runtimeGroupViolations(body: CreateBody, files: IdentityFiles, runtimeGroup: string | null): Violation[] {
  const id = engineIdentity(body.User ?? '', body.HostConfig.GroupAdd ?? [], files, runtimeGroup);
  if (failed(id)) return [];
  const r = RULES['SD-USER-002'];
  return id.groups.filter((g) => !inIdRange(g.gid) || g.gid === 0).map((g) => ({
    rule: r.id, guideline: r.guideline, field: 'HostConfig.GroupAdd', value: g.asked, flag: '--volume', subject: g.asked,
    why: `${r.why} (the container's /etc/group, as mounted, makes runc turn gid ${g.asked} into ${gidText(g.gid)}`
      + `${g.via ? ` (line ${g.via.line}: a group named ${g.via.name})` : ''}; a mount replaces the image's /etc/group)`,
    allowWith: r.allow(),
  }));
}
