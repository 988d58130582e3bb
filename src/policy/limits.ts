/**
 * Maxima (`limits:` in a profile) and the limits as the engine will apply them. Pure.
 *
 * - Profile side: validating `limits:`, merging the level's and the project's (the later replaces),
 *   capping them by each floor's (the lower wins; log drivers: the intersection), and keeping the
 *   defaults within them.
 * - Request side: the CPU quota and period the engine derives from NanoCpus / CpuQuota / CpuPeriod,
 *   and the json-file / local rotation options read as the logging drivers read them.
 */
import { parseGoInt, parseHumanSize } from '../flags/values/go-numbers.js';
import type { HostConfig } from '../api/types.js';
import { logSize, ramSize } from './sizes.js';
import type { LimitKey, ProfileLimits, ResolvedDefaults, ResolvedLimits } from './types.js';

/** When no level or profile says otherwise. */
const FALLBACK: Omit<ResolvedLimits, 'floor'> = {
  memory: 16 * 1024 ** 3, cpus: 16, pids: 4096, logMaxSize: 100e6, logMaxFile: 10, logDrivers: ['json-file', 'local', 'journald'],
};

/**
 * Validate one profile's `limits:`; returns an error message per bad key (the caller adds file:line).
 */
export function validateLimits(v: Record<string, unknown>): { limits: ProfileLimits; errors: [string, string][] } {
  const out: ProfileLimits = {};
  const errors: [string, string][] = [];
  for (const [k, val] of Object.entries(v)) {
    switch (k) {
      case 'memory':
      case 'logMaxSize': {
        const n = k === 'memory' ? ramSize(val) : logSize(val);
        if (n === undefined || n <= 0) errors.push([k, 'must be a size above 0 (e.g. 16g, 100m)']);
        else out[k] = String(val);
        break;
      }
      case 'cpus':
        if (typeof val !== 'number' || !(val > 0)) errors.push([k, 'must be a number above 0']);
        else out.cpus = val;
        break;
      case 'pids':
      case 'logMaxFile':
        if (typeof val !== 'number' || !Number.isInteger(val) || val < 1) errors.push([k, 'must be a whole number above 0']);
        else out[k] = val;
        break;
      case 'logDrivers':
        if (!Array.isArray(val) || val.some((d) => typeof d !== 'string' || !/^[a-z0-9_.:/-]+$/i.test(d))) errors.push([k, 'must be a list of logging driver names']);
        else out.logDrivers = val as string[];
        break;
      default:
        errors.push([k, 'unknown key (expected memory, cpus, pids, logMaxSize, logMaxFile, logDrivers)']);
    }
  }
  return { limits: out, errors };
}

/** The later file's maxima replace the earlier's, key by key. */
export function mergeLimits(a: ProfileLimits, b: ProfileLimits | undefined): ProfileLimits {
  return b ? { ...a, ...b } : a;
}

export function resolveLimits(l: ProfileLimits): ResolvedLimits {
  return {
    memory: ramSize(l.memory) ?? FALLBACK.memory,
    cpus: l.cpus ?? FALLBACK.cpus,
    pids: l.pids ?? FALLBACK.pids,
    logMaxSize: logSize(l.logMaxSize) ?? FALLBACK.logMaxSize,
    logMaxFile: l.logMaxFile ?? FALLBACK.logMaxFile,
    logDrivers: l.logDrivers ?? [...FALLBACK.logDrivers],
  };
}

/** A floor's maxima are a ceiling: the lower of the two wins; for log drivers, those both allow. */
export function capLimits(eff: ResolvedLimits, floor: ResolvedLimits, floorPath: string): ResolvedLimits {
  const out: ResolvedLimits = { ...eff, logDrivers: eff.logDrivers.filter((d) => floor.logDrivers.includes(d)), floor: { ...eff.floor } };
  for (const k of ['memory', 'cpus', 'pids', 'logMaxSize', 'logMaxFile'] as const) {
    if (floor[k] <= eff[k]) {
      out[k] = floor[k];
      if (floor[k] < eff[k] || out.floor![k] === undefined) out.floor![k] = floorPath;
    }
  }
  if (eff.logDrivers.some((d) => !floor.logDrivers.includes(d)) || out.floor!.logDrivers === undefined) out.floor!.logDrivers = floorPath;
  return out;
}

/** Defaults above a maximum come down to it (a floor's `limits: {memory: 512m}` lowers the 1g default). */
export function clampDefaults(d: ResolvedDefaults, l: ResolvedLimits): ResolvedDefaults {
  const out = { ...d, log: { ...d.log } };
  out.memory = Math.min(d.memory, l.memory);
  out.nanoCpus = Math.min(d.nanoCpus, Math.round(l.cpus * 1e9));
  out.pids = Math.min(d.pids, l.pids);
  out.log.maxFile = Math.min(d.log.maxFile, l.logMaxFile);
  if ((logSize(d.log.maxSize) ?? Infinity) > l.logMaxSize) out.log.maxSize = String(l.logMaxSize);
  return out;
}

/** `memory: 16g` as a profile line, for messages. */
export function formatBytes(n: number): string {
  for (const [u, m] of [['t', 1024 ** 4], ['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (n >= m && n % m === 0) return `${n / m}${u}`;
  }
  return String(n);
}

// ---------------------------------------------------------------------------------------------
// The request, as the engine applies it

/** The kernel's and the engine's default CFS period (100ms, in µs). */
export const DEFAULT_CFS_PERIOD = 100_000;

/**
 * The CFS quota and period the container gets (moby daemon/oci_linux.go getCPUResources):
 * NanoCpus becomes quota = NanoCpus × 100000 / 1e9 (integer division) over a 100000 period, then a
 * non-zero CpuPeriod replaces the period and a non-zero CpuQuota the quota. runc writes a quota
 * of 0 not at all and the kernel reads any negative quota as -1: both mean no limit. `set`: whether
 * any of the three was given.
 */
export function effectiveCpu(hc: Pick<HostConfig, 'NanoCpus' | 'CpuQuota' | 'CpuPeriod'>): { quota: number; period: number; set: boolean } {
  let quota = 0;
  let period = DEFAULT_CFS_PERIOD;
  const nano = hc.NanoCpus ?? 0;
  if (nano > 0) quota = Math.floor((nano * DEFAULT_CFS_PERIOD) / 1e9);
  if (hc.CpuPeriod) period = hc.CpuPeriod;
  if (hc.CpuQuota) quota = hc.CpuQuota;
  return { quota, period, set: nano !== 0 || !!hc.CpuQuota || !!hc.CpuPeriod };
}

/** The smallest quota the kernel accepts (1ms); a smaller positive one fails the start. */
export const MIN_CFS_QUOTA = 1000;

/** Go's strconv.Atoi (base 10, an optional sign, no prefixes or separators). */
function goAtoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  try {
    return parseGoInt(s, 64, false);
  } catch {
    return undefined;
  }
}

export interface LogVerdict {
  /** Problems, each with the option as typed and what the allowance line would be. */
  problems: { key: LimitKey; subject: string; why: string; allow: string }[];
}

/**
 * A log config judged as the engine will use it: the driver against the allowlist, and for
 * json-file and local, `max-size` as the drivers read it (go-units FromHumanSize: decimal
 * multipliers, `1t` = 10^12 bytes; it must be above 0 — local reads 0 as no limit) and
 * `max-file` (strconv.Atoi, at least 1), each within the maxima.
 */
export function judgeLogConfig(type: string, cfg: Record<string, string>, l: ResolvedLimits, typed = true): LogVerdict {
  const problems: LogVerdict['problems'] = [];
  // The engine's own default driver is the machine's configuration (trusted): only a typed one is judged.
  if (typed && !l.logDrivers.includes(type)) {
    problems.push({
      key: 'logDrivers',
      subject: `--log-driver ${type || '(none)'}`,
      why: type === 'none' ? 'the none driver discards every line the container writes' : `the logging driver ${type} is not one of ${l.logDrivers.join(', ')}`,
      allow: `logDrivers: [${[...l.logDrivers, type].join(', ')}]`,
    });
    return { problems };
  }
  if (type !== 'json-file' && type !== 'local') return { problems };
  const size = cfg['max-size'];
  if (size !== undefined) {
    let n: number | undefined;
    try {
      n = parseHumanSize(size);
    } catch {
      n = undefined;
    }
    if (n === undefined || n <= 0) {
      problems.push({ key: 'logMaxSize', subject: `max-size=${size}`, why: `${type} reads max-size=${size} as ${n === undefined ? 'an error at start' : 'no rotation'}`, allow: `logMaxSize: ${formatBytes(l.logMaxSize)}` });
    } else if (n > l.logMaxSize) {
      problems.push({ key: 'logMaxSize', subject: `max-size=${size}`, why: `max-size=${size} is ${n} bytes, above the maximum of ${l.logMaxSize}`, allow: `logMaxSize: ${size}` });
    }
  }
  const files = cfg['max-file'];
  if (files !== undefined) {
    const n = goAtoi(files);
    if (n === undefined || n < 1) {
      problems.push({ key: 'logMaxFile', subject: `max-file=${files}`, why: `max-file must be a whole number of at least 1`, allow: `logMaxFile: ${l.logMaxFile}` });
    } else if (n > l.logMaxFile) {
      problems.push({ key: 'logMaxFile', subject: `max-file=${files}`, why: `max-file=${files} is above the maximum of ${l.logMaxFile}`, allow: `logMaxFile: ${n}` });
    }
  }
  return { problems };
}

export type { LimitKey };
