/**
 * Image references and images as the engine resolves them (pure): docker/cli's content trust
 * switch, the reference as typed, and whether an inspected image really carries a name (an image
 * the engine found by an id prefix does not).
 */
import { UsageError } from '../errors.js';
import { canonical, type ImageReference, type NamedRef, parseAnyReference, parseNormalizedNamed, ReferenceError, tagNameOnly } from './reference.js';

/**
 * docker/cli's content trust switch: DOCKER_CONTENT_TRUST is on when set to anything that
 * strconv.ParseBool does not read as false (`yes` is on), and `--disable-content-trust`
 * defaults to its negation, so `--disable-content-trust=false` turns it on as well.
 */
export function contentTrustEnabled(env: Record<string, string | undefined>, disableFlag: boolean | undefined): boolean {
  if (disableFlag !== undefined) return !disableFlag;
  const e = env.DOCKER_CONTENT_TRUST;
  if (e === undefined || e === '') return false;
  return !['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(e);
}

/** The image as typed, read as docker reads it; a reference docker could not read is refused. */
export function parseTyped(typed: string): ImageReference {
  try {
    return parseAnyReference(typed);
  } catch (err) {
    if (err instanceof ReferenceError) throw new UsageError(`image ${JSON.stringify(typed)}: ${err.message}`);
    throw err;
  }
}

/** What the engine said about the image: its id and the names it carries. */
export interface ResolvedImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
}

/** The image's repository digests, parsed (entries docker could not read are left out). */
export function repoDigestsOf(image: ResolvedImage): NamedRef[] {
  const out: NamedRef[] = [];
  for (const d of image.RepoDigests ?? []) {
    try {
      const r = parseNormalizedNamed(d);
      if (r.digest) out.push(r);
    } catch {
      // not a reference
    }
  }
  return out;
}

/** Is `image` really what the name `ref` names (and not an image found by an id prefix)? */
export function carriesName(ref: NamedRef, image: ResolvedImage): boolean {
  if (ref.digest !== undefined) return repoDigestsOf(image).some((r) => r.name === ref.name && r.digest === ref.digest);
  const want = canonical(tagNameOnly(ref));
  return (image.RepoTags ?? []).some((t) => {
    try {
      return canonical(tagNameOnly(parseNormalizedNamed(t))) === want;
    } catch {
      return false;
    }
  });
}

