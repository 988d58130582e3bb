/**
 * The door's judged routes: each reads what the request asks for (JSON body or query), judges it
 * with the policy the CLI uses (src/policy/commands/*, applyPolicy through core.ts), and passes,
 * hardens, or refuses. The table is here; each judgement is in its own file.
 */
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Route, Verdict } from '../types.js';
import { judgeBuildRequest } from './build.js';
import { createRoute } from './create.js';
import { judgeExecRequest } from './exec.js';
import { judgeEngineFetch } from './fetch.js';
import { judgeNetworkCreate, refuseSwarm } from './misc.js';
import { judgePluginEnable, judgePluginInstall, judgePluginSet } from './plugins.js';
import { judgeServiceRequest } from './services.js';
import { containerScope } from './scoped.js';
import { judgeCopy } from './copy.js';
import { judgeCommit, judgeExecStart } from './foreign.js';
import { ownedContainer } from './owned.js';
import { judgeNetworkJoin, ownerPeer, withOwner } from './owners.js';
import { pinContainerPath, pinned } from './pin.js';
import { judgeStartRequest } from './start.js';
import { judgeUpdateRequest } from './update.js';
import { judgeVolumeCreateRequest } from './volume.js';

const ID = '([^/]+)';
const NAME = '(.+)';

type Judgement = (req: DoorRequest, match: RegExpMatchArray) => Promise<Verdict>;

function route(method: string, path: string, name: string, body: Route['body'], judge: Judgement): Route {
  return { method, pattern: new RegExp(`^${path}$`), name, body, judge };
}

export function judgedRoutes(opts: JudgeOptions): Route[] {
  const p = opts.profile;
  // On an existing container: the client's name resolved once to the full id (pin.ts), judged
  // under the profile that container was made under (a project's: scoped.ts), forwarded by that id.
  const scoped = (j: (req: DoorRequest, ref: string, o: JudgeOptions) => Promise<Verdict>): Judgement => async (req, m) => {
    const s = await containerScope(opts, m[1]!, req.peer);
    if ('verdict' in s) return s.verdict;
    const v = await j(req, s.ref, s.opts);
    // Resolved here (a project profile judged it), forwarded by that id even where the judge pinned
    // nothing (a privileged project profile): the client's name is not resolved a second time.
    return s.ref !== m[1] && (v.action === 'pass' || v.action === 'forward') && v.path === undefined ? pinned(v, pinContainerPath(req.path, s.ref)) : v;
  };
  const owned = (what: string, then: (req: DoorRequest, id: string | undefined, o: JudgeOptions) => Verdict | Promise<Verdict>): Judgement =>
    scoped(async (req, ref, o) => {
      const x = await ownedContainer(o, ref, req.peer, what, req.client);
      if ('verdict' in x) return x.verdict;
      return pinned(await then(req, x.id, o), x.id === undefined ? undefined : pinContainerPath(req.path, x.id));
    });
  const copy: Judgement = owned('docker cp', (req, id, o) => (id === undefined ? { action: 'pass' } : judgeCopy(o, id, req.peer)));
  const trusted = (what: string): Judgement => owned(what, () => ({ action: 'pass' }));
  return [
    route('POST', '/containers/create', 'container.create', 'json', createRoute(opts)),
    route('POST', `/containers/${ID}/start`, 'container.start', 'stream', scoped((req, ref, o) => judgeStartRequest(req, ref, 'start', o))),
    route('POST', `/containers/${ID}/restart`, 'container.restart', 'stream', scoped((req, ref, o) => judgeStartRequest(req, ref, 'restart', o))),
    route('POST', `/containers/${ID}/exec`, 'container.exec', 'json', scoped((req, ref, o) => judgeExecRequest(req, ref, o))),
    route('POST', `/containers/${ID}/update`, 'container.update', 'json', owned('update', (req, _id, o) => judgeUpdateRequest(req, o.profile, o.warn))),
    // A name given to another's container would redirect what the client's later requests name.
    route('POST', `/containers/${ID}/rename`, 'container.rename', 'stream', trusted('rename')),
    // Exec instances are global: one root created (in its own container) is not the client's to start.
    route('POST', `/exec/${ID}/start`, 'exec.start', 'stream', (req, m) => judgeExecStart(opts, m[1]!, req.peer, req.client)),
    // A commit copies a container's files into an image the client can run or save: only its own.
    route('POST', '/commit', 'image.commit', 'stream', (req) => judgeCommit(opts, req)),
    // Acting inside an existing container: only one the policy made for this client (owned.ts).
    route('POST', `/containers/${ID}/attach`, 'container.attach', 'stream', trusted('attach')),
    route('GET', `/containers/${ID}/attach/ws`, 'container.attach.ws', 'stream', trusted('attach')),
    route('GET', `/containers/${ID}/archive`, 'container.archive.get', 'stream', copy),
    route('PUT', `/containers/${ID}/archive`, 'container.archive.put', 'stream', copy),
    route('GET', `/containers/${ID}/export`, 'container.export', 'stream', trusted('export')),
    // A URL the engine would fetch itself, as root on the host's network, first (fetch.ts).
    route('POST', '/build', 'image.build', 'stream', async (req) => judgeEngineFetch('build', req, opts) ?? judgeBuildRequest(req, p, opts.warn)),
    route('POST', '/images/create', 'image.create', 'stream', async (req) => judgeEngineFetch('import', req, opts) ?? { action: 'pass' }),
    route('POST', '/volumes/create', 'volume.create', 'json', (req) => judgeVolumeCreateRequest(req, opts)),
    route('POST', '/networks/create', 'network.create', 'json', async (req) => {
      const v = judgeNetworkCreate(req, p);
      const peer = ownerPeer(opts, req.peer);
      // A network made for this client is labelled its own (owners.ts): others cannot join it, nor it theirs.
      // CheckDuplicate: a second network under the name of root's would make root's own requests ambiguous.
      return v.action === 'pass' && peer ? { action: 'forward', body: { ...(req.body as object), CheckDuplicate: true, Labels: withOwner((req.body as { Labels?: unknown }).Labels, peer.uid) } } : v;
    }),
    route('POST', `/networks/${ID}/connect`, 'network.connect', 'json', (req, m) => judgeNetworkJoin(opts, req, m[1]!, 'connect')),
    route('POST', `/networks/${ID}/disconnect`, 'network.disconnect', 'json', (req, m) => judgeNetworkJoin(opts, req, m[1]!, 'disconnect')),
    // BuildKit's session for a build judged at POST /build (files and credentials from the client)
    route('POST', '/session', 'build.session', 'stream', async () => ({ action: 'pass' })),
    route('POST', '/plugins/pull', 'plugin.pull', 'json', async (req) => judgePluginInstall(req, p, opts.warn)),
    // A created plugin is disabled and runs nothing: its config is judged at enable (plugins.ts).
    route('POST', '/plugins/create', 'plugin.create', 'stream', async () => ({ action: 'pass' })),
    route('POST', `/plugins/${NAME}/enable`, 'plugin.enable', 'stream', (req, m) => judgePluginEnable(m[1]!, opts)),
    route('POST', `/plugins/${NAME}/upgrade`, 'plugin.upgrade', 'json', async (req) => judgePluginInstall(req, p, opts.warn)),
    route('POST', `/plugins/${NAME}/set`, 'plugin.set', 'json', (req, m) => judgePluginSet(req, m[1]!, opts)),
    route('POST', `/plugins/${NAME}/push`, 'plugin.push', 'stream', async () => ({ action: 'pass' })),
    route('POST', '/services/create', 'service.create', 'json', (req) => judgeServiceRequest(req, undefined, opts)),
    route('POST', `/services/${ID}/update`, 'service.update', 'json', (req, m) => judgeServiceRequest(req, m[1]!, opts)),
    route('POST', '/swarm/init', 'swarm.init', 'stream', async (req) => refuseSwarm(req, p)),
    route('POST', '/swarm/join', 'swarm.join', 'stream', async (req) => refuseSwarm(req, p)),
    route('POST', '/swarm/update', 'swarm.update', 'stream', async (req) => refuseSwarm(req, p)),
    route('POST', '/swarm/unlock', 'swarm.unlock', 'stream', async (req) => refuseSwarm(req, p)),
    route('POST', `/nodes/${ID}/update`, 'node.update', 'stream', async (req) => refuseSwarm(req, p)),
    route('POST', '/secrets/create', 'secret.create', 'stream', async () => ({ action: 'pass' })),
    route('POST', '/configs/create', 'config.create', 'stream', async () => ({ action: 'pass' })),
  ];
}
