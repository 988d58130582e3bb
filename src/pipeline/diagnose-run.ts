/**
 * After a hardened `sdocker run`: when the container exited non-zero (foreground) or died within
 * the watch after `-d`, say which hardening caused it and the sdocker.yaml lines that fix it
 * (src/diagnose). Not under --policy privileged: then docker's behaviour is kept exactly.
 */
import type { EngineApi } from '../engine/api.js';
import type { CreateBody, ImageInspect } from '../api/types.js';
import type { RunRequest } from '../flags/request.js';
import type { EffectiveProfile } from '../policy/types.js';
import { collectDiagnosis, profileFacts, watchContainer } from '../diagnose/collect.js';
import { renderJson, renderText, type DiagnosisContext } from '../diagnose/render.js';
import { OutputTail } from '../diagnose/tail.js';
import type { ProcessIO } from '../io/process-io.js';

/** Default watch after `-d`. */
export const DEFAULT_WATCH_MS = 3000;

export interface DiagnosisPlan {
  /** Fed with the attach stream (foreground): the last lines, read even after --rm removed the container. */
  tail?: OutputTail;
  watchMs: number;
}

/** Whether and how this run is diagnosed; undefined: not at all (create, or no policy applied). */
export function planDiagnosis(req: RunRequest, body: CreateBody, hardened: boolean): DiagnosisPlan | undefined {
  if (req.mode !== 'run' || !hardened) return undefined;
  if (req.detach) {
    const watchMs = req.sdocker.watchMs ?? DEFAULT_WATCH_MS;
    return watchMs > 0 ? { watchMs } : undefined;
  }
  const attached = !!(body.AttachStdout || body.AttachStderr);
  return attached ? { tail: new OutputTail(body.Tty !== true), watchMs: 0 } : { watchMs: 0 };
}

/**
 * The exit status sdocker returns: foreground, the container's (a diagnosis is printed when it
 * names a cause); -d, non-zero when the container died within the watch (docker returns 0).
 */
export async function diagnoseRun(
  api: EngineApi,
  plan: DiagnosisPlan,
  req: RunRequest,
  body: CreateBody,
  profile: EffectiveProfile,
  image: ImageInspect | undefined,
  result: { containerId: string; exitCode: number },
  io: ProcessIO,
): Promise<number> {
  const id = result.containerId;
  let exitCode = result.exitCode;
  let diedAfterMs: number | undefined;
  if (req.detach) {
    const t0 = Date.now();
    const exited = await watchContainer(api, id, plan.watchMs);
    if (exited === undefined || exited === 0) return 0;
    exitCode = exited;
    diedAfterMs = Date.now() - t0;
  } else if (exitCode === 0) {
    return 0;
  }
  const input: Parameters<typeof collectDiagnosis>[2] = {
    exitCode,
    body,
    profile: profileFacts(profile),
  };
  if (image?.Config?.User !== undefined) input.imageUser = image.Config.User;
  const lines = plan.tail?.get();
  if (lines) input.logLines = lines;
  let d;
  try {
    d = await collectDiagnosis(api, id, input);
  } catch (err) {
    io.stderr.write(`sdocker: could not diagnose container ${id.slice(0, 12)}: ${(err as Error).message}\n`);
    return req.detach ? exitCode : result.exitCode;
  }
  const ctx: DiagnosisContext = { when: req.detach ? 'died' : 'exited', containerId: id, watchMs: plan.watchMs };
  if (diedAfterMs !== undefined) ctx.diedAfterMs = diedAfterMs;
  // Foreground: a plain non-zero exit is the container's business; only a recognised cause is reported.
  if (req.detach || d.findings.length > 0) io.stderr.write(req.sdocker.output === 'json' ? renderJson(d, ctx) : renderText(d, ctx));
  return req.detach ? exitCode : result.exitCode;
}
