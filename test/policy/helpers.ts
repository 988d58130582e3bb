import { buildRunRequest } from '../../src/flags/request.js';
import { applyPolicy } from '../../src/policy/apply.js';
import { gatherSeccompChecks } from '../../src/seccomp/policy-check.js';
import { mergeProfiles } from '../../src/policy/profile-effective.js';
import { resolveHostPaths } from '../../src/policy/resolve-paths.js';
import { allowPaths } from '../../src/policy/paths.js';
import type { EffectiveProfile, EngineFacts, ImageFacts, JoinedContainers, NamedVolumes, PolicyMode, PolicyOutcome, ProfileFile } from '../../src/policy/types.js';
import type { CreateBody } from '../../src/api/types.js';
import type { IdentityFiles } from '../../src/policy/user-names.js';
import type { LevelName } from '../../src/policy/types.js';

export const ENGINE: EngineFacts = {
  usernsRemap: false, apparmor: false, selinux: false, runtimes: ['runc'], cgroupVersion: '1', ncpu: 2,
  loggingDriver: 'json-file', dockerRootDir: '/var/lib/docker', socketPaths: ['/var/run/docker.sock'],
};

/** An image's /etc/passwd and /etc/group, as the shell reads them for the policy (identity.ts). */
export const IMAGE_FILES: IdentityFiles = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  group: 'root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n',
  groupPaths: ['/etc/group'],
};

export function profileOf(level: LevelName = 'restricted', chain: ProfileFile[] = [], floors?: { chain: ProfileFile[]; level: LevelName; path: string }[]): EffectiveProfile {
  return mergeProfiles({ chain, level, sources: [], ...(floors ? { floors } : {}) });
}

export function bodyOf(argv: string[]): { body: CreateBody; typed: Map<string, string[]> } {
  const req = buildRunRequest(argv, 'run', { cwd: '/tmp', env: {}, readFile: (p) => (p.endsWith('.json') ? SECCOMP_FILES[p] ?? '{}' : '') });
  return { body: req.body, typed: req.typed };
}

export const SECCOMP_FILES: Record<string, string> = {
  '/allow.json': JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] }),
  '/log.json': JSON.stringify({ defaultAction: 'SCMP_ACT_LOG' }),
  '/ok.json': JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] }),
};

export interface RunOpts {
  profile?: EffectiveProfile;
  engine?: Partial<EngineFacts>;
  image?: ImageFacts | undefined;
  mode?: PolicyMode;
  namedVolumes?: NamedVolumes;
  /** Containers joined by `container:<ref>` modes, as the shell's inspectJoined gathers them. */
  containers?: JoinedContainers;
  /** uid of the user running sdocker (the shell passes os.userInfo().uid). */
  owner?: number;
  /** The image's files (default IMAGE_FILES; undefined: not read). */
  files?: IdentityFiles | undefined;
  /** Changes the parsed body before the policy: a body no docker flag can make (the Engine API door's). */
  alter?: (body: CreateBody) => void;
}

/** argv (after `run`) → PolicyOutcome, through the real flag parser and path resolver. */
export function run(argv: string[], opts: RunOpts = {}): PolicyOutcome {
  const { body, typed } = bodyOf([...argv, ...(argv.includes('IMG') ? [] : ['IMG'])]);
  opts.alter?.(body);
  const profile = opts.profile ?? profileOf();
  return applyPolicy({
    body,
    image: 'image' in opts ? opts.image : { User: '' },
    engine: { ...ENGINE, ...opts.engine },
    profile,
    // As run-policy.ts does: the shell checks the seccomp profiles in play (here without libseccomp).
    seccompChecks: gatherSeccompChecks({ body, typed }, profile, { cwd: '/tmp', env: {}, lib: null }),
    mode: opts.mode ?? 'enforce',
    hostPaths: resolveHostPaths(body, opts.namedVolumes, '/', allowPaths(profile.allow)),
    ...(opts.namedVolumes ? { namedVolumes: opts.namedVolumes } : {}),
    ...(opts.containers ? { containers: opts.containers } : {}),
    ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
    ...(('files' in opts ? opts.files : IMAGE_FILES) ? { identityFiles: 'files' in opts ? opts.files! : IMAGE_FILES } : {}),
    provenance: typed,
  });
}

export const rules = (o: PolicyOutcome): string[] => o.violations.map((v) => v.rule);
/** The `o=` option of the first bind volume the policy made. */
export const bindOpts = (o: PolicyOutcome): string | undefined => o.body.HostConfig.Mounts?.[0]?.VolumeOptions?.DriverConfig?.Options?.o;
