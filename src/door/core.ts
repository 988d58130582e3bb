/**
 * The door's ONE adapter to THE run pipeline of `sdocker run`/`create` (src/pipeline/run.ts:
 * facts → decide → explain → record → verify after create), the pipeline the CLI runs.
 *
 * A create through the door: the API body (canonicalised, routes/create-fields.ts) becomes the
 * request the policy takes (pipeline/request.ts: mode create, pull never, detached); image trust
 * (the profile's `images:`, content trust) and the image's setuid files are judged as for the
 * CLI; the facts are the engine's (GET /info, the image, the named volumes, the joined
 * containers), decided on at once from the door's memory when it has them (memory.ts; checked
 * against the engine's answers before the create is answered); never a pull: a missing image is
 * answered 404 as the engine answers it, and the client pulls and asks again. The decision
 * refuses or hardens; the session only creates (the client attaches and starts by itself); the
 * created container is read back and judged (removed on a difference in enforce mode); the run
 * record gets the decision with the client's uid and pid.
 */
import { PassThrough } from 'node:stream';
import type { EngineApi } from '../engine/api.js';
import type { CreateBody } from '../api/types.js';
import { EngineError, PolicyError } from '../errors.js';
import type { RunRequest } from '../flags/request.js';
import { loadEffectiveProfile, seccompCheckNeeded } from '../policy/load-profile.js';
import type { EffectiveProfile, PolicyOutcome, Violation } from '../policy/types.js';
import type { ProcessIO } from '../io/process-io.js';
import { requestFromBody } from '../pipeline/request.js';
import { runPipeline, type PolicyModule } from '../pipeline/run.js';
import * as policy from '../pipeline/run-policy.js';
import { trustBeforePull } from '../pipeline/run-trust.js';
import type { EngineWatch } from './engine-watch.js';
import type { DoorMemory } from './memory.js';
import { requestFacts } from './request-facts.js';
import type { Peer, Verdict } from './types.js';

/** What a create through the door needs from the door. */
export interface CoreContext {
  /** The engine (node:http on the door's client; the unit tests' in-memory fake). */
  api: EngineApi;
  profile: EffectiveProfile;
  env: Record<string, string | undefined>;
  cwd: string;
  sockets: string[];
  peer?: Peer;
  warn?: (text: string) => void;
  /** The door's remembered engine answers (memory.ts), kept across requests; none: always wait for the engine's. */
  memory?: DoorMemory | undefined;
  /** The engine's event stream, on which a remembered GET /info stands (engine-watch.ts); none: /info is asked for every create. */
  watch?: EngineWatch | undefined;
}

/**
 * The policy in force at a door: the machine floor plus the socket's profile (`--profile FILE`;
 * without one, the restricted level). The working directory is not searched for a sdocker.yaml:
 * the door's cwd is not a project.
 */
export async function loadDoorProfile(o: { profile?: string; env: Record<string, string | undefined>; cwd: string }): Promise<EffectiveProfile> {
  const env = { ...o.env };
  delete env.SDOCKER_PROFILE;
  const opts: Parameters<typeof loadEffectiveProfile>[0] = { cwd: '/', env };
  if (o.profile !== undefined) opts.profile = o.profile;
  return loadEffectiveProfile(opts);
}

/** The ProcessIO the CLI's pieces write to: stderr collected (the refusal's text), no terminal. */
function doorIO(ctx: CoreContext): ProcessIO & { text(): string } {
  const chunks: string[] = [];
  const stderr = new PassThrough();
  stderr.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const sink = new PassThrough();
  sink.resume();
  const env = { ...ctx.env };
  const io: ProcessIO & { text(): string } = {
    stdin: new PassThrough(),
    stdout: sink,
    stderr: { write: (c: string | Uint8Array) => (chunks.push(typeof c === 'string' ? c : Buffer.from(c).toString('utf8')), true) } as unknown as ProcessIO['stderr'],
    env,
    cwd: ctx.cwd,
    onSignal: () => () => undefined,
    onResize: () => () => undefined,
    text: () => chunks.join(''),
  };
  if (ctx.peer) io.uid = ctx.peer.uid;
  return io;
}

/** For the explanation: each violation's field and value as the API client sent them. */
function typedOf(violations: readonly Violation[]): Map<string, string[]> {
  const p = new Map<string, string[]>();
  for (const v of violations) {
    const key = v.flag.replace(/^-+/, '');
    const token = `${v.field}: ${JSON.stringify(v.value)} (docker run ${v.flag} ${v.subject})`;
    p.set(key, [...(p.get(key) ?? []), token]);
  }
  return p;
}

/**
 * The request the policy takes. What the API body asked for is no provenance (`-m 0` typed is an
 * asked-for "unlimited"; the same 0 in an API body is the engine's default, which the docker CLI
 * sends for every flag not typed): none. A negative value is unlimited whoever sent it, and the
 * policy judges it so without provenance.
 */
function requestOf(body: CreateBody, query: URLSearchParams): RunRequest {
  const req = requestFromBody(body, { name: query.get('name') ?? undefined, platform: query.get('platform') ?? undefined });
  // The run record's argv: what the client asked.
  req.argv = ['POST', '/containers/create', ...[...query].map(([k, v]) => `${k}=${v}`)];
  return req;
}

function explainText(req: RunRequest, profile: EffectiveProfile, outcome: PolicyOutcome): string {
  return policy.explain({ ...req, typed: typedOf(outcome.violations) }, profile, outcome);
}

/** The rule ids a refusal's text names (a refusal thrown after create carries no outcome). */
function rulesIn(text: string): string[] {
  return [...new Set(text.match(/\bSD-[A-Z]+-\d{3}\b/g) ?? [])];
}

/** The pipeline's policy step, for this door: its sockets kept out of containers, its client in every record. */
function doorPolicy(ctx: CoreContext): PolicyModule {
  const peer = ctx.peer;
  return {
    ...policy,
    decide: (req, profile, info, image, volumes, io, containers, files) => policy.decide(req, profile, info, image, volumes, io, containers, files, ctx.sockets),
    record: (r) => policy.record(peer ? { ...r, peer } : r),
  };
}

/** POST /containers/create through the policy: refuse, or create the hardened body and verify it. */
export async function createThroughPolicy(body: CreateBody, query: URLSearchParams, ctx: CoreContext): Promise<Verdict> {
  let profile = ctx.profile;
  if (profile.unconfined) return { action: 'forward', body };
  const io = doorIO(ctx);
  const req = requestOf(body, query);
  if (seccompCheckNeeded(req.body, profile)) {
    const { gatherSeccompChecks } = await import('../seccomp/policy-check.js');
    profile = { ...profile, seccompChecks: gatherSeccompChecks(req, profile, io) };
  }
  const steps = doorPolicy(ctx);
  const api = ctx.api;
  try {
    // Image trust (allowlist, digests, sdocker.lock, content trust) on the reference, as for the CLI.
    const trust = trustBeforePull(req, profile, io, steps);
    const remembered = ctx.memory ? requestFacts(api, req.image, ctx.memory, ctx.watch) : undefined;
    const result = await runPipeline(api, req, profile, { io, policy: steps, trust, createOnly: true, diagnose: false, ...remembered });
    if (result.refused) {
      const outcome = result.outcome!;
      return { action: 'refuse', status: 403, message: `sdocker: ${explainText(req, profile, outcome).trimEnd()}`, rules: [...new Set(outcome.violations.map((v) => v.rule))] };
    }
    const warned = io.text();
    if (warned) ctx.warn?.(warned);
    return { action: 'respond', status: 201, body: { Id: result.containerId, Warnings: result.warnings ?? [] } };
  } catch (err) {
    // The engine's own answer (a missing image: the client pulls it and asks again), or a
    // refusal after create (the container removed, the record written) or before the pull.
    const answered = err instanceof EngineError && err.statusCode >= 400 && err.statusCode < 500;
    // The engine failing or out of reach may be restarting, perhaps with another configuration.
    if (!answered && !(err instanceof PolicyError)) ctx.memory?.clear();
    if (err instanceof EngineError) {
      return { action: 'respond', status: err.statusCode, body: { message: err.message } };
    }
    if (err instanceof PolicyError) {
      const text = io.text().trimEnd();
      return { action: 'refuse', status: 403, message: `sdocker: ${text}`, rules: rulesIn(text) };
    }
    throw err;
  }
}
