/**
 * Test images for the seccomp engine tests: the shared busybox image and a redis image, both built
 * and loaded by test/helpers/images.ts: busybox's rootfs layer plus a layer with Debian's redis
 * binaries and their `ldd` libraries (listed by scripts/seccomp-test-server.sh).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { REPO_ROOT } from '../helpers/engine.js';
import { ensureImage, IMAGES, packToBuffer, VARIANTS } from '../helpers/images.js';

export const BUSYBOX_IMAGE = IMAGES.root;
export const REDIS_IMAGE = 'sdocker-test/redis:seccomp';
const MTIME = new Date('2024-01-01T00:00:00Z');

export async function ensureBusybox(): Promise<string> {
  await ensureImage(IMAGES.root, VARIANTS.root);
  return IMAGES.root;
}

export async function ensureRedis(): Promise<string> {
  const files = execFileSync('bash', [`${REPO_ROOT}scripts/seccomp-test-server.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')
    .filter((l) => l.startsWith('/'));
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
  }
  const redisLayer = await packToBuffer((p) => {
    for (const d of [...dirs].sort()) {
      if (d === 'bin/' || d === 'usr/' || d === 'usr/bin/') continue;
      p.entry({ name: d, type: 'directory', mode: 0o755, mtime: MTIME });
    }
    for (const f of files) {
      p.entry({ name: f.slice(1), mode: 0o755, mtime: MTIME }, readFileSync(realpathSync(f)));
    }
    p.entry({ name: 'usr/bin/redis-server', type: 'symlink', linkname: 'redis-check-rdb', mode: 0o777, mtime: MTIME });
  });
  await ensureImage(REDIS_IMAGE, {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['redis-server', '--save', '', '--appendonly', 'no'],
    WorkingDir: '/tmp',
  }, {}, [redisLayer]);
  return REDIS_IMAGE;
}
