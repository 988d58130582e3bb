/**
 * User and group names that are uid 0 or gid 0 in the image (`-u toor`, `-u 1000:wheel`,
 * `--group-add wheel`, `USER toor`). applyPolicy only knows the literal `root` and `0`; a name is
 * only known once the image's /etc/passwd and /etc/group are read, which needs a created
 * container (the shell does that read, run-policy.ts). Pure: text and names in, ids and
 * violations out.
 *
 * The resolution follows the engine's (runc's libcontainer/user GetExecUser, measured on 20.10):
 * a user without a group part gets the primary gid of its passwd entry *and* every group of
 * /etc/group that lists its name as a member (also for a numeric uid that has an entry); a
 * user with a group part gets that group only; `--group-add` names are looked up in /etc/group.
 */
import { RULES, type RuleId } from './rules.js';
import type { AllowSpec, EffectiveProfile, Violation } from './types.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^\d+$/;

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const [name, , uid, gid] = f;
    if (name && uid !== undefined && NUMERIC.test(uid) && gid !== undefined && NUMERIC.test(gid)) {
      out.push({ name, uid: Number(uid), gid: Number(gid) });
    }
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const [name, , gid, list] = f;
    if (name && gid !== undefined && NUMERIC.test(gid)) {
      out.push({ name, gid: Number(gid), members: (list ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
    }
  }
  return out;
}

/** The user the container will run as: the body's User, else the image's (empty: root). */
export function effectiveUser(bodyUser: string | undefined, imageUser: string | undefined): string {
  return bodyUser || imageUser || '';
}

/**
 * Whether the image's files must be read: a non-numeric user or group part, or a non-numeric
 * `--group-add`. The literal `root` is left out: applyPolicy has already judged it.
 */
export function needsNameResolution(user: string, groupAdd: readonly string[] = []): boolean {
  const [u = '', g] = user.split(':');
  const named = (s: string | undefined) => !!s && s !== 'root' && !NUMERIC.test(s);
  return named(u) || named(g) || groupAdd.some(named);
}

export interface ResolvedIdentity {
  /** Undefined when the user name is not in /etc/passwd (the engine refuses to start it). */
  uid?: number;
  /** Primary gid; undefined when a group name is not in /etc/group. */
  gid?: number;
  /** Supplementary gids from /etc/group membership (only without an explicit group). */
  memberOf: { name: string; gid: number }[];
  /** `--group-add` entries resolved: undefined gid when the name is unknown. */
  added: { name: string; gid?: number }[];
}

export function resolveIdentity(user: string, groupAdd: readonly string[], passwdText: string, groupText: string): ResolvedIdentity {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const [u = '', g] = user.split(':');
  const entry = NUMERIC.test(u) ? passwd.find((p) => p.uid === Number(u)) : passwd.find((p) => p.name === u);
  const uid = NUMERIC.test(u) ? Number(u) : entry?.uid;
  const groupId = (s: string): number | undefined => (NUMERIC.test(s) ? Number(s) : groups.find((x) => x.name === s)?.gid);
  const out: ResolvedIdentity = { memberOf: [], added: [] };
  if (uid !== undefined) out.uid = uid;
  if (g !== undefined && g !== '') {
    const gid = groupId(g);
    if (gid !== undefined) out.gid = gid;
  } else {
    // No group part: the passwd entry's gid (0 when a numeric uid has no entry), plus membership.
    if (entry) out.gid = entry.gid;
    else if (NUMERIC.test(u)) out.gid = 0;
    if (entry) out.memberOf = groups.filter((x) => x.members.includes(entry.name)).map((x) => ({ name: x.name, gid: x.gid }));
  }
  out.added = groupAdd.map((name) => {
    const gid = groupId(name);
    return gid === undefined ? { name } : { name, gid };
  });
  return out;
}

/** As applyPolicy's user rule: root only with allow.root and a remapping engine (or withoutUsernsRemap). */
export function rootAllowed(allow: AllowSpec, usernsRemap: boolean): boolean {
  const root = allow.root;
  return !!root && (usernsRemap || !!root.withoutUsernsRemap);
}

/**
 * The violations of a resolved identity: uid 0 (SD-USER-001), gid 0 as the primary group, by
 * membership or by `--group-add` (SD-USER-002). Empty when the profile allows root. `source`
 * says where the user came from (`--user`, or the image's USER) for the message.
 */
export function identityViolations(
  user: string,
  groupAdd: readonly string[],
  id: ResolvedIdentity,
  profile: Pick<EffectiveProfile, 'allow' | 'floorDenied'>,
  usernsRemap: boolean,
  source: 'request' | 'image',
): Violation[] {
  if (rootAllowed(profile.allow, usernsRemap)) return [];
  const floor = profile.floorDenied.find((d) => d.key === 'root')?.floor;
  const remapWhy = profile.allow.root ? '; the profile allows root, but the engine does not remap users (userns-remap)' : '';
  const from = source === 'image' ? `the image's USER ${user}` : `user ${user}`;
  const out: Violation[] = [];
  const push = (rule: RuleId, field: string, value: unknown, flag: string, subject: string, detail: string) => {
    const r = RULES[rule];
    out.push({
      rule, guideline: r.guideline, field, value, flag, subject,
      why: `${r.why} (${detail}${remapWhy})`,
      allowWith: r.allow(subject),
      ...(floor ? { floorBlocked: floor } : {}),
    });
  };
  const userFlag = source === 'image' ? 'USER' : '--user';
  const [u = '', g] = user.split(':');
  // The literal root and 0 were judged by applyPolicy already (SD-USER-001): no second report.
  const literal = (s: string | undefined) => s === 'root' || s === '0';
  if (literal(u)) {
    // nothing for the user; its --group-add entries below
  } else if (id.uid === 0) {
    push('SD-USER-001', 'User', user, userFlag, user, `${from}: ${u} is uid 0 in the image's /etc/passwd`);
  } else if (id.gid === 0 && !literal(g)) {
    const how = g ? `${g} is gid 0 in the image's /etc/group` : `${u}'s primary group in the image's /etc/passwd is gid 0`;
    push('SD-USER-002', 'User', user, userFlag, user, `${from}: ${how}`);
  }
  if (!literal(u) && id.uid !== 0) {
    const rootMember = id.memberOf.find((x) => x.gid === 0);
    if (rootMember) {
      push('SD-USER-002', 'User', user, userFlag, user,
        `${from}: ${u} is a member of ${rootMember.name} (gid 0) in the image's /etc/group, and a user without a group gets its groups`);
    }
  }
  for (const a of id.added) {
    if (a.gid === 0 && !literal(a.name)) {
      push('SD-USER-002', 'HostConfig.GroupAdd', a.name, '--group-add', a.name, `${a.name} is gid 0 in the image's /etc/group`);
    }
  }
  return out;
}

/**
 * The one file in a tar stream as GET /containers/{id}/archive returns it: its text, or the
 * target of a symbolic link (the archive does not follow a final symlink). Undefined when the
 * archive holds no regular file or link. pax and GNU long-name headers are skipped.
 */
export function singleFileFromTar(tar: Buffer): { text: string } | { link: string } | undefined {
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) return undefined;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156] ?? 0);
    const dataStart = off + 512;
    if (type === '0' || type === '\0' || type === '7') {
      return { text: tar.subarray(dataStart, dataStart + size).toString('utf8') };
    }
    if (type === '2') {
      return { link: h.subarray(157, 257).toString('utf8').replace(/\0.*$/s, '') };
    }
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return undefined;
}
