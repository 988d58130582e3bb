/**
 * `POST /services/create` and `POST /services/{id}/update`: the spec becomes the create body the
 * engine's swarm executor will derive from it (../service-body.ts), the policy of `sdocker run`
 * decides on it (../core.ts: the same facts, rules and run record), and the HARDENED spec is
 * forwarded (capabilities dropped, read-only root, user, limits, pids, log rotation, bounded
 * restarts, binds through read-only nosuid volumes...). What API 1.41's spec cannot carry while
 * the profile requires it (no-new-privileges, sdocker's seccomp profile, a private cgroup
 * namespace...) is refused (SD-SVC-001) with the profile lines that accept the engine's default.
 * An update is judged as a create: its body is the whole new spec. A rollback (`rollback=previous`)
 * runs a spec the request does not carry: refused.
 */
import { EngineError } from '../../errors.js';
import { Judge } from '../../policy/commands/common.js';
import type { Provenance } from '../../policy/types.js';
import { httpApi } from '../../engine/http-api.js';
import { decideThroughPolicy } from '../core.js';
import type { JudgeOptions } from '../judge.js';
import { droppedForVersion, hardenedServiceSpec, readServiceSpec, serviceCreateBody, type Inexpressible, type NetworkKind } from '../service-body.js';
import type { DoorRequest, Verdict } from '../types.js';
import { readCreateBody } from './create.js';
import { ownerPeer } from './owners.js';
import { socketsOf } from './sockets.js';
import { cannotJudge, judgeOne, verdictOf } from './verdict.js';

/** What each network target is: the engine's answer (a name or an id; swarm resolves both). */
async function networkKinds(targets: readonly string[], opts: JudgeOptions): Promise<Record<string, NetworkKind> | Verdict> {
  const out: Record<string, NetworkKind> = {};
  for (const t of targets) {
    try {
      const n = await opts.client.json<{ Name?: string; Driver?: string }>('GET', `/networks/${encodeURIComponent(t)}`);
      const driver = n.Driver ?? '';
      out[t] = driver === 'host' || n.Name === 'host' ? 'host' : driver === 'null' || n.Name === 'none' ? 'none' : 'other';
      // macvlan, ipvlan, a plugin's driver (a network made around the door): the host's own networks.
      if (out[t] === 'other' && !['', 'bridge', 'overlay'].includes(driver)) {
        const j = judgeOne(opts.profile, 'SD-DOOR-005', opts.profile.allow.privileged, {
          flag: 'service --network', subject: `${n.Name ?? t} (driver ${driver})`, field: 'TaskTemplate.Networks', denialKey: 'privileged',
        });
        const v = verdictOf(j.violations, undefined, opts.profile, 'service', opts.warn);
        if (v.action === 'refuse') return v;
      }
    } catch (err) {
      if (err instanceof EngineError) return { action: 'respond', status: err.statusCode, body: { message: err.message } };
      throw err;
    }
  }
  return out;
}

/** SD-SVC-001 refusals, each naming the setting, the API that would carry it, and the lines that accept the engine's default. */
function inexpressibleVerdict(list: readonly Inexpressible[], opts: JudgeOptions): Verdict {
  const j = new Judge(opts.profile);
  for (const x of list) {
    j.check('SD-SVC-001', undefined, {
      flag: 'service spec', subject: `${x.setting} (API 1.41's service spec cannot carry it; ${x.api})`, field: x.field,
      allowWith: x.allowWith,
    });
  }
  const prov: Provenance = new Map([['service spec', list.map((x) => `${x.field}: ${x.setting}`)]]);
  return verdictOf(j.violations, prov, opts.profile, 'service', opts.warn);
}

async function judgeSpec(req: DoorRequest, what: string, opts: JudgeOptions): Promise<Verdict> {
  const read = readServiceSpec(req.body);
  if ('problems' in read) return cannotJudge(`${what}: ${read.problems.join('; ')}`);
  const kinds = await networkKinds(read.targets, opts);
  if ('action' in kinds) return kinds as Verdict;
  const created = readCreateBody(serviceCreateBody(read, kinds as Record<string, NetworkKind>));
  if ('verdict' in created) return cannotJudge(`${what}: ${created.verdict.action === 'refuse' ? created.verdict.message.replace(/^sdocker: POST \/containers\/create: /, '') : 'the spec'}`);
  const asked = structuredClone(created.body);
  const ctx: Parameters<typeof decideThroughPolicy>[2] = { api: httpApi(opts.client), profile: opts.profile, env: opts.env, cwd: opts.cwd, sockets: socketsOf(opts) };
  if (req.peer) ctx.peer = req.peer;
  if (req.client) ctx.tlsClient = req.client;
  if (opts.warn) ctx.warn = opts.warn;
  const d = await decideThroughPolicy(created.body, what, ctx, { noun: 'service' });
  if ('verdict' in d) return d.verdict;
  // Audit mode: the request goes as asked; the decision is in the record.
  if (!d.outcome.applied) {
    d.record('create');
    return { action: 'forward', body: read.spec };
  }
  const back = hardenedServiceSpec(read, asked, d.outcome.body, { logDriver: d.info.LoggingDriver || 'json-file', acceptNewPrivileges: !!opts.profile.allow.newPrivileges });
  back.inexpressible.push(...droppedForVersion(back.spec, req.apiVersion));
  if (back.inexpressible.length) {
    // Enforce: refused. Warn: the spec goes with what it can carry, and the rest is reported.
    const v = inexpressibleVerdict(back.inexpressible, opts);
    if (v.action === 'refuse') {
      d.record('refused', { error: back.inexpressible.map((x) => x.setting).join('; ') });
      return v;
    }
  }
  d.record('create');
  return { action: 'forward', body: back.spec };
}

export async function judgeServiceRequest(req: DoorRequest, id: string | undefined, opts: JudgeOptions): Promise<Verdict> {
  if (opts.profile.unconfined) return { action: 'pass' };
  const what = id === undefined ? 'POST /services/create' : `POST /services/${id}/update`;
  const rollback = req.query.get('rollback');
  if (rollback !== null && rollback !== '') {
    return cannotJudge(`${what}?rollback=${rollback}: a rollback runs the service's previous spec, which the request does not carry (update with that spec instead)`);
  }
  // A tenant's service: its host paths, volumes and networks, and the service it updates, are not
  // judged for their owner as a container's are (SD-DOOR-006): refused to all but the host's users.
  if (ownerPeer(opts, req.peer)) {
    const j = judgeOne(opts.profile, 'SD-DOOR-006', opts.profile.allow.privileged, {
      flag: what, subject: `a swarm service for uid ${req.peer!.uid}`, field: 'service', denialKey: 'privileged',
      why: 'the door does not judge whose host paths, volumes, networks and services a service reaches: only root on the socket may create or update services',
    });
    const v = verdictOf(j.violations, undefined, opts.profile, 'service', opts.warn);
    if (v.action === 'refuse') return v;
  }
  return judgeSpec(req, what, opts);
}
