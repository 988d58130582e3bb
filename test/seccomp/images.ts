/**
 * Test images for the seccomp engine tests: the shared busybox image (test/helpers/images.ts) and
 * a redis image: busybox's rootfs layer plus a layer with Debian's redis binaries and their `ldd`
 * libraries (listed by scripts/seccomp-test-server.sh), loaded as a docker-archive.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { readBody } from '../../src/engine/client.js';
import { engineClient, REPO_ROOT } from '../helpers/engine.js';
import { ensureImage, IMAGES, packToBuffer, VARIANTS, rootfsLayer } from '../helpers/images.js';

export const BUSYBOX_IMAGE = IMAGES.root;
export const REDIS_IMAGE = 'sdocker-test/redis:seccomp';
const MTIME = new Date('2024-01-01T00:00:00Z');

export async function ensureBusybox(): Promise<string> {
  await ensureImage(IMAGES.root, VARIANTS.root);
  return IMAGES.root;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
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
  const base = await rootfsLayer();
  const layers = [base, redisLayer];
  const diffIds = layers.map((l) => `sha256:${sha256(l)}`);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: MTIME.toISOString(),
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['redis-server', '--save', '', '--appendonly', 'no'],
      WorkingDir: '/tmp',
      Labels: { 'sdocker.test': '1' },
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created: MTIME.toISOString(), created_by: 'sdocker test/seccomp/images.ts' }],
  });
  const configDigest = sha256(config);
  const id = `sha256:${configDigest}`;
  const c = engineClient();
  try {
    try {
      const existing = await c.json<{ Id: string }>('GET', `/images/${encodeURIComponent(REDIS_IMAGE)}/json`);
      if (existing.Id === id) return REDIS_IMAGE;
    } catch {
      /* not loaded yet */
    }
    const names = diffIds.map((d) => `${d.slice(7)}/layer.tar`);
    const archive = await packToBuffer((p) => {
      layers.forEach((l, i) => {
        p.entry({ name: names[i]!.replace('layer.tar', ''), type: 'directory', mode: 0o755, mtime: MTIME });
        p.entry({ name: names[i]!, mode: 0o644, mtime: MTIME }, l);
      });
      p.entry({ name: `${configDigest}.json`, mode: 0o644, mtime: MTIME }, config);
      p.entry({ name: 'manifest.json', mode: 0o644, mtime: MTIME }, JSON.stringify([{ Config: `${configDigest}.json`, RepoTags: [REDIS_IMAGE], Layers: names }]));
    });
    const res = await c.request('POST', '/images/load', { query: { quiet: 1 }, raw: archive, headers: { 'Content-Type': 'application/x-tar' } });
    const text = (await readBody(res)).toString('utf8');
    if (/"error"/.test(text)) throw new Error(`redis image load failed: ${text}`);
    return REDIS_IMAGE;
  } finally {
    c.close();
  }
}
