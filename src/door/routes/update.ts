/**
 * `POST /containers/{id}/update` judged as `sdocker update` is (src/policy/commands/update.ts,
 * reused: the body becomes the flags it stands for). What the engine (20.10, API 1.41) reads of
 * an update: the Resources fields it applies (memory, swap, reservation, kernel memory, CPUs,
 * quota, period, real-time, shares, cpusets, blkio weight, pids) and the RestartPolicy. A zero
 * means "unchanged" for every one of them but PidsLimit, where the API reads 0 (and any negative)
 * as unlimited (null is "unchanged"): it goes to the judge as `-1`. Every other field, set, is
 * refused (SD-DOOR-001): the engine ignores them today, and the door does not guess about tomorrow.
 */
import { UsageError } from '../../errors.js';
import { judgeUpdate } from '../../policy/commands/update.js';
import type { EffectiveProfile } from '../../policy/types.js';
import type { DoorRequest, Verdict } from '../types.js';
import { canonicalKeys, caseDuplicates, isObject, unknownFields } from './body.js';
import { cannotJudge, forwardJudged, verdictOf } from './verdict.js';

/** API field → the update flag that sets it (the value goes as the engine's number). */
const FLAG_OF: Record<string, string> = {
  Memory: 'memory', MemorySwap: 'memory-swap', MemoryReservation: 'memory-reservation', KernelMemory: 'kernel-memory',
  NanoCpus: 'cpus', CpuQuota: 'cpu-quota', CpuPeriod: 'cpu-period', CpuRealtimePeriod: 'cpu-rt-period',
  CpuRealtimeRuntime: 'cpu-rt-runtime', CpuShares: 'cpu-shares', CpusetCpus: 'cpuset-cpus', CpusetMems: 'cpuset-mems',
  BlkioWeight: 'blkio-weight', PidsLimit: 'pids-limit',
};
export const UPDATE_FIELDS: ReadonlySet<string> = new Set([...Object.keys(FLAG_OF), 'RestartPolicy']);

/** The `docker update` arguments an update body stands for. */
export function updateArgs(body: Record<string, unknown>): string[] | string {
  const args: string[] = [];
  for (const [field, flag] of Object.entries(FLAG_OF)) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (field === 'CpusetCpus' || field === 'CpusetMems') {
      if (typeof v !== 'string') return `${field} is not a string`;
      if (v !== '') args.push(`--${flag}=${v}`);
      continue;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return `${field} is not an integer`;
    if (field === 'PidsLimit') {
      args.push(`--${flag}=${v <= 0 ? -1 : v}`);
      continue;
    }
    if (v === 0) continue;
    if (field === 'NanoCpus') args.push(`--cpus=${v / 1e9}`);
    else args.push(`--${flag}=${v}`);
  }
  const rp = body.RestartPolicy;
  if (rp !== undefined && rp !== null) {
    if (!isObject(rp)) return 'RestartPolicy is not an object';
    const r = canonicalKeys(rp, new Set(['Name', 'MaximumRetryCount']));
    const unknown = unknownFields(r, new Set(['Name', 'MaximumRetryCount']), 'RestartPolicy.');
    if (unknown.length) return `unknown field ${unknown.join(', ')}`;
    const name = r.Name ?? '';
    if (typeof name !== 'string') return 'RestartPolicy.Name is not a string';
    if (name !== '') args.push(`--restart=${name}${typeof r.MaximumRetryCount === 'number' && r.MaximumRetryCount > 0 ? `:${r.MaximumRetryCount}` : ''}`);
  }
  return args;
}

export function judgeUpdateRequest(req: DoorRequest, profile: EffectiveProfile, warn?: (t: string) => void): Verdict {
  if (profile.unconfined) return { action: 'pass' };
  const raw = req.body;
  if (!isObject(raw)) return cannotJudge('POST /containers/{id}/update: the body is not a JSON object');
  const dup = caseDuplicates(raw);
  if (dup.length) return cannotJudge(`update: a field given twice in different case: ${dup.join(', ')}`);
  const body = canonicalKeys(raw, UPDATE_FIELDS);
  const unknown = unknownFields(body, UPDATE_FIELDS);
  if (unknown.length) return cannotJudge(`update: the door does not judge ${unknown.join(', ')}`);
  const args = updateArgs(body);
  if (typeof args === 'string') return cannotJudge(`update: ${args}`);
  try {
    const j = judgeUpdate(args, profile);
    const prov = new Map<string, string[]>();
    for (const [field, flag] of Object.entries(FLAG_OF)) if (body[field] !== undefined && body[field] !== null) prov.set(flag, [`${field}: ${JSON.stringify(body[field])} (update --${flag})`]);
    if (isObject(body.RestartPolicy)) prov.set('restart', [`RestartPolicy: ${JSON.stringify(body.RestartPolicy)} (update --restart)`]);
    return forwardJudged(verdictOf(j.violations, prov, profile, 'update', warn), body);
  } catch (err) {
    if (err instanceof UsageError) return cannotJudge(`update: ${err.message}`);
    throw err;
  }
}
