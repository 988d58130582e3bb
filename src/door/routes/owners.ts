/**
 * Volumes and networks are the engine's, not a user's: any client could mount root's database
 * volume (`-v pgdata:/x`), join root's internal network (`--network backend`), or connect root's
 * container to a network of its own and talk to its ports. Through the door, for a client known
 * by its uid (SO_PEERCRED; root is the host's user), they are owned as containers are (owned.ts):
 * - `POST /volumes/create` and `POST /networks/create` label what they make with the client's uid
 *   (`io.sdocker.owner`, the label sdocker puts on its containers; a client's own value is replaced);
 * - a create may mount a named volume and join a network only when its owner label is the
 *   client's; a named volume that does not exist yet is made first by the door, labelled (the
 *   engine would make it unlabelled), and removed again if the create does not happen;
 *   the engine's shared networks (`bridge`, `none`) stay open to all;
 * - `POST /networks/{id}/connect` and `/disconnect` act on a container the client may act in
 *   (pinned to its full id) and connect it to a network of its own.
 * A volume or network made before the door, or by root, is refused (SD-DOOR-006) unless the profile
 * allows privileged containers. Without a peer (TLS) owners cannot be told apart: not compared.
 */
import type { CreateBody, MountSpec } from '../../api/types.js';
import { EngineError } from '../../errors.js';
import { LABEL_OWNER } from '../../policy/own-labels.js';
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Peer, Verdict } from '../types.js';
import { canonicalKeys, caseDuplicates, isObject, unknownFields } from './body.js';
import { ownedContainer } from './owned.js';
import { containerScope } from './scoped.js';
import { cannotJudge, judgeOne, verdictOf } from './verdict.js';

/** The networks every client shares: the engine's default bridge and no network. */
const SHARED_NETWORKS = new Set(['', 'default', 'bridge', 'none']);

/** The client whose ownership is compared, or undefined (root, a TLS client, level privileged, the CLI's private door). */
export function ownerPeer(opts: Pick<JudgeOptions, 'profile' | 'hostUser'>, peer: Peer | undefined): Peer | undefined {
  return peer && peer.uid !== 0 && !opts.profile.unconfined && opts.hostUser !== true ? peer : undefined;
}

/** Pure: labels with the owner's uid set (any client-given `io.sdocker.owner`, in any case, replaced). */
export function withOwner(labels: unknown, uid: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (isObject(labels)) for (const [k, v] of Object.entries(labels)) if (k.toLowerCase() !== LABEL_OWNER) out[k] = v;
  out[LABEL_OWNER] = String(uid);
  return out;
}

/** Pure: the named volumes a create body mounts (Binds `name:/dst`, Mounts of type volume with a Source). */
export function namedVolumesIn(body: CreateBody): { name: string; mount?: MountSpec }[] {
  const out = new Map<string, MountSpec | undefined>();
  for (const b of body.HostConfig?.Binds ?? []) {
    const src = typeof b === 'string' ? (b.split(':')[0] ?? '') : '';
    if (src && !src.startsWith('/') && !out.has(src)) out.set(src, undefined);
  }
  for (const m of body.HostConfig?.Mounts ?? []) if (m.Type === 'volume' && m.Source) out.set(m.Source, m);
  return [...out].map(([name, mount]) => (mount ? { name, mount } : { name }));
}

/** Pure: the networks a create body joins, other than the shared ones and modes (host, container:X) the policy judges. */
export function networksIn(body: CreateBody): string[] {
  const mode = body.HostConfig?.NetworkMode ?? '';
  const nets = [mode, ...Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {})];
  return [...new Set(nets.filter((n) => !SHARED_NETWORKS.has(n) && n !== 'host' && !n.startsWith('container:')))];
}

function refuse(opts: JudgeOptions, what: string, subject: string): Verdict {
  const p = opts.profile;
  const j = judgeOne(p, 'SD-DOOR-006', p.allow.privileged, {
    flag: what, subject, field: what, denialKey: 'privileged',
    why: `${subject} was not made through the door for this client (label ${LABEL_OWNER})`,
  });
  return verdictOf(j.violations, undefined, p, what);
}

async function inspect(opts: JudgeOptions, path: string): Promise<{ Labels?: Record<string, string> | null; Id?: string; Name?: string } | undefined> {
  try {
    return await opts.client.json('GET', path);
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return undefined;
    throw err;
  }
}

const ownedBy = (x: { Labels?: Record<string, string> | null }, peer: Peer) => x.Labels?.[LABEL_OWNER] === String(peer.uid);

/**
 * Before a create: the volumes and networks it names are the client's. Returns a refusal, or the
 * names of the volumes the door made for it (to remove if the create does not happen).
 */
export async function claimCreate(opts: JudgeOptions, body: CreateBody, peer: Peer): Promise<{ verdict: Verdict } | { made: string[] }> {
  for (const net of networksIn(body)) {
    const n = await inspect(opts, `/networks/${encodeURIComponent(net)}`);
    if (n && !ownedBy(n, peer)) {
      const v = refuse(opts, 'HostConfig.NetworkMode', `network ${JSON.stringify(net)}`);
      if (v.action === 'refuse') return { verdict: v };
    }
  }
  const made: string[] = [];
  try {
    for (const { name, mount } of namedVolumesIn(body)) {
      let volume = await inspect(opts, `/volumes/${encodeURIComponent(name)}`);
      const making = volume === undefined;
      if (making) {
        const dc = mount?.VolumeOptions?.DriverConfig;
        // The engine answers a create of an existing name with that volume, unchanged: one another
        // user made since the inspect above is theirs, not this client's (nor the door's to remove).
        volume = await opts.client.json<{ Labels?: Record<string, string> | null }>('POST', '/volumes/create', {
          body: { Name: name, Driver: dc?.Name || 'local', DriverOpts: dc?.Options ?? {}, Labels: withOwner(mount?.VolumeOptions?.Labels, peer.uid) },
        });
      }
      if (!ownedBy(volume!, peer)) {
        const r = refuse(opts, mount ? 'HostConfig.Mounts' : 'HostConfig.Binds', `volume ${JSON.stringify(name)}`);
        if (r.action === 'refuse') {
          await dropVolumes(opts, made);
          return { verdict: r };
        }
        continue;
      }
      if (making) made.push(name);
    }
  } catch (err) {
    // Nothing left behind: the volumes this create made so far go with it.
    await dropVolumes(opts, made);
    throw err;
  }
  return { made };
}

export async function dropVolumes(opts: JudgeOptions, names: readonly string[]): Promise<void> {
  for (const n of names) await opts.client.call('DELETE', `/volumes/${encodeURIComponent(n)}`).catch(() => undefined);
}

const CONNECT_FIELDS: ReadonlySet<string> = new Set(['Container', 'EndpointConfig', 'Force']);

/** `POST /networks/{id}/connect|disconnect`: a container the client may act in, to a network of its own (connect). */
export async function judgeNetworkJoin(opts: JudgeOptions, req: DoorRequest, network: string, how: 'connect' | 'disconnect'): Promise<Verdict> {
  if (opts.profile.unconfined) return { action: 'pass' };
  const raw = req.body;
  if (!isObject(raw)) return cannotJudge(`POST /networks/{id}/${how}: the body is not a JSON object`);
  const dup = caseDuplicates(raw);
  if (dup.length) return cannotJudge(`network ${how}: a field given twice in different case: ${dup.join(', ')}`);
  const body = canonicalKeys(raw, CONNECT_FIELDS);
  const unknown = unknownFields(body, CONNECT_FIELDS);
  if (unknown.length) return cannotJudge(`network ${how}: unknown field ${unknown.join(', ')}`);
  if (typeof body.Container !== 'string' || body.Container === '') return cannotJudge(`network ${how}: Container is not a container name or id`);
  // The container judged under the profile it was made under (a project's: scoped.ts), by its full id.
  const scope = await containerScope(opts, body.Container, req.peer);
  if ('verdict' in scope) return scope.verdict;
  const owned = await ownedContainer(scope.opts, scope.ref, req.peer, `network ${how}`, req.client);
  if ('verdict' in owned) return owned.verdict;
  const peer = ownerPeer(opts, req.peer);
  let path: string | undefined;
  if (how === 'connect' && peer && !SHARED_NETWORKS.has(network)) {
    const n = await inspect(opts, `/networks/${encodeURIComponent(network)}`);
    if (n && !ownedBy(n, peer)) {
      const v = refuse(opts, 'network connect', `network ${JSON.stringify(network)}`);
      if (v.action === 'refuse') return v;
    }
    // The network judged is the one joined (a name could be another network's id prefix).
    if (n && typeof n.Id === 'string' && /^[0-9a-f]{64}$/.test(n.Id)) path = `/networks/${n.Id}/connect`;
  }
  // The container judged is the one connected: by its full id (pin.ts; scoped.ts resolved it when a project profile judged it).
  const id = owned.id ?? (scope.ref !== body.Container ? scope.ref : undefined);
  const forwarded = id === undefined ? body : { ...body, Container: id };
  return path ? { action: 'forward', body: forwarded, path } : { action: 'forward', body: forwarded };
}
