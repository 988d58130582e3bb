/**
 * `POST /containers/create` (any version prefix, `?name=`, `?platform=`): the body canonicalised
 * as the engine reads it (create-fields.ts; what the door cannot classify is a 400, nothing
 * created), then the run pipeline through the door's single adapter (../core.ts), with the host
 * paths a client may reach checked before and after (host-paths.ts), and the volumes and
 * networks it names its own (owners.ts): SD-DOOR-006.
 */
import { existsSync } from 'node:fs';
import type { ContainerInspect } from '../../api/types.js';
import type { JudgeOptions } from '../judge.js';
import { createThroughPolicy } from '../core.js';
import { doorMemory } from '../memory.js';
import { EngineWatch, EVENT_FILTERS } from '../engine-watch.js';
import { httpApi } from '../../engine/http-api.js';
import type { DoorRequest, Peer, Verdict } from '../types.js';
import { canonicalCreateBody } from './create-fields.js';
import { foreignUser, hostPathsOf, hostSourcesOf, unreachable } from './host-paths.js';
import { claimCreate, dropVolumes, ownerPeer } from './owners.js';
import { socketsOf } from './sockets.js';
import { cannotJudge, judgeOne, verdictOf } from './verdict.js';
import { LABEL_CLIENT } from '../../policy/own-labels.js';
import { chooseCreateProfile, LABEL_PROFILE, type ChosenProfile } from '../project-profile.js';

/** A refusal under a project profile names that file as the place to allow it; a profile not read is said too. */
function fixInProject(v: Verdict, chosen: ChosenProfile): Verdict {
  if (v.action !== 'refuse') return v;
  const path = chosen.labels[LABEL_PROFILE];
  let message = path ? v.message.split('add to the profile (sdocker.yaml):').join(`add to ${path}:`) : v.message;
  if (chosen.warnings.length) message = `${message}\n${chosen.warnings.join('\n')}`;
  return { ...v, message };
}

/** Pure: the body the policy will judge, or the 400 that says what the door cannot read. */
export function readCreateBody(raw: unknown): { body: import('../../api/types.js').CreateBody } | { verdict: Verdict } {
  const r = canonicalCreateBody(raw);
  if ('problems' in r) return { verdict: cannotJudge(`POST /containers/create: ${r.problems.join('; ')}`) };
  return r;
}

/** SD-DOOR-006 for these problems (a pass when there are none, or the profile allows it). */
export function hostPathVerdict(opts: JudgeOptions, problems: string[]): Verdict {
  if (problems.length === 0) return { action: 'pass' };
  const p = opts.profile;
  const j = judgeOne(p, 'SD-DOOR-006', p.allow.privileged, {
    flag: 'HostConfig.Binds', subject: problems.join('; '), field: 'host path', denialKey: 'privileged',
    why: `${problems.join('; ')}: a client of the door reaches only host paths its own uid can read, as its own uid or ${65534}`,
  });
  return verdictOf(j.violations, undefined, p, 'container');
}

/** The host paths container `id` reaches (its binds, its volumes' bind devices), with its inspect. */
export async function containerHostPaths(opts: JudgeOptions, id: string): Promise<{ c: ContainerInspect; paths: string[] }> {
  const c = await opts.client.json<ContainerInspect>('GET', `/containers/${id}/json`);
  const mounts = c.Mounts ?? [];
  const volumes: Record<string, Record<string, string> | null | undefined> = {};
  for (const m of mounts) {
    if (m.Type === 'volume' && m.Name) volumes[m.Name] = (await opts.client.json<{ Options?: Record<string, string> | null }>('GET', `/volumes/${encodeURIComponent(m.Name)}`)).Options;
  }
  return { c, paths: hostPathsOf(mounts, volumes) };
}

/** After the create: what the engine made, judged for this client; the container removed when refused. */
async function checkCreated(opts: JudgeOptions, id: string, peer: Peer): Promise<Verdict> {
  const { c, paths } = await containerHostPaths(opts, id);
  if (paths.length === 0) return { action: 'pass' };
  const problems = paths.map((p) => unreachable(p, peer)).filter((w): w is string => w !== undefined);
  const user = foreignUser(c.Config.User, c.HostConfig.GroupAdd, peer);
  if (user) problems.push(`${user}, with host paths ${paths.join(', ')}`);
  return hostPathVerdict(opts, problems);
}

export function createRoute(opts: JudgeOptions) {
  // The engine's answers remembered across this door's creates (../memory.ts).
  const memory = doorMemory();
  const api = httpApi(opts.client);
  // The engine's event stream, opened at the first create: what a remembered /info stands on.
  const watch = new EngineWatch(async () => {
    const res = await opts.client.request('GET', '/events', { query: { filters: EVENT_FILTERS } });
    // It never keeps the door (or a command's private door) running by itself.
    res.socket?.unref();
    return res;
  });
  return async (req: DoorRequest): Promise<Verdict> => {
    watch.start();
    const read = readCreateBody(req.body);
    if ('verdict' in read) return read.verdict;
    // The socket's profile, or the project's the request names (project-profile.ts), or a refusal.
    const chosen = await chooseCreateProfile(read.body, req.peer, opts.profile, opts.projects);
    if ('verdict' in chosen) return chosen.verdict;
    const body = chosen.body;
    // The owner checks below judge under the profile that judges this create (the project's, if any).
    const jo: JudgeOptions = { ...opts, profile: chosen.profile };
    const peer = ownerPeer(jo, req.peer);
    let made: string[] = [];
    if (peer) {
      // Before: only that each source exists (the engine would make it as root); the policy's own
      // rules (sockets, sensitive paths) speak first, and reachability is judged on what was made.
      const before = hostPathVerdict(jo, hostSourcesOf(body).filter((p) => !existsSync(p)).map((p) => `${p} does not exist on the host (the door makes nothing on the host for a client)`));
      if (before.action === 'refuse') return fixInProject(before, chosen);
      const claimed = await claimCreate(jo, body, peer);
      if ('verdict' in claimed) return fixInProject(claimed.verdict, chosen);
      made = claimed.made;
    }
    const ctx: Parameters<typeof createThroughPolicy>[2] = { api, profile: chosen.profile, env: opts.env, cwd: opts.cwd, sockets: socketsOf(jo), memory, watch, labels: chosen.labels, notes: chosen.warnings };
    if (req.peer) ctx.peer = req.peer;
    // A TLS client has no uid: what it makes is labelled with its certificate, which owned.ts compares.
    if (req.client) {
      ctx.tlsClient = req.client;
      ctx.labels = { ...ctx.labels, [LABEL_CLIENT]: req.client.sha256 };
    }
    if (opts.warn) ctx.warn = opts.warn;
    const removeAll = async (id?: string) => {
      if (id) await jo.client.call('DELETE', `/containers/${id}`, { query: { force: 1, v: 1 } }).catch(() => undefined);
      await dropVolumes(jo, made);
    };
    const v = await createThroughPolicy(body, req.query, ctx).catch(async (err: unknown) => {
      await removeAll();
      throw err;
    });
    if (!peer) return fixInProject(v, chosen);
    if (v.action !== 'respond' || v.status !== 201) {
      await removeAll();
      return fixInProject(v, chosen);
    }
    const id = (v.body as { Id: string }).Id;
    const after = await checkCreated(jo, id, peer).catch(async (err: unknown) => {
      await removeAll(id);
      throw err;
    });
    if (after.action !== 'refuse') return v;
    await removeAll(id);
    return fixInProject(after, chosen);
  };
}
