/**
 * The host's groups (pure): `name:password:gid:members` lines of /etc/group, as glibc's files
 * backend reads them. `--group` names a group (or gives a gid as a number).
 */

/** The gid of `name` in /etc/group's text, or of a numeric `name` when no group is so named; undefined when unknown. */
export function gidOfGroup(groupText: string, name: string): number | undefined {
  for (const line of groupText.split('\n')) {
    if (line.startsWith('#')) continue;
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  if (/^\d{1,10}$/.test(name) && Number(name) <= 0xfffffffe) return Number(name);
  return undefined;
}
