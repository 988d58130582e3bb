/**
 * Multi-layer test images for the scanner: the busybox rootfs layer of images.ts, then layers
 * given as entry lists (setuid/setgid modes, owners, whiteouts, opaque markers, a binary
 * security.capability in a PAX header), wrapped in a docker-archive and loaded. The layers are
 * written with src/scan/tar-writer.ts: tar-stream's writer would encode the capability as UTF-8 text.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tar from 'tar-stream';
import { encodeHeader, END_OF_ARCHIVE, padding } from '../../src/scan/tar-writer.js';
import { readBody } from '../../src/engine/client.js';
import { BUSYBOX, packToBuffer, rootfsLayer } from './images.js';
import { engineClient, spawnCollect } from './engine.js';

export interface Entry {
  /** Absolute path in the image; a whiteout is `/dir/.wh.NAME`, an opaque marker `/dir/.wh..wh..opq`. */
  path: string;
  dir?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** File content; 'busybox' for a copy of the busybox binary (so the file runs as its applet). */
  body?: string | 'busybox';
  caps?: Buffer;
}

const MTIME = Date.parse('2024-01-01T00:00:00Z') / 1000;

export function layerTar(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.dir ? Buffer.alloc(0) : e.body === 'busybox' ? readFileSync(BUSYBOX) : Buffer.from(e.body ?? '');
    const pax = e.caps ? new Map([['SCHILY.xattr.security.capability', e.caps]]) : undefined;
    parts.push(encodeHeader({ name: e.path.slice(1), type: e.dir ? 'directory' : 'file', mode: e.mode ?? (e.dir ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0, size: body.length, mtime: MTIME, ...(pax ? { pax } : {}) }));
    parts.push(body, padding(body.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Load an image of the busybox layer plus `layers`; returns its id. */
export async function loadLayeredImage(tag: string, layers: Entry[][], config: Record<string, unknown> = {}): Promise<string> {
  const tars = [await rootfsLayer(), ...layers.map(layerTar)];
  const diffIds = tars.map((t) => sha256(t));
  const configJson = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], Labels: { 'sdocker.test': '1' }, ...config },
    rootfs: { type: 'layers', diff_ids: diffIds.map((d) => `sha256:${d}`) },
    history: tars.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `test layer ${i}` })),
  });
  const configDigest = sha256(configJson);
  const archive = await packToBuffer((pack: tar.Pack) => {
    // The layers before manifest.json and in reverse order: the scan must not depend on the archive's order.
    [...tars.keys()].reverse().forEach((i) => pack.entry({ name: `${diffIds[i]}/layer.tar`, mode: 0o644 }, tars[i]!));
    pack.entry({ name: `${configDigest}.json`, mode: 0o644 }, configJson);
    pack.entry({ name: 'manifest.json', mode: 0o644 }, JSON.stringify([{ Config: `${configDigest}.json`, RepoTags: [tag], Layers: diffIds.map((d) => `${d}/layer.tar`) }]));
  });
  const c = engineClient();
  try {
    const res = await c.request('POST', '/images/load', { query: { quiet: 1 }, raw: archive, headers: { 'Content-Type': 'application/x-tar' } });
    const text = (await readBody(res)).toString('utf8');
    if (/"error"/.test(text)) throw new Error(`image load failed: ${text}`);
  } finally {
    c.close();
  }
  return `sha256:${configDigest}`;
}

export async function removeImage(tag: string): Promise<void> {
  await spawnCollect('docker', ['rmi', '-f', tag]);
}
