/**
 * `POST /build` judged as `sdocker build` is (src/policy/commands/build.ts, reused: the query
 * becomes the flags it stands for). The query options of API 1.41 are known one by one; the ones
 * that can weaken a RUN step are `networkmode` (SD-BUILD-001), `cgroupparent` (SD-RES-004) and
 * the security options (SD-BUILD-002); an unknown option is refused (SD-DOOR-001). BuildKit's
 * entitlements arrive the same way (`networkmode=host`). The body (the build context) streams.
 */
import { UsageError } from '../../errors.js';
import { judgeBuild } from '../../policy/commands/build.js';
import type { EffectiveProfile } from '../../policy/types.js';
import type { DoorRequest, Verdict } from '../types.js';
import { cannotJudge, verdictOf } from './verdict.js';

/** API 1.41's query options of POST /build (moby api/server/router/build/build_routes.go). */
export const BUILD_QUERY: ReadonlySet<string> = new Set([
  'dockerfile', 't', 'extrahosts', 'remote', 'q', 'nocache', 'cachefrom', 'pull', 'rm', 'forcerm', 'memory', 'memswap',
  'cpushares', 'cpusetcpus', 'cpuperiod', 'cpuquota', 'buildargs', 'shmsize', 'squash', 'labels', 'networkmode', 'platform',
  'target', 'outputs', 'version', 'session', 'buildid', 'ulimits', 'isolation', 'cgroupparent', 'securityopt',
]);

export function buildArgs(query: URLSearchParams): string[] | string {
  const args: string[] = [];
  for (const key of new Set(query.keys())) {
    if (!BUILD_QUERY.has(key)) return `unknown query option ${JSON.stringify(key)}`;
  }
  // The engine reads the first value of each option (r.FormValue).
  const network = query.get('networkmode');
  if (network !== null) args.push(`--network=${network}`);
  const parent = query.get('cgroupparent');
  if (parent !== null) args.push(`--cgroup-parent=${parent}`);
  const secopt = query.get('securityopt');
  if (secopt !== null && secopt !== '' && secopt !== '[]' && secopt !== 'null') {
    let list: unknown;
    try {
      list = JSON.parse(secopt);
    } catch {
      list = [secopt];
    }
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) return 'securityopt is not a list of strings';
    for (const s of list as string[]) args.push(`--security-opt=${s}`);
  }
  args.push('.');
  return args;
}

export function judgeBuildRequest(req: DoorRequest, profile: EffectiveProfile, warn?: (t: string) => void): Verdict {
  if (profile.unconfined) return { action: 'pass' };
  const args = buildArgs(req.query);
  if (typeof args === 'string') return cannotJudge(`build: ${args}`);
  try {
    const j = judgeBuild(args, profile);
    const prov = new Map<string, string[]>();
    if (req.query.has('networkmode')) prov.set('network', [`networkmode=${req.query.get('networkmode')} (build --network)`]);
    if (req.query.has('cgroupparent')) prov.set('cgroup-parent', [`cgroupparent=${req.query.get('cgroupparent')} (build --cgroup-parent)`]);
    return verdictOf(j.violations, prov, profile, 'build', warn);
  } catch (err) {
    if (err instanceof UsageError) return cannotJudge(`build: ${err.message}`);
    throw err;
  }
}
