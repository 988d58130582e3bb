/**
 * Issue 3: the `restricted` defaults, seen from inside the container (the kernel's view:
 * /proc/self/status, /proc/mounts, the cgroup files, operations that must fail) and from the
 * engine for what only it knows (port bindings, log options), with no policy flag typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { cleanupTestObjects, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, inspect, keyValues, mountOptions, PROBE, removeOwnedVolumesUnder, sdocker, tempDir, httpStatusLine } from '../policy/engine-checks.js';

const L = TEST_LABEL_ARGS;
const tmp = tempDir('defaults');
const hostDir = join(tmp.path, 'host');
const env = { SDOCKER_STATE_DIR: join(tmp.path, 'state') };
/** Built in beforeAll: USER 1000 owns its VOLUME /appdata, which holds a file from the image. */
const volumeImage = `sdocker-test/busybox:volume-owned-${process.pid}`;

beforeAll(async () => {
  await ensureTestImages();
  await docker(['version']); // fail early when the CLI is missing
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'hello'), 'from the host\n');
  const ctx = join(tmp.path, 'build');
  mkdirSync(ctx);
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM ${IMAGES.root}\nRUN mkdir -p /appdata && echo seeded > /appdata/seed && chown -R 1000:1000 /appdata\nUSER 1000\nVOLUME /appdata\n`,
  );
  const b = await docker(['build', '-q', '--label', 'sdocker.test=1', '-t', volumeImage, ctx]);
  expect(b.code, b.stderr).toBe(0);
});

afterAll(async () => {
  await cleanupTestObjects();
  await removeOwnedVolumesUnder(tmp.path);
  await docker(['rmi', volumeImage]);
  tmp.remove();
});

describe('restricted defaults, seen from inside the container', () => {
  it('no capabilities, no-new-privileges, seccomp filter, nobody, read-only /, /tmp nosuid,nodev,noexec, limits in the cgroup files', async () => {
    const script = [
      PROBE,
      // noexec is real: a copy of busybox on /tmp cannot be executed
      'cp /bin/busybox /tmp/bb && { /tmp/bb true 2>/dev/null && echo tmpexec=ran || echo tmpexec=refused; }',
      // no CAP_MKNOD, no CAP_CHOWN even though the files are ours
      'echo "mknod=$(mknod /tmp/mem c 1 1 2>&1 && echo made)"',
      'echo "chown=$(chown 0 /tmp/probe 2>&1 && echo done)"',
      'echo "sysctl_w=$( (echo 1 > /proc/sys/kernel/shm_rmid_forced) 2>/dev/null && echo done || echo refused)"',
    ].join('\n');
    const r = await sdocker(['run', '--rm', ...L, IMAGES.root, 'sh', '-c', script], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv.CapEff).toBe('0000000000000000');
    expect(kv.CapBnd).toBe('0000000000000000');
    expect(kv.CapPrm).toBe('0000000000000000');
    expect(kv.CapAmb).toBe('0000000000000000');
    expect(kv.NoNewPrivs).toBe('1');
    expect(kv.Seccomp).toBe('2');
    // the image runs as root: sdocker makes it nobody, with no root group
    expect(kv.uid).toBe('65534');
    expect(kv.gid).toBe('65534');
    expect(kv.groups!.split(' ')).not.toContain('0');
    expect(kv.rootwrite).toMatch(/Read-only file system/);
    expect(kv.tmpwrite).toBe('x');
    expect(kv.tmpmount!.split(' ')[3]!.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
    expect(kv.tmpexec).toBe('refused');
    expect(kv.mknod).toMatch(/Operation not permitted/);
    expect(kv.chown).toMatch(/Operation not permitted/);
    expect(kv.sysctl_w).toBe('refused');
    // the level's limits: 1g, 512 pids, 2 CPUs (never above the engine's NCPU)
    expect(kv.memory).toBe(String(1024 ** 3));
    expect(kv.pids).toBe('512');
    expect(Number(kv.cfs_quota)).toBe(Math.min(2, cpus().length) * 100_000);
  });

  it('a bind mount is read-only, nosuid, nodev and a write to it fails; the host file is readable', async () => {
    const script = [
      'cat /m/hello',
      "grep ' /m ' /proc/mounts",
      'echo "bindwrite=$(touch /m/new 2>&1 && echo ok)"',
    ].join('\n');
    const r = await sdocker(['run', '--rm', ...L, '-v', `${hostDir}:/m`, IMAGES.root, 'sh', '-c', script], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^from the host\n/);
    expect(mountOptions(r.stdout, '/m')).toEqual(
      expect.arrayContaining(['ro', 'nosuid', 'nodev']),
    );
    expect(keyValues(r.stdout).bindwrite).toMatch(/Read-only file system/);
    expect(readFileSync(join(hostDir, 'hello'), 'utf8')).toBe('from the host\n');
    // --rm removed the owned bind volume with the container
    const vols = await docker(['volume', 'ls', '-q', '--filter', `label=io.sdocker.bind=${hostDir}`]);
    expect(vols.stdout.trim()).toBe('');
  });

  it('an image with USER 1000 keeps 1000; -u 1000 gets its own group, never 0', async () => {
    const a = await sdocker(['run', '--rm', ...L, IMAGES.user, 'id'], { env });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe('uid=1000(user) gid=1000(user) groups=1000(user)\n');
    const b = await sdocker(['run', '--rm', ...L, '-u', '1000', IMAGES.root, 'sh', '-c', 'id -u; id -g; id -G'], { env });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe('1000\n1000\n1000\n');
  });

  it("an image VOLUME stays a writable volume with the image's contents while / is read-only", async () => {
    // The realistic image: its USER owns the VOLUME directory (as postgres, redis... do).
    const r = await sdocker(
      ['run', '--rm', ...L, volumeImage, 'sh', '-c', 'cat /appdata/seed; echo w > /appdata/w && cat /appdata/w; touch /x 2>&1; id -u; grep " /appdata " /proc/mounts'],
      { env },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual(['seeded', 'w', 'touch: /x: Read-only file system', '1000']);
    expect(mountOptions(r.stdout, '/appdata')).toContain('rw');
  });

  it('an image VOLUME owned by root: still a rw volume (not the /tmp tmpfs); nobody meets the same EACCES as docker -u 65534', async () => {
    const script = 'grep " /data " /proc/mounts; echo "w=$( (echo x > /data/f) 2>&1 && echo ok)"';
    const hard = await sdocker(['run', '--rm', ...L, IMAGES.volume, 'sh', '-c', script], { env });
    const plain = await docker(['run', '--rm', ...L, '-u', '65534:65534', IMAGES.volume, 'sh', '-c', script]);
    expect(hard.code, hard.stderr).toBe(0);
    expect(mountOptions(hard.stdout, '/data')).toContain('rw');
    expect(hard.stdout).not.toMatch(/^tmpfs \/data/m);
    expect(keyValues(hard.stdout).w).toMatch(/Permission denied/);
    expect(keyValues(plain.stdout).w).toBe(keyValues(hard.stdout).w);
  });

  it('only the devices plain docker gives: same /dev entries and the same device cgroup whitelist', async () => {
    const script = [
      'for f in /dev/* /dev/pts/* /dev/shm/* /dev/mqueue/*; do [ -e "$f" ] || [ -L "$f" ] || continue; stat -c "%n %F %t:%T" "$f"; done',
      'echo --; cat /sys/fs/cgroup/devices/devices.list',
    ].join('\n');
    // the root image as user 1000 in both, so stat sees the same thing
    const plain = await docker(['run', '--rm', ...L, '-u', '1000', IMAGES.root, 'sh', '-c', script]);
    const hard = await sdocker(['run', '--rm', ...L, IMAGES.root, 'sh', '-c', script], { env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(hard.code, hard.stderr).toBe(0);
    expect(hard.stdout).toBe(plain.stdout);
    expect(hard.stdout).toMatch(/^\/dev\/null character special file 1:3$/m);
    expect(hard.stdout).not.toMatch(/\/dev\/(mem|kmsg|vd|sd|loop)/);
    // the device cgroup is docker's default whitelist, not 'a *:* rwm'
    expect(hard.stdout.split('--\n')[1]).not.toMatch(/^a /m);
  });
});

describe('restricted defaults the engine holds', () => {
  it('-d: prints the id; port published on 127.0.0.1 only; log rotation; cgroup limits on the host; the process is hardened', async () => {
    const r = await sdocker(['run', '-d', ...L, '-p', '80', IMAGES.root, 'httpd', '-f', '-p', '80', '-h', '/tmp'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = r.stdout.trim();
    try {
      const info = await inspect<{
        State: { Running: boolean };
        HostConfig: { LogConfig: { Type: string; Config: Record<string, string> } };
        NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
      }>(id);
      expect(info.State.Running).toBe(true);
      expect(info.HostConfig.LogConfig.Config).toMatchObject({ 'max-size': '10m', 'max-file': '3' });
      const bindings = info.NetworkSettings.Ports['80/tcp'] ?? [];
      expect(bindings.length).toBeGreaterThan(0);
      for (const b of bindings) expect(b.HostIp).toBe('127.0.0.1');
      const port = Number(bindings[0]!.HostPort);
      const dp = await docker(['port', id, '80']);
      expect(dp.stdout.trim().split('\n')).toEqual([`127.0.0.1:${port}`]);
      // reachable on 127.0.0.1, not on the host's other addresses
      expect(await httpStatusLine('127.0.0.1', port)).toMatch(/^HTTP\/1\.[01] \d{3}/);
      const other = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (other) await expect(httpStatusLine(other, port)).rejects.toThrow();
      // the limits, from the host's cgroup v1 tree
      const cg = (ctl: string, file: string) => readFileSync(`/sys/fs/cgroup/${ctl}/docker/${id}/${file}`, 'utf8').trim();
      expect(cg('memory', 'memory.limit_in_bytes')).toBe(String(1024 ** 3));
      expect(cg('pids', 'pids.max')).toBe('512');
      // the running process is the hardened one
      const st = await docker(['exec', id, 'sh', '-c', "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/1/status; id -u"]);
      const kv = keyValues(st.stdout);
      expect(kv).toMatchObject({ CapEff: '0000000000000000', CapBnd: '0000000000000000', NoNewPrivs: '1', Seccomp: '2' });
      expect(st.stdout.trim().split('\n').pop()).toBe('65534');
    } finally {
      await docker(['rm', '-f', '-v', id]);
    }
  });
});

