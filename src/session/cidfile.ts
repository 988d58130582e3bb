/**
 * --cidfile: refused when the file exists (another container may own it), created before the
 * container so a failure to create the file costs nothing, written with the id after create,
 * removed again if no id was written or the container was removed before it ran.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { SdockerError } from '../errors.js';

export class CidFile {
  private written = false;
  private constructor(
    readonly path: string,
    private handle: FileHandle | undefined,
  ) {}

  static async create(path: string): Promise<CidFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx', 0o644);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST') {
        throw new SdockerError(
          `container ID file found, make sure the other container isn't running or delete ${path}`,
        );
      }
      throw new SdockerError(`failed to create the container ID file: ${e.message}`);
    }
    return new CidFile(path, handle);
  }

  async write(id: string): Promise<void> {
    if (!this.handle) return;
    try {
      await this.handle.writeFile(id);
      this.written = true;
    } catch (err) {
      throw new SdockerError(`failed to write the container ID to the file: ${(err as Error).message}`);
    } finally {
      await this.close();
    }
  }

  private async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
  }

  /** Remove the file (no id written, or the container is gone). */
  async remove(): Promise<void> {
    await this.close();
    await unlink(this.path).catch(() => undefined);
    this.written = false;
  }

  /** Remove it unless the id was written. */
  async discardUnwritten(): Promise<void> {
    if (!this.written) await this.remove();
  }
}
