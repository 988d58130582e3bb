/**
 * The attach stream of a container without a TTY multiplexes stdout and stderr in frames:
 *   [stream: u8][0,0,0][size: u32 big-endian][payload: size bytes]
 * (stream 0 stdin, 1 stdout, 2 stderr, 3 system error). Headers and payloads may be split across
 * chunks at any byte. Payloads are forwarded as zero-copy slices of the incoming chunks; the source
 * is paused while a destination is over its high-water mark.
 */
import type { Readable, Writable } from 'node:stream';
import { SdockerError } from '../errors.js';

const HEADER = 8;

export interface DemuxTargets {
  /** Receives stream 0 and 1 payloads; null discards them. */
  stdout: Writable | null;
  /** Receives stream 2 payloads; null discards them. */
  stderr: Writable | null;
}

/**
 * A push parser: feed it chunks, it calls `write(target, slice)` for each payload piece.
 * Exposed for unit tests; `demux()` drives it from a stream.
 */
export class FrameParser {
  private readonly header = Buffer.alloc(HEADER);
  private headerLen = 0;
  private remaining = 0;
  private stream = 0;
  private systemError: Buffer[] = [];

  constructor(private readonly emit: (stream: 1 | 2, data: Buffer) => void) {}

  /** Consume a chunk. Throws on an unknown stream id. */
  push(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (this.remaining === 0) {
        // Fast path: a whole header in this chunk and none pending.
        if (this.headerLen === 0 && len - off >= HEADER) {
          this.stream = chunk[off]!;
          this.remaining = chunk.readUInt32BE(off + 4);
          off += HEADER;
        } else {
          const n = Math.min(HEADER - this.headerLen, len - off);
          chunk.copy(this.header, this.headerLen, off, off + n);
          this.headerLen += n;
          off += n;
          if (this.headerLen < HEADER) return;
          this.headerLen = 0;
          this.stream = this.header[0]!;
          this.remaining = this.header.readUInt32BE(4);
        }
        if (this.stream > 3) {
          throw new SdockerError(`unrecognized stream id ${this.stream} in the attach stream`);
        }
        continue;
      }
      const n = Math.min(this.remaining, len - off);
      const piece = off === 0 && n === len ? chunk : chunk.subarray(off, off + n);
      this.remaining -= n;
      off += n;
      if (this.stream === 3) this.systemError.push(Buffer.from(piece));
      else this.emit(this.stream === 2 ? 2 : 1, piece);
    }
  }

  /** A message the daemon sent on the system-error stream (3), if any. */
  get systemErrorMessage(): string | undefined {
    return this.systemError.length ? Buffer.concat(this.systemError).toString('utf8') : undefined;
  }

  /** True when the stream stopped inside a header or a payload. */
  get truncated(): boolean {
    return this.headerLen > 0 || this.remaining > 0;
  }
}

/**
 * Our own output failed (e.g. `sdocker run ... | head -1` closed the pipe): docker reports
 * "write /dev/stdout: broken pipe" and exits 1; so do we. The container keeps running, as with docker.
 */
function outputError(err: Error, name: string): SdockerError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === 'EPIPE' ? 'broken pipe' : err.message;
  return new SdockerError(`write ${name}: ${reason}`, 1);
}

/** Wait until a writable has flushed what it buffered (or fails). */
export function drained(w: Writable): Promise<void> {
  if (!w.writableNeedDrain || w.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      w.off('drain', done);
      w.off('error', onErr);
      w.off('close', done);
      resolve();
    };
    const onErr = (err: Error) => {
      w.off('drain', done);
      w.off('close', done);
      reject(err);
    };
    w.on('drain', done);
    w.on('close', done);
    w.once('error', onErr);
  });
}

/**
 * Pump `src` to `write`, pausing `src` while any destination returned false from write().
 * Resolves when `src` has ended and every destination has drained.
 */
function pump(
  src: Readable,
  targets: Writable[],
  names: Map<Writable, string>,
  onChunk: (chunk: Buffer, write: (w: Writable | null, data: Buffer) => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    let waiting = 0;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      cleanup();
      src.pause();
      reject(err);
    };
    const blocked = new Set<Writable>();
    const write = (w: Writable | null, data: Buffer) => {
      if (!w) return;
      if (!w.write(data) && !blocked.has(w)) {
        blocked.add(w);
        waiting++;
        src.pause();
        drained(w).then(() => {
          blocked.delete(w);
          if (--waiting === 0 && !failed) src.resume();
        }, fail);
      }
    };
    const onData = (chunk: Buffer) => {
      try {
        onChunk(chunk, write);
      } catch (err) {
        fail(err as Error);
      }
    };
    const onEnd = () => {
      cleanup();
      Promise.all(targets.map((t) => drained(t))).then(() => {
        if (!failed) resolve();
      }, fail);
    };
    const onClose = () => {
      // A socket may close without 'end' (reset): treat what we have as the whole stream.
      if (!src.readableEnded) onEnd();
    };
    const onSrcErr = (err: Error) => {
      // A reset after the daemon sent everything is not worth failing the run for.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') onEnd();
      else fail(err);
    };
    const targetErrs = targets.map((t) => {
      const h = (err: Error) => fail(outputError(err, names.get(t) ?? 'output'));
      t.on('error', h);
      return [t, h] as const;
    });
    function cleanup() {
      src.off('data', onData);
      src.off('end', onEnd);
      src.off('close', onClose);
      src.off('error', onSrcErr);
      for (const [t, h] of targetErrs) t.off('error', h);
    }
    src.on('data', onData);
    src.on('end', onEnd);
    src.on('close', onClose);
    src.on('error', onSrcErr);
    src.resume();
  });
}

/**
 * Demultiplex an attach stream into stdout/stderr. Resolves when the stream ended and the outputs
 * drained; rejects with the daemon's system-error message if it sent one. Does not end the outputs
 * unless `end` is set (process stdout/stderr are not ours to end).
 */
export async function demux(src: Readable, targets: DemuxTargets, opts: { end?: boolean } = {}): Promise<void> {
  let pending: ((w: Writable | null, data: Buffer) => void) | undefined;
  const parser = new FrameParser((stream, data) => pending!(stream === 2 ? targets.stderr : targets.stdout, data));
  const outs = [targets.stdout, targets.stderr].filter((w): w is Writable => w !== null);
  const unique = [...new Set(outs)];
  const names = new Map<Writable, string>();
  if (targets.stderr) names.set(targets.stderr, '/dev/stderr');
  if (targets.stdout) names.set(targets.stdout, '/dev/stdout');
  await pump(src, unique, names, (chunk, write) => {
    pending = write;
    parser.push(chunk);
  });
  if (opts.end) for (const w of unique) w.end();
  const sys = parser.systemErrorMessage;
  if (sys) throw new SdockerError(sys.trim());
}

/** Copy a raw (TTY) stream to one output with back-pressure. */
export async function copyRaw(src: Readable, dst: Writable | null, opts: { end?: boolean } = {}): Promise<void> {
  await pump(src, dst ? [dst] : [], new Map(dst ? [[dst, '/dev/stdout']] : []), (chunk, write) => write(dst, chunk));
  if (opts.end && dst) dst.end();
}
