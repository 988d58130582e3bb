/**
 * THE run pipeline, for every door that makes a container: `sdocker run`, `sdocker create`,
 * `sdocker seccomp record` and the Engine API door's POST /containers/create.
 *
 *   facts (engine, image, named volumes, joined containers; remembered answers when allowed)
 *   → decide (the pure policy) → explain → record (the run record)
 *   → verify (after create, before start: the engine's view, the remembered answers, /etc/group)
 *   → session (create, attach, start, wait: src/session).
 *
 * It takes a built request (RunRequest: argv parsing, or a body from the API, stays outside) and
 * an EngineApi (node:http, or the in-memory fake of the unit tests). Remembered facts are plain
 * code (remembered.ts): a loop of at most two attempts, the second on the engine's own answers.
 */
import { mkdirSync } from 'node:fs';
import type { EngineApi } from '../engine/api.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';
import { EngineError, PolicyError } from '../errors.js';
import type { RunRequest } from '../flags/request.js';
import type { Change, EffectiveProfile, PolicyOutcome } from '../policy/types.js';
import type { IdentityFiles } from '../policy/user-names.js';
import { pullOptions, runSession } from '../session/run.js';
import type { SessionRequest, SessionResult } from '../session/types.js';
import { type EarlyFacts, gatherFacts, startFacts } from './facts.js';
import type { ProcessIO } from '../io/process-io.js';
import type { RunRecordInput } from './run-policy.js';
import type { SetuidFacts } from './run-scan.js';
import type { TrustStep } from './run-trust.js';
import { afterDecision, afterVerification, type FactsMemory, type FactsStep, rememberedFor } from './remembered.js';

/** The policy step's module (src/cli/run-policy.ts), loaded by the caller when it is needed. */
export type PolicyModule = typeof import('./run-policy.js');

export interface PipelineContext {
  io: ProcessIO;
  policy: PolicyModule;
  /** The docker config directory (--config): registry credentials for pulls. */
  configDir?: string | undefined;
  /** Remembered engine answers to decide on without waiting (undefined: always ask the engine). */
  memory?: FactsMemory | undefined;
  /** GET /info and the image's inspect, when the caller sent them early (overlapping its own start-up). */
  early?: EarlyFacts | undefined;
  /**
   * Runs the decided session (default: runSession). `seccomp record` runs it under its recorder,
   * with its own changes to the request; `run` is the default session for that request.
   */
  session?: ((request: SessionRequest, run: (request: SessionRequest) => Promise<SessionResult>) => Promise<SessionResult>) | undefined;
  /** Read the created container back and judge it (default true). Off only where the created container differs on purpose. */
  verifyCreated?: boolean | undefined;
  /** Explain a failed hardened run (src/diagnose; default true). */
  diagnose?: boolean | undefined;
  /** Changes the caller made after the policy, added to the run record. */
  recordChanges?: Change[] | undefined;
  /** Image trust (allowlist, sdocker.lock, content trust), judged before the pull by the caller (run-trust.ts). */
  trust?: TrustStep | undefined;
  /**
   * The Engine API door's create (src/door/core.ts): a request that only creates (mode create,
   * pull never, detached). An image the engine does not have is its own 404, thrown as an
   * EngineError before anything is decided: the client pulls it and asks again.
   */
  createOnly?: boolean | undefined;
}

export interface PipelineResult {
  /** The exit status: the container's (run, attached), 0 (create, -d, a dry run), 125 (refused). */
  status: number;
  /** The policy refused before anything was created (its text is already written); see outcome.violations. */
  refused: boolean;
  /** The policy's decision (undefined under level privileged: nothing decided). */
  outcome?: PolicyOutcome | undefined;
  /** The container made (not for a dry run or a refusal). */
  containerId?: string | undefined;
  /** The image as the engine knows it (when read). */
  image?: ImageInspect | undefined;
  /** The engine's warnings on the create. */
  warnings?: string[] | undefined;
}

/** The run lifecycle's request for a decided body. `pulled`: the image was pulled for the policy already. */
export function sessionRequest(req: RunRequest, body: CreateBody, configDir: string | undefined, pulled: boolean): SessionRequest {
  const session: SessionRequest = {
    mode: req.mode,
    body,
    image: req.image,
    pull: pulled ? 'missing' : req.pull,
    quiet: req.quiet,
    detach: req.detach,
    sigProxy: req.sigProxy,
  };
  if (req.name !== undefined) session.name = req.name;
  if (req.platform !== undefined) session.platform = req.platform;
  if (req.detachKeys !== undefined) session.detachKeys = req.detachKeys;
  if (req.cidfile !== undefined) session.cidfile = req.cidfile;
  if (configDir !== undefined) session.configDir = configDir;
  return session;
}

/** One attempt ended in a result, or asks for another one on the engine's own answers. */
type Attempt = { done: PipelineResult } | { again: true };

/**
 * The entry point: decide on `req` under `profile`, then dry-run, refuse, or make (and for `run`,
 * run) the container. Errors of the engine and refusals found after create are thrown (the run
 * record written first); a refusal before create is a result (`refused`), its explanation written.
 */
export async function runPipeline(api: EngineApi, req: RunRequest, profile: EffectiveProfile, ctx: PipelineContext): Promise<PipelineResult> {
  // Level privileged sends docker's own requests only: no facts are read.
  const early = profile.unconfined ? undefined : (ctx.early ?? startFacts(api, req));
  for (let attempt = 0; attempt < 2; attempt++) {
    // The second attempt decides on the engine's answers only (and refreshes the memory with them).
    const r = await once(api, req, profile, ctx, early, attempt === 0);
    if ('done' in r) return r.done;
  }
  throw new Error('unreachable: an attempt without remembered facts always ends');
}

async function once(
  api: EngineApi,
  req: RunRequest,
  profile: EffectiveProfile,
  ctx: PipelineContext,
  early: EarlyFacts | undefined,
  useMemory: boolean,
): Promise<Attempt> {
  const { io, policy, memory } = ctx;
  const base: RecordBase = { req, profile, io };
  if (profile.unconfined || !early) {
    if (req.sdocker.dryRun) {
      io.stdout.write(policy.dryRunUnconfined(req, profile));
      return { done: { status: 0, refused: false } };
    }
    const r = await session(api, req, profile, ctx, { body: req.body, pulled: false });
    return r === 'discarded' ? { again: true } : { done: r };
  }

  // facts → decide
  const remembered = rememberedFor(useMemory ? memory : undefined, req);
  // The trust step judges the engine's real image: a remembered inspect may not stand in for it.
  if (ctx.trust?.needsImage) delete remembered.image;
  const onMemory = remembered.info !== undefined || remembered.image !== undefined;
  const facts = await gatherFacts(api, req, policy.namedVolumesOf(req.body), early, {
    pull: pullOptions({ quiet: req.quiet, platform: req.platform, configDir: ctx.configDir }, io),
    remembered: remembered.info,
    rememberedImage: remembered.image,
  });
  if (ctx.createOnly && !facts.image) throw new EngineError(`No such image: ${req.image}`, 404);
  const identityFiles = await policy.identityFilesFor(api, profile, facts.info, facts.image, io);
  // sdocker.lock and ids: judged on the image the engine has; the create is pinned to it (req.body.Image).
  const trustViolations = ctx.trust?.apply(req, facts.image, io) ?? [];
  // Filled after the first decision (below); the decisions taken again before start use it.
  const scanned: { setuid?: SetuidFacts | undefined } = {};
  const decide = (info: EngineInfo, image: ImageInspect | undefined, files: IdentityFiles | undefined) => {
    const o = policy.decide(req, profile, info, image, facts.namedVolumes, io, facts.containers, files);
    ctx.trust?.join(o, trustViolations);
    if (scanned.setuid) policy.judgeSetuid(o, profile.level, scanned.setuid.files);
    return o;
  };
  const outcome = decide(facts.info, facts.image, identityFiles);
  // Setuid-root files of the image (the scan, cached by image id), after the decision: whether the
  // decision depends on them (no-new-privileges lifted) sets what a scan may cost. Under restricted
  // such files need no-new-privileges (SD-NNP-002).
  const setuid = await policy.setuidFilesFor(api, profile, facts.image, io, outcome);
  scanned.setuid = setuid;
  policy.judgeSetuid(outcome, profile.level, setuid?.files);
  if (setuid) base.setuidFiles = setuid.files;
  if (setuid?.note) base.setuidNote = setuid.note;
  if (afterDecision(onMemory, outcome) === 'refresh') return { again: true };

  let image = facts.image;
  let verifyMemory: (() => Promise<FactsStep>) | undefined;
  if (onMemory && memory) {
    const m = memory;
    verifyMemory = async () => {
      const info = remembered.info ? await early.info : facts.info;
      // The image may have been missing at first and pulled by the session since.
      const real = remembered.image ? ((await early.image) ?? (await api.images.inspect(req.image))) : facts.image;
      if (remembered.info) m.rememberFacts(info);
      if (remembered.image && real) m.rememberImage(req.image, real);
      // The image's files were read for the remembered image id; another image: decided without them.
      const files = real?.Id === facts.image?.Id ? identityFiles : undefined;
      const step = afterVerification(outcome, decide(info, real, files));
      if (step === 'use') image = real;
      return step;
    };
  } else if (memory) {
    memory.rememberFacts(facts.info);
    if (facts.image) memory.rememberImage(req.image, facts.image);
  }

  // explain → record a refusal
  if (req.sdocker.dryRun) {
    io.stdout.write(policy.dryRun(req, profile, outcome));
    return { done: { status: outcome.refused ? 125 : 0, refused: outcome.refused, outcome, image } };
  }
  // A refusal in JSON goes to stdout, which no container writes to then; warnings stay on stderr.
  if (outcome.violations.length > 0) (outcome.refused && req.sdocker.output === 'json' ? io.stdout : io.stderr).write(policy.explain(req, profile, outcome));
  // Notes (no health check ...) on a terminal only: a script's stderr stays docker's; the run record keeps them.
  if (io.stderr.isTTY) for (const n of outcome.notes ?? []) io.stderr.write(`sdocker: note: ${n.why} [${n.rule}]\n`);
  if (outcome.refused) {
    policy.record({ ...base, outcome, image, event: 'refused', ...recordChanges(ctx, outcome) });
    return { done: { status: 125, refused: true, outcome, image } };
  }

  // The run goes ahead: the lock entry seen on first use (or moved by --update-lock) is written.
  ctx.trust?.commit();

  // verify (before start) → session
  const body = outcome.body;
  const verify = async (a: EngineApi, id: string): Promise<void | 'discard'> => {
    // What the engine made, read back and judged apart from the code that built the request (in parallel).
    const created = ctx.verifyCreated === false ? undefined : policy.verifyCreated(a, id, profile, outcome, facts.info, io, image);
    created?.catch(() => undefined);
    // Decided on remembered facts: the engine's real answer must agree before anything starts.
    if (verifyMemory && (await verifyMemory()) === 'refresh') return 'discard';
    // A mount may give the container another /etc/group, where runc looks the groups up at start.
    if (identityFiles && policy.groupFileMayChange(body)) await policy.checkMountedGroups(a, id, req, profile, outcome, identityFiles, io);
    await created;
  };
  const result = await session(api, req, profile, ctx, { body, pulled: facts.pulled, outcome, image: () => image, verify, record: base });
  return result === 'discarded' ? { again: true } : { done: result };
}

/** The run record's outcome, with the caller's own changes after the policy. */
function recordChanges(ctx: PipelineContext, outcome: PolicyOutcome | undefined): { outcome?: PolicyOutcome } {
  if (!outcome || !ctx.recordChanges?.length) return outcome ? { outcome } : {};
  return { outcome: { ...outcome, changes: [...outcome.changes, ...ctx.recordChanges] } };
}

/** What every run record of this run carries. */
type RecordBase = Pick<RunRecordInput, 'req' | 'profile' | 'io' | 'setuidFiles' | 'setuidNote'>;

interface Decision {
  /** The record's common fields (with the image's setuid files when scanned). */
  record?: RecordBase;
  body: CreateBody;
  pulled: boolean;
  outcome?: PolicyOutcome;
  image?: () => ImageInspect | undefined;
  verify?: (api: EngineApi, id: string) => Promise<void | 'discard'>;
}

async function session(api: EngineApi, req: RunRequest, profile: EffectiveProfile, ctx: PipelineContext, d: Decision): Promise<PipelineResult | 'discarded'> {
  const { io, policy } = ctx;
  const { outcome } = d;
  const image = () => d.image?.();
  const body = d.body;
  if (body.Tty && io.stdout.isTTY) body.HostConfig.ConsoleSize = [io.stdout.rows ?? 0, io.stdout.columns ?? 0];
  // -v creates a missing host directory; the bind volume the policy made of it cannot.
  for (const dir of outcome?.createDirs ?? []) mkdirSync(dir, { recursive: true });
  const s = sessionRequest(req, body, ctx.configDir, d.pulled);
  let createdId: string | undefined;
  if (d.verify) {
    const verify = d.verify;
    s.beforeStart = async (a, id) => {
      createdId = id;
      return verify(a, id);
    };
  }
  // Binds are resolved at start: their sources are rechecked then, and the mounts verified after.
  if (outcome?.mode === 'enforce') (await import('./bind-guard.js')).guardBinds(s);
  // A hardened run that fails says why (src/diagnose); not in audit mode, which hardens nothing.
  const diag = outcome && outcome.mode !== 'audit' && ctx.diagnose !== false ? await import('./diagnose-run.js') : undefined;
  const plan = diag?.planDiagnosis(req, body, true);
  if (plan?.tail) s.onOutput = (c) => plan.tail!.feed(c);
  const base = { ...(d.record ?? { req, profile, io }), ...recordChanges(ctx, outcome) };
  try {
    const run = (r: SessionRequest) => runSession(api, r, io);
    const result = await (ctx.session ? ctx.session(s, run) : run(s));
    if (result.discarded) return 'discarded';
    const status = diag && plan ? await diag.diagnoseRun(api, plan, req, body, profile, image(), result, io) : result.exitCode;
    policy.record({ ...base, image: image(), event: req.mode, containerId: result.containerId, exitStatus: status });
    return { status, refused: false, outcome, containerId: result.containerId, image: image(), ...(result.warnings ? { warnings: result.warnings } : {}) };
  } catch (err) {
    if (err instanceof PolicyError && outcome?.refused) {
      policy.record({ ...base, image: image(), event: 'refused', ...(createdId ? { containerId: createdId } : {}) });
    } else {
      policy.record({ ...base, image: image(), event: 'error', error: (err as Error).message });
    }
    throw err;
  }
}
