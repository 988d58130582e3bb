/**
 * sdocker.lock: each image reference (normalised `domain/path:tag`) pinned to the image it named
 * the first time it ran. Parsing, checking and writing the text; pure (the file I/O is
 * lock-file.ts).
 *
 *   # comment
 *   docker.io/library/alpine:3.19 digest sha256:<64 hex>
 *   127.0.0.1:5000/team/app:dev id sha256:<64 hex>
 *
 * `digest`: the registry's manifest digest (the image's RepoDigests entry for that repository),
 * for an image that came from a registry: the same on every machine, and the run is created from
 * `NAME@digest`. `id`: the image id (sha256 of its configuration), for a local-only image (built
 * or loaded, never pulled or pushed): it has no manifest digest.
 */
import { UsageError } from '../errors.js';
import { repoDigestsOf, type ResolvedImage } from './image.js';
import { canonical, type NamedRef, parseNormalizedNamed, ReferenceError, validateDigest } from './reference.js';

export type PinKind = 'digest' | 'id';

export interface Pin {
  kind: PinKind;
  /** `sha256:<hex>`. */
  value: string;
}

/** Canonical reference → pin. */
export type LockEntries = Map<string, Pin>;

export const LOCK_NAME = 'sdocker.lock';
const HEADER = [
  '# sdocker.lock: the image each reference named when it first ran; a run whose image differs is refused',
  '# (SD-IMG-003) unless run with --update-lock. Commit it with sdocker.yaml. Written by sdocker.',
  '# REFERENCE  digest|id  sha256:...   (digest: the registry manifest digest; id: a local-only image id)',
];

/** Parse the lock's text; errors name `file:line` and never quote the file. */
export function parseLock(text: string, file: string): LockEntries {
  const out: LockEntries = new Map();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const fields = line.split(/[ \t]+/);
    if (fields.length !== 3) throw new UsageError(`${where}: expected three fields: REFERENCE digest|id sha256:<hex>`);
    const [ref, kind, value] = fields as [string, string, string];
    let parsed: NamedRef;
    try {
      parsed = parseNormalizedNamed(ref);
    } catch (err) {
      if (err instanceof ReferenceError) throw new UsageError(`${where}: the reference is not valid: ${err.message.replace(/\(.*\)/, '(...)')}`);
      throw err;
    }
    if (parsed.tag === undefined || parsed.digest !== undefined || canonical(parsed) !== ref) {
      throw new UsageError(`${where}: the reference must be normalised with its tag and no digest (e.g. docker.io/library/alpine:latest)`);
    }
    if (kind !== 'digest' && kind !== 'id') throw new UsageError(`${where}: the second field must be digest or id`);
    const bad = validateDigest(value);
    if (bad) throw new UsageError(`${where}: the third field is not a digest: ${bad}`);
    if (out.has(ref)) throw new UsageError(`${where}: a second entry for the same reference`);
    out.set(ref, { kind, value });
  });
  return out;
}

export function serializeLock(entries: LockEntries): string {
  const lines = [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([r, p]) => `${r} ${p.kind} ${p.value}`);
  return `${[...HEADER, ...lines].join('\n')}\n`;
}

/** The pin for `image` under the tagged reference `ref`: its manifest digest for that repository, else its id. */
export function pinOf(ref: NamedRef, image: ResolvedImage): Pin {
  const digest = repoDigestsOf(image).find((r) => r.name === ref.name)?.digest;
  return digest ? { kind: 'digest', value: digest } : { kind: 'id', value: image.Id };
}

/** Does `image` match the pin? A digest pin: one of its manifest digests for the repository. */
export function pinMatches(pin: Pin, ref: NamedRef, image: ResolvedImage): boolean {
  if (pin.kind === 'id') return image.Id === pin.value;
  return repoDigestsOf(image).some((r) => r.name === ref.name && r.digest === pin.value);
}

/** What the engine is asked to create from, so a tag moved after the check cannot slip in. */
export function pinnedImage(ref: NamedRef, pin: Pin, image: ResolvedImage): string {
  return pin.kind === 'digest' ? `${ref.name}@${pin.value}` : image.Id;
}
