/**
 * The one answer to "does this allowance set grant that allowance?", with each key's matching
 * rules (capability ALL, host paths by prefix and writability, sysctl wildcards `net.ipv4.*`).
 * Pure. Used twice, so the two can never disagree:
 * - profile.ts filterByFloor: which of a project's allowances the machine floor grants;
 * - apply.ts: whether a refused request would have been allowed by a project allowance the floor
 *   took away, so the refusal says "the machine floor does not allow it" instead of "add it".
 */
import { capName } from '../api/capabilities.js';
import { isUnder, normalizeHostPath } from './paths.js';
import type { AllowSpec } from './types.js';

/** List allowances and the field that identifies an entry. */
export const ALLOW_ID_FIELD: Readonly<Record<string, string>> = {
  capabilities: 'name',
  hostNamespaces: 'name',
  hostPaths: 'path',
  writablePaths: 'path',
  devices: 'path',
  deviceCgroupRules: 'rule',
  sysctls: 'name',
  unlimited: 'resource',
  portAddresses: 'address',
  volumesFrom: 'name',
  joinContainers: 'name',
  syscalls: 'name',
};

/** A sysctl pattern: an exact name, or a prefix ending in `*`. */
export function sysctlMatches(pattern: string, name: string): boolean {
  return pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)));
}

/**
 * Does `granting` grant `entry` of `key`? `entry` is an allowance (a project's) or a request
 * put as one (`{name: 'net.ipv4.tcp_rmem'}`); for a single key its own value (`{reason}`).
 */
export function grants(key: keyof AllowSpec, entry: Record<string, unknown>, granting: AllowSpec): boolean {
  const f = granting as Record<string, unknown>;
  const field = ALLOW_ID_FIELD[key];
  if (!field) {
    if (!f[key]) return false;
    if (key === 'root') return !entry.withoutUsernsRemap || !!(f.root as Record<string, unknown>).withoutUsernsRemap;
    return true;
  }
  const list = (f[key] as Record<string, unknown>[] | undefined) ?? [];
  const id = String(entry[field]);
  const under = (p: unknown) => isUnder(normalizeHostPath(id), normalizeHostPath(String(p)));
  switch (key) {
    case 'capabilities': {
      const norm = (s: unknown) => capName(String(s));
      return list.some((e) => norm(e.name) === norm(id) || norm(e.name) === 'ALL');
    }
    case 'hostPaths':
      return list.some((e) => under(e.path) && (!entry.writable || !!e.writable));
    case 'writablePaths':
      return !!granting.writableBinds || list.some((e) => under(e.path))
        || (granting.hostPaths ?? []).some((e) => e.writable && under(e.path));
    case 'devices':
      return list.some((e) => normalizeHostPath(String(e.path)) === normalizeHostPath(id));
    case 'deviceCgroupRules':
      return list.some((e) => String(e.rule).trim() === id.trim());
    case 'sysctls':
      return list.some((e) => sysctlMatches(String(e.name), id));
    case 'joinContainers':
      return list.some((e) => e.name === '*' || e.name === id);
    default:
      return list.some((e) => e[field] === id);
  }
}

/**
 * A request the level refuses, put as an allowance entry of `key` (`value` its id: a capability,
 * a path, a sysctl name; for a single key, the key itself): would any of `entries` (allowances a
 * floor took away) have granted it?
 */
export function grantedByAny<T extends { key: keyof AllowSpec; value: string }>(entries: readonly T[], key: keyof AllowSpec, value: string | undefined): T | undefined {
  const field = ALLOW_ID_FIELD[key];
  return entries.find((d) => {
    if (d.key !== key) return false;
    if (!field || value === undefined) return true;
    return grants(key, { [field]: value }, { [key]: [{ [field]: d.value }] } as AllowSpec);
  });
}
