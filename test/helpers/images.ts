/**
 * Test images built from Debian's busybox-static, without a registry: a rootfs layer (busybox with
 * a symlink per applet, /etc/passwd and /etc/group with root, user 1000 and nobody, sticky /tmp,
 * /root) wrapped in a docker-archive (manifest.json, config JSON, layer tar) and loaded with
 * POST /images/load. The config is ours to write, so variants set User, Entrypoint, Volumes...
 * Cached by content: the image id is the sha256 of the config, so an unchanged image is not loaded again.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import tar from 'tar-stream';
import { EngineClient, readBody } from '../../src/engine/client.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';

export interface ImageConfig {
  User?: string;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export const BUSYBOX = '/bin/busybox';
const MTIME = new Date('2024-01-01T00:00:00Z');

export const IMAGES = {
  root: 'sdocker-test/busybox:root',
  user: 'sdocker-test/busybox:user',
  volume: 'sdocker-test/busybox:volume',
  entrypoint: 'sdocker-test/busybox:entrypoint',
} as const;

const BASE_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

export const VARIANTS: Record<keyof typeof IMAGES, ImageConfig> = {
  root: { Env: BASE_ENV, Cmd: ['sh'] },
  user: { Env: BASE_ENV, Cmd: ['sh'], User: '1000' },
  volume: { Env: BASE_ENV, Cmd: ['sh'], Volumes: { '/data': {} } },
  entrypoint: { Env: BASE_ENV, Entrypoint: ['/bin/echo', 'ep'], Cmd: null },
};

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function packToBuffer(fill: (pack: tar.Pack) => void): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  fill(pack);
  pack.finalize();
  return done;
}

let layerCache: Promise<Buffer> | undefined;

/** The rootfs layer: the same bytes for every variant (deterministic mtimes), so it is stored once. */
export function rootfsLayer(): Promise<Buffer> {
  layerCache ??= (async () => {
    const busybox = readFileSync(BUSYBOX);
    const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s && s !== 'busybox' && !s.includes('/'));
    const passwd =
      'root:x:0:0:root:/root:/bin/sh\n' +
      'user:x:1000:1000:user:/home/user:/bin/sh\n' +
      'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
    const group = 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n';
    return packToBuffer((pack) => {
      const dir = (name: string, mode = 0o755, uid = 0) =>
        pack.entry({ name, type: 'directory', mode, uid, gid: uid, mtime: MTIME });
      const file = (name: string, body: Buffer | string, mode = 0o644) =>
        pack.entry({ name, mode, uid: 0, gid: 0, mtime: MTIME }, body);
      dir('bin/');
      file('bin/busybox', busybox, 0o755);
      for (const a of [...new Set(applets)].sort()) {
        pack.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777, mtime: MTIME });
      }
      dir('etc/');
      file('etc/passwd', passwd);
      file('etc/group', group);
      file('etc/hosts', '127.0.0.1 localhost\n');
      dir('tmp/', 0o1777);
      dir('root/', 0o700);
      dir('home/');
      dir('home/user/', 0o755, 1000);
      dir('data/');
      dir('usr/');
      dir('usr/bin/');
      pack.entry({ name: 'usr/bin/env', type: 'symlink', linkname: '/bin/busybox', mode: 0o777, mtime: MTIME });
      dir('proc/');
      dir('sys/');
      dir('dev/');
    });
  })();
  return layerCache;
}

/**
 * The docker-archive for one image: busybox's rootfs layer, a layer of extraFiles if any, then
 * extraLayers (ready-made layer tars); returns the tar and the image id it will get.
 */
export async function imageArchive(
  tag: string,
  config: ImageConfig,
  extraFiles: Record<string, string | Partial<Omit<tar.Header, 'name'>>> = {},
  extraLayers: Buffer[] = [],
): Promise<{ archive: Buffer; id: string }> {
  const layers = [await rootfsLayer()];
  if (Object.keys(extraFiles).length) {
    layers.push(
      await packToBuffer((pack) => {
        for (const [name, body] of Object.entries(extraFiles)) {
          // A string is a file's content; an object a tar header of its own (a device node, a symlink).
          if (typeof body === 'string') pack.entry({ name, mode: 0o644, mtime: MTIME }, body);
          else pack.entry({ ...body, name, mtime: body.mtime ?? MTIME });
        }
      }),
    );
  }
  layers.push(...extraLayers);
  const diffIds = layers.map((l) => sha256(l));
  const configJson = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: MTIME.toISOString(),
    config: { ...config, Labels: { 'sdocker.test': '1', ...(config.Labels ?? {}) } },
    rootfs: { type: 'layers', diff_ids: diffIds.map((d) => `sha256:${d}`) },
    history: [{ created: MTIME.toISOString(), created_by: 'sdocker test/helpers/images.ts' }],
  });
  const configDigest = sha256(configJson);
  const manifest = JSON.stringify([
    { Config: `${configDigest}.json`, RepoTags: [tag], Layers: diffIds.map((d) => `${d}/layer.tar`) },
  ]);
  const archive = await packToBuffer((pack) => {
    layers.forEach((layer, i) => {
      pack.entry({ name: `${diffIds[i]}/`, type: 'directory', mode: 0o755, mtime: MTIME });
      pack.entry({ name: `${diffIds[i]}/layer.tar`, mode: 0o644, mtime: MTIME }, layer);
    });
    pack.entry({ name: `${configDigest}.json`, mode: 0o644, mtime: MTIME }, configJson);
    pack.entry({ name: 'manifest.json', mode: 0o644, mtime: MTIME }, manifest);
  });
  return { archive, id: `sha256:${configDigest}` };
}

function client(): EngineClient {
  return new EngineClient(resolveEndpoint({}, process.env));
}

/** Make sure `tag` names the image built from `config`; loads it only if the tag points elsewhere. */
export async function ensureImage(
  tag: string,
  config: ImageConfig,
  extraFiles: Record<string, string | Partial<Omit<tar.Header, 'name'>>> = {},
  extraLayers: Buffer[] = [],
): Promise<string> {
  const { archive, id } = await imageArchive(tag, config, extraFiles, extraLayers);
  const c = client();
  try {
    try {
      const existing = await c.json<{ Id: string }>('GET', `/images/${encodeURIComponent(tag)}/json`);
      if (existing.Id === id) return id;
    } catch {
      // not there yet
    }
    const res = await c.request('POST', '/images/load', {
      query: { quiet: 1 },
      raw: archive,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    const text = (await readBody(res)).toString('utf8');
    if (/"error"/.test(text)) throw new Error(`image load failed: ${text}`);
    return id;
  } finally {
    c.close();
  }
}

/** Build (or reuse) all the test image variants. */
export async function ensureTestImages(): Promise<typeof IMAGES> {
  for (const [k, tag] of Object.entries(IMAGES) as Array<[keyof typeof IMAGES, string]>) {
    await ensureImage(tag, VARIANTS[k]);
  }
  return IMAGES;
}
