/**
 * Users and groups exactly as the engine resolves them (Docker 20.10's daemon/oci_linux.go getUser
 * and runc 1.1's setupUser, both on libcontainer/user; measured on this engine). Pure: the image's
 * /etc/passwd and /etc/group text in, ids out.
 *
 * How a container's identity comes about:
 * 1. the daemon runs GetExecUser(Config.User) on the image's own rootfs (no volumes): the uid, the
 *    gid, and, without an explicit group, every group listing the user's name; then
 *    GetAdditionalGroups(HostConfig.GroupAdd). It sends runc uid, gid and AdditionalGids =
 *    [gid, membership..., group-add...], each cut to uint32;
 * 2. runc, inside the container (volumes and binds mounted), looks every AdditionalGid up AGAIN by
 *    GetAdditionalGroups on the container's /etc/group: a group *named* `4242` with gid 0, placed
 *    before any group with gid 4242, turns 4242 into 0. The uid and gid it gets as numbers stay.
 *
 * runc's file parsing (parseLine/parseParts): lines are trimmed; a passwd line is never a comment
 * (`#x:x:0:0` is user `#x`, uid 0); a group line starting with `#` is; a numeric field is Atoi with
 * the error ignored (`abc`, an empty or missing field is 0); fields past the last are ignored.
 */
import { atoiField, goAtoi, inIdRange, MAX_ID } from './ids.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** 1-based line in the file, for messages. */
  line: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
  /** strconv.Itoa(gid): what runc compares a `--group-add` entry with. */
  gidText: string;
  members: string[];
  line: number;
}

/** The image's files; null: the file is not there (the engine then has no entries either). */
export interface IdentityFiles {
  passwd: string | null;
  group: string | null;
  /**
   * Every path the image's /etc/group resolves through (`/etc/group`, and the targets of the
   * symbolic links on the way): a mount on any of them, or above, replaces what runc reads.
   */
  groupPaths?: string[];
}

/** Go's bytes.TrimSpace (unicode.IsSpace). */
const SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]';
const TRIM = new RegExp(`^${SPACE}+|${SPACE}+$`, 'gu');

/** bufio.Scanner's limit: a longer passwd line makes the engine's parse (and the start) fail. */
const SCANNER_MAX = 64 * 1024;

function rawLines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, ''));
}

export function parsePasswd(text: string): PasswdEntry[] | { error: string } {
  const out: PasswdEntry[] = [];
  const all = rawLines(text);
  for (let i = 0; i < all.length; i++) {
    const raw = all[i] ?? '';
    if (Buffer.byteLength(raw) >= SCANNER_MAX) return { error: `line ${i + 1} of /etc/passwd is longer than the engine reads (64 KiB)` };
    const line = raw.replace(TRIM, '');
    if (!line) continue;
    const f = line.split(':');
    out.push({ name: f[0] ?? '', uid: atoiField(f[2] ?? '').n, gid: atoiField(f[3] ?? '').n, line: i + 1 });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  const all = rawLines(text);
  for (let i = 0; i < all.length; i++) {
    const line = (all[i] ?? '').replace(TRIM, '');
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = atoiField(f[2] ?? '');
    const list = f[3] ?? '';
    out.push({ name: f[0] ?? '', gid: gid.n, gidText: gid.text, members: list === '' ? [] : list.split(','), line: i + 1 });
  }
  return out;
}

/** What GetExecUser gives for a spec; `matched`: the passwd entry it used, `via`: the group entry. */
export interface ExecUser {
  uid: number;
  gid: number;
  /** Membership groups (only without an explicit group), in file order. */
  sgids: GroupEntry[];
  matched?: PasswdEntry;
  via?: GroupEntry;
}

export type Failed = { error: string };
export const failed = (x: unknown): x is Failed => typeof x === 'object' && x !== null && 'error' in x;

const RANGE = `uids and gids must be in range 0-${MAX_ID}`;

/** libcontainer/user GetExecUser(spec, defaults 0:0, passwd, group), as the daemon calls it. */
export function execUser(spec: string, passwd: PasswdEntry[] | null, group: GroupEntry[] | null): ExecUser | Failed {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = goAtoi(userArg);
  const gidArg = goAtoi(groupArg);
  const users = (passwd ?? []).filter((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  const out: ExecUser = { uid: 0, gid: 0, sgids: [] };
  const first = users[0];
  if (first) {
    out.uid = first.uid;
    out.gid = first.gid;
    out.matched = first;
  } else if (userArg !== '') {
    if (uidArg === undefined) return { error: `unable to find user ${userArg}: no matching entries in passwd file` };
    if (!inIdRange(uidArg)) return { error: RANGE };
    out.uid = uidArg;
  }
  const matchedName = first?.name ?? '';
  if (groupArg !== '' || matchedName !== '') {
    const groups = (group ?? []).filter((g) =>
      groupArg === '' ? g.members.includes(matchedName) : gidArg !== undefined ? g.gid === gidArg : g.name === groupArg);
    if (groupArg !== '') {
      const g = groups[0];
      if (g) {
        out.gid = g.gid;
        out.via = g;
      } else {
        if (gidArg === undefined) return { error: `unable to find group ${groupArg}: no matching entries in group file` };
        if (!inIdRange(gidArg)) return { error: RANGE };
        out.gid = gidArg;
      }
    } else {
      out.sgids = groups;
    }
  }
  return out;
}

/** One resolved `--group-add` entry (or AdditionalGid): its gid and the group line it came from. */
export interface AddedGroup {
  asked: string;
  gid: number;
  via?: GroupEntry;
}

/**
 * libcontainer/user GetAdditionalGroups: each entry is the first group line whose NAME or gid
 * (strconv.Itoa) equals it and whose gid is not taken yet; else a number (ParseInt, `00` and
 * `+0` are 0) in 0..2^31-1; else an error. Duplicates collapse.
 */
export function additionalGroups(list: readonly string[], group: GroupEntry[] | null): AddedGroup[] | Failed {
  const matching = (group ?? []).filter((g) => list.some((ag) => g.name === ag || g.gidText === ag));
  const taken = new Set<number>();
  const out: AddedGroup[] = [];
  for (const ag of list) {
    const g = matching.find((x) => (x.name === ag || x.gidText === ag) && !taken.has(x.gid));
    if (g) {
      taken.add(g.gid);
      out.push({ asked: ag, gid: g.gid, via: g });
      continue;
    }
    const n = goAtoi(ag);
    if (n === undefined) return { error: `Unable to find group ${ag}: no matching entries in group file` };
    if (!inIdRange(n)) return { error: RANGE };
    if (!taken.has(n)) out.push({ asked: ag, gid: n });
    taken.add(n);
  }
  return out;
}

/** The identity the process gets: uid, gid and the supplementary groups (setgroups). */
export interface Identity {
  uid: number;
  gid: number;
  groups: AddedGroup[];
}

/**
 * What the engine makes of `User` and `GroupAdd` on an image: the daemon's step on the image's
 * files, then runc's second look-up of every AdditionalGid in `runtimeGroup` (the /etc/group the
 * container sees; the image's when nothing is mounted over it). Ids out of 0..2^31-1 are left as
 * they are (the caller refuses them: the engine cuts them to uint32, 2^32 is 0).
 */
export function engineIdentity(user: string, groupAdd: readonly string[], files: IdentityFiles, runtimeGroup?: string | null): Identity | Failed {
  const passwd = files.passwd === null ? null : parsePasswd(files.passwd);
  if (failed(passwd)) return passwd;
  const group = files.group === null ? null : parseGroup(files.group);
  const e = execUser(user, passwd, group);
  if (failed(e)) return e;
  const added = groupAdd.length > 0 ? additionalGroups(groupAdd, group) : [];
  if (failed(added)) return added;
  const daemonGids = [e.gid, ...e.sgids.map((g) => g.gid), ...added.map((a) => a.gid)];
  if (!daemonGids.every(inIdRange) || !inIdRange(e.uid)) {
    return { uid: e.uid, gid: e.gid, groups: daemonGids.map((gid) => ({ asked: String(gid), gid })) };
  }
  const rt = runtimeGroup === undefined ? group : runtimeGroup === null ? null : parseGroup(runtimeGroup);
  const groups = additionalGroups(daemonGids.map(String), rt);
  if (failed(groups)) return groups;
  return { uid: e.uid, gid: e.gid, groups };
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
