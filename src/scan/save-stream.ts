/**
 * The image as the engine exports it (GET /images/{name}/get, `docker save`): a tar holding
 * manifest.json, the config JSON and one tar per layer. The layers may come before manifest.json
 * (docker 20.10 writes the layer directories first, in the order of their names, not of the
 * layers), so each layer is summarised as it streams, keyed by its path in the archive, and put in
 * order once the manifest is known. Only the JSON files are kept whole (bounded); a layer is never
 * buffered. An identical layer is stored once and linked (`<id>/layer.tar -> ../<other>/layer.tar`).
 * Layers compressed with gzip (OCI blobs) are read through zlib.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { emptySummary, layerCollector, type LayerSummary } from './layer.js';
import type { TarHeader } from './tar-reader.js';

/** manifest.json and image configs are small; anything larger is refused. */
const JSON_MAX = 8 << 20;

export class ImageFormatError extends Error {}

export interface SaveContents {
  layers: Map<string, LayerSummary>;
  /** Archive paths that are links to another layer's tar. */
  aliases: Map<string, string>;
  json: Map<string, Buffer>;
  /** Bytes of layer tars read (for throughput figures). */
  layerBytes: number;
}

export interface ImageConfigJson {
  config?: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null; [k: string]: unknown };
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean; comment?: string }>;
  [k: string]: unknown;
}

export interface OrderedImage {
  /** sha256 of the config JSON: the image id. */
  id: string;
  config: ImageConfigJson;
  configText: Buffer;
  layers: LayerSummary[];
  /** The layer's path in the archive (for a second pass), in image order. */
  layerPaths: string[];
  diffIds: string[];
}

/** Called for each entry of each layer (harden's second pass reads chosen files' bytes). */
export type LayerFileHook = (layerPath: string, path: string, h: TarHeader) => ((c: Buffer) => void) | undefined;

export function readSaveStream(input: Readable, onFile?: LayerFileHook): Promise<SaveContents> {
  const out: SaveContents = { layers: new Map(), aliases: new Map(), json: new Map(), layerBytes: 0 };
  const extract = tar.extract();
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.unpipe?.(extract);
      input.destroy?.();
      extract.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    extract.on('entry', (header, stream, next) => {
      const name = posix.normalize(header.name).replace(/^\.\//, '').replace(/\/$/, '');
      const done = () => next();
      stream.on('error', fail);
      if (header.type === 'symlink' && header.linkname) {
        out.aliases.set(name, posix.normalize(posix.join(posix.dirname(name), header.linkname)));
        stream.on('end', done);
        stream.resume();
        return;
      }
      if (header.type !== 'file') {
        stream.on('end', done);
        stream.resume();
        return;
      }
      const isLayerTar = name.endsWith('/layer.tar') || name.endsWith('.tar');
      const isJson = !name.includes('/') && name.endsWith('.json');
      const isBlob = name.startsWith('blobs/');
      if (!isLayerTar && !isJson && !isBlob) {
        stream.on('end', done);
        stream.resume();
        return;
      }
      // The first bytes tell a JSON blob, a gzip layer and a plain tar layer apart.
      let mode: 'undecided' | 'json' | 'tar' | 'gzip' = isJson ? 'json' : isLayerTar ? 'tar' : 'undecided';
      const jsonParts: Buffer[] = [];
      let jsonBytes = 0;
      let collector: ReturnType<typeof layerCollector> | undefined;
      let gunzip: ReturnType<typeof createGunzip> | undefined;
      const startLayer = () => {
        collector = layerCollector(emptySummary(), onFile ? (p, h) => onFile(name, p, h) : undefined);
        out.layers.set(name, collector.summary);
      };
      const feed = (c: Buffer) => {
        out.layerBytes += c.length;
        collector!.reader.write(c);
      };
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        if (failed) return;
        try {
          if (mode === 'undecided') {
            if (chunk[0] === 0x7b && header.size !== undefined && header.size <= JSON_MAX) mode = 'json';
            else if (chunk[0] === 0x1f && chunk[1] === 0x8b) mode = 'gzip';
            else mode = 'tar';
            if (mode === 'gzip') {
              startLayer();
              gunzip = createGunzip();
              gunzip.on('data', (c: Buffer) => {
                try {
                  feed(c);
                } catch (err) {
                  fail(err);
                }
              });
              gunzip.on('error', fail);
            } else if (mode === 'tar') startLayer();
          } else if (mode === 'tar' && !collector) startLayer();
          if (mode === 'json') {
            jsonBytes += chunk.length;
            if (jsonBytes > JSON_MAX) throw new ImageFormatError(`${name} in the image archive is larger than ${JSON_MAX} bytes`);
            jsonParts.push(Buffer.from(chunk));
          } else if (mode === 'gzip') {
            if (!gunzip!.write(chunk)) {
              stream.pause();
              gunzip!.once('drain', () => stream.resume());
            }
          } else feed(chunk);
        } catch (err) {
          fail(err);
        }
      });
      stream.on('end', () => {
        if (failed) return;
        try {
          if (mode === 'json') out.json.set(name, Buffer.concat(jsonParts));
          else if (mode === 'gzip') {
            gunzip!.end();
            gunzip!.once('end', () => {
              try {
                collector!.reader.end();
                done();
              } catch (err) {
                fail(err);
              }
            });
            return;
          } else if (collector) collector.reader.end();
          else if (mode === 'tar') startLayer(); // an empty layer file
          done();
        } catch (err) {
          fail(err);
        }
      });
    });
    extract.on('finish', () => {
      if (!failed) resolve(out);
    });
    extract.on('error', fail);
    input.on('error', fail);
    input.pipe(extract);
  });
}

function parseJson<T>(buf: Buffer | undefined, what: string): T {
  if (!buf) throw new ImageFormatError(`the image archive has no ${what}`);
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch {
    throw new ImageFormatError(`${what} in the image archive is not JSON`);
  }
}

/** Put the layers in the image's order (manifest.json), check them against the config's diff_ids. */
export function orderImage(c: SaveContents): OrderedImage {
  const manifest = parseJson<Array<{ Config?: unknown; Layers?: unknown }>>(c.json.get('manifest.json'), 'manifest.json');
  if (!Array.isArray(manifest) || manifest.length !== 1) {
    throw new ImageFormatError(`manifest.json describes ${Array.isArray(manifest) ? manifest.length : 'no list of'} images; one was expected`);
  }
  const m = manifest[0]!;
  if (typeof m.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
    throw new ImageFormatError('manifest.json: Config or Layers missing or not strings');
  }
  const configName = posix.normalize(m.Config);
  const configText = c.json.get(configName);
  const config = parseJson<ImageConfigJson>(configText, `the image config ${configName}`);
  const diffIds = config.rootfs?.diff_ids ?? [];
  const layerPaths = (m.Layers as string[]).map((l) => posix.normalize(l));
  if (diffIds.length !== layerPaths.length) {
    throw new ImageFormatError(`the config lists ${diffIds.length} layers (rootfs.diff_ids), manifest.json ${layerPaths.length}`);
  }
  const layers = layerPaths.map((p) => {
    let at = p;
    for (let hops = 0; hops < 8 && !c.layers.has(at) && c.aliases.has(at); hops++) at = c.aliases.get(at)!;
    const s = c.layers.get(at);
    if (!s) throw new ImageFormatError(`manifest.json names layer ${p}, which is not in the archive`);
    return s;
  });
  return {
    id: `sha256:${createHash('sha256').update(configText!).digest('hex')}`,
    config,
    configText: configText!,
    layers,
    layerPaths: layerPaths.map((p) => {
      let at = p;
      for (let hops = 0; hops < 8 && !c.layers.has(at) && c.aliases.has(at); hops++) at = c.aliases.get(at)!;
      return at;
    }),
    diffIds,
  };
}
