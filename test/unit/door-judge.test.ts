/**
 * The door's judge, pure parts (no engine): which route each Engine API request takes, and the
 * verdicts on exec, update, build, volume, network, plugin and swarm requests and on create
 * bodies the door cannot classify. The create route's engine behaviour is tested through the door
 * (test/engine/door-*.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/engine/client.js';
import { applyPolicy } from '../../src/policy/apply.js';
import type { ProfileFile } from '../../src/policy/types.js';
import { createJudge, unknownEndpoint } from '../../src/door/judge.js';
import type { DoorRequest, Verdict } from '../../src/door/types.js';
import { buildArgs, judgeBuildRequest } from '../../src/door/routes/build.js';
import { canonicalCreateBody } from '../../src/door/routes/create-fields.js';
import { judgeExecBody } from '../../src/door/routes/exec.js';
import { judgeNetworkCreate, refuseSwarm } from '../../src/door/routes/misc.js';
import { judgePluginInstall } from '../../src/door/routes/plugins.js';
import { distrustFor } from '../../src/door/routes/owned.js';
import { pinContainerPath, pinned } from '../../src/door/routes/pin.js';
import { pinnedUrl } from '../../src/door/server.js';
import { hasBody } from '../../src/door/routes/start.js';
import type { JoinedContainer } from '../../src/policy/types.js';
import { judgeUpdateRequest, updateArgs } from '../../src/door/routes/update.js';
import { judgeVolumeBody } from '../../src/door/routes/volume.js';
import { ENGINE, profileOf } from '../policy/helpers.js';

const restricted = profileOf();
const privileged = profileOf('privileged');
const allowing = (allow: ProfileFile['allow']) => profileOf('restricted', [{ extends: 'restricted', allow } as ProfileFile]);
const judge = createJudge({ client: {} as EngineClient, profile: restricted, env: {}, cwd: '/tmp' });

function req(method: string, path: string, o: { body?: unknown; query?: string; headers?: DoorRequest['headers'] } = {}): DoorRequest {
  const r: DoorRequest = { method, path, query: new URLSearchParams(o.query ?? ''), headers: o.headers ?? {} };
  if ('body' in o) r.body = o.body;
  return r;
}
const rulesOf = (v: Verdict): string[] => (v.action === 'refuse' ? (v.rules ?? []) : []);
const messageOf = (v: Verdict): string => (v.action === 'refuse' ? v.message : '');

describe('routeFor', () => {
  it.each([
    ['GET', '/_ping', 'system.ping'], ['HEAD', '/_ping', 'system.ping'], ['GET', '/containers/json', 'container.list'],
    ['GET', '/containers/abc/logs', 'container.logs'],
    ['POST', '/containers/abc/wait', 'container.wait'], ['DELETE', '/containers/abc', 'container.delete'],
    ['GET', '/images/library/busybox:1.36/json', 'image.inspect'], ['POST', '/images/localhost:5000/a/b/tag', 'image.tag'],
    ['DELETE', '/images/reg.io/x/y:z', 'image.delete'], ['GET', '/events', 'system.events'],
  ])('%s %s passes (%s)', async (method, path, name) => {
    const m = judge.routeFor(method, path);
    expect(m?.route.name).toBe(name);
    expect(m?.route.body).toBe('stream');
    expect(await m!.route.judge(req(method, path), m!.match)).toEqual({ action: 'pass' });
  });
  it.each([
    ['POST', '/containers/create', 'container.create', 'json'], ['POST', '/containers/c1/exec', 'container.exec', 'json'],
    ['POST', '/containers/c1/update', 'container.update', 'json'], ['POST', '/containers/c1/start', 'container.start', 'stream'],
    ['POST', '/containers/c1/restart', 'container.restart', 'stream'], ['POST', '/build', 'image.build', 'stream'],
    ['POST', '/volumes/create', 'volume.create', 'json'], ['POST', '/networks/create', 'network.create', 'json'],
    ['POST', '/plugins/vieux/sshfs:latest/enable', 'plugin.enable', 'stream'], ['POST', '/services/create', 'service.create', 'json'],
    ['POST', '/containers/abc/attach', 'container.attach', 'stream'], ['GET', '/containers/abc/attach/ws', 'container.attach.ws', 'stream'],
    ['HEAD', '/containers/abc/archive', 'container.archive.get', 'stream'], ['PUT', '/containers/abc/archive', 'container.archive.put', 'stream'],
    ['GET', '/containers/abc/export', 'container.export', 'stream'], ['POST', '/exec/e1/start', 'exec.start', 'stream'],
    ['POST', '/containers/abc/rename', 'container.rename', 'stream'], ['POST', '/commit', 'image.commit', 'stream'],
    ['POST', '/networks/n1/connect', 'network.connect', 'json'], ['POST', '/networks/n1/disconnect', 'network.disconnect', 'json'],
  ])('%s %s is judged (%s, body %s)', (method, path, name, body) => {
    const m = judge.routeFor(method, path);
    expect(m?.route.name).toBe(name);
    expect(m?.route.body).toBe(body);
  });
  it.each([
    ['POST', '/grpc'], ['POST', '/containers/c1/checkpoints'], ['GET', '/containers/c1/checkpoints'], ['POST', '/containers/create/x'],
    ['PATCH', '/containers/c1'], ['POST', '/images/x/json'], ['POST', '/_ping'], ['GET', '/containers/create'], ['POST', '/volumes'],
    ['PUT', '/containers/create'], ['POST', '/containers/a/b/exec'],
  ])('%s %s is unknown: the server refuses it', (method, path) => {
    expect(judge.routeFor(method, path)).toBeUndefined();
    const v = unknownEndpoint(method, path);
    expect(v).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-DOOR-001'] });
    expect(messageOf(v)).toContain(`${method} ${path}`);
  });
});

describe('exec', () => {
  it.each([
    [{ Privileged: true, Cmd: ['id'] }, ['SD-EXEC-001']],
    [{ User: '0', Cmd: ['id'] }, ['SD-EXEC-002']],
    [{ User: 'root' }, ['SD-EXEC-002']],
    [{ User: '1000:00' }, ['SD-EXEC-002']],
    [{ user: '0' }, ['SD-EXEC-002']],
    [{ privileged: true }, ['SD-EXEC-001']],
    [{ Privileged: true, User: '+0' }, ['SD-EXEC-001', 'SD-EXEC-002']],
  ])('refuses %j', (body, rules) => {
    const v = judgeExecBody(body, 'c1', restricted, false);
    expect(v.action).toBe('refuse');
    expect(rulesOf(v)).toEqual(rules);
    expect(messageOf(v)).toContain('to allow it, add to the profile (sdocker.yaml)');
  });
  it('forwards an ordinary exec as judged (canonical keys)', () => {
    const v = judgeExecBody({ user: '1000', AttachStdout: true, Cmd: ['id'], Env: null, Privileged: false, ConsoleSize: [24, 80], Detach: false }, 'c1', restricted, false);
    expect(v).toEqual({ action: 'forward', body: { User: '1000', AttachStdout: true, Cmd: ['id'], Env: null, Privileged: false, ConsoleSize: [24, 80], Detach: false } });
  });
  it('refuses what it cannot classify (400, SD-DOOR-001)', () => {
    for (const body of [[], 'x', null, { Privileged: 'true' }, { User: 0 }, { Capabilities: ['ALL'] }, { User: '1000', user: '0' }]) {
      const v = judgeExecBody(body, 'c1', restricted, false);
      expect(v, JSON.stringify(body)).toMatchObject({ action: 'refuse', status: 400, rules: ['SD-DOOR-001'] });
    }
  });
  it('lets an unknown field at its zero value through, and privileged when the profile allows it', () => {
    expect(judgeExecBody({ Cmd: ['id'], Future: null }, 'c1', restricted, false).action).toBe('forward');
    expect(judgeExecBody({ Privileged: true }, 'c1', allowing({ privileged: { reason: 'x' } }), false).action).toBe('forward');
    expect(judgeExecBody({ Privileged: true, Whatever: 1 }, 'c1', privileged, false).action).toBe('pass');
  });
});

describe('update', () => {
  const upd = (body: unknown, p = restricted) => judgeUpdateRequest(req('POST', '/containers/c1/update', { body }), p);
  it('turns the API body into the update flags it stands for', () => {
    expect(updateArgs({ Memory: 0, PidsLimit: null, CpuShares: 0, RestartPolicy: { Name: '', MaximumRetryCount: 0 } })).toEqual([]);
    expect(updateArgs({ PidsLimit: 0 })).toEqual(['--pids-limit=-1']);
    expect(updateArgs({ PidsLimit: -1, MemorySwap: -1, NanoCpus: 1500000000 })).toEqual(['--memory-swap=-1', '--cpus=1.5', '--pids-limit=-1']);
    expect(updateArgs({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } })).toEqual(['--restart=on-failure:3']);
  });
  it.each([
    [{ PidsLimit: -1 }, 'SD-UPDATE-001'], [{ PidsLimit: 0 }, 'SD-UPDATE-001'], [{ MemorySwap: -1 }, 'SD-UPDATE-001'],
    [{ CpuQuota: -1 }, 'SD-UPDATE-001'], [{ Memory: 64 * 1024 ** 3 }, 'SD-UPDATE-001'], [{ CpuRealtimeRuntime: 1000 }, 'SD-UPDATE-001'],
    [{ RestartPolicy: { Name: 'always' } }, 'SD-MNT-008'], [{ pidslimit: -1 }, 'SD-UPDATE-001'],
  ])('refuses %j', (body, rule) => {
    const v = upd(body);
    expect(v.action).toBe('refuse');
    expect(rulesOf(v)).toContain(rule);
  });
  it('forwards what the docker CLI sends for a harmless update (every Resources field at zero)', () => {
    const cli = {
      CpuShares: 512, Memory: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: null, BlkioDeviceReadBps: null, CpuPeriod: 0, CpuQuota: 0,
      CpusetCpus: '', CpusetMems: '', Devices: null, DeviceCgroupRules: null, DeviceRequests: null, KernelMemory: 0, MemoryReservation: 0,
      MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: null, Ulimits: null, NanoCpus: 0, RestartPolicy: { Name: '', MaximumRetryCount: 0 },
    };
    expect(upd(cli).action).toBe('forward');
    expect(upd({ PidsLimit: -1 }, allowing({ unlimited: [{ resource: 'pids', reason: 'x' }] })).action).toBe('forward');
  });
  it('refuses fields it does not judge, set (400)', () => {
    for (const body of [{ Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }, { OomKillDisable: true }, { CgroupParent: '/' }, { PidsLimit: '5' }, { Memory: 1.5 }, { RestartPolicy: 'always' }]) {
      expect(upd(body), JSON.stringify(body)).toMatchObject({ action: 'refuse', status: 400, rules: ['SD-DOOR-001'] });
    }
  });
});

describe('build', () => {
  const build = (query: string, p = restricted) => judgeBuildRequest(req('POST', '/build', { query }), p);
  it.each([['networkmode=host', 'SD-BUILD-001'], ['networkmode=container:abc', 'SD-BUILD-001'], ['cgroupparent=/', 'SD-RES-004'], ['securityopt=%5B%22seccomp%3Dunconfined%22%5D', 'SD-BUILD-002']])(
    'refuses %s',
    (query, rule) => {
      expect(rulesOf(build(query))).toEqual([rule]);
    },
  );
  it('lets the docker CLI\'s ordinary build through', () => {
    expect(build('t=x%3A1&rm=1&forcerm=0&networkmode=default&dockerfile=Dockerfile&buildargs=%7B%7D&labels=%7B%7D&cachefrom=%5B%5D&q=0&version=1').action).toBe('pass');
    expect(build('networkmode=host', allowing({ hostNamespaces: [{ name: 'network', reason: 'x' }] })).action).toBe('pass');
  });
  it('refuses an option it does not know (a typo the engine would ignore is still refused)', () => {
    expect(buildArgs(new URLSearchParams('networkMode=host'))).toMatch(/unknown query option "networkMode"/);
    expect(build('NetworkMode=host')).toMatchObject({ action: 'refuse', status: 400 });
  });
});

describe('volumes', () => {
  const engine = { ...ENGINE, socketPaths: ['/var/run/docker.sock'] };
  it.each([
    [{ Name: 'v', Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: '/etc' } }],
    [{ name: 'v', driveropts: { type: 'none', o: 'bind', device: '/etc' } }],
    [{ Name: 'v', DriverOpts: { type: 'none', o: 'bind', device: '/var/run' } }],
    [{ Name: 'v', Driver: 'rexray' }],
  ])('refuses %j', (body) => {
    const v = judgeVolumeBody(body, restricted, engine, '/tmp');
    expect(v.action).toBe('refuse');
    expect(rulesOf(v).some((r) => r.startsWith('SD-MNT-'))).toBe(true);
  });
  it('passes a plain volume and refuses what it cannot read', () => {
    expect(judgeVolumeBody({ Name: 'v', Driver: 'local', DriverOpts: {}, Labels: { a: 'b' } }, restricted, engine, '/tmp').action).toBe('pass');
    expect(judgeVolumeBody({ Name: 'v', ClusterVolumeSpec: { Group: 'g' } }, restricted, engine, '/tmp')).toMatchObject({ status: 400 });
    expect(judgeVolumeBody({ Name: 'v', DriverOpts: { o: 1 } }, restricted, engine, '/tmp')).toMatchObject({ status: 400 });
  });
});

describe('plugins, swarm, networks', () => {
  it('refuses plugin privileges and swarm membership unless allowed (plugins and services in detail: door-plugins-services.test.ts)', () => {
    const pull = req('POST', '/plugins/pull', { query: 'remote=vieux/sshfs', body: [{ Name: 'capabilities', Description: '', Value: ['CAP_SYS_ADMIN'] }] });
    expect(rulesOf(judgePluginInstall(pull, restricted))).toEqual(['SD-PLUGIN-001']);
    expect(messageOf(judgePluginInstall(pull, restricted))).toContain('vieux/sshfs');
    expect(rulesOf(refuseSwarm(req('POST', '/swarm/init'), restricted))).toEqual(['SD-DOOR-003']);
    expect(refuseSwarm(req('POST', '/swarm/join'), allowing({ privileged: { reason: 'x' } })).action).toBe('pass');
    expect(judgePluginInstall(pull, privileged).action).toBe('pass');
  });
  it('networks: bridge and overlay pass, macvlan and ipvlan are refused', () => {
    expect(judgeNetworkCreate(req('POST', '/networks/create', { body: { Name: 'p_default', Driver: 'bridge', Labels: {} } }), restricted).action).toBe('pass');
    expect(judgeNetworkCreate(req('POST', '/networks/create', { body: { Name: 'n', CheckDuplicate: true } }), restricted).action).toBe('pass');
    expect(rulesOf(judgeNetworkCreate(req('POST', '/networks/create', { body: { Name: 'n', Driver: 'macvlan', Options: { parent: 'eth0' } } }), restricted))).toEqual(['SD-DOOR-005']);
    expect(judgeNetworkCreate(req('POST', '/networks/create', { body: { Name: 'n', Surprise: 1 } }), restricted)).toMatchObject({ status: 400 });
  });
});

describe('start', () => {
  it('tells a body (HostConfig at start) and a container the policy did not make', () => {
    expect(hasBody({ headers: {} })).toBe(false);
    expect(hasBody({ headers: { 'content-length': '0' } })).toBe(false);
    expect(hasBody({ headers: { 'content-length': '2' } })).toBe(true);
    expect(hasBody({ headers: { 'transfer-encoding': 'chunked' } })).toBe(true);
  });
  it('acts only in containers the policy made for this client, judged as a join is', () => {
    const made: JoinedContainer = {
      Name: '/web', Privileged: false, User: '65534:65534', CapAdd: null, CapDrop: ['ALL'], ImageSdockerLabels: false,
      Labels: { 'io.sdocker.level': 'restricted', 'io.sdocker.mode': 'enforce', 'io.sdocker.owner': '1000' },
    };
    const peer = { uid: 1000, gid: 1000, pid: 1 };
    const o = { profile: restricted };
    expect(distrustFor(made, o, peer, false)).toBeUndefined();
    expect(distrustFor(made, o, { ...peer, uid: 1001 }, false)).toMatch(/belongs to uid 1000, not to uid 1001/);
    expect(distrustFor(made, o, undefined, false)).toBeUndefined();
    expect(distrustFor({ ...made, Labels: {} }, o, peer, false)).toMatch(/not created by sdocker/);
    expect(distrustFor({ ...made, Labels: { ...made.Labels, 'io.sdocker.level': 'baseline' } }, o, peer, false)).toMatch(/weaker/);
    expect(distrustFor({ ...made, Labels: { ...made.Labels, 'io.sdocker.mode': 'warn' } }, o, peer, false)).toMatch(/not enforce/);
    expect(distrustFor({ ...made, Privileged: true }, o, peer, false)).toMatch(/privileged/);
    expect(distrustFor({ ...made, ImageSdockerLabels: true }, o, peer, false)).toMatch(/prove nothing/);
    expect(distrustFor({ ...made, User: '0' }, o, peer, false)).toMatch(/root/);
    expect(distrustFor({ ...made, CapDrop: null }, o, peer, false)).toMatch(/default capabilities/);
  });
});

describe('create bodies', () => {
  const problems = (raw: unknown): string[] => {
    const r = canonicalCreateBody(raw);
    return 'problems' in r ? r.problems : [];
  };
  it('reads names as the engine does (case-insensitive struct keys) and the policy judges that', () => {
    const r = canonicalCreateBody({ image: 'busybox', hostconfig: { privileged: true, capadd: ['SYS_ADMIN'], PIDMODE: 'host' }, labels: { Keep: 'Case' } });
    expect('body' in r).toBe(true);
    if (!('body' in r)) return;
    expect(r.body.HostConfig).toMatchObject({ Privileged: true, CapAdd: ['SYS_ADMIN'], PidMode: 'host' });
    expect(r.body.Labels).toEqual({ Keep: 'Case' });
    const out = applyPolicy({ body: r.body, image: { User: '' }, engine: ENGINE, profile: restricted, mode: 'enforce' });
    expect(out.refused).toBe(true);
    expect(out.violations.map((v) => v.rule)).toEqual(expect.arrayContaining(['SD-PRIV-001', 'SD-CAP-001', 'SD-NS-001']));
  });
  it.each([
    [{ Image: 'x', HostConfig: { Privileged: false, privileged: true } }, 'given twice'],
    [{ Image: 'x', HostConfig: { Annotations: { a: 'b' } } }, 'HostConfig.Annotations is not a field the door knows'],
    [{ Image: 'x', HostConfig: { Mounts: [{ Type: 'bind', Source: '/a', Target: '/b', BindOptions: { CreateMountpoint: true } }] } }, 'CreateMountpoint'],
    [{ Image: 'x', HostConfig: { Cgroup: 'container:abc' } }, 'HostConfig.Cgroup'],
    [{ Image: 'x', HostConfig: { MaskedPaths: ['/proc/kcore'] } }, 'MaskedPaths would replace'],
    [{ Image: 'x', HostConfig: { NetworkMode: 'bridge' }, NetworkingConfig: { EndpointsConfig: { host: {} } } }, 'names network "host"'],
    [{ Image: 'x', HostConfig: { CpuCount: 2 } }, 'CpuCount'],
    [{ Image: 'x', HostConfig: { Mounts: {} } }, 'is not a list'],
    [{ HostConfig: {} }, 'Image is missing'],
    [[], 'not a JSON object'],
  ])('refuses %j', (raw, what) => {
    expect(problems(raw).join('; ')).toContain(what);
  });
  it('accepts what the docker CLI and docker-py send (zero values of fields it does not know included)', () => {
    expect(problems({ Image: 'x', HostConfig: { NetworkMode: 'default', MaskedPaths: null, Annotations: null, CpuCount: 0 }, NetworkingConfig: { EndpointsConfig: { default: {} } } })).toEqual([]);
    expect(problems({ Image: 'x', HostConfig: { NetworkMode: 'p_default', MaskedPaths: [] }, NetworkingConfig: { EndpointsConfig: { p_default: { Aliases: ['web'] } } } })).toEqual([]);
  });
});

describe('the CLI through the door: which commands', () => {
  it.each([
    [['exec', '-it', 'c', 'sh'], true], [['update', '--pids-limit', '-1', 'c'], true], [['build', '.'], true], [['compose', 'up'], true],
    [['volume', 'create', 'v'], true], [['network', 'create', 'n'], true], [['container', 'exec', 'c', 'id'], true], [['plugin', 'install', 'x'], true],
    [['volume', '--help', 'create'], true], [['volume'], true], [['cp', 'c:/a', '.'], true], [['start', 'c'], true],
    [['ps'], false], [['logs', 'c'], false], [['images'], false], [['volume', 'ls'], false], [['network', 'inspect', 'n'], false],
    [['container', 'rm', 'c'], false], [['image', 'ls'], false], [['version'], false], [[], false],
  ])('%j through the door: %s', async (rest, want) => {
    const { goesThroughDoor } = await import('../../src/cli/through-door.js');
    expect(goesThroughDoor(rest)).toBe(want);
  });
  it('gives docker the door and nothing that could name another engine', async () => {
    const { doorEnv, doorGlobals } = await import('../../src/cli/through-door.js');
    const e = doorEnv({ DOCKER_HOST: 'tcp://x:2376', DOCKER_CONTEXT: 'remote', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c', HOME: '/h' }, 'unix:///d.sock');
    expect(e).toEqual({ DOCKER_HOST: 'unix:///d.sock', HOME: '/h' });
    expect(doorGlobals({ host: 'tcp://x', context: 'c', tlsVerify: true, debug: true, configDir: '/cfg', logLevel: 'warn' })).toEqual(['--config=/cfg', '--debug', '--log-level=warn']);
  });
});

describe('pinning the container judged (routes/pin.ts, server pinnedUrl)', () => {
  it('replaces the client\'s reference by the full id, keeping the rest of the path', () => {
    const id = 'a'.repeat(64);
    expect(pinContainerPath('/containers/web/archive', id)).toBe(`/containers/${id}/archive`);
    expect(pinContainerPath('/containers/ab12/attach/ws', id)).toBe(`/containers/${id}/attach/ws`);
  });
  it('pins only verdicts that forward', () => {
    expect(pinned({ action: 'pass' }, '/containers/x/start')).toEqual({ action: 'pass', path: '/containers/x/start' });
    expect(pinned({ action: 'forward', body: {} }, '/p')).toEqual({ action: 'forward', body: {}, path: '/p' });
    const refuse: Verdict = { action: 'refuse', status: 403, message: 'no' };
    expect(pinned(refuse, '/p')).toBe(refuse);
    expect(pinned({ action: 'pass' }, undefined)).toEqual({ action: 'pass' });
  });
  it('keeps the version prefix, and the raw query unless the judge gives its own', () => {
    expect(pinnedUrl('/v1.41/containers/web/archive?path=%2Fetc', '1.41', '/containers/ID/archive')).toBe('/v1.41/containers/ID/archive?path=%2Fetc');
    expect(pinnedUrl('/containers/web/start', undefined, '/containers/ID/start')).toBe('/containers/ID/start');
    expect(pinnedUrl('/v1.41/commit?container=web&repo=x', '1.41', '/commit?container=ID&repo=x')).toBe('/v1.41/commit?container=ID&repo=x');
  });
});
