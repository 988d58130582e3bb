/**
 * Issue 7, mounts and volumes: what the engine really mounts, proved from inside the container.
 * Volume driver options (kernel filesystems, relative binds) refused with nothing created; named
 * volumes judged by their real options; `volume create` judged; a bind swapped for a symlink
 * between create and start never mounted (sdocker start refuses; after start, the container is
 * killed and removed); single-file binds read-only; a symlink under a writable path judged by
 * its target. Nothing left behind.
 */
import { httpApi } from '../../src/engine/http-api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTestObjects, containerExists, engineClient, memoryIO, TEST_LABEL_ARGS, TEST_LABELS, testName, baseBody } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { caseLabel, docker, inspect, listContainers, listVolumes, mountOptions, removeVolume, sdocker, tempDir } from '../policy/engine-checks.js';
import { guardBinds } from '../../src/pipeline/bind-guard.js';
import { runSession } from '../../src/session/run.js';
import type { SessionRequest } from '../../src/session/types.js';
import { PolicyError } from '../../src/errors.js';

const tmp = tempDir('mounts');
const secret = join(tmp.path, 'secret');
const stateDir = join(tmp.path, 'state');
const env = { SDOCKER_STATE_DIR: stateDir };
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const evil = `sdt-evil-${suffix}`;
const good = `sdt-good-${suffix}`;
const IMG = IMAGES.root;

async function hostVolumesUnder(dir: string): Promise<string[]> {
  return (await listVolumes())
    .filter((v) => v.Name !== evil && v.Name !== good)
    .filter((v) => [v.Options?.device, v.Labels?.['io.sdocker.bind']].some((d) => d && (d === dir || d.startsWith(`${dir}/`))))
    .map((v) => v.Name);
}

beforeAll(async () => {
  await ensureTestImages();
  mkdirSync(secret);
  writeFileSync(join(secret, 'planted'), 'PLANTED-SECRET\n');
  mkdirSync(join(tmp.path, 'data'));
  writeFileSync(join(tmp.path, 'data', 'f'), 'hello\n');
  writeFileSync(join(tmp.path, 'app.conf'), 'conf=1\n');
  const labels = Object.entries(TEST_LABELS).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  for (const [name, device] of [[evil, '/etc'], [good, join(tmp.path, 'data')]] as const) {
    const r = await docker(['volume', 'create', ...labels, '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${device}`, name]);
    expect(r.code, r.stderr).toBe(0);
  }
});

afterAll(async () => {
  await cleanupTestObjects();
  await removeVolume(evil);
  await removeVolume(good);
  tmp.remove();
});

describe.concurrent('volume driver options: refused, nothing created', () => {
  it.each([
    ['type=proc (the host procfs)', 'type=volume,dst=/x,volume-opt=type=proc,volume-opt=device=proc', 'SD-MNT-002'],
    ['type=sysfs (the host sysfs)', 'type=volume,dst=/x,volume-opt=type=sysfs,volume-opt=device=sysfs', 'SD-MNT-002'],
    ['o=bind,device=../../../../etc (relative to the engine)', 'type=volume,dst=/x,volume-opt=o=bind,volume-opt=device=../../../../etc', 'SD-MNT-006'],
    ['a named volume to be created with type=proc', `type=volume,src=sdt-proc-${suffix},dst=/x,volume-opt=type=proc,volume-opt=device=proc`, 'SD-MNT-002'],
  ])('%s', async (_name, mount, rule) => {
    const label = caseLabel('volopt');
    const before = new Set((await listVolumes()).map((v) => v.Name));
    const r = await sdocker(['run', '--rm', ...label.args, '--mount', mount, IMG, 'cat', '/x/sys/kernel/core_pattern'], { env });
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toContain(rule);
    expect(r.stdout).toBe('');
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
    expect((await listVolumes()).filter((v) => !before.has(v.Name) && (v.Options?.type === 'proc' || v.Options?.type === 'sysfs' || v.Options?.device?.includes('etc') || v.Name === `sdt-proc-${suffix}`))).toEqual([]);
  });
});

describe('named volumes judged by what they are', () => {
  it('a volume created with o=bind,device=/etc is a bind of /etc: refused (SD-MNT-002), whatever volume-opt the request adds', async () => {
    for (const args of [['-v', `${evil}:/x`], ['--mount', `type=volume,src=${evil},dst=/x,volume-opt=type=tmpfs`]]) {
      const label = caseLabel('evil');
      const r = await sdocker(['run', '--rm', ...label.args, ...args, IMG, 'cat', '/x/hostname'], { env });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain('SD-MNT-002');
      expect(r.stderr).toContain(`volume ${evil} is a bind of /etc`);
      expect(r.stdout).toBe('');
      expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
    }
  });
  it('a volume bound to an ordinary dir mounts read-only, nosuid, nodev: readable, a write fails', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '-v', `${good}:/x`, IMG, 'sh', '-c', 'cat /x/f; echo w > /x/new && echo WROTE; cat /proc/mounts'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hello');
    expect(r.stdout).not.toContain('WROTE');
    expect(r.stderr).toMatch(/Read-only file system/);
    const opts = mountOptions(r.stdout, '/x');
    expect(opts).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev']));
  });
});

describe('sdocker volume create', () => {
  it('--opt o=bind --opt device=/etc is refused and no volume is made; type=proc too', async () => {
    for (const opts of [['--opt', 'o=bind', '--opt', 'device=/etc'], ['-o', 'type=proc', '-o', 'device=proc'], ['--opt=o=bind', '--opt=device=../../etc']]) {
      const name = `sdt-vc-${suffix}-${Math.random().toString(36).slice(2, 7)}`;
      const r = await sdocker(['volume', 'create', ...TEST_LABEL_ARGS, ...opts, name], { env });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toMatch(/SD-MNT-00[26]/);
      expect((await listVolumes()).map((v) => v.Name)).not.toContain(name);
    }
  });
  it('a plain volume, and an unknown option refused rather than guessed', async () => {
    const name = `sdt-vc-plain-${suffix}`;
    const r = await sdocker(['volume', 'create', ...TEST_LABEL_ARGS, name], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((await listVolumes()).map((v) => v.Name)).toContain(name);
    await removeVolume(name);
    const u = await sdocker(['volume', 'create', '--sharing', 'all', `${name}-x`], { env });
    expect(u.code).toBe(125);
    expect(u.stderr).toContain('--sharing');
  });
});

describe('a bind swapped for a symlink between create and start', () => {
  it('sdocker start refuses (SD-MNT-007): the container never ran, the planted file was never read', async () => {
    const dir = join(tmp.path, 'swap1');
    mkdirSync(dir);
    const name = testName('sdt-swap');
    const c = await sdocker(['create', ...TEST_LABEL_ARGS, '--name', name, '-v', `${dir}:/data`, IMG, 'cat', '/data/planted'], { env });
    expect(c.code, c.stderr).toBe(0);
    rmSync(dir, { recursive: true });
    symlinkSync(secret, dir);
    for (const args of [['start', '-a', name], ['container', 'start', '--attach', name]]) {
      const r = await sdocker(args, { env });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain('SD-MNT-007');
      expect(r.stderr).toContain(`now resolves to ${secret}`);
      expect(r.stdout).not.toContain('PLANTED');
    }
    const st = await inspect<{ State: { Status: string; StartedAt: string } }>(name);
    expect(st.State.Status).toBe('created');
    expect(st.State.StartedAt).toMatch(/^0001-/); // never started
    await docker(['rm', '-v', name]);
  });

  it('restarts: a restart policy with binds is refused (SD-MNT-008); sdocker restart rechecks the binds like start', async () => {
    const dir = join(tmp.path, 'swap-restart');
    mkdirSync(dir);
    // The engine would restart it by itself, resolving the bind again each time, without sdocker.
    const label = caseLabel('restart');
    for (const policy of ['always', 'unless-stopped', 'on-failure:3']) {
      const r = await sdocker(['run', '-d', ...label.args, '--restart', policy, '-v', `${dir}:/data`, IMG, 'sleep', '30'], { env });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain('SD-MNT-008');
    }
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
    // Without a bind a restart policy is fine.
    const noBind = await sdocker(['run', '-d', '--no-watch', ...label.args, '--restart', 'on-failure:3', IMG, 'true'], { env });
    expect(noBind.code, noBind.stderr).toBe(0);
    await docker(['rm', '-f', '-v', noBind.stdout.trim()]);
    // sdocker restart of a container whose bind was swapped for a symlink: refused, not restarted.
    const name = testName('sdt-restart');
    const c = await sdocker(['run', '-d', '--no-watch', ...TEST_LABEL_ARGS, '--name', name, '-v', `${dir}:/data`, IMG, 'sleep', '300'], { env });
    expect(c.code, c.stderr).toBe(0);
    const started = (await inspect<{ State: { StartedAt: string } }>(name)).State.StartedAt;
    rmSync(dir, { recursive: true });
    symlinkSync(secret, dir);
    for (const args of [['restart', '-t', '0', name], ['container', 'restart', '--time=0', name]]) {
      const r = await sdocker(args, { env });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain('SD-MNT-007');
    }
    expect((await inspect<{ State: { StartedAt: string } }>(name)).State.StartedAt).toBe(started);
    // docker update --restart cannot add the policy afterwards either.
    const u = await sdocker(['update', '--restart', 'always', name], { env });
    expect(u.code, u.stderr).toBe(125);
    expect(u.stderr).toContain('SD-MNT-008');
    await docker(['rm', '-f', '-v', name]);
  });

  it('swapped after the recheck: the started container is killed and removed before its output is passed on', async () => {
    const dir = join(tmp.path, 'swap2');
    mkdirSync(dir);
    const body = baseBody(IMG, ['sh', '-c', 'sleep 3; cat /data/planted'], { autoRemove: false });
    body.HostConfig.Mounts = [{
      Type: 'volume', Target: '/data',
      VolumeOptions: { NoCopy: true, Labels: { 'io.sdocker.bind': dir, ...TEST_LABELS }, DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind,nosuid,nodev,ro', device: dir } } },
    }];
    const session: SessionRequest = { mode: 'run', body, image: IMG, pull: 'never', quiet: true, detach: false, sigProxy: false, name: testName('sdt-swap2') };
    guardBinds(session);
    const recheck = session.beforeStart!;
    let rechecked = false;
    session.beforeStart = async (client, id) => {
      await recheck(client, id); // passes: nothing swapped yet
      rechecked = true;
      rmSync(dir, { recursive: true });
      symlinkSync(secret, dir); // the race: after the recheck, before the engine mounts
    };
    const io = memoryIO();
    const client = engineClient();
    try {
      const err = await runSession(httpApi(client), session, io).then(() => undefined, (e: unknown) => e);
      expect(rechecked).toBe(true);
      expect(err).toBeInstanceOf(PolicyError);
      expect((err as PolicyError).exitCode).toBe(125);
      expect((err as Error).message).toContain('SD-MNT-007');
      expect((err as Error).message).toContain(`not the decided ${dir}`);
      expect(io.stdoutText()).not.toContain('PLANTED');
      expect(await containerExists(session.name!)).toBe(false);
    } finally {
      client.close();
    }
  });

  it('the same guard passes an unchanged bind (no false alarm) and the container runs', async () => {
    const dir = join(tmp.path, 'steady');
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'steady\n');
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '-v', `${dir}:/data`, '-v', `${join(tmp.path, 'app.conf')}:/etc/app.conf:ro`, IMG, 'sh', '-c', 'sleep 1; cat /data/f /etc/app.conf'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('steady\nconf=1\n');
  });
});

describe('single files and symlinks', () => {
  it('-v ./app.conf:/etc/app.conf:ro works as docker\'s: readable, a write fails', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '-v', './app.conf:/etc/app.conf:ro', IMG, 'sh', '-c', 'cat /etc/app.conf; echo x > /etc/app.conf && echo WROTE; cat /proc/mounts'], { env, cwd: tmp.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('conf=1');
    expect(r.stdout).not.toContain('WROTE');
    expect(mountOptions(r.stdout, '/etc/app.conf')).toContain('ro');
  });
  it('a symlink under an allowed writable path that points outside it is mounted read-only', async () => {
    const proj = join(tmp.path, 'proj');
    mkdirSync(join(proj, 'out'), { recursive: true, mode: 0o777 });
    chmodSync(join(proj, 'out'), 0o777); // the container's user (65534) may write there
    chmodSync(secret, 0o777); // ... and in the target, so only the mount can stop the write
    symlinkSync(secret, join(proj, 'out', 'link'));
    writeFileSync(join(proj, 'sdocker.yaml'), `extends: restricted\nallow:\n  writablePaths:\n    - path: ${join(proj, 'out')}\n      reason: build output\n`);
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '-v', './out/link:/o', '-v', './out:/w', IMG, 'sh', '-c', 'echo x > /o/new && echo WROTE-O; echo y > /w/new && echo WROTE-W; cat /proc/mounts'], { env, cwd: proj });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('WROTE-O');
    expect(r.stdout).toContain('WROTE-W'); // the control: the allowed dir itself is writable
    expect(mountOptions(r.stdout, '/o')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev']));
    rmSync(join(secret, 'new'), { force: true });
  });
});

describe('nothing left behind', () => {
  it('no container and no bind volume of this run\'s paths remain', async () => {
    await new Promise((r) => setTimeout(r, 500));
    expect(await hostVolumesUnder(tmp.path)).toEqual([]);
    expect(await hostVolumesUnder('/etc')).toEqual([]);
    const mine = await listContainers(`sdocker.test.owner=${process.pid}`);
    expect(mine).toEqual([]);
  });
});
