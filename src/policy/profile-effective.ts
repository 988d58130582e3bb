/**
 * The effective profile of a run: the level's chain, then the project's files (outermost last)
 * merged (profile-merge.ts), then each floor over them (profile-floor.ts), defaults resolved and
 * kept within the limits. Validation of one file is profile.ts. Pure.
 */
import { UsageError } from '../errors.js';
import { clampDefaults, mergeLimits, resolveLimits } from './limits.js';
import { isLoopbackHostIp } from './loopback.js';
import { applyFloor } from './profile-floor.js';
import { levelChain, mergeAllow, mergeDefaults, withSource, type FloorInput } from './profile-merge.js';
import { ramSize } from './sizes.js';
import { MODE_STRENGTH } from './types.js';
import { mergeImages } from '../trust/profile-images.js';
import type {
  AllowSpec, EffectiveProfile, LevelName, PolicyMode, ProfileDefaults, ProfileFile, ProfileLimits, ProfileSource, ResolvedDefaults,
} from './types.js';

function resolveDefaults(d: ProfileDefaults): ResolvedDefaults {
  const r: ResolvedDefaults = {
    user: d.user ?? '65534:65534',
    tmpfs: d.tmpfs ?? [{ path: '/tmp', size: '64m' }],
    memory: ramSize(d.memory ?? '1g') ?? 1024 ** 3,
    nanoCpus: Math.round((d.cpus ?? 2) * 1e9),
    pids: d.pids ?? 512,
    log: { maxSize: d.log?.maxSize ?? '10m', maxFile: d.log?.maxFile ?? 3 },
    seccomp: d.seccomp ?? 'default',
    portAddress: d.portAddress ?? '127.0.0.1',
    ulimits: d.ulimits ?? [],
  };
  if (d.runtime) r.runtime = d.runtime;
  if (d.capabilities?.length) r.capabilities = d.capabilities;
  if (d.healthcheck) r.healthcheck = d.healthcheck;
  return r;
}

export interface MergeInput {
  /** The project chain, outermost last: e.g. [extended.yaml, sdocker.yaml]. Empty: the level alone. */
  chain: ProfileFile[];
  /** The built-in level at the root (from the chain's `extends`, or `--policy LEVEL`). */
  level: LevelName;
  /** Floors (machine floor, then any added by SDOCKER_FLOOR): each a ceiling on the allowances. */
  floors?: FloorInput[];
  sources: ProfileSource[];
}

export function mergeProfiles(input: MergeInput): EffectiveProfile {
  const files = [...levelChain(input.level), ...input.chain].map(withSource);
  let defaults: ProfileDefaults = {};
  let allow: AllowSpec = {};
  let limits: ProfileLimits = {};
  let mode: PolicyMode | undefined;
  for (const f of files) {
    defaults = mergeDefaults(defaults, f.defaults);
    allow = mergeAllow(allow, f.allow);
    limits = mergeLimits(limits, f.limits);
    if (f.mode) mode = f.mode;
    // audit.log: only a floor moves the run record (a project's is refused by the loader).
  }
  const eff: EffectiveProfile = {
    level: input.level,
    unconfined: input.level === 'privileged',
    defaults: resolveDefaults(defaults),
    limits: resolveLimits(limits),
    allow,
    floorDenied: [],
    sources: input.sources,
    minMode: 'audit',
  };
  if (mode) eff.mode = mode;
  for (const fl of input.floors ?? []) applyFloor(eff, fl, input.level);
  eff.defaults = clampDefaults(eff.defaults, eff.limits);
  // images: the floor's allowlist caps the project's (an image must match both).
  const images = mergeImages(files, input.floors ?? []);
  if (images) eff.images = images;
  if (!isLoopbackOrAllowed(eff.defaults.portAddress, eff.allow)) {
    throw new UsageError(`defaults.portAddress ${eff.defaults.portAddress} is not allowed: list it under allow.portAddresses with a reason`);
  }
  return eff;
}

function isLoopbackOrAllowed(addr: string, allow: AllowSpec): boolean {
  return isLoopbackHostIp(addr) || (allow.portAddresses ?? []).some((a) => a.address === addr);
}

/** Resolve the mode of a run: the flag, else the profile's, else enforce; never below the floor's. */
export function effectiveMode(flag: PolicyMode | undefined, profile: EffectiveProfile): PolicyMode {
  const want = flag ?? profile.mode ?? 'enforce';
  return MODE_STRENGTH[want] < MODE_STRENGTH[profile.minMode] ? profile.minMode : want;
}
