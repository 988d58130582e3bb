/**
 * `sdocker scan`'s work: the image streamed out of the engine (GET /images/{id}/get) and read in
 * one pass, in bounded memory. The archive is asked for by the image id inspected first, and its
 * config must hash to that id: the report is about exactly that image.
 */
import type { EngineClient } from '../engine/client.js';
import { EngineError } from '../errors.js';
import { findingsOf, type Finding } from './findings.js';
import { LocalUnavailable, readLocalImage } from './local.js';
import { ImageFormatError, orderImage, readSaveStream, type ImageConfigJson, type LayerFileHook, type OrderedImage } from './save-stream.js';
import type { LayerSummary } from './layer.js';

/** How the layers are read: `save` streams the image out of the engine, `local` walks its overlay2 directories in place, `auto` local when it can. */
export type ScanVia = 'save' | 'local' | 'auto';

export interface ScanReport {
  image: string;
  id: string;
  diffIds: string[];
  findings: Finding[];
  /** The path used, and why not local when auto fell back. */
  via: 'save' | 'local';
  fallback?: string;
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

export interface ReadLayers {
  image: { config: ImageConfigJson; layers: LayerSummary[]; diffIds: string[] };
  layerBytes: number;
  via: 'save' | 'local';
  fallback?: string;
}

/**
 * The image's layer summaries by the path asked for. `auto`: in place when the engine is local
 * (src/scan/local.ts), the save stream on any doubt; `local`: LocalUnavailable instead of falling back.
 */
export async function readLayers(client: EngineClient, id: string, via: ScanVia = 'auto'): Promise<ReadLayers> {
  let fallback: string | undefined;
  if (via !== 'save') {
    try {
      const image = await readLocalImage(client, id);
      return { image, layerBytes: 0, via: 'local' };
    } catch (err) {
      if (via === 'local') throw err instanceof LocalUnavailable ? err : new LocalUnavailable((err as Error).message);
      fallback = (err as Error).message;
    }
  }
  const { image, layerBytes } = await readImage(client, id);
  return { image, layerBytes, via: 'save', ...(fallback ? { fallback } : {}) };
}

export async function scanImage(client: EngineClient, ref: string, now: () => number = Date.now, via: ScanVia = 'auto'): Promise<ScanReport> {
  const t0 = now();
  const id = await imageIdOf(client, ref);
  const { image, layerBytes, via: used, fallback } = await readLayers(client, id, via);
  return {
    image: ref,
    id,
    diffIds: image.diffIds,
    findings: findingsOf(image),
    via: used,
    ...(fallback ? { fallback } : {}),
    stats: { layers: image.layers.length, entries: image.layers.reduce((n, l) => n + l.entries, 0), layerBytes, ms: now() - t0 },
  };
}
