/**
 * Image allowlist patterns (`images.allow` in a profile), matched against the normalised
 * repository name `domain/path` (src/trust/reference.ts). Pure.
 *
 * A pattern names the registry in full (`docker.io/library/*`, not `alpine`): `*` matches within
 * one path component (no `/`), `**` matches across components, anything else matches itself.
 * The registry part is compared without regard to case (DNS names are case-insensitive, so
 * `GOOD.example/x` is `good.example/x` on the wire); the repository path is lower case already.
 * Tags and digests are not part of a pattern: pinning is `requireDigest` and `sdocker.lock`.
 */

/** Why `p` is not a valid pattern, or undefined. */
export function patternError(p: string): string | undefined {
  if (p === '') return 'an empty pattern';
  if (!/^[A-Za-z0-9._:/*[\]-]+$/.test(p)) return 'may hold only letters, digits, . _ - : / [ ] and * (no tag or digest: pin with requireDigest or sdocker.lock)';
  const slash = p.indexOf('/');
  if (slash <= 0) return 'must name the registry and the repository (e.g. docker.io/library/alpine, 127.0.0.1:5000/team/**)';
  const first = p.slice(0, slash);
  if (!/[.:*]/.test(first) && first !== 'localhost' && first === first.toLowerCase()) {
    return `must start with the registry (${first} is read as a repository of docker.io: write docker.io/${p})`;
  }
  if (p.slice(slash + 1).includes(':')) return 'no tag or digest in a pattern (pin with requireDigest or sdocker.lock)';
  if (/\*\*\*/.test(p)) return 'at most two * in a row';
  if (p.endsWith('/')) return 'must not end with /';
  return undefined;
}

function toRegExp(p: string): RegExp {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else out += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function lowerDomain(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name.toLowerCase() : `${name.slice(0, slash).toLowerCase()}${name.slice(slash)}`;
}

/** Does `pattern` match the normalised repository name `name` (`domain/path`)? */
export function patternMatches(pattern: string, name: string): boolean {
  return toRegExp(lowerDomain(pattern)).test(lowerDomain(name));
}

/** The first of `patterns` that matches `name`, or undefined. */
export function firstMatch(patterns: readonly string[], name: string): string | undefined {
  return patterns.find((p) => patternMatches(p, name));
}
