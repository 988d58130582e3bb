/**
 * The pure invariants (src/policy/invariants.ts) and the created-container judgement
 * (src/policy/created.ts) on a container inspect recorded from Docker 20.10
 * (fixtures/created-restricted.json: `sdocker create -v DIR:/data -v NAMED:/nv --tmpfs /run`, its
 * decided body, the engine's view of it and of its two volumes), untouched and altered.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CreateBody } from '../../src/api/types.js';
import { createdDifferences, type ContainerInspect, type VolumeInspects } from '../../src/policy/created.js';
import { engineFactsFrom } from '../../src/policy/facts.js';
import { bodyInvariants, contextOf, mountFlags, securityOf, type InvariantContext } from '../../src/policy/invariants.js';
import { profileOf } from './helpers.js';

interface Fixture {
  decided: CreateBody;
  inspect: ContainerInspect;
  volumes: VolumeInspects;
  info: Parameters<typeof engineFactsFrom>[0];
}
const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/created-restricted.json', import.meta.url), 'utf8')) as Fixture;
const ctx: InvariantContext = contextOf(profileOf('restricted'), engineFactsFrom(FIXTURE.info, ['/var/run/docker.sock']));

function judge(alter: (f: Fixture) => void = () => undefined, c: InvariantContext = ctx): string[] {
  const f = structuredClone(FIXTURE);
  alter(f);
  return createdDifferences(f.inspect, f.volumes, f.decided, c, { invariants: true }).map((d) => d.name).sort();
}
const bindVolume = (f: Fixture) => Object.values(f.volumes).find((v) => v.Options?.device)!;

describe('a recorded restricted container', () => {
  it('as created: no difference', () => {
    expect(judge()).toEqual([]);
  });
  it('a container of another image than the one judged (a tag moved between inspect and create) differs', () => {
    const f = structuredClone(FIXTURE);
    const judged = 'sha256:' + 'a'.repeat(64);
    const names = (image: string | undefined) => createdDifferences({ ...f.inspect, ...(image ? { Image: image } : {}) }, f.volumes, f.decided, ctx, { invariants: true, imageId: judged }).map((d) => d.name);
    expect(names(judged)).toEqual([]);
    expect(names('sha256:' + 'b'.repeat(64))).toEqual(['image']);
  });
  it('the decided body alone satisfies the body invariants (image user known)', () => {
    expect(bodyInvariants(FIXTURE.decided, { ...ctx, imageUser: '' })).toEqual([]);
  });
  it.each([
    ['Privileged', (f: Fixture) => (f.inspect.HostConfig.Privileged = true), ['differs:HostConfig.Privileged', 'privileged']],
    ['CapAdd cap_sys_admin', (f: Fixture) => (f.inspect.HostConfig.CapAdd = ['cap_sys_admin']), ['cap-add:SYS_ADMIN', 'differs:HostConfig.CapAdd']],
    ['Config.User +0:65534', (f: Fixture) => (f.inspect.Config.User = '+0:65534'), ['differs:User', 'user-root']],
    ['Config.User 65534:-0', (f: Fixture) => (f.inspect.Config.User = '65534:-0'), ['differs:User', 'group-root']],
    ['Config.User a name not decided', (f: Fixture) => (f.inspect.Config.User = 'toor'), ['differs:User', 'user-name']],
    ['GroupAdd 000', (f: Fixture) => (f.inspect.HostConfig.GroupAdd = ['000']), ['differs:HostConfig.GroupAdd', 'group-add-root:000']],
    ['the engine mounted a bind of the socket', (f: Fixture) => f.inspect.Mounts!.push({ Type: 'bind', Source: '/run/docker.sock', Destination: '/s', RW: true }),
      ['mount-bind:/run/docker.sock']],
    ['the bind volume became rw,suid', (f: Fixture) => (bindVolume(f).Options!.o = 'bind,nosuid,nodev,ro,rw,suid'),
      ['volume-options:/data', 'volume-suid-dev:/data', 'volume-writable:/data']],
    ['the bind volume became a bind of /var/lib/docker/..', (f: Fixture) => (bindVolume(f).Options!.device = '/srv/../var/lib/docker'),
      ['volume-device:/data', 'volume-options:/data']],
    ['the named volume is a procfs', (f: Fixture) => (f.volumes['fixture-named']!.Options = { type: 'proc', device: 'proc' }), ['volume-options:/nv']],
    ['the named volume is a writable bind', (f: Fixture) => (f.volumes['fixture-named']!.Options = { type: 'none', o: 'bind', device: '/srv' }),
      ['volume-suid-dev:/nv', 'volume-writable:/nv']],
    ['a tmpfs mounted suid', (f: Fixture) => (f.inspect.HostConfig.Tmpfs!['/run'] += ',suid'), ['differs:HostConfig.Tmpfs', 'tmpfs:/run']],
    ['IpcMode container:x', (f: Fixture) => (f.inspect.HostConfig.IpcMode = 'container:x'), ['differs:HostConfig.IpcMode']],
    ['UTSMode host', (f: Fixture) => (f.inspect.HostConfig.UTSMode = 'host'), ['differs:HostConfig.UTSMode', 'ns-host:uts']],
    ['seccomp:unconfined (the old separator)', (f: Fixture) => f.inspect.HostConfig.SecurityOpt!.push('seccomp:unconfined'),
      ['differs:HostConfig.SecurityOpt', 'seccomp-unconfined']],
    ['apparmor=unconfined', (f: Fixture) => f.inspect.HostConfig.SecurityOpt!.push('apparmor=unconfined'), ['apparmor-unconfined', 'differs:HostConfig.SecurityOpt']],
    ['a bare disable (a label option)', (f: Fixture) => f.inspect.HostConfig.SecurityOpt!.push('disable'), ['differs:HostConfig.SecurityOpt', 'label:disable']],
    ['no-new-privileges=f', (f: Fixture) => f.inspect.HostConfig.SecurityOpt!.push('no-new-privileges=f'), ['differs:HostConfig.SecurityOpt', 'no-new-privileges']],
    ['a device cgroup rule', (f: Fixture) => (f.inspect.HostConfig.DeviceCgroupRules = ['c 4:1 rwm']), ['device-cgroup-rule:c 4:1 rwm', 'differs:HostConfig.DeviceCgroupRules']],
    ['/dev/ttyS0', (f: Fixture) => (f.inspect.HostConfig.Devices = [{ PathOnHost: '/dev/ttyS0', PathInContainer: '/dev/ttyS0', CgroupPermissions: 'rwm' }]),
      ['device:/dev/ttyS0', 'differs:HostConfig.Devices']],
    ['OomKillDisable', (f: Fixture) => (f.inspect.HostConfig.OomKillDisable = true), ['differs:HostConfig.OomKillDisable', 'oom-kill-disable']],
    ['CgroupParent', (f: Fixture) => (f.inspect.HostConfig.CgroupParent = '/'), ['cgroup-parent', 'differs:HostConfig.CgroupParent']],
    ['VolumesFrom', (f: Fixture) => (f.inspect.HostConfig.VolumesFrom = ['other']), ['differs:HostConfig.VolumesFrom', 'volumes-from']],
    ['a port on every address', (f: Fixture) => (f.inspect.HostConfig.PortBindings = { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }), ['port::80/tcp']],
    ['a sysctl', (f: Fixture) => (f.inspect.HostConfig.Sysctls = { 'kernel.core_pattern': '|/x' }), ['differs:HostConfig.Sysctls', 'sysctl:kernel.core_pattern']],
    ['an io.sdocker label from the image', (f: Fixture) => (f.inspect.Config.Labels = { 'io.sdocker.bind': '/' }), ['label:io.sdocker.bind']],
  ] as [string, (f: Fixture) => void, string[]][])('%s', (_name, alter, names) => {
    expect(judge(alter)).toEqual([...names].sort());
  });

  it('a name decided is left to the identity check (it reads the image\'s passwd before start); another name is not', () => {
    expect(judge((f) => {
      f.inspect.Config.User = 'app';
      f.decided.User = 'app';
    })).toEqual([]);
    const fromImage = (user: string | undefined) => {
      const f = structuredClone(FIXTURE);
      f.inspect.Config.User = 'app';
      f.decided.User = '';
      return createdDifferences(f.inspect, f.volumes, f.decided, ctx, { invariants: true, ...(user === undefined ? {} : { imageUser: user }) }).map((d) => d.name);
    };
    expect(fromImage('app')).toEqual([]);
    // The image's USER was numeric when the policy decided (no identity check): a name now is a difference.
    expect(fromImage('1000:1000')).toEqual(['user-name']);
    expect(fromImage(undefined)).toEqual(['user-name']);
  });

  it('--volumes-from allowed: the other container\'s mounts are its own affair, ours are still judged', () => {
    const vf = contextOf(profileOf('restricted', [{ path: 'sdocker.yaml', allow: { volumesFrom: { reason: 'a data container' } } }]), engineFactsFrom(FIXTURE.info));
    const from = (f: Fixture) => {
      f.decided.HostConfig.VolumesFrom = ['data'];
      f.inspect.HostConfig.VolumesFrom = ['data'];
      f.inspect.Mounts!.push({ Type: 'bind', Source: '/srv/shared', Destination: '/shared', RW: true });
    };
    expect(judge(from, vf)).toEqual([]);
    expect(judge(from)).toEqual(['mount-bind:/srv/shared', 'volumes-from']);
    expect(judge((f) => {
      from(f);
      bindVolume(f).Options!.o = 'bind';
    }, vf)).toEqual(['volume-options:/data', 'volume-suid-dev:/data', 'volume-writable:/data']);
  });

  it('devices: the level\'s own list (/dev/fuse on baseline only), anything else only with allow.devices', () => {
    const body = (path: string): CreateBody => ({ ...FIXTURE.decided, HostConfig: { ...FIXTURE.decided.HostConfig, Devices: [{ PathOnHost: path, PathInContainer: path, CgroupPermissions: 'rwm' }] } });
    const names = (path: string, level: 'restricted' | 'baseline') => bodyInvariants(body(path), { ...ctx, level, imageUser: '' }).map((d) => d.name).filter((n) => n.startsWith('device:'));
    expect(names('/dev/null', 'restricted')).toEqual([]);
    expect(names('/dev/fuse', 'restricted')).toEqual(['device:/dev/fuse']);
    expect(names('/dev/fuse', 'baseline')).toEqual([]);
    expect(names('/dev/net/tun', 'baseline')).toEqual(['device:/dev/net/tun']);
  });
  it('device cgroup rules: none in restricted without an allowance; elsewhere only a named character device outside major 1', () => {
    const withRules = (rules: string[]): CreateBody => ({ ...FIXTURE.decided, HostConfig: { ...FIXTURE.decided.HostConfig, DeviceCgroupRules: rules } });
    const base = { ...contextOf(profileOf('baseline'), engineFactsFrom(FIXTURE.info)), imageUser: '' };
    expect(bodyInvariants(withRules(['c 10:200 rwm']), { ...ctx, imageUser: '' }).map((d) => d.name)).toEqual(['device-cgroup-rule:c 10:200 rwm']);
    expect(bodyInvariants(withRules(['c 10:200 rwm']), base)).toEqual([]);
    expect(bodyInvariants(withRules(['c 1:1 rwm', 'a *:* rwm', 'b 8:0 r', 'c *:* m', 'c 10:200 rwm x']), base).length).toBe(5);
  });

  it('warn mode: only what differs from the decision', () => {
    const f = structuredClone(FIXTURE);
    f.decided.HostConfig.Privileged = true;
    f.inspect.HostConfig.Privileged = true;
    f.inspect.HostConfig.SecurityOpt!.push('label=disable'); // the engine's own, for a privileged container
    f.inspect.HostConfig.Memory = 0;
    expect(createdDifferences(f.inspect, f.volumes, f.decided, ctx, { invariants: false }).map((d) => d.name)).toEqual(['differs:HostConfig.Memory']);
  });

  it('allowances widen the invariants: baseline keeps root, a writable rootfs and docker\'s capabilities', () => {
    const base = contextOf(profileOf('baseline'), engineFactsFrom(FIXTURE.info));
    const body: CreateBody = { ...FIXTURE.decided, User: '0', HostConfig: { ...FIXTURE.decided.HostConfig, ReadonlyRootfs: false, CapDrop: null, CapAdd: ['CHOWN'] } };
    expect(bodyInvariants(body, base)).toEqual([]);
    expect(bodyInvariants(body, ctx).map((d) => d.name).sort()).toEqual(['cap-add:CHOWN', 'cap-drop-all', 'rootfs-writable', 'user-root']);
  });
});

describe('reading values as the engine does', () => {
  it('SecurityOpt: k=v or k:v, Go ParseBool, the last one wins, a bare disable is a label', () => {
    expect(securityOf(['no-new-privileges']).nnp).toBe(true);
    expect(securityOf(['no-new-privileges', 'no-new-privileges:FALSE']).nnp).toBe(false);
    expect(securityOf(['no-new-privileges=0', 'no-new-privileges=T']).nnp).toBe(true);
    expect(securityOf(['seccomp:unconfined']).seccomp).toBe('unconfined');
    expect(securityOf(['seccomp=unconfined', 'seccomp=/x.json']).seccomp).toBe('/x.json');
    expect(securityOf(['disable', 'label:type:spc_t']).labels).toEqual(['disable', 'type:spc_t']);
    expect(securityOf(['SECCOMP=unconfined']).unknown).toEqual(['SECCOMP=unconfined']); // the engine refuses it
  });
  it('mount options: the last of a pair wins, over the defaults', () => {
    expect(mountFlags(['nosuid', 'suid'])).toMatchObject({ nosuid: false });
    expect(mountFlags(['ro', 'rw', 'bind'])).toMatchObject({ ro: false, bind: true });
    expect(mountFlags(['exec'], ['nosuid', 'nodev'])).toMatchObject({ nosuid: true, nodev: true });
    expect(mountFlags(['dev'], ['nosuid', 'nodev'])).toMatchObject({ nodev: false });
  });
  it('a join of a container in the host\'s namespace, or a privileged one, is the host\'s', () => {
    const body: CreateBody = { ...FIXTURE.decided, HostConfig: { ...FIXTURE.decided.HostConfig, PidMode: 'container:a', NetworkMode: 'container:p' } };
    const containers = {
      a: { Name: '/a', Privileged: false, PidMode: 'container:b' },
      b: { Name: '/b', Privileged: false, PidMode: 'host' },
      p: { Name: '/p', Privileged: true },
    };
    expect(bodyInvariants(body, { ...ctx, imageUser: '', containers }).map((d) => d.name)).toEqual(['ns-join:pid', 'ns-join:network']);
    expect(bodyInvariants(body, { ...ctx, imageUser: '', containers: { a: { Name: '/a', Privileged: false } } }).map((d) => d.name)).toEqual([]);
  });
});

describe('a join by name: the engine stores the joined container\'s id', () => {
  const id = 'c'.repeat(64);
  const joined = (f: Fixture) => {
    for (const k of ['PidMode', 'IpcMode', 'NetworkMode'] as const) {
      f.decided.HostConfig[k] = 'container:mine';
      f.inspect.HostConfig[k] = `container:${id}`;
    }
  };
  const names = (joinIds: Record<string, string> | undefined, c: InvariantContext = ctx) => {
    const f = structuredClone(FIXTURE);
    joined(f);
    return createdDifferences(f.inspect, f.volumes, f.decided, c, { invariants: true, ...(joinIds ? { joinIds } : {}) }).map((d) => d.name).sort();
  };
  it('the id of the container the decision named (resolved by the shell) is the decided join', () => {
    expect(names({ mine: id })).toEqual([]);
  });
  it('without the mapping, or with the id of another container, it differs', () => {
    const all = ['differs:HostConfig.IpcMode', 'differs:HostConfig.NetworkMode', 'differs:HostConfig.PidMode'];
    expect(names(undefined)).toEqual(all);
    expect(names({ mine: 'd'.repeat(64) })).toEqual(all);
    expect(names({ other: id })).toEqual(all);
  });
  it('the join, followed by its id, still may not lead to a privileged container or the host\'s namespace', () => {
    const privileged = { ...ctx, containers: { [id]: { Name: '/mine', Privileged: true } } };
    expect(names({ mine: id }, privileged)).toEqual(['ns-join:ipc', 'ns-join:network', 'ns-join:pid']);
    const hostPid = { ...ctx, containers: { [id]: { Name: '/mine', Privileged: false, PidMode: 'host' } } };
    expect(names({ mine: id }, hostPid)).toEqual(['ns-join:pid']);
  });
  it('a decided empty mode still may not become a join', () => {
    expect(judge((f) => (f.inspect.HostConfig.PidMode = `container:${id}`))).toEqual(['differs:HostConfig.PidMode']);
  });
});

describe('a single file bound as docker binds it (the local volume driver binds directories only)', () => {
  const SRC = '/srv/sdocker-fixture/app.conf';
  const file = { realPath: SRC, exists: true, isDirectory: false, isFile: true, setid: false };
  const withFile = (fact: Partial<typeof file> & { device?: { type: 'c' | 'b'; major: number; minor: number } } = {}, c: InvariantContext = ctx): InvariantContext =>
    ({ ...c, hostPaths: { [SRC]: { ...file, ...fact } } });
  /** The decision's plain bind of SRC, and the engine's view of it (HostConfig.Mounts and Mounts). */
  const bound = (decidedRo = true, createdRo = decidedRo, source = SRC) => (f: Fixture) => {
    f.decided.HostConfig.Mounts!.push({ Type: 'bind', Source: source, Target: '/etc/app.conf', ...(decidedRo ? { ReadOnly: true } : {}) });
    f.inspect.HostConfig.Mounts = [...(f.inspect.HostConfig.Mounts ?? []), { Type: 'bind', Source: source, Target: '/etc/app.conf', ...(createdRo ? { ReadOnly: true } : {}) }];
    f.inspect.Mounts!.push({ Type: 'bind', Source: source, Destination: '/etc/app.conf', RW: !createdRo });
  };
  const both = (p: string) => [`bind:${p}`, `mount-bind:${p}`];

  it('as decided, of a regular file at its real path: no difference', () => {
    expect(judge(bound(), withFile())).toEqual([]);
  });
  it('the file is now a directory, a device, a symlink to elsewhere, setuid, or not known: refused', () => {
    expect(judge(bound(), withFile({ isDirectory: true, isFile: false }))).toEqual(both(SRC));
    expect(judge(bound(), withFile({ isFile: false, device: { type: 'c', major: 1, minor: 1 } }))).toEqual(both(SRC));
    expect(judge(bound(), withFile({ isFile: false }))).toEqual(both(SRC)); // a socket or a fifo
    expect(judge(bound(), withFile({ realPath: '/home/u/other.conf' }))).toEqual(both(SRC));
    expect(judge(bound(), withFile({ setid: true }))).toEqual(both(SRC));
    expect(judge(bound(), withFile({ exists: false }))).toEqual(both(SRC));
    expect(judge(bound())).toEqual(both(SRC));
  });
  it('a socket, device node or fifo only where allow.hostPaths names it (as the policy binds it then); writable only if it says so', () => {
    const named = (writable: boolean) => contextOf(profileOf('restricted', [{ path: 'sdocker.yaml', allow: { hostPaths: [{ path: SRC, reason: 'agent socket', ...(writable ? { writable: true } : {}) }] } }]), engineFactsFrom(FIXTURE.info));
    expect(judge(bound(), withFile({ isFile: false }, named(false)))).toEqual([]);
    expect(judge(bound(false), withFile({ isFile: false }, named(false)))).toEqual(both(SRC));
    expect(judge(bound(false), withFile({ isFile: false }, named(true)))).toEqual([]);
    expect(judge(bound(), withFile({ isFile: false, isDirectory: true }, named(false)))).toEqual(both(SRC));
  });
  it('a sensitive file or the engine socket, even decided: refused with the rule', () => {
    const shadow = { ...ctx, hostPaths: { '/etc/shadow': { ...file, realPath: '/etc/shadow' } } };
    expect(judge(bound(true, true, '/etc/shadow'), shadow)).toEqual(both('/etc/shadow'));
    const f = structuredClone(FIXTURE);
    bound(true, true, '/etc/shadow')(f);
    const rules = createdDifferences(f.inspect, f.volumes, f.decided, shadow, { invariants: true }).map((d) => d.rule);
    expect(rules).toEqual(['SD-MNT-002', 'SD-MNT-002']);
  });
  it('created writable when decided read-only: refused', () => {
    expect(judge(bound(true, false), withFile())).toEqual([...both(SRC), 'differs:HostConfig.Mounts'].sort());
  });
  it('decided writable: only where the profile lets the path be writable', () => {
    expect(judge(bound(false), withFile())).toEqual(both(SRC));
    const writable = contextOf(profileOf('restricted', [{ path: 'sdocker.yaml', allow: { writablePaths: [{ path: '/srv/sdocker-fixture', reason: 'config' }] } }]), engineFactsFrom(FIXTURE.info));
    expect(judge(bound(false), withFile({}, writable))).toEqual([]);
  });
  it('a file bind the decision did not make: refused', () => {
    const notDecided = (f: Fixture) => {
      bound()(f);
      f.decided.HostConfig.Mounts!.pop();
    };
    expect(judge(notDecided, withFile())).toEqual(['differs:HostConfig.Mounts', `mount-bind:${SRC}`]);
  });
});
