/**
 * Requests that act inside an existing container (exec, attach, copy files in or out, export,
 * start, restart, update) are for containers the policy made for this client: trusted as a join
 * is trusted (src/policy/join-trust.ts distrust: created by sdocker in enforce mode under a level
 * at least as strict, for the same uid, from an image without io.sdocker.* labels, and its real
 * configuration agrees: not privileged, capabilities dropped, a numeric non-root user). Anything
 * else on the engine — a privileged agent made by root, another user's container, one made before
 * the door — would hand the client what the policy refuses it (a root shell in a privileged
 * container, files of a host bind through `docker cp`): refused (SD-DOOR-004) unless the profile's
 * `allow.joinContainers` names it. Without a peer (a TLS client) users cannot be told apart: the
 * owner is not compared; a TLS client's certificate is (the door labels what it makes for one with
 * the certificate's sha256, LABEL_CLIENT). A container the engine does not know: the engine says so.
 */
import type { CreateBody, EngineInfo } from '../../api/types.js';
import { httpApi } from '../../engine/http-api.js';
import { inspectJoined } from '../../pipeline/facts.js';
import { engineFactsFrom } from '../../policy/facts.js';
import { rootAllowed } from '../../policy/identity.js';
import { distrust, joinAllowance } from '../../policy/join-trust.js';
import { LABEL_CLIENT, LABEL_OWNER } from '../../policy/own-labels.js';
import type { JoinedContainer } from '../../policy/types.js';
import type { JudgeOptions } from '../judge.js';
import type { Peer, TlsClient, Verdict } from '../types.js';
import { containerIdOf } from './pin.js';
import { judgeOne, verdictOf } from './verdict.js';

const ANY_OWNER = -1;

/** Pure: why the client may not act in container `x` (as its inspect shows it), or undefined. */
export function distrustFor(x: JoinedContainer, opts: Pick<JudgeOptions, 'profile'>, peer: Peer | undefined, usernsRemap: boolean, client?: TlsClient): string | undefined {
  const p = opts.profile;
  if (!peer && client && x.Labels?.[LABEL_CLIENT] !== client.sha256) {
    return `container ${x.Name.replace(/^\//, '')} was not made through the door for this client certificate (${client.subject})`;
  }
  const seen = peer ? x : { ...x, Labels: { ...(x.Labels ?? {}), [LABEL_OWNER]: String(ANY_OWNER) } };
  return distrust(seen, { level: p.level, owner: peer ? peer.uid : ANY_OWNER, allow: p.allow, rootAllowed: rootAllowed(p.allow, usernsRemap) });
}

/** A refusal when the client may not act in container `id` (`what`: `exec`, `docker cp`...); undefined when it may. */
export async function refuseUntrusted(opts: JudgeOptions, id: string, peer: Peer | undefined, what: string, client?: TlsClient): Promise<Verdict | undefined> {
  const p = opts.profile;
  if (p.unconfined) return undefined;
  const found = await inspectJoined(httpApi(opts.client), { Image: '', HostConfig: { PidMode: `container:${id}` } } as CreateBody);
  const x = found[id];
  if (!x) return undefined;
  const remap = p.allow.root ? engineFactsFrom(await opts.client.json<EngineInfo>('GET', '/info')).usernsRemap : false;
  const why = distrustFor(x, opts, peer, remap, client);
  if (!why) return undefined;
  const j = judgeOne(p, 'SD-DOOR-004', joinAllowance(p.allow, id, x), {
    flag: what, subject: x.Name.replace(/^\//, '') || id, field: 'container', why: `${why}; create it through sdocker, or allow it`,
    allowSubject: x.Name.replace(/^\//, '') || id,
  });
  const v = verdictOf(j.violations, undefined, p, what, opts.warn);
  return v.action === 'pass' ? undefined : v;
}

/**
 * The container `ref` names, resolved once to its full id (pin.ts), when the client may act in it;
 * otherwise the refusal (or the engine's answer: no such container). At level privileged nothing
 * is judged and nothing resolved (`id` undefined: forward the client's path as it is).
 */
export async function ownedContainer(opts: JudgeOptions, ref: string, peer: Peer | undefined, what: string, client?: TlsClient): Promise<{ id: string | undefined } | { verdict: Verdict }> {
  if (opts.profile.unconfined) return { id: undefined };
  const r = await containerIdOf(opts.client, ref);
  if ('verdict' in r) return r;
  const refused = await refuseUntrusted(opts, r.id, peer, what, client);
  return refused ? { verdict: refused } : r;
}
