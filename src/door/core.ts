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
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';
import { EngineError, PolicyError } from '../errors.js';
import type { RunRequest } from '../flags/request.js';
import { loadEffectiveProfile } from '../policy/load-profile.js';
import type { EffectiveProfile, PolicyOutcome, Violation } from '../policy/types.js';
import type { ProcessIO } from '../io/process-io.js';
import { requestFromBody } from '../pipeline/request.js';
import { runPipeline, type PolicyModule } from '../pipeline/run.js';
import * as policy from '../pipeline/run-policy.js';
import { trustBeforePull } from '../pipeline/run-trust.js';
import type { EngineWatch } from './engine-watch.js';
import type { DoorMemory } from './memory.js';
import { requestFacts } from './request-facts.js';
import { gatherFacts, startFacts } from '../pipeline/facts.js';
import type { Peer, TlsClient, Verdict } from './types.js';

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
  /** On a TLS listener: the client certificate (the record names it). */
  tlsClient?: TlsClient;
  /** Labels the door sets on what it creates (the project profile that judged it: project-profile.ts). */
  labels?: Record<string, string>;
  /** Said to the client in the create's Warnings (a project profile that was not read, and why). */
  notes?: string[];
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
function typedOf(violations: readonly Violation[], as = 'docker run'): Map<string, string[]> {
  const p = new Map<string, string[]>();
  for (const v of violations) {
    const key = v.flag.replace(/^-+/, '');
    const token = `${v.field}: ${JSON.stringify(v.value)} (${as} ${v.flag} ${v.subject})`;
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

function explainText(req: RunRequest, profile: EffectiveProfile, outcome: PolicyOutcome, as?: string): string {
  return policy.explain({ ...req, typed: typedOf(outcome.violations, as) }, profile, outcome);
}

/** The rule ids a refusal's text names (a refusal thrown after create carries no outcome). */
function rulesIn(text: string): string[] {
  return [...new Set(text.match(/\bSD-[A-Z]+-\d{3}\b/g) ?? [])];
}

/** The pipeline's policy step, for this door: its sockets kept out of containers, its client in every record. */
function doorPolicy(ctx: CoreContext): PolicyModule {
  const who = { ...(ctx.peer ? { peer: ctx.peer } : {}), ...(ctx.tlsClient ? { client: ctx.tlsClient } : {}) };
  return {
    ...policy,
    decide: (req, profile, info, image, volumes, io, containers, files) => {
      const outcome = policy.decide(req, profile, info, image, volumes, io, containers, files, ctx.sockets);
      // The door's own labels (the project profile that judged it, the TLS client): part of the
      // body created, so the verification after create compares them too.
      if (ctx.labels && !outcome.refused) outcome.body.Labels = { ...(outcome.body.Labels ?? {}), ...ctx.labels };
      return outcome;
    },
    record: (r) => policy.record({ ...r, ...who }),
  };
}

/** POST /containers/create through the policy: refuse, or create the hardened body and verify it. */
export async function createThroughPolicy(body: CreateBody, query: URLSearchParams, ctx: CoreContext): Promise<Verdict> {
  if (ctx.profile.unconfined) return { action: 'forward', body };
  const io = doorIO(ctx);
  const req = requestOf(body, query);
  const profile = await policy.withSeccompChecks(req, ctx.profile, io);
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
    return { action: 'respond', status: 201, body: { Id: result.containerId, Warnings: [...(result.warnings ?? []), ...(ctx.notes ?? [])] } };
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

/** A decision without a create (swarm services: the engine makes the containers from the spec). */
export type Decision =
  | { verdict: Verdict }
  | { outcome: PolicyOutcome; info: EngineInfo; record(event: 'create' | 'refused', extra?: { error?: string; containerId?: string }): void };

/**
 * The decision of `sdocker run`'s pipeline on `body`, with the facts read as for a create (a
 * missing image: 404), a refusal recorded and answered; the caller sends what the outcome allows.
 */
export async function decideThroughPolicy(body: CreateBody, what: string, ctx: CoreContext, o: { noun: string } = { noun: 'container' }): Promise<Decision> {
  const io = doorIO(ctx);
  const req = requestOf(body, new URLSearchParams());
  req.argv = [what];
  const profile = await policy.withSeccompChecks(req, ctx.profile, io);
  const api = ctx.api;
  const steps = doorPolicy(ctx);
  // Image trust (allowlist, digests, content trust) as for a container's create: a refusal before
  // anything is read is recorded and thrown by the step.
  let trust: ReturnType<typeof trustBeforePull>;
  try {
    trust = trustBeforePull(req, profile, io, steps);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    const text = io.text().trimEnd();
    return { verdict: { action: 'refuse', status: 403, message: `sdocker: ${text}`, rules: rulesIn(text) } };
  }
  const facts = await gatherFacts(api, req, policy.namedVolumesOf(body), startFacts(api, req), { pull: { progress: null, env: io.env, quiet: true } });
  const image: ImageInspect | undefined = facts.image;
  if (!image) return { verdict: { action: 'respond', status: 404, body: { message: `No such image: ${req.image} (the door judges a service against its image: pull it on this node first)` } } };
  const identityFiles = await policy.identityFilesFor(api, profile, facts.info, image, io);
  // The image the engine has, judged (and the request pinned to it) before the decision.
  const trustViolations = trust?.apply(req, image, io) ?? [];
  const outcome = steps.decide(req, profile, facts.info, image, facts.namedVolumes, io, facts.containers, identityFiles);
  trust?.join(outcome, trustViolations);
  const base: policy.RunRecordInput = { req, profile, io, outcome, image };
  const record = (event: 'create' | 'refused', extra: { error?: string; containerId?: string } = {}) => steps.record({ ...base, event, ...extra });
  // Worded for what was asked: "refused this service", "(its service's containers as docker run --cap-add SYS_ADMIN)".
  const text = () => explainText(req, profile, outcome, o.noun === 'container' ? undefined : `its ${o.noun}'s containers as docker run`).replace(' this container:', ` this ${o.noun}:`).trimEnd();
  if (outcome.refused) {
    record('refused');
    return { verdict: { action: 'refuse', status: 403, message: `sdocker: ${text()}`, rules: [...new Set(outcome.violations.map((v) => v.rule))] } };
  }
  if (outcome.violations.length > 0) ctx.warn?.(text());
  return { outcome, info: facts.info, record };
}
