/**
 * Judging a trial (I/O): does the workload work? With a probe, the probe (`sh -c PROBE` on the
 * host, SDOCKER_LEARN_CONTAINER set to the container's id) is run until it exits 0 or the duration
 * runs out; without one, the container must still run after the duration, or have exited 0. In
 * both cases the container must still be running (or have exited 0) at the end.
 */
import { spawn } from 'node:child_process';
import type { EngineApi } from '../engine/api.js';
import { watchContainer } from '../diagnose/collect.js';

export interface Verdict {
  ok: boolean;
  /** What was seen, in one line. */
  detail: string;
  /** The exit status when the container stopped. */
  exitCode?: number;
  /** The probe's last output (failed probes only). */
  probeOutput?: string;
}

async function state(api: EngineApi, id: string): Promise<{ running: boolean; exitCode: number } | undefined> {
  const c = await api.containers.inspect(id);
  return c && { running: c.State?.Running === true, exitCode: c.State?.ExitCode ?? -1 };
}

/** `sh -c PROBE`, killed after `ms`: its exit status (-1 when killed) and its last output. */
export function runProbe(probe: string, env: Record<string, string | undefined>, ms: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', probe], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (c: Buffer) => {
      out = (out + c.toString('utf8')).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, Math.max(ms, 100));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, output: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output: out.trim() });
    });
  });
}

export async function judge(api: EngineApi, id: string, opts: { probe?: string; durationMs: number; env: Record<string, string | undefined> }): Promise<Verdict> {
  const secs = `${Math.round(opts.durationMs / 100) / 10}s`;
  if (!opts.probe) {
    const exited = await watchContainer(api, id, opts.durationMs);
    if (exited === undefined) {
      const s = await state(api, id);
      if (s?.running) return { ok: true, detail: `still running after ${secs}` };
      return s?.exitCode === 0 ? { ok: true, detail: 'exited 0', exitCode: 0 } : { ok: false, detail: `exited with status ${s?.exitCode ?? '?'}`, ...(s ? { exitCode: s.exitCode } : {}) };
    }
    return exited === 0 ? { ok: true, detail: 'exited 0', exitCode: 0 } : { ok: false, detail: `exited with status ${exited}`, exitCode: exited };
  }
  const deadline = Date.now() + opts.durationMs;
  const env = { ...opts.env, SDOCKER_LEARN_CONTAINER: id };
  let last = { code: -1, output: '' };
  for (let n = 1; ; n++) {
    const s = await state(api, id);
    if (!s) return { ok: false, detail: 'the container is gone' };
    if (!s.running && s.exitCode !== 0) return { ok: false, detail: `exited with status ${s.exitCode} (probe not passed)`, exitCode: s.exitCode };
    last = await runProbe(opts.probe, env, deadline - Date.now());
    if (last.code === 0) {
      const after = await state(api, id);
      if (after && (after.running || after.exitCode === 0)) return { ok: true, detail: `the probe passed (attempt ${n})` };
      return { ok: false, detail: `the probe passed, but the container then exited with status ${after?.exitCode ?? '?'}`, ...(after ? { exitCode: after.exitCode } : {}) };
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
    if (Date.now() >= deadline) break;
  }
  const s = await state(api, id);
  const how = s && !s.running ? `; the container exited with status ${s.exitCode}` : '';
  return { ok: false, detail: `the probe still failed after ${secs} (status ${last.code})${how}`, probeOutput: last.output, ...(s && !s.running ? { exitCode: s.exitCode } : {}) };
}
