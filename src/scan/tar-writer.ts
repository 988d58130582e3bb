/**
 * Tar headers for a layer sdocker writes (`image harden`): ustar, with a PAX header when a name is
 * too long or when the entry carries extended attributes. PAX values are written as bytes, so a
 * binary `security.capability` survives (tar-stream's writer encodes values as UTF-8 text). Pure.
 */
export interface WriteHeader {
  /** Relative to the root, no leading slash (`usr/bin/su`, `var/mail/`). */
  name: string;
  type: 'file' | 'directory';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** Extended records (`SCHILY.xattr.security.capability`), values as bytes. */
  pax?: Map<string, Buffer>;
}

function octalField(b: Buffer, off: number, len: number, n: number): void {
  const text = Math.trunc(n).toString(8);
  if (text.length > len - 1) throw new Error(`tar: ${n} does not fit a ${len}-byte field`);
  b.write(`${text.padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function ustar(name: string, typeflag: string, h: Pick<WriteHeader, 'mode' | 'uid' | 'gid' | 'size' | 'mtime'>): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  octalField(b, 100, 8, h.mode & 0o7777);
  octalField(b, 108, 8, h.uid);
  octalField(b, 116, 8, h.gid);
  octalField(b, 124, 12, h.size);
  octalField(b, 136, 12, Math.max(0, h.mtime));
  b.write(typeflag, 156, 1, 'latin1');
  b.write('ustar\0', 257, 6, 'latin1');
  b.write('00', 263, 2, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

export function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** The header blocks of one entry (its body, then padding(size), follow). */
export function encodeHeader(h: WriteHeader): Buffer {
  const name = h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const records: Buffer[] = [];
  if (Buffer.byteLength(name) > 99) records.push(paxRecord('path', Buffer.from(name)));
  if (h.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
  for (const [k, v] of [...(h.pax ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : 1))) records.push(paxRecord(k, v));
  const main = ustar(Buffer.byteLength(name) > 99 ? name.slice(0, 99) : name, h.type === 'directory' ? '5' : '0', {
    ...h,
    uid: Math.min(h.uid, 0o7777777),
    gid: Math.min(h.gid, 0o7777777),
    size: h.type === 'directory' ? 0 : h.size,
  });
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  return Buffer.concat([ustar('PaxHeader', 'x', { mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime: h.mtime }), pax, padding(pax.length), main]);
}

/** The end of an archive: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);
