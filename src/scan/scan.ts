/**
 * `sdocker scan`'s work: the image streamed out of the engine (GET /images/{id}/get) and read in
 * one pass, in bounded memory. The archive is asked for by the image id inspected first, and its
 * config must hash to that id: the report is about exactly that image.
 */
import type { EngineClient } from '../engine/client.js';
import { EngineError } from '../errors.js';
import { findingsOf, type Finding } from './findings.js';
import { ImageFormatError, orderImage, readSaveStream, type LayerFileHook, type OrderedImage } from './save-stream.js';

export interface ScanReport {
  image: string;
  id: string;
  diffIds: string[];
  findings: Finding[];
  stats: { layers: number; entries: number; layerBytes: number; ms: number };
}

/** The image's id (inspect); EngineError 404 when the engine does not have it (a scan never pulls). */
export async function imageIdOf(client: EngineClient, ref: string): Promise<string> {
  try {
    const img = await client.json<{ Id: string }>('GET', `/images/${encodeURIComponent(ref)}/json`);
    return img.Id;
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) throw new EngineError(`No such image: ${ref} (sdocker scan reads images the engine has; pull it first)`, 404);
    throw err;
  }
}

/** Stream the image out of the engine and order it (one pass; `onFile` sees every layer entry). */
export async function readImage(client: EngineClient, id: string, onFile?: LayerFileHook): Promise<{ image: OrderedImage; layerBytes: number }> {
  const res = await client.request('GET', `/images/${encodeURIComponent(id)}/get`);
  const contents = await readSaveStream(res, onFile);
  const image = orderImage(contents);
  if (image.id !== id) throw new ImageFormatError(`the engine's archive of ${id} carries the config of ${image.id}`);
  return { image, layerBytes: contents.layerBytes };
}

export async function scanImage(client: EngineClient, ref: string, now: () => number = Date.now): Promise<ScanReport> {
  const t0 = now();
  const id = await imageIdOf(client, ref);
  const { image, layerBytes } = await readImage(client, id);
  return {
    image: ref,
    id,
    diffIds: image.diffIds,
    findings: findingsOf(image),
    stats: { layers: image.layers.length, entries: image.layers.reduce((n, l) => n + l.entries, 0), layerBytes, ms: now() - t0 },
  };
}
