/**
 * The layers in order, as the engine stacks them (overlayfs): which marked entries are still there
 * in the image's filesystem. Pure.
 *
 * An entry of layer i is gone when a later layer j
 * - writes the same path (a new file, directory or link replaces it: if that one is marked, it is
 *   reported from layer j),
 * - deletes it or an ancestor (`.wh.NAME`),
 * - makes an ancestor opaque (`.wh..wh..opq`: the lower layers' contents of that directory are hidden),
 * - writes a non-directory (a file, a symbolic link) where an ancestor directory was.
 * A file deleted and written again in a later layer is reported from that layer.
 */
import type { LayerSummary, Marked } from './layer.js';

export interface Surviving extends Marked {
  /** 0-based index of the layer in the image's order (manifest.json `Layers`, config `rootfs.diff_ids`). */
  layer: number;
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.lastIndexOf('/');
  while (i > 0) {
    out.push(path.slice(0, i));
    i = path.lastIndexOf('/', i - 1);
  }
  return out;
}

/** Whether `path` as written by layer `i` is hidden by one of the layers above it. */
export function hiddenAbove(layers: readonly LayerSummary[], i: number, path: string): boolean {
  const up = ancestors(path);
  for (let j = i + 1; j < layers.length; j++) {
    const l = layers[j]!;
    if (l.dirs.has(path) || l.nonDirs.has(path) || l.whiteouts.has(path)) return true;
    if (l.opaque.has('/')) return true;
    for (const a of up) if (l.whiteouts.has(a) || l.opaque.has(a) || l.nonDirs.has(a)) return true;
  }
  return false;
}

/** The marked entries present in the merged filesystem, in layer order, then path order. */
export function survivors(layers: readonly LayerSummary[]): Surviving[] {
  const out: Surviving[] = [];
  layers.forEach((l, i) => {
    for (const m of l.marked) if (!hiddenAbove(layers, i, m.path)) out.push({ ...m, layer: i });
  });
  return out.sort((a, b) => a.layer - b.layer || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The text of a small file (/etc/passwd, /etc/group) in the merged filesystem: from the highest layer
 * that writes it, if nothing above hides it. null: absent; undefined: present but not read (a
 * symbolic link, too large).
 */
export function mergedFile(layers: readonly LayerSummary[], path: string): string | null | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.nonDirs.has(path) || l.dirs.has(path)) {
      if (hiddenAbove(layers, i, path)) return null;
      const text = l.idFiles.get(path);
      return text === null ? undefined : text;
    }
  }
  return null;
}
