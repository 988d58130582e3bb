/**
 * Image trust for the Engine API itself (the door of issue 12): `POST /images/create` names its
 * image in the query (`fromImage`, and `tag`, which may be a digest), as the engine reads it in
 * postImagesCreate; `fromSrc` imports a tarball that comes from no registry. Pure: the door's judge
 * calls judgeImageCreate with the effective profile's `images` and the content-trust switch.
 */
import { UsageError } from '../errors.js';
import { judgeBeforePull } from './image-trust.js';
import { rule } from './rules.js';
import type { Violation } from './types.js';
import type { ImageTrust } from '../trust/profile-images.js';
import { canonical, parseNormalizedNamed, ReferenceError, validateDigest } from '../trust/reference.js';

/** The reference `POST /images/create?fromImage=&tag=` pulls, in canonical form. */
export function imageCreateReference(query: URLSearchParams): string {
  const from = query.get('fromImage') ?? '';
  const tag = query.get('tag') ?? '';
  try {
    const ref = parseNormalizedNamed(from);
    if (tag === '') return canonical(ref);
    const base = { kind: ref.kind, domain: ref.domain, path: ref.path, name: ref.name };
    if (validateDigest(tag) === undefined) return canonical({ ...base, digest: tag });
    return canonical(parseNormalizedNamed(`${ref.name}:${tag}`));
  } catch (err) {
    if (err instanceof ReferenceError) throw new UsageError(`invalid reference format: ${err.message}`);
    throw err;
  }
}

/**
 * The trust violations of an image pull through the API: an import (`fromSrc`) has no registry, so
 * it fails any allowlist; a pull is judged as `sdocker run` judges its reference before the pull.
 */
export function judgeImageCreate(query: URLSearchParams, trust: ImageTrust | undefined, contentTrust: boolean): Violation[] {
  if (query.has('fromSrc')) {
    if (!trust || (!trust.allow && trust.floors.length === 0)) return [];
    const r = rule('SD-IMG-001');
    const v: Violation = {
      rule: r.id, guideline: r.guideline, field: 'fromSrc', value: query.get('fromSrc'), flag: 'fromSrc', subject: 'fromSrc', why: r.why, allowWith: [],
      details: ['an imported tarball comes from no registry: no allowlist can name it'],
    };
    const floor = trust.floors[0];
    if (floor) v.floorBlocked = floor.source;
    return [v];
  }
  return judgeBeforePull(imageCreateReference(query), trust, contentTrust).violations;
}
