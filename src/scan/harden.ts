/**
 * `sdocker image harden`: a new image whose only change is one added layer holding every setuid or
 * setgid file still present (and, with dropCaps, every file with capabilities), with those bits
 * (that attribute) removed. Two passes over the engine's archive of the image:
 *  1. the scan: which files, from which layer (whiteouts and opaque directories honoured);
 *  2. those files' bytes, from the layer their surviving version is in, spooled to a private
 *     temporary directory (memory stays bounded whatever their size), with the headers of their
 *     parent directories (so the new layer's directories keep their modes and owners: a directory
 *     in an upper layer replaces the lower one's metadata).
 * The new layer is written to a temporary file (hashed on the way: its diff id), the config gets
 * the diff id and one history entry, and an archive of config + manifest + that one layer is
 * loaded with POST /images/load (the engine already has the lower layers: load reuses them).
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import tar from 'tar-stream';
import type { EngineClient } from '../engine/client.js';
import { readBody } from '../engine/client.js';
import { EngineError, SdockerError } from '../errors.js';
import { CAP_XATTR, type Marked } from './layer.js';
import { hiddenAbove, survivors, type Surviving } from './merge.js';
import { octal } from './findings.js';
import { imageIdOf, readImage } from './scan.js';
import type { OrderedImage } from './save-stream.js';
import { layerPath, type TarHeader } from './tar-reader.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from './tar-writer.js';

export interface HardenOptions {
  dropCaps: boolean;
  /** For the history entry. */
  now?: () => Date;
}

export interface HardenResult {
  id: string;
  tag: string;
  changed: Array<{ path: string; from: string; to: string; capsDropped: boolean }>;
  diffId: string;
}

/** Which surviving entries the new layer rewrites (pure). */
export function hardenTargets(all: readonly Surviving[], dropCaps: boolean): Surviving[] {
  return all.filter((s) => s.type !== 'other' && ((s.mode & 0o6000) !== 0 || (dropCaps && s.caps !== undefined)));
}

/** The new mode and extended attributes of a rewritten file (pure). */
export function hardenedEntry(m: Pick<Marked, 'mode'>, pax: ReadonlyMap<string, Buffer>, dropCaps: boolean): { mode: number; pax: Map<string, Buffer> } {
  const out = new Map<string, Buffer>();
  for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.') && v.length > 0 && !(dropCaps && k === CAP_XATTR)) out.set(k, v);
  return { mode: m.mode & 0o1777, pax: out };
}

/** docker load's RepoTags entry: NAME[:TAG] with the tag defaulted as docker does. */
export function normaliseTag(tag: string): string {
  const re = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?$/;
  if (!re.test(tag) || tag.includes('@')) throw new SdockerError(`image harden: -t ${JSON.stringify(tag)} is not a valid NAME[:TAG]`, 125);
  const lastSlash = tag.lastIndexOf('/');
  return tag.slice(lastSlash + 1).includes(':') ? tag : `${tag}:latest`;
}

interface Spooled {
  target: Surviving;
  /** Where the content is read from: the file itself, or the file a hard link points to (same layer). */
  source: string;
  header?: TarHeader;
  file?: string;
  got: number;
}

interface DirMeta {
  layer: number;
  h: TarHeader;
}

function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let d = posix.dirname(path); d !== '/'; d = posix.dirname(d)) out.unshift(d);
  return out;
}

export async function hardenImage(client: EngineClient, ref: string, newTag: string, opts: HardenOptions): Promise<HardenResult> {
  const tag = normaliseTag(newTag);
  const id = await imageIdOf(client, ref);
  const first = await readImage(client, id);
  const image = first.image;
  const targets = hardenTargets(survivors(image.layers), opts.dropCaps);
  const work = mkdtempSync(join(tmpdir(), 'sdocker-harden-'));
  try {
    const { spool, dirs } = await secondPass(client, image, targets, work);
    const layerFile = join(work, 'layer.tar');
    const dirTargets = targets.filter((t) => t.type === 'directory');
    const { diffId, changed } = writeLayer(layerFile, spool, dirTargets, dirs, opts.dropCaps);
    const config = JSON.parse(image.configText.toString('utf8')) as OrderedImage['config'];
    const now = (opts.now ?? (() => new Date()))().toISOString();
    config.rootfs = { type: 'layers', ...(config.rootfs ?? {}), diff_ids: [...image.diffIds, `sha256:${diffId}`] };
    config.history = [
      ...(config.history ?? []),
      {
        created: now,
        created_by: `sdocker image harden${opts.dropCaps ? ' --drop-caps' : ''}: setuid/setgid${opts.dropCaps ? ' and file capabilities' : ''} removed from ${changed.length} files`,
        comment: `from ${id}`,
      },
    ];
    const configText = JSON.stringify(config);
    const newId = createHash('sha256').update(configText).digest('hex');
    await load(client, { configText, configName: `${newId}.json`, layerFile, diffId, tag, layers: image.diffIds.map((d) => `${d.replace(/^sha256:/, '')}/layer.tar`) });
    return { id: `sha256:${newId}`, tag, changed, diffId: `sha256:${diffId}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function secondPass(client: EngineClient, image: OrderedImage, targets: readonly Surviving[], work: string): Promise<{ spool: Spooled[]; dirs: Map<string, DirMeta | undefined> }> {
  const layerIndex = new Map(image.layerPaths.map((p, i) => [p, i] as const));
  // Per layer, the paths whose bytes are wanted (a hard link's bytes are its target's, in that layer).
  const spooled: Spooled[] = targets.filter((t) => t.type !== 'directory').map((t) => ({ target: t, source: t.path, got: 0 }));
  const wantDirs = new Set(targets.flatMap((t) => [...ancestorsOf(t.path), ...(t.type === 'directory' ? [t.path] : [])]));
  const dirs = new Map<string, DirMeta[]>();
  const byLayerPath = new Map<string, Spooled[]>();
  const key = (layer: number, path: string) => `${layer}\0${path}`;
  for (const s of spooled) byLayerPath.set(key(s.target.layer, s.source), [...(byLayerPath.get(key(s.target.layer, s.source)) ?? []), s]);
  let n = 0;
  const onFile = (archivePath: string, path: string, h: TarHeader): ((c: Buffer) => void) | undefined => {
    const layer = layerIndex.get(archivePath);
    if (layer === undefined) return undefined;
    if (h.type === 'directory' && wantDirs.has(path)) dirs.set(path, [...(dirs.get(path) ?? []), { layer, h }]);
    const wanted = byLayerPath.get(key(layer, path));
    if (!wanted) return undefined;
    if (h.type === 'link') {
      // Follow the hard link to its file in the same layer (written before it, as tar requires).
      const to = layerPath(h.linkname);
      for (const s of wanted) {
        s.header = h;
        s.source = to;
        byLayerPath.set(key(layer, to), [...(byLayerPath.get(key(layer, to)) ?? []), s]);
      }
      return undefined;
    }
    if (h.type !== 'file') return undefined;
    const file = join(work, `f${n++}`);
    const fd = openSync(file, 'wx', 0o600);
    for (const s of wanted) {
      if (!s.header) s.header = h;
      s.file = file;
    }
    let got = 0;
    if (h.size === 0) closeSync(fd);
    return (c) => {
      writeSync(fd, c);
      got += c.length;
      for (const s of wanted) s.got = got;
      if (got === h.size) closeSync(fd);
    };
  };
  await readImage(client, image.id, onFile);
  if (spooled.some((s) => !s.file)) {
    // A hard link: tar writes its target before it, so the target's bytes went by already. Once more.
    dirs.clear();
    await readImage(client, image.id, onFile);
  }
  for (const s of spooled) {
    if (!s.file || !s.header) throw new SdockerError(`image harden: the bytes of ${s.target.path} (layer ${s.target.layer}) were not found in the engine's archive`, 125);
  }
  // Each wanted directory's surviving version: the highest layer writing it that nothing hides.
  const live = new Map<string, DirMeta | undefined>();
  for (const [path, metas] of dirs) live.set(path, metas.filter((m) => !hiddenAbove(image.layers, m.layer, path)).sort((a, b) => b.layer - a.layer)[0]);
  return { spool: spooled, dirs: live };
}

function writeLayer(
  path: string,
  spool: readonly Spooled[],
  dirTargets: readonly Surviving[],
  dirs: ReadonlyMap<string, DirMeta | undefined>,
  dropCaps: boolean,
): { diffId: string; changed: HardenResult['changed'] } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'wx', 0o600);
  const out = (b: Buffer) => {
    hash.update(b);
    writeSync(fd, b);
  };
  const changed: HardenResult['changed'] = [];
  const dirTarget = new Map(dirTargets.map((t) => [t.path, t]));
  const written = new Set<string>();
  const writeDir = (d: string) => {
    if (written.has(d)) return;
    written.add(d);
    // A directory no layer wrote explicitly: the engine made it 0755 root, so does this one.
    const h = dirs.get(d)?.h;
    const t = dirTarget.get(d);
    const next = hardenedEntry({ mode: t?.mode ?? h?.mode ?? 0o755 }, h?.pax ?? new Map<string, Buffer>(), dropCaps);
    const mode = t ? next.mode : (h?.mode ?? 0o755);
    out(encodeHeader({ name: d.slice(1), type: 'directory', mode, uid: h?.uid ?? t?.uid ?? 0, gid: h?.gid ?? t?.gid ?? 0, size: 0, mtime: h?.mtime ?? 0, pax: next.pax }));
    if (t) changed.push({ path: d, from: octal(t.mode), to: octal(mode), capsDropped: dropCaps && t.caps !== undefined });
  };
  try {
    const all = [...spool.map((s) => s.target.path), ...dirTargets.map((t) => t.path)].sort();
    for (const p of all) {
      for (const d of ancestorsOf(p)) writeDir(d);
      if (dirTarget.has(p)) {
        writeDir(p);
        continue;
      }
      const s = spool.find((x) => x.target.path === p)!;
      const h = s.header!;
      const next = hardenedEntry(s.target, h.pax, dropCaps);
      const src = openSync(s.file!, 'r');
      try {
        const size = fstatSync(src).size;
        out(encodeHeader({ name: p.slice(1), type: 'file', mode: next.mode, uid: s.target.uid, gid: s.target.gid, size, mtime: h.mtime, pax: next.pax }));
        const buf = Buffer.alloc(1 << 16);
        for (let off = 0; off < size; ) {
          const n = readSync(src, buf, 0, buf.length, off);
          if (n <= 0) throw new SdockerError(`image harden: short read of the spooled ${p}`, 125);
          out(buf.subarray(0, n));
          off += n;
        }
        out(padding(size));
      } finally {
        closeSync(src);
      }
      changed.push({ path: p, from: octal(s.target.mode), to: octal(next.mode), capsDropped: dropCaps && s.target.caps !== undefined });
    }
    out(END_OF_ARCHIVE);
  } finally {
    closeSync(fd);
  }
  return { diffId: hash.digest('hex'), changed };
}

async function load(
  client: EngineClient,
  a: { configText: string; configName: string; layerFile: string; diffId: string; tag: string; layers: string[] },
): Promise<void> {
  const pack = tar.pack();
  const layerName = `${a.diffId}/layer.tar`;
  const manifest = JSON.stringify([{ Config: a.configName, RepoTags: [a.tag], Layers: [...a.layers, layerName] }]);
  const size = statSync(a.layerFile).size;
  const sending = client.request('POST', '/images/load', { query: { quiet: 1 }, raw: pack as unknown as NodeJS.ReadableStream, headers: { 'Content-Type': 'application/x-tar' } });
  const entry = pack.entry({ name: layerName, size, mode: 0o644 });
  await new Promise<void>((resolve, reject) => {
    const rs = createReadStream(a.layerFile);
    rs.on('error', reject);
    entry.on('error', reject);
    entry.on('finish', () => resolve());
    rs.pipe(entry);
  });
  pack.entry({ name: a.configName, mode: 0o644 }, a.configText);
  pack.entry({ name: 'manifest.json', mode: 0o644 }, manifest);
  pack.finalize();
  const res = await sending;
  const text = (await readBody(res)).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let msg: { error?: string; errorDetail?: { message?: string } };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      continue;
    }
    if (msg.error) throw new EngineError(`loading the hardened image: ${msg.errorDetail?.message ?? msg.error}`, 500);
  }
}
