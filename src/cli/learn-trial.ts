/**
 * The seccomp recording of a learned workload (I/O): the same policy as `sdocker run` under the
 * learned profile (as `sdocker seccomp record` does it), the recorder's logging profile in place
 * of the seccomp profile, the container detached while the probe runs, then stopped. Returns the
 * recorded names with the margin, and whether the workload worked while it was recorded.
 */
import { resolve } from 'node:path';
import type { EngineApi } from '../engine/api.js';
import { PolicyError } from '../errors.js';
import { buildRunRequest } from '../flags/request.js';
import { readBoundedText } from '../fs/read-bounded.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';
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
  api: EngineApi,
  runArgs: string[],
  globals: GlobalOptions,
  io: ProcessIO,
  judging: { probe?: string; durationMs: number; env: Record<string, string | undefined> },
  onCreated: (id: string) => void,
): Promise<RecordedTrial> {
  const req = buildRunRequest(['-d', ...runArgs], 'run', { cwd: io.cwd, env: io.env, readFile: (p, kind) => readBoundedText(resolve(io.cwd, p), kind) });
  const policy = await import('../pipeline/run-policy.js');
  const { runPipeline } = await import('../pipeline/run.js');
  const { recordWorkload, recordedNames } = await import('../seccomp/record.js');
  const { recordingMargin } = await import('../seccomp/margin.js');
  // The profile's own seccomp file is not read: the recording's logging profile takes its place.
  const profile = await policy.loadProfile(req, io, { seccomp: false });
  let verdict: Verdict = { ok: false, detail: 'not run' };
  let rec: Awaited<ReturnType<typeof recordWorkload>> | undefined;
  // The run pipeline, its session under the recorder: detached while the probe runs, then stopped
  // as `docker stop` does (its shutdown is part of the recording too). Not judged against the
  // decision after create: its seccomp profile differs on purpose.
  const result = await runPipeline(api, req, profile, {
    io: { ...io, stdout: new Capture() },
    policy,
    configDir: globals.configDir,
    verifyCreated: false,
    diagnose: false,
    session: async (session, run) => {
      rec = await recordWorkload(async (seccompOpt) => {
        const hc = session.body.HostConfig;
        const SecurityOpt = [...(hc.SecurityOpt ?? []).filter((o) => !/^seccomp[=:]/.test(o)), seccompOpt];
        const r = await run({ ...session, body: { ...session.body, HostConfig: { ...hc, SecurityOpt, AutoRemove: false } } });
        onCreated(r.containerId);
        verdict = await judge(api, r.containerId, judging);
        await api.containers.stop(r.containerId, 10).catch(() => undefined);
        const st = await api.containers.inspect(r.containerId).catch(() => undefined);
        return { containerId: r.containerId, exitCode: st?.State?.ExitCode ?? -1 };
      });
      return { containerId: rec.containerId, exitCode: rec.exitCode };
    },
  });
  if (result.refused) throw new PolicyError('');
  if (!rec) throw new Error('sdocker learn: the trial did not run');
  const seen = recordedNames(rec);
  const margin = recordingMargin(seen);
  const names = [...new Set([...seen, ...margin.flatMap((m) => m.names)])].sort();
  return { names, seen: seen.length, margin, warnings: rec.warnings, verdict, containerId: rec.containerId };
}
