/**
 * The policy step of `sdocker run`, between the parsed request and the engine: loading the
 * profiles, deciding (pure applyPolicy), explaining, and the run record. Loaded by run.ts.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { appendRecord, auditLogPath, recordContext, recordViolations, sha256, type RunRecord } from '../audit/record.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../engine/types.js';
import type { RunRequest } from '../flags/request.js';
import { applyPolicy } from '../policy/apply.js';
import { asTyped, formatViolations, renderDryRun } from '../policy/explain.js';
import { engineFactsFrom, imageFactsFrom } from '../policy/facts.js';
import { loadEffectiveProfile, seccompCheckNeeded } from '../policy/load-profile.js';
import { effectiveMode } from '../policy/profile.js';
import { resolveHostPaths } from '../policy/resolve-paths.js';
import type { EffectiveProfile, JoinedContainers, NamedVolumes, PolicyOutcome } from '../policy/types.js';
import {
  effectiveUser, identityViolations, needsNameResolution, resolveIdentity, rootAllowed, singleFileFromTar,
} from '../policy/user-names.js';
import type { EngineClient } from '../engine/client.js';
import { readBody } from '../engine/client.js';
import { EngineError, PolicyError } from '../errors.js';
import type { ProcessIO } from './io.js';

export type { EffectiveProfile, PolicyOutcome };
export { verifyCreated } from './verify-created.js';

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
  const profile = await loadEffectiveProfile(opts);
  if (seccompCheckNeeded(req.body, profile)) {
    const { gatherSeccompChecks } = await import('../seccomp/policy-check.js');
    profile.seccompChecks = gatherSeccompChecks(req, profile, io);
  }
  if (req.sdocker.dryRun) seccompSummaryOf = (await import('../seccomp/summary.js')).seccompSummary;
  return profile;
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
): PolicyOutcome {
  const volumes: NamedVolumes = {};
  for (const [k, v] of Object.entries(namedVolumes)) volumes[k] = { Driver: v.Driver ?? 'local', Options: v.Options ?? null };
  const sockets = [...new Set(['/var/run/docker.sock', '/run/docker.sock', socketOf(io.env.DOCKER_HOST)].filter((s): s is string => !!s))];
  const input: Parameters<typeof applyPolicy>[0] = {
    body: req.body,
    image: imageFactsFrom(image),
    engine: engineFactsFrom(info, sockets),
    profile,
    mode: effectiveMode(req.sdocker.policyMode, profile),
    hostPaths: resolveHostPaths(req.body, volumes, io.cwd),
    namedVolumes: volumes,
    provenance: req.typed,
  };
  if (containers) input.containers = containers;
  return applyPolicy(input);
}

/**
 * The user the container runs as, when it holds a name (`-u toor`, `1000:wheel`, `--group-add
 * wheel`, the image's `USER toor`) that only the image's /etc/passwd and /etc/group can tell is
 * uid 0 or gid 0. Undefined (and no API call) when everything is numeric or the profile allows root.
 */
export function identityToCheck(
  outcome: PolicyOutcome,
  profile: EffectiveProfile,
  info: EngineInfo,
  image: ImageInspect | undefined,
): { user: string; groupAdd: string[]; source: 'request' | 'image' } | undefined {
  if (rootAllowed(profile.allow, engineFactsFrom(info).usernsRemap)) return undefined;
  const body = outcome.body;
  const user = effectiveUser(body.User, imageFactsFrom(image)?.User);
  const groupAdd = body.HostConfig.GroupAdd ?? [];
  if (!needsNameResolution(user, groupAdd)) return undefined;
  return { user, groupAdd, source: body.User ? 'request' : 'image' };
}

/** One file of a created container, following symbolic links (as the runtime will); '' when absent. */
async function readContainerFile(client: EngineClient, id: string, path: string): Promise<string> {
  for (let hop = 0; hop < 8; hop++) {
    let tar: Buffer;
    try {
      const res = await client.request('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path } });
      tar = await readBody(res);
    } catch (err) {
      if (err instanceof EngineError && err.statusCode === 404) return '';
      throw err;
    }
    const f = singleFileFromTar(tar);
    if (!f) return '';
    if ('text' in f) return f.text;
    path = f.link.startsWith('/') ? f.link : posix.join(posix.dirname(path), f.link);
  }
  throw new PolicyError(`cannot read ${path} in the container: too many symbolic links`);
}

/**
 * After create, before start (SessionRequest.beforeStart): read the image's /etc/passwd and
 * /etc/group from the created container, resolve the names, and judge them as applyPolicy judges
 * `root` and 0. The violations join the outcome (so the run record has them); in enforce mode
 * they refuse the run (runSession then removes the container).
 */
export async function checkIdentity(
  client: EngineClient,
  id: string,
  req: RunRequest,
  profile: EffectiveProfile,
  outcome: PolicyOutcome,
  info: EngineInfo,
  who: { user: string; groupAdd: string[]; source: 'request' | 'image' },
  io: ProcessIO,
): Promise<void> {
  const [passwd, group] = await Promise.all([readContainerFile(client, id, '/etc/passwd'), readContainerFile(client, id, '/etc/group')]);
  const resolved = resolveIdentity(who.user, who.groupAdd, passwd, group);
  const found = identityViolations(who.user, who.groupAdd, resolved, profile, engineFactsFrom(info).usernsRemap, who.source);
  if (found.length === 0) return;
  outcome.violations.push(...found);
  io.stderr.write(formatViolations(found, req.typed, { level: profile.level, mode: outcome.mode }));
  if (outcome.mode === 'enforce') {
    outcome.refused = true;
    throw new PolicyError('');
  }
}

function socketOf(host: string | undefined): string | undefined {
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
}

function profilesOf(profile: EffectiveProfile) {
  return profile.sources.map((s) => {
    const out: { path: string; role: typeof s.role; sha256?: string } = { path: s.path, role: s.role };
    if (!s.path.startsWith('level:')) {
      try {
        out.sha256 = sha256(readFileSync(s.path, 'utf8'));
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
  };
  const digest = r.image?.RepoDigests?.[0] ?? r.image?.Id;
  if (digest) rec.imageDigest = digest;
  if (r.containerId) rec.containerId = r.containerId;
  if (r.exitStatus !== undefined) rec.exitStatus = r.exitStatus;
  if (r.error) rec.error = r.error;
  try {
    appendRecord(auditLogPath(r.io.env, r.profile.auditLog), rec);
  } catch (err) {
    r.io.stderr.write(`sdocker: warning: the run record was not written: ${(err as Error).message}\n`);
  }
}
