/**
 * A push parser for the tar entries inside an image layer: headers only, bodies skipped (or handed
 * to a sink chunk by chunk), so memory stays at one 512-byte header plus the extended headers.
 *
 * Why not tar-stream's extract here: it decodes PAX values as UTF-8, and the value of
 * `SCHILY.xattr.security.capability` is binary (vfs_cap_data): bytes >= 0x80 (CAP_SETUID is bit 7)
 * would come out as U+FFFD. This reader keeps PAX values as bytes. It reads what Go's archive/tar
 * (the engine's layer writer) and GNU tar write: ustar (with prefix), GNU long names ('L', 'K'),
 * PAX ('x', 'g'), base-256 numbers. Anything it cannot read is thrown (the scan then fails closed).
 */
import { posix } from 'node:path';

export type EntryType = 'file' | 'link' | 'symlink' | 'directory' | 'char' | 'block' | 'fifo' | 'other';

export interface TarHeader {
  /** As written in the archive (after long-name / PAX overrides). */
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (PAX mtime when given, fractional). */
  mtime: number;
  linkname: string;
  /** PAX records of this entry (global ones included), values as bytes. */
  pax: Map<string, Buffer>;
}

/** Return a function to receive the body's bytes, or undefined to skip them. */
export type OnEntry = (h: TarHeader) => ((chunk: Buffer) => void) | undefined;

/** Extended headers (PAX, GNU long names) larger than this are refused: no real layer has one. */
const META_MAX = 1 << 20;

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo',
};

export class TarFormatError extends Error {}

function cstr(b: Buffer, start: number, end: number): string {
  let e = start;
  while (e < end && b[e] !== 0) e++;
  return b.toString('utf8', start, e);
}

/** A numeric field: octal text, or base-256 when the first byte has its high bit set. */
export function tarNumber(b: Buffer, start: number, end: number): number {
  if ((b[start]! & 0x80) !== 0) {
    if ((b[start]! & 0x40) !== 0) throw new TarFormatError('negative base-256 number in a tar header');
    let n = b[start]! & 0x3f;
    for (let i = start + 1; i < end; i++) {
      n = n * 256 + b[i]!;
      if (n > Number.MAX_SAFE_INTEGER) throw new TarFormatError('base-256 number too large in a tar header');
    }
    return n;
  }
  const text = b.toString('latin1', start, end).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '').replace(/\0.*$/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`not an octal number in a tar header: ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === tarNumber(h, 148, 156);
}

/** PAX records: `LEN KEY=VALUE\n`, values kept as bytes. */
export function parsePax(buf: Buffer, into: Map<string, Buffer>): void {
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break; // padding
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) throw new TarFormatError('malformed PAX record (no length)');
    const len = Number(buf.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= sp - off + 1 || off + len > buf.length) throw new TarFormatError('malformed PAX record length');
    const rec = buf.subarray(sp + 1, off + len - 1); // without the final \n
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError('malformed PAX record (no =)');
    const key = rec.toString('utf8', 0, eq);
    const value = Buffer.from(rec.subarray(eq + 1));
    // An empty value deletes the record (POSIX); kept as empty here, which means "none" below.
    into.set(key, value);
    off += len;
  }
}

function paxMtime(t: string | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(t)) throw new TarFormatError(`PAX mtime is not a number: ${JSON.stringify(t)}`);
  return Number(t);
}

type Phase = 'header' | 'body' | 'meta' | 'pad';

export class TarReader {
  private phase: Phase = 'header';
  private header = Buffer.alloc(512);
  private have = 0;
  private remaining = 0;
  private pad = 0;
  private sink: ((c: Buffer) => void) | undefined;
  private meta: Buffer[] = [];
  private metaKind = '';
  private pax = new Map<string, Buffer>();
  private globalPax = new Map<string, Buffer>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private ended = false;
  /** Entries seen (for figures). */
  entries = 0;

  constructor(private readonly onEntry: OnEntry) {}

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.ended) return; // bytes after the end-of-archive blocks are ignored, as tar does
      switch (this.phase) {
        case 'header': {
          const n = Math.min(512 - this.have, chunk.length - off);
          chunk.copy(this.header, this.have, off, off + n);
          this.have += n;
          off += n;
          if (this.have === 512) {
            this.have = 0;
            this.onHeader();
          }
          break;
        }
        case 'body':
        case 'meta': {
          const n = Math.min(this.remaining, chunk.length - off);
          const part = chunk.subarray(off, off + n);
          if (this.phase === 'meta') this.meta.push(Buffer.from(part));
          else this.sink?.(part);
          off += n;
          this.remaining -= n;
          if (this.remaining === 0) this.endBody();
          break;
        }
        case 'pad': {
          const n = Math.min(this.pad, chunk.length - off);
          off += n;
          this.pad -= n;
          if (this.pad === 0) this.phase = 'header';
          break;
        }
      }
    }
  }

  /** The stream is over: it must not stop inside an entry. */
  end(): void {
    if (this.phase !== 'header' || this.have !== 0) throw new TarFormatError('the layer tar ends inside an entry (truncated)');
  }

  private onHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      // An end-of-archive block. Go's reader stops at the first pair; one zero block is ignored.
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.ended = true;
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) throw new TarFormatError('bad tar header checksum');
    const flag = String.fromCharCode(h[156]!);
    const size = tarNumber(h, 124, 136);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > META_MAX) throw new TarFormatError(`extended tar header of ${size} bytes (more than ${META_MAX})`);
      this.metaKind = flag;
      this.meta = [];
      this.startBody(size, 'meta');
      return;
    }
    const magic = h.toString('latin1', 257, 263);
    let name = cstr(h, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = cstr(h, 345, 500);
      if (prefix) name = `${prefix}/${name}`;
    }
    const pax = new Map([...this.globalPax, ...this.pax]);
    const paxText = (k: string) => {
      const v = pax.get(k);
      return v && v.length > 0 ? v.toString('utf8') : undefined;
    };
    const paxNum = (k: string, dflt: number) => {
      const t = paxText(k);
      if (t === undefined) return dflt;
      if (!/^\d+$/.test(t)) throw new TarFormatError(`PAX ${k} is not a number: ${JSON.stringify(t)}`);
      return Number(t);
    };
    name = paxText('path') ?? this.longName ?? name;
    const linkname = paxText('linkpath') ?? this.longLink ?? cstr(h, 157, 257);
    const header: TarHeader = {
      name,
      type: TYPES[flag] ?? 'other',
      mode: tarNumber(h, 100, 108),
      uid: paxNum('uid', tarNumber(h, 108, 116)),
      gid: paxNum('gid', tarNumber(h, 116, 124)),
      size: paxNum('size', size),
      mtime: paxMtime(paxText('mtime')) ?? tarNumber(h, 136, 148),
      linkname,
      pax,
    };
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    this.entries++;
    // Links, directories and devices carry no body whatever the size field says (Go's reader).
    const bodySize = header.type === 'file' || header.type === 'other' ? header.size : 0;
    this.sink = this.onEntry(header);
    this.startBody(bodySize, 'body');
  }

  private zeroBlocks = 0;

  private startBody(size: number, phase: 'body' | 'meta'): void {
    this.remaining = size;
    this.pad = (512 - (size % 512)) % 512;
    this.phase = phase;
    if (size === 0) this.endBody();
  }

  private endBody(): void {
    if (this.phase === 'meta') this.finishMeta();
    this.sink = undefined;
    this.phase = this.pad > 0 ? 'pad' : 'header';
  }

  private finishMeta(): void {
    const buf = Buffer.concat(this.meta);
    this.meta = [];
    const kind = this.metaKind;
    this.metaKind = '';
    if (kind === 'x') parsePax(buf, this.pax);
    else if (kind === 'g') parsePax(buf, this.globalPax);
    else if (kind === 'L') this.longName = cstr(buf, 0, buf.length);
    else if (kind === 'K') this.longLink = cstr(buf, 0, buf.length);
  }
}

/**
 * A layer path as the engine applies it: cleaned, absolute (`./bin/su`, `bin/su`, `/bin//su/` → `/bin/su`).
 * A name that climbs out of the root (`../x`) is refused: the engine refuses such a layer too.
 */
export function layerPath(name: string): string {
  const raw = name.startsWith('/') ? name : `/${name}`;
  if (raw.split('/').includes('..')) throw new TarFormatError(`layer entry ${JSON.stringify(name)} climbs out of the root`);
  const p = posix.normalize(raw);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
