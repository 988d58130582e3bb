/**
 * The policy step of `sdocker run`, between the parsed request and the engine: loading the
 * profiles, deciding (pure applyPolicy), explaining, and the run record. Loaded by run.ts.
 */
import { readBoundedText } from '../fs/read-bounded.js';
import { appendRecord, auditLogPath, recordContext, recordViolations, sha256, type RunRecord } from '../record/run-record.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';
import type { RunRequest } from '../flags/request.js';
import { applyPolicy } from '../policy/apply.js';
import { asTyped, formatViolations, renderDryRun } from '../policy/explain.js';
import { engineFactsFrom, imageFactsFrom } from '../policy/facts.js';
import { loadEffectiveProfile, seccompCheckNeeded } from '../policy/load-profile.js';
import { effectiveMode } from '../policy/profile-effective.js';
import { allowPaths } from '../policy/paths.js';
import { resolveHostPaths } from '../policy/resolve-paths.js';
import type { EffectiveProfile, JoinedContainers, NamedVolumes, PolicyOutcome } from '../policy/types.js';
import type { IdentityFiles } from '../policy/user-names.js';
import type { EngineApi } from '../engine/api.js';
import { imageIdentity, readFile } from './image-identity.js';
import { EngineError, PolicyError } from '../errors.js';
import { groupFileMayChange, runtimeGroupViolations } from '../policy/identity.js';
import type { ProcessIO } from '../io/process-io.js';

export type { EffectiveProfile, PolicyOutcome };
export { verifyCreated } from './verify-created.js';
export { setuidFilesFor } from './run-scan.js';
export { judgeSetuid } from '../policy/setuid-nnp.js';

/** For --dry-run only: which seccomp profile applies and its counts (loads libseccomp). */
let seccompSummaryOf: typeof import('../seccomp/summary.js').seccompSummary | undefined;

/**
 * The profiles, and the verdicts on the seccomp profiles in play (checkProfile with libseccomp,
 * loaded only when a profile other than the shipped default is in play). `seccomp: false`: the
 * profile's seccomp file is not read (`sdocker seccomp record` runs under its own).
 */
export async function loadProfile(req: RunRequest, io: ProcessIO, opt: { seccomp?: boolean } = {}): Promise<EffectiveProfile> {
  const opts: Parameters<typeof loadEffectiveProfile>[0] = { cwd: io.cwd, env: io.env };
  if (req.sdocker.policy !== undefined) opts.policy = req.sdocker.policy;
  if (req.sdocker.profile !== undefined) opts.profile = req.sdocker.profile;
  if (opt.seccomp === false) opts.seccomp = false;
  const profile = await withSeccompChecks(req, await loadEffectiveProfile(opts), io);
  if (req.sdocker.dryRun) seccompSummaryOf = (await import('../seccomp/summary.js')).seccompSummary;
  return profile;
}

/**
 * The profile with the verdicts on the seccomp profiles this request puts in play (libseccomp,
 * loaded only when one other than the shipped default is: seccompCheckNeeded); the same profile
 * when none is.
 */
export async function withSeccompChecks(req: RunRequest, profile: EffectiveProfile, io: ProcessIO): Promise<EffectiveProfile> {
  if (!seccompCheckNeeded(req.body, profile)) return profile;
  const { gatherSeccompChecks } = await import('../seccomp/policy-check.js');
  return { ...profile, seccompChecks: gatherSeccompChecks(req, profile, io) };
}

/** Names of the named volumes the request mounts (their driver options can smuggle a bind). */
export function namedVolumesOf(body: CreateBody): string[] {
  const names = new Set<string>();
  for (const b of body.HostConfig.Binds ?? []) {
    const src = b.split(':')[0] ?? '';
    if (src && !src.startsWith('/')) names.add(src);
  }
  for (const m of body.HostConfig.Mounts ?? []) if (m.Type === 'volume' && m.Source) names.add(m.Source);
  return [...names];
}

export function decide(
  req: RunRequest,
  profile: EffectiveProfile,
  info: EngineInfo,
  image: ImageInspect | undefined,
  namedVolumes: Record<string, { Driver?: string; Options?: Record<string, string> | null }>,
  io: ProcessIO,
  containers?: JoinedContainers,
  identityFiles?: IdentityFiles,
  /** More engine sockets to keep out of the container (the door's own: sdocker serve). */
  extraSockets: readonly string[] = [],
): PolicyOutcome {
  const volumes: NamedVolumes = {};
  for (const [k, v] of Object.entries(namedVolumes)) volumes[k] = { Driver: v.Driver ?? 'local', Options: v.Options ?? null };
  const sockets = [...new Set(['/var/run/docker.sock', '/run/docker.sock', socketOf(io.env.DOCKER_HOST), ...extraSockets].filter((s): s is string => !!s))];
  const input: Parameters<typeof applyPolicy>[0] = {
    body: req.body,
    image: imageFactsFrom(image),
    engine: engineFactsFrom(info, sockets),
    profile,
    mode: effectiveMode(req.sdocker.policyMode, profile),
    hostPaths: resolveHostPaths(req.body, volumes, io.cwd, allowPaths(profile.allow)),
    namedVolumes: volumes,
    provenance: req.typed,
  };
  if (containers) input.containers = containers;
  if (io.uid !== undefined) input.owner = io.uid;
  if (identityFiles) input.identityFiles = identityFiles;
  return applyPolicy(input);
}

/**
 * The image's own /etc/passwd and /etc/group, which the policy resolves users and groups on
 * (image-identity.ts: a helper container from the image id, without the request's mounts;
 * remembered per image id). Undefined (no API call) when the level is privileged, root is allowed
 * (nothing is resolved then) or the image is not known (a dry run before any pull): the policy
 * then says a name could not be resolved.
 */
export async function identityFilesFor(
  api: EngineApi,
  profile: EffectiveProfile,
  info: EngineInfo,
  image: ImageInspect | undefined,
  io: ProcessIO,
): Promise<IdentityFiles | undefined> {
  if (profile.unconfined || !image?.Id) return undefined;
  const root = profile.allow.root;
  if (root && (engineFactsFrom(info).usernsRemap || root.withoutUsernsRemap)) return undefined;
  try {
    return await imageIdentity(api, io.env, image.Id);
  } catch (err) {
    // A remembered image id no longer there: undecidable names refuse, and a refusal on
    // remembered facts is taken again on the engine's (run.ts).
    if (err instanceof EngineError && err.statusCode === 404) return undefined;
    throw err;
  }
}

/**
 * After create, before start, when a mount may replace the image's /etc/group: read it through
 * the created container (mounted as the start will mount it) and judge runc's start-time look-up
 * of the supplementary groups on it. Violations join the outcome; enforce refuses (the session
 * then removes the container).
 */
export async function checkMountedGroups(
  api: EngineApi,
  id: string,
  req: RunRequest,
  profile: EffectiveProfile,
  outcome: PolicyOutcome,
  files: IdentityFiles,
  io: ProcessIO,
): Promise<void> {
  const group = await readFile(api, id, '/etc/group', []);
  const found = runtimeGroupViolations(outcome.body, files, group);
  if (found.length === 0) return;
  outcome.violations.push(...found);
  io.stderr.write(formatViolations(found, req.typed, { level: profile.level, mode: outcome.mode }));
  if (outcome.mode === 'enforce') {
    outcome.refused = true;
    throw new PolicyError('');
  }
}

export { groupFileMayChange };

function socketOf(host: string | undefined): string | undefined {
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
}

export function profilesOf(profile: EffectiveProfile) {
  return profile.sources.map((s) => {
    const out: { path: string; role: typeof s.role; sha256?: string } = { path: s.path, role: s.role };
    if (!s.path.startsWith('level:')) {
      try {
        out.sha256 = sha256(readBoundedText(s.path, 'profile'));
      } catch {
        // unreadable now: recorded without its hash
      }
    }
    return out;
  });
}

/**
 * The violations, for people (`--output text`) or for scripts (`--output json`: one object with
 * each violation's rule, guideline, flag as typed, reason and the profile lines that allow it).
 */
export function explain(req: RunRequest, profile: EffectiveProfile, outcome: PolicyOutcome): string {
  if (req.sdocker.output === 'json') {
    const violations = outcome.violations.map((v) => ({
      rule: v.rule,
      guideline: v.guideline,
      flag: asTyped(v, req.typed),
      field: v.field,
      why: v.why,
      allowWith: v.allowWith.join('\n'),
      ...(v.floorBlocked ? { floorBlocked: v.floorBlocked } : {}),
    }));
    return `${JSON.stringify({ refused: outcome.refused, level: profile.level, mode: outcome.mode, violations })}\n`;
  }
  return formatViolations(outcome.violations, req.typed, { level: profile.level, mode: outcome.mode });
}

export function dryRun(req: RunRequest, profile: EffectiveProfile, outcome: PolicyOutcome): string {
  const opts: Parameters<typeof renderDryRun>[1] = {
    format: req.sdocker.output,
    mode: req.mode,
    provenance: req.typed,
    level: profile.level,
    profiles: profilesOf(profile),
  };
  if (profile.seccompProfilePath) opts.seccompProfilePath = profile.seccompProfilePath;
  const seccomp = seccompSummaryOf?.(outcome.body, profile);
  if (seccomp) {
    opts.seccomp = seccomp;
    if (seccomp.file) opts.seccompProfilePath = seccomp.file;
  }
  return renderDryRun(outcome, opts);
}

/** Level privileged: nothing changes; the dry run shows the request as it goes to the engine. */
export function dryRunUnconfined(req: RunRequest, profile: EffectiveProfile): string {
  return dryRun(req, profile, {
    body: req.body,
    changes: [],
    violations: [],
    allowances: [],
    createDirs: [],
    mode: effectiveMode(req.sdocker.policyMode, profile),
    refused: false,
    applied: false,
  });
}

export interface RunRecordInput {
  req: RunRequest;
  profile: EffectiveProfile;
  io: ProcessIO;
  outcome?: PolicyOutcome | undefined;
  image?: ImageInspect | undefined;
  event?: RunRecord['event'];
  containerId?: string;
  exitStatus?: number;
  error?: string;
  /** The image's setuid-root files (issue 10: from the scan), 'unknown' or 'not-scanned'. */
  setuidFiles?: string[] | 'unknown' | 'not-scanned';
  setuidNote?: string;
  /** The door's client (sdocker serve), for the record. */
  peer?: RunRecord['peer'];
  /** The door's TLS client (its certificate), for the record. */
  client?: RunRecord['client'];
}

/** Append the run record (guideline 3). A record that cannot be written is said on stderr, not fatal. */
export function record(r: RunRecordInput): void {
  const rec: RunRecord = {
    ...recordContext(r.io.cwd),
    event: r.event ?? r.req.mode,
    profiles: profilesOf(r.profile),
    level: r.profile.level,
    mode: r.outcome?.mode ?? effectiveMode(r.req.sdocker.policyMode, r.profile),
    image: r.req.image,
    argv: [...r.req.argv],
    changes: r.outcome?.changes ?? [],
    violations: recordViolations(r.outcome?.violations ?? []),
    allowances: r.outcome?.allowances ?? [],
    ...(r.outcome?.notes ? { notes: r.outcome.notes } : {}),
  };
  const digest = r.image?.RepoDigests?.[0] ?? r.image?.Id;
  if (digest) rec.imageDigest = digest;
  if (r.containerId) rec.containerId = r.containerId;
  if (r.exitStatus !== undefined) rec.exitStatus = r.exitStatus;
  if (r.error) rec.error = r.error;
  if (r.setuidFiles !== undefined) rec.setuidFiles = r.setuidFiles;
  if (r.setuidNote) rec.setuidNote = r.setuidNote;
  if (r.peer) rec.peer = r.peer;
  if (r.client) rec.client = r.client;
  try {
    appendRecord(auditLogPath(r.io.env, r.profile.auditLog), rec);
  } catch (err) {
    r.io.stderr.write(`sdocker: warning: the run record was not written: ${(err as Error).message}\n`);
  }
}
