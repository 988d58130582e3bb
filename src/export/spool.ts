/**
 * A spool file: a Writable that writes to a file of its own (0600) and learns, as the bytes pass,
 * their sha256 and count — what a tar header needs up front and the manifest records — without
 * holding them in memory (back-pressure from the file).
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';

export interface Spooled {
  path: string;
  size: number;
  sha256: string;
  /** Newline characters seen (the number of lines when the last one ends with one). */
  lines: number;
}

export class Spool extends Writable {
  private readonly file: WriteStream;
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private lines = 0;
  private result: Spooled | undefined;
  private failed: Error | undefined;

  constructor(readonly path: string) {
    super();
    // wx: never an existing file (the spool directory is sdocker's own, fresh).
    this.file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    this.file.on('error', (err) => {
      this.failed ??= err;
      this.destroy(err);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.failed) {
      cb(this.failed);
      return;
    }
    this.hash.update(chunk);
    this.size += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.lines++;
    if (this.file.write(chunk)) cb();
    else this.file.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    // The file's own error (opening it, a full disk) fails the spool: never a short file taken as whole.
    this.file.end((err?: Error | null) => {
      if (err ?? this.failed) {
        cb(err ?? this.failed);
        return;
      }
      this.result = { path: this.path, size: this.size, sha256: this.hash.digest('hex'), lines: this.lines };
      cb();
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.file.destroy();
    cb(err);
  }

  /** Once finished: where it is, its size, sha256 and line count. */
  done(): Spooled {
    if (!this.result) throw new Error(`spool ${this.path} is not finished`);
    return this.result;
  }
}

/** Write a whole small text (inspect JSON, the records) through a spool; resolves when it is on disk. */
export async function spoolText(path: string, text: string | Buffer): Promise<Spooled> {
  const s = new Spool(path);
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.end(text, (err?: Error | null) => (err ? reject(err) : resolve()));
  });
  return s.done();
}
