/**
 * The local fast path of the scan: when the engine runs on this host with the overlay2 driver and
 * sdocker can read its data root (root), each layer's directory is walked in place (metadata only,
 * src/scan/overlay-walk.ts) instead of streaming the whole image through `docker save`, which on
 * Docker 20.10 first copies it to a temporary directory and then sends every byte.
 *
 * Every fact is checked against the engine's own records before a byte is trusted, and any doubt is
 * a reason to use the save stream instead (LocalUnavailable, with the reason):
 * - the endpoint is a unix socket; /info says Driver overlay2 (not userxattr) and DockerRootDir;
 * - the image config the engine stores (`image/overlay2/imagedb/content/sha256/<id>`) hashes to the
 *   id (so this data root holds this very image), and its rootfs.diff_ids are inspect's RootFS.Layers;
 * - inspect's GraphDriver directories (UpperDir, then LowerDir top first) paired bottom-up with the
 *   diff ids: same count, and each is `<root>/overlay2/<cache-id>/diff` where cache-id is what the
 *   layer store records for that layer's chain id (`image/overlay2/layerdb/sha256/<chain>/cache-id`);
 * - every path stays inside the data root (no `..`, no symbolic link on the way: realpath equal).
 */
import { createHash } from 'node:crypto';
import { lstatSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import type { EngineClient } from '../engine/client.js';
import { SdockerError } from '../errors.js';
import { readBounded } from '../fs/read-bounded.js';
import type { LayerSummary } from './layer.js';
import { walkLayerDir } from './overlay-walk.js';
import type { ImageConfigJson } from './save-stream.js';
import { lgetxattr } from './xattr.js';

/** Exit 125 when `--via local` was asked for; with auto, the reason the save stream was used. */
export class LocalUnavailable extends SdockerError {}

export interface LocalImage {
  id: string;
  config: ImageConfigJson;
  layers: LayerSummary[];
  diffIds: string[];
  /** The layer directories, bottom first. */
  dirs: string[];
}

interface Info {
  Driver?: string;
  DockerRootDir?: string;
  DriverStatus?: Array<[string, string]> | null;
}

interface Inspect {
  Id?: string;
  GraphDriver?: { Name?: string; Data?: Record<string, string> | null };
  RootFS?: { Layers?: string[] };
}

const HEX = /^sha256:([0-9a-f]{64})$/;
const CACHE_ID = /^[0-9a-f]{64}$/;

function why(msg: string): never {
  throw new LocalUnavailable(msg);
}

/** The chain ids of a layer stack (the layer store's keys): chain(0) = diff(0), chain(i) = sha256(chain(i-1) + " " + diff(i)). Pure. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : `sha256:${createHash('sha256').update(`${out[out.length - 1]} ${d}`).digest('hex')}`);
  return out;
}

/** The layer directories, bottom first, from inspect's GraphDriver data (TOP first in LowerDir). Pure. */
export function layerDirsOf(data: Record<string, string> | null | undefined): string[] {
  const upper = data?.UpperDir;
  if (!upper) return [];
  const lower = data.LowerDir ? data.LowerDir.split(':') : [];
  return [upper, ...lower].reverse();
}

/** `path` inside the real data root, with no symbolic link and no `..` on the way. */
function inside(root: string, path: string): string {
  if (!posix.isAbsolute(path) || posix.normalize(path) !== path || !path.startsWith(`${root}/`)) why(`${path} is not inside the engine's data root ${root}`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    why(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (real !== path) why(`${path} resolves to ${real}`);
  return path;
}

function readSmall(path: string): Buffer {
  try {
    return readBounded(path, 'state');
  } catch (err) {
    why(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Where the layers of `id` are on this host, after every check above; LocalUnavailable otherwise. */
export async function localLayout(client: EngineClient, id: string): Promise<{ config: ImageConfigJson; diffIds: string[]; dirs: string[] }> {
  if (client.endpoint.kind !== 'unix') why(`the engine is reached over ${client.endpoint.kind}, not a local unix socket`);
  const m = HEX.exec(id);
  if (!m) why(`image id ${id} is not a sha256 id`);
  const [info, img] = await Promise.all([client.json<Info>('GET', '/info'), client.json<Inspect>('GET', `/images/${encodeURIComponent(id)}/json`)]);
  if (info.Driver !== 'overlay2' || img.GraphDriver?.Name !== 'overlay2') why(`the storage driver is ${info.Driver ?? 'unknown'}, not overlay2`);
  if ((info.DriverStatus ?? []).some(([k, v]) => k === 'userxattr' && v !== 'false')) why('overlay2 uses user xattrs (rootless)');
  if (img.Id !== id) why(`inspect answered for ${img.Id ?? 'no id'}`);
  const given = info.DockerRootDir ?? '';
  if (!posix.isAbsolute(given)) why(`the engine's data root ${JSON.stringify(given)} is not an absolute path`);
  let root: string;
  try {
    root = realpathSync(given);
  } catch (err) {
    why(`cannot read the engine's data root ${given}: ${(err as Error).message}`);
  }
  const store = `${root}/image/overlay2`;
  const configText = readSmall(inside(root, `${store}/imagedb/content/sha256/${m[1]}`));
  if (`sha256:${createHash('sha256').update(configText).digest('hex')}` !== id) why(`the data root ${root} does not hold image ${id}`);
  let config: ImageConfigJson;
  try {
    config = JSON.parse(configText.toString('utf8')) as ImageConfigJson;
  } catch {
    why(`the stored config of ${id} is not JSON`);
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  const inspected = img.RootFS?.Layers ?? [];
  if (diffIds.length === 0 || diffIds.length !== inspected.length || diffIds.some((d, i) => d !== inspected[i] || !HEX.test(d))) why('the stored config and inspect list different layers');
  const dirs = layerDirsOf(img.GraphDriver.Data);
  if (dirs.length !== diffIds.length) why(`inspect names ${dirs.length} layer directories for ${diffIds.length} layers`);
  const chains = chainIds(diffIds);
  dirs.forEach((dir, i) => {
    const cacheId = readSmall(inside(root, `${store}/layerdb/sha256/${HEX.exec(chains[i]!)![1]}/cache-id`)).toString('utf8').trim();
    if (!CACHE_ID.test(cacheId)) why(`layer ${i} has cache id ${JSON.stringify(cacheId)}`);
    if (dir !== `${root}/overlay2/${cacheId}/diff`) why(`layer ${i}: inspect names ${dir}, the layer store ${root}/overlay2/${cacheId}/diff`);
    inside(root, dir);
    if (!lstatSync(dir).isDirectory()) why(`${dir} is not a directory`);
  });
  return { config, diffIds, dirs };
}

/** Read the image in place (LocalUnavailable when it cannot be; the caller falls back). */
export async function readLocalImage(client: EngineClient, id: string): Promise<LocalImage> {
  const layout = await localLayout(client, id);
  let xattr;
  try {
    xattr = lgetxattr();
  } catch (err) {
    why(`cannot call lgetxattr: ${(err as Error).message}`);
  }
  const layers = layout.dirs.map((d) => walkLayerDir(d, xattr));
  return { id, ...layout, layers };
}
