/**
 * One overlay2 layer directory (`<DockerRootDir>/overlay2/<cache-id>/diff`) summarised as the tar
 * path summarises the same layer's tar (src/scan/layer.ts), so merging, findings and rendering are
 * shared: the engine's layer tar IS this directory, with overlay's marks turned into aufs names.
 * - a character device 0:0 is a whiteout of its name (the tar carries `.wh.NAME`);
 * - a directory with the xattr `trusted.overlay.opaque` = "y" is opaque (the tar carries
 *   `DIR/.wh..wh..opq`);
 * - `security.capability` of a regular file is its file capabilities (the tar's PAX xattr);
 * - sockets are skipped (the engine's tar writer skips them too).
 * Metadata only (lstat, lgetxattr: never a symbolic link followed), apart from /etc/passwd and
 * /etc/group, read bounded with O_NOFOLLOW. Synchronous: it is the whole work of the command.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, type Dirent, type Stats } from 'node:fs';
import { emptySummary, ID_FILES, isMarked, type LayerSummary, type Marked } from './layer.js';
import type { GetXattr } from './xattr.js';

const ID_FILE_MAX = 1 << 20;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFSOCK = 0o140000;

function readIdFile(file: string): string | null {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > ID_FILE_MAX) return null;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.toString('utf8', 0, got);
  } finally {
    closeSync(fd);
  }
}

function typeOf(st: Stats): Marked['type'] | 'symlink' {
  const t = st.mode & S_IFMT;
  return t === S_IFREG ? 'file' : t === S_IFDIR ? 'directory' : t === S_IFLNK ? 'symlink' : 'other';
}

/** One directory entry into the summary; returns true when it is a directory to descend into. */
function visit(s: LayerSummary, root: string, path: string, st: Stats, xattr: GetXattr): boolean {
  const host = root + path;
  const fmt = st.mode & S_IFMT;
  if (fmt === S_IFSOCK) return false;
  s.entries++;
  if (fmt === S_IFCHR && st.rdev === 0) {
    s.whiteouts.add(path);
    return false;
  }
  const type = typeOf(st);
  let caps: Buffer | undefined;
  if (fmt === S_IFDIR) {
    s.dirs.add(path);
    const opq = xattr(host, 'trusted.overlay.opaque');
    if (opq && opq.length === 1 && opq[0] === 0x79) {
      s.opaque.add(path);
      s.entries++;
    }
  } else {
    s.nonDirs.add(path);
    if (fmt === S_IFREG) caps = xattr(host, 'security.capability');
  }
  if (isMarked({ type, mode: st.mode, caps })) {
    const m: Marked = { path, type: type === 'symlink' ? 'other' : type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (caps && caps.length > 0) m.caps = caps;
    s.marked.push(m);
  }
  if ((ID_FILES as readonly string[]).includes(path)) s.idFiles.set(path, fmt === S_IFREG ? readIdFile(host) : null);
  return fmt === S_IFDIR;
}

/** A symbolic link: nothing of it is reported (no bits, no xattr), so no lstat. */
function visitLink(s: LayerSummary, path: string): void {
  s.entries++;
  s.nonDirs.add(path);
  if ((ID_FILES as readonly string[]).includes(path)) s.idFiles.set(path, null);
}

const child = (dir: string, ent: Dirent) => (dir === '/' ? `/${ent.name}` : `${dir}/${ent.name}`);

/** Summarise the layer directory `root` (absolute; the caller checked it is the engine's). */
export function walkLayerDir(root: string, xattr: GetXattr): LayerSummary {
  const s = emptySummary();
  const stack: string[] = ['/'];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const ent of readdirSync(dir === '/' ? root : root + dir, { withFileTypes: true })) {
      const path = child(dir, ent);
      if (ent.isSymbolicLink()) visitLink(s, path);
      else if (visit(s, root, path, lstatSync(root + path), xattr)) stack.push(path);
    }
  }
  return s;
}
