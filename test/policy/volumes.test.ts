/** Volumes judged by what the engine mounts (SD-MNT-006/007): classifyVolume and applyPolicy. Pure. */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { classifyVolume } from '../../src/policy/volumes.js';
import { validateProfile } from '../../src/policy/profile.js';
import { profileOf, rules, run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sdocker-volumes-'));
let server: Server | undefined;
afterAll(() => server?.close());
beforeAll(async () => {
  server = createServer();
  await new Promise<void>((r) => server!.listen(join(dir, 'agent.sock'), r));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'rw'));
  symlinkSync('/etc', join(dir, 'rw', 'out'));
  writeFileSync(join(dir, 'app.conf'), 'k=v\n');
  writeFileSync(join(dir, 'suid'), '');
  chmodSync(join(dir, 'suid'), 0o4755);
});

describe('classifyVolume', () => {
  test.each([
    [undefined, undefined, 'plain'],
    ['local', {}, 'plain'],
    ['local', { o: 'size=1m' }, 'plain'],
    ['flocker', undefined, 'driver'],
    ['local', { type: 'none', o: 'bind', device: '/srv' }, 'bind'],
    ['local', { o: 'rbind', device: '/srv' }, 'bind'],
    ['local', { type: 'ext4', o: 'bind,rw', device: '/srv' }, 'bind'],
    ['local', { o: 'bind', device: '../../../../etc' }, 'relative'],
    ['local', { type: 'ext4', device: 'sda1' }, 'relative'],
    ['local', { type: 'proc', device: 'proc' }, 'kernel'],
    ['local', { type: 'PROC', device: 'x' }, 'kernel'],
    ['local', { type: 'sysfs', device: 'sysfs' }, 'kernel'],
    ['local', { type: 'overlay', o: 'lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w', device: 'overlay' }, 'kernel'],
    ['local', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, 'options'],
    ['local', { type: 'nfs', device: ':/export', o: 'addr=10.0.0.1' }, 'options'],
    ['local', { type: 'ext4', device: '/dev/vda' }, 'options'],
  ] as const)('%s %j is %s', (driver, opts, kind) => {
    expect(classifyVolume(driver, opts as Record<string, string> | undefined).kind).toBe(kind);
  });
});

describe('driver options need an allowance (SD-MNT-006), binds and kernel filesystems are host paths', () => {
  test('volume-opt type=proc / sysfs is the host\'s /proc, /sys: refused, nothing mounted', () => {
    for (const t of ['proc', 'sysfs', 'devpts', 'cgroup2']) {
      const o = run(['--mount', `type=volume,dst=/x,volume-opt=type=${t},volume-opt=device=${t}`]);
      expect(rules(o)).toEqual(['SD-MNT-002']);
      expect(o.refused).toBe(true);
      expect(o.body.HostConfig.Mounts).toEqual([]);
    }
  });
  test('a relative bind device is refused and no profile can allow it', () => {
    const o = run(['--mount', 'type=volume,dst=/x,volume-opt=o=bind,volume-opt=device=../../../../etc']);
    expect(rules(o)).toEqual(['SD-MNT-006']);
    expect(o.violations[0]!.allowWith).toEqual([]);
    expect(o.violations[0]!.why).toContain('working directory');
  });
  test('tmpfs / nfs options need allow.volumeOptions by type; a device path is also a host path', () => {
    const argv = ['--mount', 'type=volume,dst=/x,volume-opt=type=tmpfs,volume-opt=device=tmpfs'];
    expect(rules(run(argv))).toEqual(['SD-MNT-006']);
    expect(run(argv).violations[0]!.allowWith.join('\n')).toContain('volumeOptions:');
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { volumeOptions: [{ type: 'tmpfs', reason: 'scratch' }] } }]);
    const ok = run(argv, { profile: p });
    expect(ok.violations).toEqual([]);
    expect(ok.allowances.map((a) => a.rule)).toContain('SD-MNT-006');
    const disk = run(['--mount', 'type=volume,dst=/x,volume-opt=type=ext4,volume-opt=device=/dev/vda'], { profile: p });
    expect(rules(disk).sort()).toEqual(['SD-MNT-002', 'SD-MNT-006']);
  });
  test('a driver other than local needs allow.volumeDrivers (--mount volume-driver=, --volume-driver)', () => {
    expect(rules(run(['--mount', 'type=volume,src=v,dst=/x,volume-driver=rexray']))).toEqual(['SD-MNT-006']);
    expect(rules(run(['--volume-driver', 'rexray', '-v', 'v:/x']))).toEqual(['SD-MNT-006']);
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { volumeDrivers: [{ name: 'rexray', reason: 'EBS' }] } }]);
    expect(run(['--volume-driver', 'rexray', '-v', 'v:/x'], { profile: p }).violations).toEqual([]);
  });
  test('the profile keys validate: local needs no allowance, every entry a reason', () => {
    expect(() => validateProfile({ allow: { volumeDrivers: [{ name: 'local', reason: 'r' }] } }, 'x')).toThrow(/local needs no allowance/);
    expect(() => validateProfile({ allow: { volumeOptions: [{ type: 'nfs' }] } }, 'x')).toThrow(/reason/);
  });
});

describe('named volumes are judged by what they really are', () => {
  const evil = { Driver: 'local', Options: { type: 'none', o: 'bind', device: '/etc' } };
  test('an existing bind of /etc is refused whatever volume-opt the request carries', () => {
    expect(rules(run(['--mount', 'type=volume,src=evil,dst=/x,volume-opt=type=tmpfs'], { namedVolumes: { evil } }))).toEqual(['SD-MNT-002']);
    expect(rules(run(['-v', 'evil:/x:ro'], { namedVolumes: { evil } }))).toEqual(['SD-MNT-002']);
  });
  test('an existing bind of an ordinary dir becomes sdocker\'s read-only nosuid nodev bind volume of its real path', () => {
    const o = run(['-v', 'good:/x'], { namedVolumes: { good: { Driver: 'local', Options: { type: 'none', o: 'bind,rw', device: `${dir}/data/../data` } } } });
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.Binds).toBeNull();
    expect(o.body.HostConfig.Mounts?.[0]?.VolumeOptions?.DriverConfig?.Options).toEqual({ type: 'none', o: 'bind,nosuid,nodev,ro', device: `${dir}/data` });
  });
  test('an existing kernel-filesystem or foreign-driver volume is judged as such', () => {
    expect(rules(run(['-v', 'p:/x'], { namedVolumes: { p: { Driver: 'local', Options: { type: 'proc', device: 'proc' } } } }))).toEqual(['SD-MNT-002']);
    expect(rules(run(['-v', 'n:/x'], { namedVolumes: { n: { Driver: 'nfsdriver', Options: null } } }))).toEqual(['SD-MNT-006']);
  });
  test('a missing volume is judged by the request\'s options; a plain one passes', () => {
    expect(rules(run(['--mount', 'type=volume,src=new,dst=/x,volume-opt=type=proc,volume-opt=device=proc']))).toEqual(['SD-MNT-002']);
    expect(run(['-v', 'plain:/x'], { namedVolumes: { plain: { Driver: 'local', Options: null } } }).violations).toEqual([]);
    expect(run(['-v', 'new:/x']).body.HostConfig.Binds).toEqual(['new:/x']);
  });
});

describe('binds by real path; single files', () => {
  test('a regular file is a plain read-only bind of its real path', () => {
    const o = run(['-v', `${dir}/app.conf:/etc/app.conf:ro`]);
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.Mounts).toEqual([{ Type: 'bind', Source: `${dir}/app.conf`, Target: '/etc/app.conf', ReadOnly: true }]);
    expect(run(['-v', `${dir}/app.conf:/etc/app.conf`]).body.HostConfig.Mounts?.[0]?.ReadOnly).toBe(true);
  });
  test('a setuid file or a device node is refused (SD-MNT-007)', () => {
    expect(rules(run(['-v', `${dir}/suid:/s`]))).toEqual(['SD-MNT-007']);
    expect(rules(run(['-v', '/dev/null:/n']))).toEqual(['SD-MNT-002']);
  });
  test('a socket is refused unless allow.hostPaths names it; then a plain bind (writable only if the allowance says so)', () => {
    const sock = join(dir, 'agent.sock');
    const refused = run(['-v', `${sock}:/agent`]);
    expect(rules(refused)).toEqual(['SD-MNT-007']);
    expect(refused.violations[0]!.allowWith.join('\n')).toContain('hostPaths:');
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { hostPaths: [{ path: sock, reason: 'ssh agent', writable: true }] } }]);
    const o = run(['-v', `${sock}:/agent`], { profile: p });
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.Mounts).toEqual([{ Type: 'bind', Source: sock, Target: '/agent' }]);
  });
  test('a writable allowance of a path that is itself a symlink (/var/run/docker.sock → /run/docker.sock) still grants it', () => {
    const sock = join(dir, 'agent.sock');
    const alias = join(dir, 'alias.sock');
    symlinkSync(sock, alias);
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { hostPaths: [{ path: alias, reason: 'agent', writable: true }] } }]);
    expect(run(['-v', `${alias}:/agent`], { profile: p }).body.HostConfig.Mounts).toEqual([{ Type: 'bind', Source: sock, Target: '/agent' }]);
  });
  test('a symlink under a writable path is judged by its target', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { writablePaths: [{ path: `${dir}/rw`, reason: 'output' }] } }]);
    expect(rules(run(['-v', `${dir}/rw/out:/o`], { profile: p }))).toEqual(['SD-MNT-002']);
    const link = join(dir, 'rw', 'data-link');
    symlinkSync(join(dir, 'data'), link);
    const o = run(['-v', `${link}:/o`], { profile: p });
    expect(o.body.HostConfig.Mounts?.[0]?.VolumeOptions?.DriverConfig?.Options).toEqual({ type: 'none', o: 'bind,nosuid,nodev,ro', device: `${dir}/data` });
  });
});
