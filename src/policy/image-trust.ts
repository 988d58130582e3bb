/**
 * The image trust decisions (pure; src/trust reads the references, this file judges them): before any pull, on the reference as typed (the allowlist,
 * requireDigest, Docker Content Trust); after the image is known, on what the engine really
 * resolved (a name the engine resolved as an image-id prefix is judged as an id).
 */
import { rule, type RuleId } from './rules.js';
import type { Violation } from './types.js';
import { carriesName, parseTyped, repoDigestsOf, type ResolvedImage } from '../trust/image.js';
import { firstMatch } from '../trust/patterns.js';
import type { ImageTrust } from '../trust/profile-images.js';
import { canonical, type ImageReference, tagNameOnly } from '../trust/reference.js';

function violation(id: RuleId, typed: string, subject: string, details: string[], floorBlocked?: string): Violation {
  const r = rule(id);
  const v: Violation = { rule: r.id, guideline: r.guideline, field: 'Image', value: typed, flag: 'image', subject: typed, why: r.why, allowWith: r.allow(subject), details };
  if (floorBlocked) v.floorBlocked = floorBlocked;
  return v;
}

/** The allowlists `name` fails (the project's, then each floor's); empty when it is allowed. */
function allowlistFailures(trust: ImageTrust, name: string): { source: string; byFloor: boolean }[] {
  const out: { source: string; byFloor: boolean }[] = [];
  if (trust.allow && !firstMatch(trust.allow.patterns, name)) out.push({ source: trust.allow.source, byFloor: false });
  for (const f of trust.floors) if (!firstMatch(f.patterns, name)) out.push({ source: f.source, byFloor: true });
  return out;
}

function allowlistViolation(typed: string, name: string, trust: ImageTrust, what: string): Violation | undefined {
  const failed = allowlistFailures(trust, name);
  if (failed.length === 0) return undefined;
  const floor = failed.find((f) => f.byFloor);
  return violation('SD-IMG-001', typed, name, [`${what}; not matched by the allowlist of ${failed.map((f) => f.source).join(', ')}`], floor?.source);
}

/**
 * Before anything is pulled or created: DCT (docker's rule: a reference that carries a tag after
 * TagNameOnly needs a signature; an id or NAME@digest does not), the allowlist on the normalised
 * name, requireDigest. An id is judged after inspect (judgeResolved).
 */
export function judgeBeforePull(typed: string, trust: ImageTrust | undefined, contentTrust: boolean): { ref: ImageReference; violations: Violation[] } {
  const ref = parseTyped(typed);
  const violations: Violation[] = [];
  if (ref.kind === 'named') {
    const named = tagNameOnly(ref);
    if (contentTrust && named.tag !== undefined) {
      violations.push(violation('SD-IMG-004', typed, canonical(named), [
        `${canonical(named)}: the tag's signature would be checked with a notary server; sdocker does not (docker itself fails here without one: "error contacting notary server")`,
        'to run it: pass --disable-content-trust, or unset DOCKER_CONTENT_TRUST, or name the image by digest (NAME@sha256:...)',
      ]));
    }
    if (trust) {
      const v = allowlistViolation(typed, ref.name, trust, `normalised: ${canonical(named)}`);
      if (v) violations.push(v);
      if (trust.requireDigest && ref.digest === undefined) {
        violations.push(violation('SD-IMG-002', typed, ref.name, [`${trust.requireDigest} requires a digest: ${ref.name}@sha256:<digest>`], trust.requireDigestByFloor ? trust.requireDigest : undefined));
      }
    }
  }
  return { ref, violations };
}

/**
 * After the image is known: a reference by id, or a name the engine resolved as an id prefix
 * (`sdocker run 3f57d9` finds the image whose id starts so when no such repository is tagged), is
 * judged by where the image was pulled from: one of its repository digests must pass the
 * allowlist; requireDigest accepts a full id but not a prefix.
 */
export function judgeResolved(typed: string, ref: ImageReference, image: ResolvedImage, trust: ImageTrust | undefined): Violation[] {
  if (!trust) return [];
  if (ref.kind === 'named' && carriesName(ref, image)) return [];
  const what = ref.kind === 'id' ? `image id ${ref.id}` : `"${typed}" is no tag of this image: the engine found image ${image.Id} by an id prefix`;
  const out: Violation[] = [];
  if (trust.allow || trust.floors.length) {
    const names = [...new Set(repoDigestsOf(image).map((r) => r.name))];
    const ok = names.find((n) => allowlistFailures(trust, n).length === 0);
    if (!ok) {
      const v = allowlistViolation(typed, names[0] ?? image.Id, trust, `${what}, pulled from ${names.length ? names.join(', ') : 'no registry (a local image)'}`);
      // A local image has no repository an allowlist could name.
      if (v && names.length === 0) v.allowWith = [];
      if (v) out.push(v);
    }
  }
  // A named reference without a digest was already refused before the pull under requireDigest.
  return out;
}
