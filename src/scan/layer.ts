/**
 * What one layer tar says about the files that matter, collected as it streams (no content kept,
 * except the small /etc/passwd and /etc/group, to read the image's USER as the engine would):
 * - every path it writes (directories and the rest apart): a later layer's entry replaces a lower
 *   one, a file replaces a directory with everything under it;
 * - whiteouts (`.wh.NAME` deletes NAME below) and opaque directories (`.wh..wh..opq`: nothing of the
 *   layers below shows under it);
 * - the marked entries: setuid/setgid files, files with a `security.capability` xattr,
 *   world-writable directories without the sticky bit.
 * Memory is proportional to the number of entries (their paths), never to the layer's bytes.
 */
import { posix } from 'node:path';
import { layerPath, TarReader, type TarHeader } from './tar-reader.js';

export const CAP_XATTR = 'SCHILY.xattr.security.capability';
/** /etc/passwd or /etc/group larger than this is not read (the USER finding then says so). */
const ID_FILE_MAX = 1 << 20;

export interface Marked {
  path: string;
  type: 'file' | 'link' | 'directory' | 'other';
  /** Permission bits with setuid (0o4000), setgid (0o2000), sticky (0o1000). */
  mode: number;
  uid: number;
  gid: number;
  /** The raw vfs_cap_data, when the entry carries one. */
  caps?: Buffer;
}

export interface LayerSummary {
  dirs: Set<string>;
  nonDirs: Set<string>;
  whiteouts: Set<string>;
  opaque: Set<string>;
  marked: Marked[];
  /** The text of /etc/passwd and /etc/group when this layer writes them as regular files (small). */
  idFiles: Map<string, string | null>;
  entries: number;
}

export function emptySummary(): LayerSummary {
  return { dirs: new Set(), nonDirs: new Set(), whiteouts: new Set(), opaque: new Set(), marked: [], idFiles: new Map(), entries: 0 };
}

export const ID_FILES = ['/etc/passwd', '/etc/group'] as const;

/** Is this entry one the scan reports (before layer merging)? */
export function isMarked(h: { type: TarHeader['type'] | Marked['type']; mode: number; caps?: Buffer | undefined }): boolean {
  if (h.caps && h.caps.length > 0) return true;
  // Any type, as `find -perm /6000` lists them (a setgid directory hands its group to new files).
  if (h.type !== 'symlink' && (h.mode & 0o6000) !== 0) return true;
  return h.type === 'directory' && (h.mode & 0o002) !== 0 && (h.mode & 0o1000) === 0;
}

/** A tar reader that fills `summary`; `onFile` additionally sees every header (harden's second pass uses it). */
export function layerCollector(summary: LayerSummary = emptySummary(), onFile?: (path: string, h: TarHeader) => ((c: Buffer) => void) | undefined): { reader: TarReader; summary: LayerSummary } {
  const reader = new TarReader((h) => {
    summary.entries++;
    const path = layerPath(h.name);
    const base = posix.basename(path);
    // The engine creates missing parents (MkdirAll) when it applies the layer: they are this layer's
    // directories too, and replace what the layers below had there.
    for (let d = posix.dirname(path); d !== '/' && !summary.dirs.has(d); d = posix.dirname(d)) summary.dirs.add(d);
    if (base.startsWith('.wh.')) {
      const dir = posix.dirname(path);
      if (base === '.wh..wh..opq') summary.opaque.add(dir);
      else if (!base.startsWith('.wh..wh.')) summary.whiteouts.add(posix.join(dir, base.slice(4)));
      // Other `.wh..wh.` names are aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not files.
      return undefined;
    }
    if (h.type === 'directory') summary.dirs.add(path);
    else summary.nonDirs.add(path);
    const caps = h.pax.get(CAP_XATTR);
    const type = h.type === 'file' || h.type === 'link' || h.type === 'directory' ? h.type : 'other';
    if (isMarked({ type: h.type, mode: h.mode, caps })) {
      const m: Marked = { path, type, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid };
      if (caps && caps.length > 0) m.caps = caps;
      summary.marked.push(m);
    }
    const extra = onFile?.(path, h);
    if ((ID_FILES as readonly string[]).includes(path)) {
      if (h.type !== 'file' || h.size > ID_FILE_MAX) {
        summary.idFiles.set(path, null);
        return extra;
      }
      if (h.size === 0) summary.idFiles.set(path, '');
      const parts: Buffer[] = [];
      let got = 0;
      return (c) => {
        parts.push(Buffer.from(c));
        got += c.length;
        if (got === h.size) summary.idFiles.set(path, Buffer.concat(parts).toString('utf8'));
        extra?.(c);
      };
    }
    return extra;
  });
  return { reader, summary };
}
