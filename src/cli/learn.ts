/**
 * `sdocker learn [--probe CMD] [--duration 20s] [--seccomp|--no-seccomp] [-o DIR] [run flags] IMAGE [ARG...]`:
 * from an image to a working least-privilege profile. Each round runs the workload detached with
 * `sdocker run -d` (the whole pipeline: the policy, the checks of what the engine made) under the
 * project's profile plus what was learned so far, judges it (the probe, or still running after the
 * duration), and when it failed turns the diagnosis of the failure (src/diagnose) into allowances
 * (src/learn/step.ts) written into the profile with their reasons (src/learn/yaml.ts). Once it
 * works, a seccomp profile is recorded while the probe runs, and the result is verified by one more
 * run under exactly the written profile. Everything it ran is removed (label sdocker.learn).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { EngineApi } from '../engine/api.js';
import { EngineClient } from '../engine/client.js';
import { httpApi } from '../engine/http-api.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { EngineError, PolicyError, SdockerError, UsageError } from '../errors.js';
import { buildRunRequest } from '../flags/request.js';
import { readBoundedText } from '../fs/read-bounded.js';
import { collectDiagnosis, profileFacts } from '../diagnose/collect.js';
import { printable } from '../diagnose/render.js';
import type { CreateBody } from '../api/types.js';
import { loadEffectiveProfile } from '../policy/load-profile.js';
import { imageShortName, parseLearnArgs } from '../learn/args.js';
import { Capture } from '../learn/capture.js';
import { judge, type Verdict } from '../learn/probe.js';
import { stepFromDiagnosis, type LearnedEntry } from '../learn/step.js';
import { applyFix, parseProfileText, setSeccomp } from '../learn/yaml.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

/** Not under io.sdocker.: those keys are sdocker's own and a request may not set them (SD-LABEL-001). */
export const LEARN_LABEL = 'sdocker.learn';
const MAX_ROUNDS = 8;

export const LEARN_HELP = `Usage:  sdocker learn [OPTIONS] [RUN FLAGS] IMAGE [ARG...]

Find the least-privilege profile under which IMAGE works: run it detached under the project's
profile (restricted unless it says otherwise), judge it, and when it fails turn sdocker's diagnosis
into allowances (a tmpfs owned by the container's user, the user to run as, capabilities...),
round after round; then record a seccomp profile while it works, and verify once more under
exactly the written profile. Writes (or merges into, keeping comments) ./sdocker.yaml with a
reason on each allowance, and ./seccomp/IMAGE.json. Exit status 0 only when the verifying run
passed. Every container it ran is removed.

Options:
      --probe CMD       A shell command run on the host ($SDOCKER_LEARN_CONTAINER: the container's
                        id) until it exits 0: the workload works. Without it: still running after
                        the duration, or exited 0.
      --duration D      How long a trial may take (default 20s)
      --seccomp         Record a seccomp profile (default when run as root; needs root)
      --no-seccomp      Keep the profile's seccomp profile
  -o, --output-dir DIR  Write DIR/sdocker.yaml and DIR/seccomp/ (default: the current directory)

Run flags are docker run's (e.g. -p 127.0.0.1:8080:80, -e, -v); -d, --rm, -it, --name,
--policy, --profile and --security-opt are decided by learn and refused.
`;

interface Trial {
  id?: string;
  verdict: Verdict;
  stderr: string;
}

export async function learnCommand(argv: string[], io: ProcessIO, globals: GlobalOptions = {}): Promise<number> {
  const args = parseLearnArgs(argv);
  if (args.help) {
    io.stdout.write(LEARN_HELP);
    return 0;
  }
  const req = buildRunRequest(args.runArgs, 'run', { cwd: io.cwd, env: io.env, readFile: (p, kind) => readBoundedText(resolve(io.cwd, p), kind) });
  const name = imageShortName(req.image);
  const outDir = resolve(io.cwd, args.outDir ?? '.');
  mkdirSync(outDir, { recursive: true });
  const target = join(outDir, 'sdocker.yaml');
  // The project is not trusted: a link it planted must not make learn read or write elsewhere.
  for (const p of [target, join(outDir, 'seccomp'), join(outDir, 'seccomp', `${name}.json`)]) {
    if (isLink(p)) throw new UsageError(`sdocker learn: ${p} is a symbolic link; learn writes only regular files in ${outDir}`);
  }
  const original = existsSync(target) ? readBoundedText(target, 'profile') : '';
  const doc = parseProfileText(original, target);
  const runId = randomBytes(6).toString('hex');
  const trialPath = join(outDir, `.sdocker.learn.${runId}.yaml`);
  const env = { ...io.env, SDOCKER_PROFILE: trialPath };
  const trialIO: ProcessIO = { ...io, env };
  const label = `${LEARN_LABEL}=${runId}`;
  const seccomp = args.seccomp ?? io.uid === 0;
  const api = httpApi(new EngineClient(resolveEndpoint(globals, io.env)));
  const say = (s: string) => io.stderr.write(`sdocker learn: ${s}\n`);
  const started: string[] = [];
  const learned: LearnedEntry[] = [];
  const t0 = Date.now();
  const judging = { durationMs: args.durationMs, env: io.env, ...(args.probe !== undefined ? { probe: args.probe } : {}) };

  // Created afresh (never through a file that was there), then rewritten in place each round.
  let trialMade = false;
  const writeTrial = () => {
    writeFileSync(trialPath, doc.toString(), { mode: 0o600, flag: trialMade ? 'w' : 'wx' });
    trialMade = true;
  };
  const trial = async (what: string): Promise<Trial> => {
    writeTrial();
    const out = new Capture();
    const err = new Capture();
    const { runCommand } = await import('./run.js');
    const runIO: ProcessIO = { ...trialIO, stdin: Readable.from([]), stdout: out, stderr: err, onResize: () => () => undefined };
    let code: number;
    try {
      code = await runCommand(['-d', '--no-watch', '--label', label, ...args.runArgs], 'run', globals, runIO);
    } catch (e) {
      io.stderr.write(err.text());
      if (e instanceof PolicyError) say(`${what}: the policy refused the run (above); learn adds no allowance the diagnosis did not name`);
      throw e;
    }
    const id = out.text().trim().split('\n').pop() ?? '';
    if (code !== 0 || !/^[0-9a-f]{64}$/.test(id)) return { verdict: { ok: false, detail: `sdocker run -d failed with status ${code}` }, stderr: err.text() };
    started.push(id);
    return { id, verdict: await judge(api, id, judging), stderr: err.text() };
  };

  const remove = async (id: string) => {
    await api.containers.remove(id).catch(() => undefined);
  };

  // Interrupted: remove what runs now; the round in progress then fails and learn stops.
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void sweep(api, label);
  };
  const offs = (['SIGINT', 'SIGTERM'] as const).map((sig) => io.onSignal(sig, onSignal));
  const check = () => {
    if (interrupted) throw new SdockerError('sdocker learn: interrupted; every container it ran was removed, nothing was written', 130);
  };
  try {
    let works = false;
    for (let round = 1; round <= MAX_ROUNDS && !works; round++) {
      const r = await trial(`round ${round}`);
      check();
      if (r.verdict.ok) {
        say(`round ${round}: ${r.verdict.detail}`);
        works = true;
        if (r.id) await remove(r.id);
        break;
      }
      say(`round ${round}: ${r.verdict.detail}`);
      if (!r.id) {
        io.stderr.write(r.stderr);
        return 1;
      }
      const d = await diagnose(api, r.id, env, io.cwd);
      await remove(r.id);
      const step = stepFromDiagnosis(d, name);
      const changed = applyFix(doc, step.fix, step.entries);
      for (const e of step.entries) say(`  ${e.key}: ${e.value} — ${e.reason}`);
      for (const f of d.findings) if (f.note) say(`  note: ${printable(f.note)}`);
      learned.push(...step.entries);
      if (!changed) {
        say(`round ${round} brought no new allowance; what could not be found:`);
        for (const u of step.unresolved.length ? step.unresolved : ['the diagnosis suggested nothing that is not already in the profile']) say(`  - ${u}`);
        if (d.findings.length === 0 && r.verdict.probeOutput) say(`  the probe said: ${printable(r.verdict.probeOutput.split('\n').slice(-3).join(' | '))}`);
        return 1;
      }
    }
    if (!works) {
      say(`still failing after ${MAX_ROUNDS} rounds; the allowances so far were not written`);
      return 1;
    }
    let seccompNote: string | undefined;
    if (seccomp) {
      const { recordTrial } = await import('./learn-trial.js');
      writeTrial();
      const rec = await recordTrial(api, ['--label', label, ...args.runArgs], globals, trialIO, judging, (id) => started.push(id));
      await remove(rec.containerId);
      check();
      for (const w of rec.warnings) say(`seccomp: warning: ${w}`);
      if (!rec.verdict.ok) {
        say(`seccomp: the workload did not work while it was recorded (${rec.verdict.detail}); nothing written`);
        return 1;
      }
      const { profile, leftOut } = await safeProfile(rec.names);
      if (leftOut.length) say(`seccomp: left out ${leftOut.join(', ')}: sdocker's default denies them for safety (clone3: ENOSYS, C libraries fall back to clone, whose flags are filtered); the verifying run shows whether the workload needs them`);
      const file = join(outDir, 'seccomp', `${name}.json`);
      mkdirSync(join(outDir, 'seccomp'), { recursive: true });
      const { formatProfile } = await import('../seccomp/profile.js');
      const { allowedNames } = await import('../seccomp/record.js');
      const part = `${file}.${runId}.tmp`;
      writeFileSync(part, formatProfile(profile), { flag: 'wx' });
      renameSync(part, file);
      const rel = `./${relative(outDir, file)}`;
      const reason = `learn: ${rec.seen} system calls recorded from ${name} while ${args.probe ? 'the probe passed' : 'it ran'}, plus the margin (${rec.margin.map((m) => m.group).join(', ') || 'none'})`;
      setSeccomp(doc, rel, reason);
      learned.push({ key: 'defaults.seccomp', value: rel, reason });
      seccompNote = `${rel}: ${allowedNames(profile).length} names (${rec.seen} recorded${rec.margin.length ? `, margin: ${rec.margin.map((m) => m.group).join(', ')}` : ''}${leftOut.length ? `; left out: ${leftOut.join(', ')}` : ''})`;
      const v = await trial('verify');
      if (v.id) await remove(v.id);
      check();
      say(`verify (restricted, the learned profile and its seccomp profile): ${v.verdict.detail}`);
      if (!v.verdict.ok) {
        say(`the recorded seccomp profile breaks the workload: ${file} is kept for inspection, sdocker.yaml was not written; try a probe that exercises more, or --no-seccomp`);
        return 1;
      }
    }
    const tmp = join(outDir, `.sdocker.yaml.${runId}.tmp`);
    writeFileSync(tmp, doc.toString(), { flag: 'wx' });
    renameSync(tmp, target);
    summary(io, { name, target, learned, seccompNote, secs: (Date.now() - t0) / 1000, verified: seccomp });
    return 0;
  } finally {
    for (const off of offs) off();
    rmSync(trialPath, { force: true });
    for (const id of started) await remove(id);
    await sweep(api, label);
    api.close();
  }
}

/**
 * The recorded profile without the calls sdocker's shipped default denies for safety (SD-SECCOMP-004
 * would refuse the profile): recorded because the C library tries them first (clone3) or the
 * workload probes for them; left to their ENOSYS/EPERM, as under the shipped default.
 */
async function safeProfile(names: string[]): Promise<{ profile: import('../seccomp/profile.js').SeccompProfile; leftOut: string[] }> {
  const { generateProfile } = await import('../seccomp/record.js');
  const { parseProfile } = await import('../seccomp/profile.js');
  const { dangerousAllowed, dangerousTable } = await import('../seccomp/dangerous.js');
  const { defaultSeccompPath } = await import('../policy/load-profile.js');
  const table = dangerousTable(parseProfile(readBoundedText(defaultSeccompPath(), 'seccomp'), 'default.json').profile);
  let profile = generateProfile(names, { base: true });
  const leftOut = [...new Set(dangerousAllowed(profile, table).map((d) => d.name))].sort();
  if (leftOut.length) profile = generateProfile(names.filter((n) => !leftOut.includes(n)), { base: true });
  return { profile, leftOut };
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Every container of this learn run, by its label (one a failed step may not have returned). */
async function sweep(api: EngineApi, label: string): Promise<void> {
  const list = await api.containers.list({ all: true, labels: [label] }).catch(() => []);
  for (const c of list) await api.containers.remove(c.Id).catch(() => undefined);
}

/** The diagnosis of a failed trial: the body as the engine holds it, the profile the trial ran under. */
async function diagnose(api: EngineApi, id: string, env: Record<string, string | undefined>, cwd: string) {
  const c = await api.containers.inspect(id);
  if (!c) throw new EngineError(`No such container: ${id}`, 404);
  const body = { ...c.Config, HostConfig: c.HostConfig } as CreateBody;
  const profile = await loadEffectiveProfile({ cwd, env, seccomp: false });
  const input: Parameters<typeof collectDiagnosis>[2] = {
    body,
    profile: profileFacts(profile),
  };
  const image = c.Config.Image ? await api.images.inspect(c.Config.Image).catch(() => undefined) : undefined;
  if (image?.Config?.User !== undefined) input.imageUser = image.Config.User;
  return collectDiagnosis(api, id, input);
}

function summary(io: ProcessIO, s: { name: string; target: string; learned: LearnedEntry[]; seccompNote: string | undefined; secs: number; verified: boolean }): void {
  const out: string[] = [];
  out.push(`sdocker learn: ${s.name} works under restricted with ${s.learned.length ? 'these allowances' : 'no allowance'} (${s.secs.toFixed(1)}s):`);
  const seen = new Set<string>();
  for (const e of s.learned) {
    const k = `${e.key} ${e.value}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(`  ${e.key}: ${e.value}`);
    out.push(`      ${e.reason}`);
  }
  if (s.seccompNote) out.push(`  seccomp profile ${s.seccompNote}`);
  out.push(`  written to ${s.target}${s.verified ? '; verified by a last run under exactly that profile' : ''}`);
  io.stderr.write(`${out.join('\n')}\n`);
}

