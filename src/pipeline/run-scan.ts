/**
 * The run path's use of the image scan (issue 10, part 6): the setuid-root files of the image to
 * run, for the policy (SD-NNP-002) and the run record.
 *
 * When it scans: a result is cached per image id (src/scan/cache.ts; an id never changes content,
 * so a result never goes stale) and used whenever present, at every level but privileged. Without
 * one, only `restricted` scans, on the first run of that image id, and what it may cost depends on
 * whether the decision depends on it:
 * - no-new-privileges lifted (a profile's allow.newPrivileges and `no-new-privileges=false`): the
 *   run is allowed only if the image has no setuid-root file, so it is scanned whatever the cost
 *   (in place when the engine is local, else streamed out of it: seconds for a large image);
 * - no-new-privileges set (the level's default): the answer changes nothing but the record, so it
 *   is scanned only in place (src/scan/local.ts: under a second for the 405 MB postgres image);
 *   when that is not possible (not root, a remote engine) the record says 'not-scanned' and how to
 *   fill the cache (`sdocker scan IMAGE`), instead of streaming the image on every first run.
 * A scan that fails is 'unknown': the run goes on when no-new-privileges is set anyway, and is
 * refused when it is not (sdocker cannot tell what it would let through).
 */
import type { EngineApi } from '../engine/api.js';
import { HttpEngineApi } from '../engine/http-api.js';
import type { ImageInspect } from '../api/types.js';
import { findingsOf } from '../scan/findings.js';
import { readScanCache, writeScanCache } from '../scan/cache.js';
import { securityOf } from '../policy/invariants.js';
import { setuidRootFiles } from '../policy/setuid-nnp.js';
import type { EffectiveProfile, PolicyOutcome } from '../policy/types.js';
import type { ProcessIO } from '../io/process-io.js';

export interface SetuidFacts {
  /** The setuid-root regular files; 'unknown' when the scan failed; 'not-scanned' when it was not needed and not cheap. */
  files: string[] | 'unknown' | 'not-scanned';
  source: 'cache' | 'scan' | 'none';
  error?: string;
  /** For the run record, with 'not-scanned'. */
  note?: string;
}

export async function setuidFilesFor(api: EngineApi, profile: EffectiveProfile, image: ImageInspect | undefined, io: ProcessIO, outcome?: PolicyOutcome): Promise<SetuidFacts | undefined> {
  if (profile.unconfined || profile.level === 'privileged') return undefined;
  if (!image?.Id) return profile.level === 'restricted' ? { files: 'unknown', source: 'scan', error: 'the image is not known yet' } : undefined;
  const cached = readScanCache(io.env, image.Id);
  if (cached) return { files: setuidRootFiles(cached.findings), source: 'cache' };
  if (profile.level !== 'restricted') return undefined;
  const decides = !outcome || !securityOf(outcome.body.HostConfig.SecurityOpt ?? []).nnp;
  // Loaded on a cache miss only: the readers load tar-stream and its four packages (~15 ms of every run's start-up).
  const [{ readLayers }, { LocalUnavailable }] = await Promise.all([import('../scan/scan.js'), import('../scan/local.js')]);
  try {
    // The scan reads the image's layers (in place, or streamed out): only the engine on node:http gives them (not the unit tests' fake).
    if (!(api instanceof HttpEngineApi)) throw new Error('this engine connection cannot read image layers');
    const { image: ordered } = await readLayers(api.client, image.Id, decides ? 'auto' : 'local');
    const findings = findingsOf(ordered);
    writeScanCache(io.env, { id: image.Id, diffIds: ordered.diffIds, findings });
    return { files: setuidRootFiles(findings), source: 'scan' };
  } catch (err) {
    if (!decides && err instanceof LocalUnavailable) {
      return { files: 'not-scanned', source: 'none', note: `no-new-privileges is set, so the image's files were not streamed out of the engine to be scanned (${err.message}); \`sdocker scan ${image.Id}\` fills the cache` };
    }
    return { files: 'unknown', source: 'scan', error: (err as Error).message };
  }
}
