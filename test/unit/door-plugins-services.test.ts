/**
 * Plugins and swarm services through the door, pure parts: a plugin's privileges judged as a
 * container asking for the same things would be; an installed plugin's config and a `plugin set`
 * read as moby reads them; a service spec translated to the create body the swarm executor derives
 * (what the policy decides on) and the hardened body written back into the spec, with what API
 * 1.41 cannot carry named. Against the engine: test/engine/door-plugins-services.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { applyPolicy } from '../../src/policy/apply.js';
import type { CreateBody } from '../../src/api/types.js';
import type { EffectiveProfile, ProfileFile } from '../../src/policy/types.js';
import { canonicalCreateBody } from '../../src/door/routes/create-fields.js';
import { judgePluginInstall, judgePrivileges, privilegesOfInstalled, privilegesOfSet, readPrivileges } from '../../src/door/routes/plugins.js';
import { droppedForVersion, hardenedServiceSpec, readServiceSpec, serviceCreateBody, type ServiceSpec } from '../../src/door/service-body.js';
import type { DoorRequest } from '../../src/door/types.js';
import { judgeServiceRequest } from '../../src/door/routes/services.js';
import type { EngineClient } from '../../src/engine/client.js';
import { ENGINE, IMAGE_FILES, profileOf } from '../policy/helpers.js';

const restricted = profileOf();
const allowing = (allow: ProfileFile['allow'], defaults?: ProfileFile['defaults']) =>
  profileOf('restricted', [{ path: '/p.yaml', extends: 'restricted', allow, ...(defaults ? { defaults } : {}) } as ProfileFile]);
const R = { reason: 'test' };
const rules = (p: EffectiveProfile, privs: Parameters<typeof judgePrivileges>[0], real = {}) => judgePrivileges(privs, p, real).violations.map((v) => v.rule);

describe('plugin privileges', () => {
  it('the restricted level refuses every privilege; none passes', () => {
    expect(rules(restricted, [])).toEqual([]);
    for (const p of [
      { Name: 'network', Value: ['host'] }, { Name: 'mount', Value: ['/var/lib/x'] }, { Name: 'device', Value: ['/dev/fuse'] },
      { Name: 'capabilities', Value: ['CAP_SYS_ADMIN'] }, { Name: 'host pid namespace', Value: ['true'] }, { Name: 'host ipc namespace', Value: ['true'] },
    ]) expect(rules(restricted, [p]), p.Name).toEqual(['SD-PLUGIN-001']);
    expect(rules(restricted, [{ Name: 'allow-all-devices', Value: ['true'] }])).toEqual(['SD-DOOR-002']);
  });

  it('unknown privilege names and network types are refused unless privileged is allowed (fail closed)', () => {
    expect(rules(restricted, [{ Name: 'host user namespace', Value: ['true'] }])).toEqual(['SD-DOOR-002']);
    expect(rules(restricted, [{ Name: 'network', Value: ['macvlan'] }])).toEqual(['SD-DOOR-002']);
    expect(rules(allowing({ privileged: R }), [{ Name: 'host user namespace', Value: ['true'] }])).toEqual([]);
  });

  it('each is allowed by the allow key a container would need, and only that', () => {
    expect(rules(allowing({ hostNamespaces: [{ name: 'network', ...R }] }), [{ Name: 'network', Value: ['host'] }])).toEqual([]);
    expect(rules(allowing({ hostNamespaces: [{ name: 'network', ...R }] }), [{ Name: 'host pid namespace', Value: ['true'] }])).toEqual(['SD-PLUGIN-001']);
    expect(rules(allowing({ capabilities: [{ name: 'SYS_ADMIN', ...R }] }), [{ Name: 'capabilities', Value: ['CAP_SYS_ADMIN', 'cap_sys_admin'] }])).toEqual([]);
    expect(rules(allowing({ capabilities: [{ name: 'SYS_ADMIN', ...R }] }), [{ Name: 'capabilities', Value: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] }])).toEqual(['SD-PLUGIN-001']);
    expect(rules(allowing({ devices: [{ path: '/dev/fuse', ...R }] }), [{ Name: 'device', Value: ['/dev/fuse'] }])).toEqual([]);
  });

  it('a mount needs a writable hostPaths entry covering the path as typed AND its real path', () => {
    const p = allowing({ hostPaths: [{ path: '/srv/plugin', writable: true, ...R }] });
    expect(rules(p, [{ Name: 'mount', Value: ['/srv/plugin/data'] }])).toEqual([]);
    expect(rules(allowing({ hostPaths: [{ path: '/srv/plugin', ...R }] }), [{ Name: 'mount', Value: ['/srv/plugin/data'] }])).toEqual(['SD-PLUGIN-001']);
    expect(rules(p, [{ Name: 'mount', Value: ['/srv/plugin/../../etc'] }])).toEqual(['SD-PLUGIN-001']);
    // A symlink under the allowed path that leads to /etc: the real path is judged too.
    expect(rules(p, [{ Name: 'mount', Value: ['/srv/plugin/link'] }], { '/srv/plugin/link': '/etc' })).toEqual(['SD-PLUGIN-001']);
  });

  it('the refusal names the privilege and the YAML that allows it', () => {
    const r = judgePluginInstall(
      { method: 'POST', path: '/plugins/pull', query: new URLSearchParams('remote=127.0.0.1:5000/p:1'), headers: {}, body: [{ name: 'network', value: ['host'] }] } as DoorRequest,
      restricted,
    );
    expect(r).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-PLUGIN-001'] });
    const msg = r.action === 'refuse' ? r.message : '';
    expect(msg).toContain('network host');
    expect(msg).toContain('hostNamespaces:');
    expect(msg).toContain('- name: network');
  });

  it('reads the body as the engine does (names in any case), refuses what it cannot read, forwards what it judged', () => {
    expect(readPrivileges(null)).toEqual([]);
    expect(readPrivileges([{ NAME: 'mount', value: ['/x'] }])).toEqual([{ Name: 'mount', Value: ['/x'] }]);
    expect(readPrivileges([{ Name: 'mount', Value: '/x' }])).toMatch(/not a list of strings/);
    expect(readPrivileges([{ Name: 'mount', name: 'device', Value: [] }])).toMatch(/twice/);
    expect(readPrivileges([{ Name: 'mount', Value: [], Extra: 1 }])).toMatch(/unknown field/);
    const ok = judgePluginInstall({ method: 'POST', path: '/plugins/pull', query: new URLSearchParams(), headers: {}, body: [] } as DoorRequest, restricted);
    expect(ok).toEqual({ action: 'forward', body: [] });
  });

  it('an installed plugin: the privileges moby computes from its config, plus its settings', () => {
    const privs = privilegesOfInstalled({
      Config: {
        Network: { Type: 'host' }, PidHost: true, IpcHost: false,
        Mounts: [{ Name: 'data', Source: '/var/lib/p', Destination: '/data' }, { Name: 'free', Source: null, Destination: '/free' }],
        Linux: { Capabilities: ['CAP_SYS_ADMIN'], AllowAllDevices: true, Devices: [{ Name: 'dev', Path: '/dev/fuse' }] },
      },
      Settings: { Mounts: [{ Name: 'free', Source: '/etc', Destination: '/free' }], Devices: [] },
    });
    expect(privs.map((p) => `${p.Name}=${p.Value.join(',')}`)).toEqual([
      'network=host', 'host pid namespace=true', 'mount=/var/lib/p', 'mount=/etc', 'device=/dev/fuse', 'allow-all-devices=true', 'capabilities=CAP_SYS_ADMIN',
    ]);
    expect(privilegesOfInstalled({ Config: { Network: { Type: 'null' } } })).toEqual([]);
  });

  it('plugin set: a mount source or a device path is judged; env and args are not', () => {
    const p = { Config: { Env: [{ Name: 'DEBUG' }], Mounts: [{ Name: 'mymount', Source: '/srv' }], Linux: { Devices: [{ Name: 'mydevice', Path: '/dev/null' }] }, Args: { Name: 'args' } } };
    expect(privilegesOfSet(['mymount.source=/etc', 'mydevice=/dev/sda', 'DEBUG=1', 'args=x y'], p)).toEqual([
      { Name: 'mount', Value: ['/etc'] }, { Name: 'device', Value: ['/dev/sda'] },
    ]);
    expect(privilegesOfSet(['novalue'], p)).toMatch(/NAME=VALUE/);
    expect(privilegesOfSet('mymount=/etc', p)).toMatch(/list of strings/);
  });
});

// ---------------------------------------------------------------------------------------------

const spec = (cs: Record<string, unknown> = {}, task: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({
  Name: 'web', Labels: { a: 'b' }, Mode: { Replicated: { Replicas: 1 } },
  TaskTemplate: { ContainerSpec: { Image: 'busybox:1', Args: ['sleep', '300'], ...cs }, ...task },
  ...top,
});

function read(raw: unknown): ServiceSpec {
  const r = readServiceSpec(raw);
  if ('problems' in r) throw new Error(r.problems.join('; '));
  return r;
}

function createBody(s: ServiceSpec, kinds = {}): CreateBody {
  const c = canonicalCreateBody(serviceCreateBody(s, kinds));
  if ('problems' in c) throw new Error(c.problems.join('; '));
  return c.body;
}

function decide(body: CreateBody, profile: EffectiveProfile) {
  return applyPolicy({ body: structuredClone(body), image: { User: '' }, engine: ENGINE, profile, mode: 'enforce', hostPaths: {}, namedVolumes: {}, identityFiles: IMAGE_FILES, provenance: new Map() });
}

/** The profile lines that accept the engine's defaults where API 1.41 cannot carry sdocker's. */
const serviceProfile = allowing({ newPrivileges: R, hostNamespaces: [{ name: 'cgroupns', ...R }] }, { seccomp: 'engine' });

describe('service spec → create body', () => {
  it('carries what the executor derives: capabilities, read-only, user, mounts, limits, host network, ports, hosts, restart', () => {
    const s = read(spec(
      {
        User: '0', ReadOnly: true, CapabilityAdd: ['CAP_NET_ADMIN'], CapabilityDrop: ['CAP_MKNOD'], Init: true, Sysctls: { 'net.ipv4.ip_forward': '1' },
        Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }], Hosts: ['10.0.0.1 db db.local'], Groups: ['50'], Dir: '/w', Env: ['A=1'],
        Mounts: [{ Type: 'bind', Source: '/etc', Target: '/h', ReadOnly: true }, { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 } }],
        Labels: { 'io.sdocker.owner': '0', keep: 'yes' },
      },
      { Resources: { Limits: { MemoryBytes: 1 << 20, NanoCPUs: 5e8, Pids: 7 } }, Networks: [{ Target: 'hostnet-id' }], RestartPolicy: { Condition: 'on-failure', MaxAttempts: 3 } },
      { EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] } },
    ));
    const b = createBody(s, { 'hostnet-id': 'host' });
    expect(b).toMatchObject({ User: '0', WorkingDir: '/w', Env: ['A=1'], Cmd: ['sleep', '300'], Labels: { keep: 'yes' } });
    expect(b.Labels).not.toHaveProperty('io.sdocker.owner');
    expect(b.HostConfig).toMatchObject({
      ReadonlyRootfs: true, CapAdd: ['CAP_NET_ADMIN'], CapDrop: ['CAP_MKNOD'], Init: true, Memory: 1 << 20, NanoCpus: 5e8, PidsLimit: 7,
      NetworkMode: 'host', ExtraHosts: ['db:10.0.0.1'], GroupAdd: ['50'], RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      PortBindings: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
    });
    expect(b.HostConfig.Mounts?.map((m) => m.Type)).toEqual(['bind', 'tmpfs']);
    expect(createBody(read(spec())).HostConfig.RestartPolicy).toEqual({ Name: 'always', MaximumRetryCount: 0 });
  });

  it('refuses what it does not know, set (fail closed), and reads keys in any case as Go does', () => {
    for (const [raw, why] of [
      [spec({ Surprise: 1 }), /unknown field TaskTemplate.ContainerSpec.Surprise/],
      [spec({ Privileges: { Seccomp: { Mode: 'unconfined' } } }), /Privileges.Seccomp/],
      [spec({ Privileges: { NoNewPrivileges: true } }), /unknown field/],
      [spec({}, { PluginSpec: { Name: 'x' }, Runtime: 'plugin' }), /plugin run as a service/],
      [spec({ Secrets: [{ SecretName: 's', File: { Name: 's', Mode: 0o4755 } }] }), /setuid/],
      [spec({ User: 'a', user: 'b' }), /twice/],
      [spec({ Isolation: 'hyperv' }), /Isolation/],
    ] as const) {
      const r = readServiceSpec(raw);
      expect('problems' in r ? r.problems.join('; ') : 'no problem', JSON.stringify(raw)).toMatch(why);
    }
    const lower = read({ taskTemplate: { containerSpec: { image: 'busybox:1', capabilityAdd: ['SYS_ADMIN'] } } });
    expect(createBody(lower).HostConfig.CapAdd).toEqual(['SYS_ADMIN']);
  });
});

describe('the hardened body back into the spec', () => {
  it('under the restricted level, no-new-privileges and the private cgroup namespace cannot be carried by API 1.41', () => {
    const s = read(spec());
    const asked = createBody(s);
    const out = decide(asked, restricted);
    expect(out.refused).toBe(false);
    const back = hardenedServiceSpec(s, asked, out.body, { logDriver: 'json-file' });
    const settings = back.inexpressible.map((x) => x.setting).join('\n');
    expect(settings).toContain('no-new-privileges');
    expect(settings).toContain('cgroupns=private');
    const nnp = back.inexpressible.find((x) => x.setting === 'no-new-privileges')!;
    expect(nnp.api).toContain('1.46');
    expect(nnp.allowWith.join('\n')).toContain('newPrivileges:');
    // sdocker's seccomp profile (loaded by the shell, not in this pure profile): API 1.44.
    const withSeccomp = structuredClone(out.body);
    withSeccomp.HostConfig.SecurityOpt = [...(withSeccomp.HostConfig.SecurityOpt ?? []), 'seccomp={"defaultAction":"SCMP_ACT_ERRNO"}'];
    const sec = hardenedServiceSpec(s, asked, withSeccomp, { logDriver: 'json-file' }).inexpressible.find((x) => x.setting.startsWith('seccomp'))!;
    expect(sec.api).toContain('1.44');
    expect(sec.allowWith.join('\n')).toContain('seccomp: engine');
  });

  it('with the engine defaults accepted, the spec carries the hardening: caps, read-only root, user, limits, pids, log rotation, bounded restarts, /tmp', () => {
    const s = read(spec({ Labels: { mine: '1' } }));
    const asked = createBody(s);
    const out = decide(asked, serviceProfile);
    expect(out.refused).toBe(false);
    const back = hardenedServiceSpec(s, asked, out.body, { logDriver: 'json-file', acceptNewPrivileges: true });
    expect(back.inexpressible).toEqual([]);
    type Task = { ContainerSpec: Record<string, unknown> & { Labels: Record<string, string> }; Resources: { Limits: unknown }; LogDriver: unknown; RestartPolicy: unknown };
    const task = back.spec.TaskTemplate as Task;
    const c = task.ContainerSpec;
    expect(c).toMatchObject({ User: '65534:65534', ReadOnly: true, CapabilityDrop: ['ALL'], Image: 'busybox:1', Args: ['sleep', '300'] });
    expect(c.Labels).toMatchObject({ mine: '1', 'io.sdocker.level': 'restricted' });
    expect(c.Ulimits).toEqual([{ Name: 'nofile', Soft: 8192, Hard: 8192 }]);
    expect(c.Mounts).toEqual([{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 64 * 1024 ** 2, Mode: 0o1777 } }]);
    expect(task.Resources.Limits).toEqual({ MemoryBytes: 1024 ** 3, NanoCPUs: 2e9, Pids: 512 });
    expect(task.LogDriver).toEqual({ Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } });
    expect(task.RestartPolicy).toMatchObject({ Condition: 'on-failure', MaxAttempts: 5 });
    // The orchestration fields go as they came.
    expect(back.spec).toMatchObject({ Name: 'web', Labels: { a: 'b' }, Mode: { Replicated: { Replicas: 1 } } });
  });

  it('an update sends back the hardened spec: judged again, it stays as it is (labels the door wrote are not refused)', () => {
    const s = read(spec());
    const asked = createBody(s);
    const first = hardenedServiceSpec(s, asked, decide(asked, serviceProfile).body, { logDriver: 'json-file', acceptNewPrivileges: true }).spec;
    const s2 = read(structuredClone(first));
    const asked2 = createBody(s2);
    const out2 = decide(asked2, serviceProfile);
    expect(out2.violations).toEqual([]);
    const second = hardenedServiceSpec(s2, asked2, out2.body, { logDriver: 'json-file', acceptNewPrivileges: true });
    expect(second.inexpressible).toEqual([]);
    expect(second.spec).toEqual(first);
  });

  it('a service asking for what the policy refuses is refused by the same rules as a container', () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, Record<string, string>, string][] = [
      [{ CapabilityAdd: ['CAP_SYS_ADMIN'] }, {}, {}, 'SD-CAP-001'],
      [{ Mounts: [{ Type: 'bind', Source: '/etc', Target: '/etc2' }] }, {}, {}, 'SD-MNT-002'],
      [{ Mounts: [{ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' }] }, {}, {}, 'SD-MNT-001'],
      [{}, { Networks: [{ Target: 'h' }] }, { h: 'host' }, 'SD-NS-004'],
      [{ Sysctls: { 'kernel.core_pattern': '|/x' } }, {}, {}, 'SD-SYSCTL-001'],
    ];
    for (const [cs, task, kinds, rule] of cases) {
      const out = decide(createBody(read(spec(cs, task)), kinds), serviceProfile);
      expect(out.violations.map((v) => v.rule), JSON.stringify(cs)).toContain(rule);
    }
    // A published port listens on every address of every node (ingress or host mode): 0.0.0.0.
    const ported = read(spec({}, {}, { EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } }));
    expect(decide(createBody(ported), serviceProfile).violations.map((v) => v.rule)).toContain('SD-PORT-001');
  });

  it('a request under API 1.40 would lose the capability drop, ulimits and pids limit (the engine drops them): named, with the version that keeps them', () => {
    const s = read(spec());
    const asked = createBody(s);
    const back = hardenedServiceSpec(s, asked, decide(asked, serviceProfile).body, { logDriver: 'json-file', acceptNewPrivileges: true });
    expect(droppedForVersion(back.spec, undefined)).toEqual([]);
    expect(droppedForVersion(back.spec, '1.41')).toEqual([]);
    const lost = droppedForVersion(back.spec, '1.40');
    expect(lost.map((x) => x.field)).toEqual(['ContainerSpec.CapabilityDrop', 'ContainerSpec.Ulimits', 'Resources.Limits.Pids']);
    expect(lost[0]!.api).toContain('/v1.40/');
    expect(droppedForVersion(back.spec, '1.9').length).toBe(3);
  });

  it('a bind: refused while swarm would restart the task (SD-MNT-008: resolved again at every new task); allowed, it becomes a read-only nosuid bind volume, stable across an update', () => {
    const bind = { Mounts: [{ Type: 'bind', Source: '/srv/data', Target: '/data' }] };
    const refused = decide(createBody(read(spec(bind))), serviceProfile);
    expect(refused.violations.map((v) => v.rule)).toContain('SD-MNT-008');
    const p = allowing({ newPrivileges: R, hostNamespaces: [{ name: 'cgroupns', ...R }], restartWithBinds: R }, { seccomp: 'engine' });
    const s = read(spec(bind));
    const asked = createBody(s);
    const out = decide(asked, p);
    expect(out.violations).toEqual([]);
    const first = hardenedServiceSpec(s, asked, out.body, { logDriver: 'json-file', acceptNewPrivileges: true });
    expect(first.inexpressible).toEqual([]);
    const mounts = ((first.spec.TaskTemplate as { ContainerSpec: { Mounts: unknown[] } }).ContainerSpec.Mounts);
    expect(mounts[0]).toMatchObject({ Type: 'volume', Target: '/data', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', device: '/srv/data', o: 'bind,nosuid,nodev,ro' } } } });
    const s2 = read(structuredClone(first.spec));
    const asked2 = createBody(s2);
    const out2 = decide(asked2, p);
    expect(out2.violations).toEqual([]);
    // The same mounts (their order aside: the policy lists the bind volume after the request's tmpfs now).
    const byTarget = (sp: Record<string, unknown>) => {
      const c = (structuredClone(sp).TaskTemplate as { ContainerSpec: { Mounts: { Target: string }[] } }).ContainerSpec;
      c.Mounts.sort((a, b) => a.Target.localeCompare(b.Target));
      return c;
    };
    expect(byTarget(hardenedServiceSpec(s2, asked2, out2.body, { logDriver: 'json-file', acceptNewPrivileges: true }).spec)).toEqual(byTarget(first.spec));
  });
});

describe('the service route before the policy', () => {
  const svcReq = (body: unknown, query = ''): DoorRequest => ({ method: 'POST', path: '/services/create', apiVersion: '1.41', query: new URLSearchParams(query), headers: {}, body });
  // The engine's answer to GET /networks/{id}, as a stand-in: the route stops before any other call.
  const client = { json: async () => ({ Name: 'lan', Driver: 'macvlan' }) } as unknown as EngineClient;
  const opts = { client, profile: serviceProfile, env: {}, cwd: '/tmp' };

  it('a network with a driver onto the host\'s own networks (macvlan, made around the door) is refused (SD-DOOR-005)', async () => {
    const v = await judgeServiceRequest(svcReq(spec({}, { Networks: [{ Target: 'lan' }] })), undefined, opts);
    expect(v).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-DOOR-005'] });
  });

  it('a rollback (a spec the request does not carry) and a spec it cannot read are 400, nothing asked of the engine', async () => {
    const none = { ...opts, client: {} as EngineClient };
    expect(await judgeServiceRequest(svcReq(spec(), 'version=3&rollback=previous'), 'abc', none)).toMatchObject({ action: 'refuse', status: 400, rules: ['SD-DOOR-001'] });
    expect(await judgeServiceRequest(svcReq(spec({ Surprise: true })), undefined, none)).toMatchObject({ action: 'refuse', status: 400 });
    expect(await judgeServiceRequest(svcReq(spec()), undefined, { ...none, profile: profileOf('privileged') })).toEqual({ action: 'pass' });
  });

  it("a tenant's service (a peer other than root) is refused before the engine is asked: whose paths, volumes, networks and service it reaches is not judged (SD-DOOR-006)", async () => {
    const none = { ...opts, client: {} as EngineClient };
    const tenant = { ...svcReq(spec()), peer: { uid: 1000, gid: 1000, pid: 1 } };
    expect(await judgeServiceRequest(tenant, undefined, none)).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-DOOR-006'] });
    expect(await judgeServiceRequest({ ...tenant, path: '/services/abc/update' }, 'abc', none)).toMatchObject({ action: 'refuse', rules: ['SD-DOOR-006'] });
    // root on the socket, and the CLI's own private door, are the host's users: judged as before (here: the macvlan network)
    const root = { ...svcReq(spec({}, { Networks: [{ Target: 'lan' }] })), peer: { uid: 0, gid: 0, pid: 1 } };
    expect(await judgeServiceRequest(root, undefined, opts)).toMatchObject({ rules: ['SD-DOOR-005'] });
    expect(await judgeServiceRequest(tenant, undefined, { ...opts, hostUser: true, client: { json: async () => ({}) } as unknown as EngineClient })).not.toMatchObject({ rules: ['SD-DOOR-006'] });
  });
});
