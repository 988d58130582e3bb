/**
 * The image trust step of `sdocker run`/`create` (the shell around the pure policy/image-trust.ts
 * and trust/lock.ts):
 *
 * 1. before anything is pulled: Docker Content Trust, the allowlist and requireDigest on the
 *    reference as typed (trustBeforePull);
 * 2. once the image is known (inspected, pulled if need be): a reference the engine resolved as an
 *    id, and sdocker.lock (afterImage): the image must be the one the lock pins, or the lock is
 *    written on first use (or moved with --update-lock); the create is pinned to that image
 *    (NAME@digest, or the image id of a local-only image);
 * 3. the lock is written only when the run goes ahead (commit), never by a dry run or a refusal.
 */
import type { ProcessIO } from '../io/process-io.js';
import type { ImageInspect } from '../api/types.js';
import { PolicyError } from '../errors.js';
import type { RunRequest } from '../flags/request.js';
import { effectiveMode } from '../policy/profile-effective.js';
import { rule } from '../policy/rules.js';
import type { EffectiveProfile, PolicyMode, PolicyOutcome, Violation } from '../policy/types.js';
import { judgeBeforePull, judgeResolved } from '../policy/image-trust.js';
import { carriesName, contentTrustEnabled } from '../trust/image.js';
import { type LockEntries, type Pin, pinMatches, pinnedImage, pinOf } from '../trust/lock.js';
import { lockPath, readLock, writeLock } from '../trust/lock-file.js';
import type { ImageTrust } from '../trust/profile-images.js';
import { canonical, type ImageReference, type NamedRef, tagNameOnly } from '../trust/reference.js';

type PolicyModule = typeof import('./run-policy.js');

/** What the image trust step decided once the image is known. */
export interface TrustAfterImage {
  violations: Violation[];
  /** The image to create from (NAME@digest or the id), when the lock pins one. */
  pinned?: string;
}

export class TrustStep {
  private pending: { key: string; pin: Pin } | undefined;
  constructor(
    readonly ref: ImageReference,
    readonly mode: PolicyMode,
    /** Violations found before the pull that did not refuse (warn, audit, dry run): they join the outcome. */
    readonly early: Violation[],
    readonly trust: ImageTrust | undefined,
    readonly lock: { path: string; entries: LockEntries } | undefined,
  ) {}

  /** Whether the step needs the engine's real image (so remembered image facts must not stand in). */
  get needsImage(): boolean {
    return this.trust !== undefined;
  }

  /** Judge the image the engine has for the reference; nothing is written yet. */
  afterImage(req: RunRequest, image: ImageInspect | undefined, io: ProcessIO): TrustAfterImage {
    this.pending = undefined;
    const out: TrustAfterImage = { violations: [...this.early] };
    if (!image?.Id) return out;
    const resolved = { Id: image.Id, RepoTags: image.RepoTags ?? null, RepoDigests: image.RepoDigests ?? null };
    out.violations.push(...judgeResolved(req.image, this.ref, resolved, this.trust));
    const ref = this.ref;
    if (!this.lock || ref.kind !== 'named' || ref.digest !== undefined || !carriesName(ref, resolved)) return out;
    const named: NamedRef = tagNameOnly(ref);
    const key = canonical(named);
    const locked = this.lock.entries.get(key);
    const seen = pinOf(named, resolved);
    if (locked && pinMatches(locked, named, resolved)) {
      out.pinned = pinnedImage(named, locked, resolved);
    } else if (!locked || req.sdocker.updateLock) {
      this.pending = { key, pin: seen };
      out.pinned = pinnedImage(named, seen, resolved);
      if (locked) io.stderr.write(`sdocker: ${this.lock.path}: ${key} moves from ${locked.kind} ${locked.value} to ${seen.kind} ${seen.value} (--update-lock)\n`);
    } else {
      const r = rule('SD-IMG-003');
      out.violations.push({
        rule: r.id, guideline: r.guideline, field: 'Image', value: req.image, flag: 'image', subject: req.image, why: r.why, allowWith: [],
        details: [
          `${this.lock.path}: ${key} is pinned to ${locked.kind} ${locked.value}`,
          `the engine's image for it now is ${seen.kind} ${seen.value} (image ${image.Id})`,
          'to accept the new image: sdocker run --update-lock ...',
        ],
      });
    }
    return out;
  }

  /** The run goes ahead: write the lock entry found on first use or moved by --update-lock. */
  commit(): void {
    if (!this.lock || !this.pending) return;
    // Read again just before the write: another run may have added entries meanwhile.
    const entries = readLock(this.lock.path);
    entries.set(this.pending.key, this.pending.pin);
    writeLock(this.lock.path, entries);
    this.pending = undefined;
  }

  /**
   * Between the facts and the decision: judge the image, pin the request to it (not in audit
   * mode, which sends the request as typed), and return the violations to join the outcome.
   */
  apply(req: RunRequest, image: ImageInspect | undefined, io: ProcessIO): Violation[] {
    const found = this.afterImage(req, image, io);
    if (found.pinned && this.mode !== 'audit') req.body.Image = found.pinned;
    return found.violations;
  }

  /** Add the trust violations to the policy's outcome (enforce refuses; DCT refuses in every mode). */
  join(outcome: PolicyOutcome, violations: Violation[]): void {
    if (violations.length === 0) return;
    outcome.violations.unshift(...violations);
    if (outcome.mode === 'enforce' || violations.some((v) => v.rule === 'SD-IMG-004')) outcome.refused = true;
  }
}

function projectProfile(profile: EffectiveProfile): string | undefined {
  return profile.sources.find((s) => s.role === 'project')?.path;
}

/**
 * Before any pull. Returns undefined when neither content trust nor an `images:` policy is in
 * force (nothing changes then). A refusal (enforce, or content trust in any mode) is explained,
 * recorded and thrown as PolicyError, except in a dry run (the violations join its outcome).
 */
export function trustBeforePull(req: RunRequest, profile: EffectiveProfile, io: ProcessIO, policy: PolicyModule): TrustStep | undefined {
  const dct = contentTrustEnabled(io.env, req.sdocker.disableContentTrust);
  const trust = profile.images;
  if (!dct && !trust) return undefined;
  const mode = effectiveMode(req.sdocker.policyMode, profile);
  const { ref, violations } = judgeBeforePull(req.image, trust, dct);
  const refused = violations.some((v) => v.rule === 'SD-IMG-004') || (mode === 'enforce' && violations.length > 0);
  if (violations.length > 0 && (!req.sdocker.dryRun || profile.unconfined)) {
    const outcome: PolicyOutcome = { body: req.body, changes: [], violations, allowances: [], createDirs: [], mode, refused, applied: false };
    // Warnings of a confined run are printed with the policy's own (they join its outcome).
    if (refused || (mode === 'warn' && profile.unconfined)) (refused && req.sdocker.output === 'json' ? io.stdout : io.stderr).write(policy.explain(req, profile, outcome));
    if (refused) {
      policy.record({ req, profile, io, outcome, event: 'refused' });
      throw new PolicyError('');
    }
  }
  let lock: { path: string; entries: LockEntries } | undefined;
  if (trust?.lock && ref.kind === 'named' && ref.digest === undefined) {
    const path = lockPath(projectProfile(profile), io.cwd);
    lock = { path, entries: readLock(path) };
  }
  return new TrustStep(ref, mode, violations, trust, lock);
}
