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
import { judgeNetworkCreate, refuseSwarm } from './misc.js';
import { judgePluginEnable, judgePluginInstall, judgePluginSet } from './plugins.js';
import { judgeServiceRequest } from './services.js';
import { refuseUntrusted } from './owned.js';
import { optsForContainer } from './scoped.js';
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
  // On an existing container: judged under the profile it was made under (a project's: scoped.ts).
  const scoped = (j: (req: DoorRequest, m: RegExpMatchArray, o: JudgeOptions) => Promise<Verdict>): Judgement => async (req, m) => {
    const s = await optsForContainer(opts, m[1]!, req.peer);
    return 'verdict' in s ? s.verdict : j(req, m, s.opts);
  };
  const trusted = (what: string): Judgement => scoped(async (req, m, o) => (await refuseUntrusted(o, m[1]!, req.peer, what, req.client)) ?? { action: 'pass' });
  return [
    route('POST', '/containers/create', 'container.create', 'json', createRoute(opts)),
    route('POST', `/containers/${ID}/start`, 'container.start', 'stream', scoped((req, m, o) => judgeStartRequest(req, m[1]!, 'start', o))),
    route('POST', `/containers/${ID}/restart`, 'container.restart', 'stream', scoped((req, m, o) => judgeStartRequest(req, m[1]!, 'restart', o))),
    route('POST', `/containers/${ID}/exec`, 'container.exec', 'json', scoped((req, m, o) => judgeExecRequest(req, m[1]!, o))),
    route('POST', `/containers/${ID}/update`, 'container.update', 'json', scoped(async (req, m, o) => (await refuseUntrusted(o, m[1]!, req.peer, 'update', req.client)) ?? judgeUpdateRequest(req, o.profile, o.warn))),
    // Acting inside an existing container: only one the policy made for this client (owned.ts).
    route('POST', `/containers/${ID}/attach`, 'container.attach', 'stream', trusted('attach')),
    route('GET', `/containers/${ID}/attach/ws`, 'container.attach.ws', 'stream', trusted('attach')),
    route('GET', `/containers/${ID}/archive`, 'container.archive.get', 'stream', trusted('docker cp')),
    route('PUT', `/containers/${ID}/archive`, 'container.archive.put', 'stream', trusted('docker cp')),
    route('GET', `/containers/${ID}/export`, 'container.export', 'stream', trusted('export')),
    route('POST', '/build', 'image.build', 'stream', async (req) => judgeBuildRequest(req, p, opts.warn)),
    route('POST', '/volumes/create', 'volume.create', 'json', (req) => judgeVolumeCreateRequest(req, opts)),
    route('POST', '/networks/create', 'network.create', 'json', async (req) => judgeNetworkCreate(req, p)),
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
