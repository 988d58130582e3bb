/**
 * A volume about to be created, judged as `run` judges a volume it would create (pure): one
 * `--mount` of it through applyPolicy, keeping the mount rules' violations (driver, driver
 * options: binds and kernel filesystems as host paths, SD-MNT-006 otherwise). Used by
 * `sdocker volume create` (src/cli/volume-create.ts) and the door's POST /volumes/create.
 */
import type { CreateBody } from '../../api/types.js';
import { applyPolicy } from '../apply.js';
import { allowPaths } from '../paths.js';
import { effectiveMode } from '../profile-effective.js';
import { resolveHostPaths } from '../resolve-paths.js';
import type { EffectiveProfile, EngineFacts, PolicyMode, Violation } from '../types.js';

export interface VolumeSpec {
  name?: string;
  driver: string;
  opts: Record<string, string>;
}

/** The volume as `run` would create it: one --mount of it. */
export function volumeBody(v: VolumeSpec): CreateBody {
  return {
    Image: '',
    HostConfig: {
      Mounts: [{ Type: 'volume', Target: '/volume', ...(v.name ? { Source: v.name } : {}), VolumeOptions: { DriverConfig: { Name: v.driver, Options: v.opts } } }],
    },
  } as CreateBody;
}

/** Nothing to judge: the local driver without options is a plain directory under the engine's root. */
export function volumeNeedsJudging(v: VolumeSpec): boolean {
  return !(v.driver === 'local' && Object.keys(v.opts).length === 0);
}

/** The mount rules' violations for this volume, and the mode they are enforced in. */
export function judgeVolume(v: VolumeSpec, profile: EffectiveProfile, engine: EngineFacts, cwd: string): { violations: Violation[]; mode: PolicyMode } {
  const body = volumeBody(v);
  const mode = effectiveMode(undefined, profile);
  const outcome = applyPolicy({
    body, image: undefined, engine, profile, mode, hostPaths: resolveHostPaths(body, {}, cwd, allowPaths(profile.allow)), namedVolumes: {},
  });
  return { violations: outcome.violations.filter((x) => x.rule.startsWith('SD-MNT-')), mode };
}
