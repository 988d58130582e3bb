/**
 * The seccomp recording of a learned workload (I/O): the same policy as `sdocker run` under the
 * learned profile (as `sdocker seccomp record` does it), the recorder's logging profile in place
 * of the seccomp profile, the container detached while the probe runs, then stopped. Returns the
 * recorded names with the margin, and whether the workload worked while it was recorded.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EngineClient } from '../engine/client.js';
import type { CreateBody } from '../api/types.js';
import { PolicyError } from '../errors.js';
import { buildRunRequest } from '../flags/request.js';
import { readBoundedText } from '../fs/read-bounded.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';
import type { SessionRequest } from '../session/types.js';
import type { MarginAdded } from '../seccomp/margin.js';
import { Capture } from '../learn/capture.js';
import { judge, type Verdict } from '../learn/probe.js';

export interface RecordedTrial {
  names: string[];
  seen: number;
  margin: MarginAdded[];
  warnings: string[];
  verdict: Verdict;
  containerId: string;
}

export async function recordTrial(
  client: EngineClient,
  runArgs: string[],
  globals: GlobalOptions,
  io: ProcessIO,
  judging: { probe?: string; durationMs: number; env: Record<string, string | undefined> },
  onCreated: (id: string) => void,
): Promise<RecordedTrial> {
  const req = buildRunRequest(['-d', ...runArgs], 'run', { cwd: io.cwd, env: io.env, readFile: (p, kind) => readBoundedText(resolve(io.cwd, p), kind) });
  const policy = await import('./run-policy.js');
  const { sessionRequest } = await import('./run.js');
  const { gatherFacts, startFacts } = await import('./facts.js');
  const { runSession } = await import('../session/run.js');
  const { recordWorkload, recordedNames } = await import('../seccomp/record.js');
  const { recordingMargin } = await import('../seccomp/margin.js');
  // The profile's own seccomp file is not read: the recording's logging profile takes its place.
  const profile = await policy.loadProfile(req, io, { seccomp: false });
  const facts = await gatherFacts(client, req, globals, io, policy.namedVolumesOf(req.body), startFacts(client, req));
  const identityFiles = await policy.identityFilesFor(client, profile, facts.info, facts.image, io);
  const outcome = policy.decide(req, profile, facts.info, facts.image, facts.namedVolumes, io, facts.containers, identityFiles);
  if (outcome.violations.length > 0) io.stderr.write(policy.explain(req, profile, outcome));
  if (outcome.refused) throw new PolicyError('');
  const body: CreateBody = outcome.body;
  for (const dir of outcome.createDirs) mkdirSync(dir, { recursive: true });
  let beforeStart: NonNullable<SessionRequest['beforeStart']> | undefined;
  if (identityFiles && policy.groupFileMayChange(body)) {
    const files = identityFiles;
    beforeStart = (c, id) => policy.checkMountedGroups(c, id, req, profile, outcome, files, io);
  }
  let verdict: Verdict = { ok: false, detail: 'not run' };
  const rec = await recordWorkload(async (seccompOpt) => {
    const SecurityOpt = [...(body.HostConfig.SecurityOpt ?? []).filter((o) => !/^seccomp[=:]/.test(o)), seccompOpt];
    const session = sessionRequest(req, { ...body, HostConfig: { ...body.HostConfig, SecurityOpt, AutoRemove: false } }, globals, facts.pulled);
    if (beforeStart) session.beforeStart = beforeStart;
    const quiet: ProcessIO = { ...io, stdout: new Capture() };
    const r = await runSession(client, session, quiet);
    onCreated(r.containerId);
    verdict = await judge(client, r.containerId, judging);
    // Stopped as `docker stop` does: its shutdown is part of the recording too.
    await client.request('POST', `/containers/${r.containerId}/stop`, { query: { t: 10 } }).then((res) => res.resume(), () => undefined);
    const st = await client.json<{ State?: { ExitCode?: number } }>('GET', `/containers/${r.containerId}/json`).catch(() => undefined);
    return { containerId: r.containerId, exitCode: st?.State?.ExitCode ?? -1 };
  });
  const seen = recordedNames(rec);
  const margin = recordingMargin(seen);
  const names = [...new Set([...seen, ...margin.flatMap((m) => m.names)])].sort();
  return { names, seen: seen.length, margin, warnings: rec.warnings, verdict, containerId: rec.containerId };
}
