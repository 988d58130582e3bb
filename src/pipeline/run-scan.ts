/**
 * The run path's use of the image scan (issue 10, part 6): the setuid-root files of the image to
 * run, for the policy (SD-NNP-002) and the run record.
 *
 * When it scans: a result is cached per image id (src/scan/cache.ts; an id never changes content,
 * so a result never goes stale) and used whenever present, at every level but privileged. Without
 * one, only `restricted` scans, once, on the first run of that image id: streaming a 400 MB image
 * out of the engine takes seconds (README, "Image scan"), too much to pay on every first run at
 * every level, and restricted is the level that promises to know. `sdocker scan IMAGE` fills the
 * cache ahead of time. A scan that fails is 'unknown': the run goes on when no-new-privileges is
 * set anyway, and is refused when it is not (sdocker cannot tell what it would let through).
 */
import type { EngineApi } from '../engine/api.js';
import { HttpEngineApi } from '../engine/http-api.js';
import type { ImageInspect } from '../api/types.js';
import { findingsOf } from '../scan/findings.js';
import { readScanCache, writeScanCache } from '../scan/cache.js';
import { readImage } from '../scan/scan.js';
import { setuidRootFiles } from '../policy/setuid-nnp.js';
import type { EffectiveProfile } from '../policy/types.js';
import type { ProcessIO } from '../io/process-io.js';

export interface SetuidFacts {
  /** The setuid-root regular files, or 'unknown' when the image could not be scanned. */
  files: string[] | 'unknown';
  source: 'cache' | 'scan';
  error?: string;
}

export async function setuidFilesFor(api: EngineApi, profile: EffectiveProfile, image: ImageInspect | undefined, io: ProcessIO): Promise<SetuidFacts | undefined> {
  if (profile.unconfined || profile.level === 'privileged') return undefined;
  if (!image?.Id) return profile.level === 'restricted' ? { files: 'unknown', source: 'scan', error: 'the image is not known yet' } : undefined;
  const cached = readScanCache(io.env, image.Id);
  if (cached) return { files: setuidRootFiles(cached.findings), source: 'cache' };
  if (profile.level !== 'restricted') return undefined;
  try {
    // The scan streams the image's archive: only the engine on node:http has it (not the unit tests' fake).
    if (!(api instanceof HttpEngineApi)) throw new Error('this engine connection cannot export images');
    const { image: ordered } = await readImage(api.client, image.Id);
    const findings = findingsOf(ordered);
    writeScanCache(io.env, { id: image.Id, diffIds: ordered.diffIds, findings });
    return { files: setuidRootFiles(findings), source: 'scan' };
  } catch (err) {
    return { files: 'unknown', source: 'scan', error: (err as Error).message };
  }
}
