/**
 * The gzip'd tar of an export, streamed: each entry is a spooled file whose size is known, copied
 * through tar-stream and zlib into the output with back-pressure all the way, so memory stays
 * bounded whatever the size of the logs. The manifest (small) goes last.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

export interface ArchiveEntry {
  name: string;
  /** A spooled file (size known) or a small in-memory text. */
  path?: string;
  size?: number;
  data?: Buffer;
}

/** A fixed mode and the export's time for every entry: the archive says nothing of the spool files. */
export async function writeArchive(out: string, entries: readonly ArchiveEntry[], mtime: Date): Promise<void> {
  const pack = tar.pack();
  const gzip = createGzip();
  // wx: the temporary name is fresh; a file there already is not ours to overwrite.
  const file = createWriteStream(out, { flags: 'wx', mode: 0o600 });
  const written = pipeline(pack, gzip, file);
  try {
    for (const e of entries) {
      if (e.data) {
        await new Promise<void>((resolve, reject) => pack.entry({ name: e.name, size: e.data!.length, mode: 0o644, mtime }, e.data!, (err) => (err ? reject(err) : resolve())));
        continue;
      }
      const entry = pack.entry({ name: e.name, size: e.size!, mode: 0o644, mtime });
      await pipeline(createReadStream(e.path!), entry);
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  }
  await written;
}
