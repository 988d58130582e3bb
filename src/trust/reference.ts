/**
 * Image references read as the docker CLI and the engine read them (distribution/reference:
 * ParseNormalizedNamed, ParseAnyReference, TagNameOnly). Pure.
 *
 * `alpine` is docker.io/library/alpine:latest; `user/x` is docker.io/user/x; the first component is
 * a registry only when it holds `.` or `:`, is `localhost`, or has an upper-case letter;
 * `index.docker.io` is docker.io; the repository path must be lower case; a name is at most 255
 * characters; a 64-hex string is an image id, never a name. What does not parse is an error.
 */

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE = new RegExp(`^((?:${domainAndPort}/)?${remoteName})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const DOMAIN = new RegExp(`^${domainAndPort}$`);
const REMOTE = new RegExp(`^${remoteName}$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export const DEFAULT_DOMAIN = 'docker.io';

/** A reference by name: `domain/path[:tag][@digest]`, normalised. */
export interface NamedRef {
  kind: 'named';
  /** Registry host[:port], e.g. docker.io, 127.0.0.1:5000. */
  domain: string;
  /** Repository path inside the registry, e.g. library/alpine. */
  path: string;
  /** `domain/path`. */
  name: string;
  tag?: string;
  /** `algo:hex`, validated. */
  digest?: string;
}

/** A reference by image id (`sha256:<64 hex>` or the 64 hex alone). */
export interface IdRef {
  kind: 'id';
  /** `sha256:<64 hex>`. */
  id: string;
}

export type ImageReference = NamedRef | IdRef;

export class ReferenceError extends Error {}

/** go-digest's Parse + Validate: a known algorithm and its exact hex length, lower case. */
export function validateDigest(d: string): string | undefined {
  const i = d.indexOf(':');
  if (i <= 0 || i === d.length - 1) return 'invalid checksum digest format';
  const algo = d.slice(0, i);
  const hex = d.slice(i + 1);
  const len = DIGEST_HEX[algo];
  if (len === undefined) return 'unsupported digest algorithm';
  if (!/^[a-f0-9]+$/.test(hex)) return 'invalid checksum digest format';
  if (hex.length !== len) return 'invalid checksum digest length';
  return undefined;
}

/** splitDockerDomain. */
function splitDomain(s: string): { domain: string; remainder: string } {
  const i = s.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i >= 0 ? s.slice(0, i) : '';
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = s;
  } else {
    domain = first;
    remainder = s.slice(i + 1);
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `library/${remainder}`;
  return { domain, remainder };
}

/** reference.ParseNormalizedNamed: a name as docker reads it, normalised; throws ReferenceError. */
export function parseNormalizedNamed(s: string): NamedRef {
  if (IDENTIFIER.test(s)) throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const { domain, remainder } = splitDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep >= 0 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new ReferenceError(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const full = `${domain}/${remainder}`;
  const m = REFERENCE.exec(full);
  if (!m) {
    if (REFERENCE.test(full.toLowerCase())) throw new ReferenceError('invalid reference format: repository name must be lowercase');
    throw new ReferenceError('invalid reference format');
  }
  const name = m[1]!;
  if (name.length > NAME_MAX) throw new ReferenceError(`repository name must not be more than ${NAME_MAX} characters`);
  const path = name.slice(domain.length + 1);
  if (!DOMAIN.test(domain) || !REMOTE.test(path)) throw new ReferenceError('invalid reference format');
  const ref: NamedRef = { kind: 'named', domain, path, name };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) {
    const bad = validateDigest(m[3]);
    if (bad) throw new ReferenceError(bad);
    ref.digest = m[3];
  }
  return ref;
}

/** reference.ParseAnyReference: an image id (64 hex, or a valid `algo:hex` digest) or a name. */
export function parseAnyReference(s: string): ImageReference {
  if (IDENTIFIER.test(s)) return { kind: 'id', id: `sha256:${s}` };
  if (validateDigest(s) === undefined) return { kind: 'id', id: s };
  return parseNormalizedNamed(s);
}

/** reference.TagNameOnly: a name without tag or digest gets `latest`. */
export function tagNameOnly(ref: NamedRef): NamedRef {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
}

/** The canonical string: `domain/path[:tag][@digest]`. */
export function canonical(ref: NamedRef): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** reference.FamiliarString: without `docker.io/` and `library/`. */
export function familiar(ref: NamedRef): string {
  let name = ref.name;
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice('library/'.length) : ref.path;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
