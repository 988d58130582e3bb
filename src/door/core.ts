/**
 * The door's ONE adapter to the run pipeline of `sdocker run`/`create` (facts → decide → explain
 * → record → verify after create): the door calls the CLI's own pieces, through this file only,
 * so that when the one pipeline (src/pipeline/) lands, this is the single file to rewire.
 *
 * A create through the door: the API body (canonicalised, routes/create-fields.ts) becomes the
 * request the policy takes; the facts are read from the engine (GET /info, the image, the named
 * volumes, the joined containers; never a pull: a missing image is answered 404 as the engine
 * answers it, and the client pulls and asks again); the decision refuses or hardens; the hardened
 * body is created; the created container is read back and judged (removed on a difference in
 * enforce mode); the run record gets the decision with the client's uid and pid.
 */
import { mkdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { EngineClient } from '../engine/client.js';
import { httpApi } from '../engine/http-api.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';
import { EngineError, PolicyError } from '../errors.js';
import type { RunRequest } from '../flags/request.js';
import { loadEffectiveProfile, seccompCheckNeeded } from '../policy/load-profile.js';
import type { EffectiveProfile, PolicyOutcome, Violation } from '../policy/types.js';
import type { ProcessIO } from '../io/process-io.js';
import { gatherFacts, startFacts } from '../pipeline/facts.js';
import * as policy from '../pipeline/run-policy.js';
import type { Peer, TlsClient, Verdict } from './types.js';

/** What a create through the door needs from the door. */
export interface CoreContext {
  client: EngineClient;
  profile: EffectiveProfile;
  env: Record<string, string | undefined>;
  cwd: string;
  sockets: string[];
  peer?: Peer;
  warn?: (text: string) => void;
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

/**
 * What the API body asked for, as the policy's provenance (`-m 0` typed is an asked-for
 * "unlimited"; the same 0 in an API body is the engine's default, which the docker CLI sends for
 * every flag not typed): nothing. A negative value is unlimited whoever sent it, and the policy
 * judges it so without provenance.
 */
function provenanceOf(): Map<string, string[]> {
  return new Map();
}

/** For the explanation: each violation's field and value as the API client sent them (`as`: the command the flag belongs to). */
function typedOf(violations: readonly Violation[], as = 'docker run'): Map<string, string[]> {
  const p = new Map<string, string[]>();
  for (const v of violations) {
    const key = v.flag.replace(/^-+/, '');
    const token = `${v.field}: ${JSON.stringify(v.value)} (${as} ${v.flag} ${v.subject})`;
    p.set(key, [...(p.get(key) ?? []), token]);
  }
  return p;
}

function requestOf(body: CreateBody, query: URLSearchParams): RunRequest {
  const req: RunRequest = {
    mode: 'create', argv: ['POST', '/containers/create', ...[...query].map(([k, v]) => `${k}=${v}`)], help: false,
    image: body.Image ?? '', args: [], body, pull: 'never', quiet: true, detach: true, sigProxy: false,
    sdocker: { dryRun: false, output: 'text' }, typed: provenanceOf(), notices: [],
  };
  const name = query.get('name');
  if (name) req.name = name;
  const platform = query.get('platform');
  if (platform) req.platform = platform;
  return req;
}

function explainText(req: RunRequest, profile: EffectiveProfile, outcome: PolicyOutcome, as?: string): string {
  return policy.explain({ ...req, typed: typedOf(outcome.violations, as) }, profile, outcome);
}

function engineAnswer(err: EngineError): Verdict {
  return { action: 'respond', status: err.statusCode, body: { message: err.message } };
}

/** POST /containers/create through the policy: refuse, or create the hardened body and verify it. */
export async function createThroughPolicy(body: CreateBody, query: URLSearchParams, ctx: CoreContext): Promise<Verdict> {
  const io = doorIO(ctx);
  const req = requestOf(body, query);
  let profile = ctx.profile;
  const base: policy.RunRecordInput = { req, profile, io, ...(ctx.peer ? { peer: ctx.peer } : {}), ...(ctx.tlsClient ? { client: ctx.tlsClient } : {}) };
  if (profile.unconfined) return { action: 'forward', body };
  if (seccompCheckNeeded(body, profile)) {
    const { gatherSeccompChecks } = await import('../seccomp/policy-check.js');
    profile = { ...profile, seccompChecks: gatherSeccompChecks(req, profile, io) };
  }
  const client = ctx.client;
  const api = httpApi(client);
  // req.pull is 'never': a missing image is the engine's 404, so the pull options are never used.
  const facts = await gatherFacts(api, req, policy.namedVolumesOf(body), startFacts(api, req), { pull: { progress: null, env: io.env, quiet: true } });
  const image: ImageInspect | undefined = facts.image;
  // The engine's own answer to a missing image: the client pulls it and asks again.
  if (!image) return { action: 'respond', status: 404, body: { message: `No such image: ${req.image}` } };
  const identityFiles = await policy.identityFilesFor(api, profile, facts.info, image, io);
  const outcome = policy.decide(req, profile, facts.info, image, facts.namedVolumes, io, facts.containers, identityFiles, ctx.sockets);
  const rules = outcome.violations.map((v) => v.rule);
  if (outcome.refused) {
    policy.record({ ...base, profile, outcome, image, event: 'refused' });
    return { action: 'refuse', status: 403, message: `sdocker: ${explainText(req, profile, outcome).trimEnd()}`, rules: [...new Set(rules)] };
  }
  if (outcome.violations.length > 0) ctx.warn?.(explainText(req, profile, outcome));
  if (ctx.labels) outcome.body.Labels = { ...(outcome.body.Labels ?? {}), ...ctx.labels };
  for (const dir of outcome.createDirs) mkdirSync(dir, { recursive: true });
  const q: Record<string, string> = {};
  if (req.name) q.name = req.name;
  if (req.platform) q.platform = req.platform;
  let created: { Id: string; Warnings?: string[] | null };
  try {
    created = await client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', { query: q, body: outcome.body });
  } catch (err) {
    if (err instanceof EngineError) {
      policy.record({ ...base, profile, outcome, image, event: 'error', error: err.message });
      return engineAnswer(err);
    }
    throw err;
  }
  try {
    // What the engine made, read back and judged apart from the code that built the request.
    await policy.verifyCreated(api, created.Id, profile, outcome, facts.info, io, image);
    if (identityFiles && policy.groupFileMayChange(outcome.body)) {
      await policy.checkMountedGroups(api, created.Id, req, profile, outcome, identityFiles, io);
    }
  } catch (err) {
    if (!(err instanceof PolicyError)) {
      await removeQuietly(client, created.Id);
      throw err;
    }
    await removeQuietly(client, created.Id);
    policy.record({ ...base, profile, outcome, image, event: 'refused', containerId: created.Id });
    return { action: 'refuse', status: 403, message: `sdocker: ${io.text().trimEnd()}`, rules: [...new Set(outcome.violations.map((v) => v.rule))] };
  }
  const warned = io.text();
  if (warned) ctx.warn?.(warned);
  policy.record({ ...base, profile, outcome, image, event: 'create', containerId: created.Id });
  return { action: 'respond', status: 201, body: { Id: created.Id, Warnings: [...(created.Warnings ?? []), ...(ctx.notes ?? [])] } };
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
  let profile = ctx.profile;
  if (seccompCheckNeeded(body, profile)) {
    const { gatherSeccompChecks } = await import('../seccomp/policy-check.js');
    profile = { ...profile, seccompChecks: gatherSeccompChecks(req, profile, io) };
  }
  const api = httpApi(ctx.client);
  const facts = await gatherFacts(api, req, policy.namedVolumesOf(body), startFacts(api, req), { pull: { progress: null, env: io.env, quiet: true } });
  const image: ImageInspect | undefined = facts.image;
  if (!image) return { verdict: { action: 'respond', status: 404, body: { message: `No such image: ${req.image} (the door judges a service against its image: pull it on this node first)` } } };
  const identityFiles = await policy.identityFilesFor(api, profile, facts.info, image, io);
  const outcome = policy.decide(req, profile, facts.info, image, facts.namedVolumes, io, facts.containers, identityFiles, ctx.sockets);
  const base: policy.RunRecordInput = { req, profile, io, outcome, image, ...(ctx.peer ? { peer: ctx.peer } : {}) };
  const record = (event: 'create' | 'refused', extra: { error?: string; containerId?: string } = {}) => policy.record({ ...base, event, ...extra });
  // Worded for what was asked: "refused this service", "(its service's containers as docker run --cap-add SYS_ADMIN)".
  const text = () => explainText(req, profile, outcome, o.noun === 'container' ? undefined : `its ${o.noun}'s containers as docker run`).replace(' this container:', ` this ${o.noun}:`).trimEnd();
  if (outcome.refused) {
    record('refused');
    return { verdict: { action: 'refuse', status: 403, message: `sdocker: ${text()}`, rules: [...new Set(outcome.violations.map((v) => v.rule))] } };
  }
  if (outcome.violations.length > 0) ctx.warn?.(text());
  return { outcome, info: facts.info, record };
}

async function removeQuietly(client: EngineClient, id: string): Promise<void> {
  try {
    await client.call('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { v: 1, force: 1 } });
  } catch {
    // gone already; the refusal stands either way
  }
}
