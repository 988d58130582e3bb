import { describe, expect, it } from 'vitest';
import { PassThrough, Readable, Writable } from 'node:stream';
import { demux, FrameParser } from '../../src/api/demux.js';

function frame(stream: number, payload: Buffer | string): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

function collect(): { w: PassThrough; text: () => string } {
  const w = new PassThrough();
  const chunks: Buffer[] = [];
  w.on('data', (c: Buffer) => chunks.push(c));
  return { w, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Split a buffer at every given offset. */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  return out.filter((b) => b.length > 0);
}

describe('FrameParser', () => {
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops\n'), frame(1, 'world\n'), frame(0, ''), frame(2, 'E')]);

  it('handles every single split point (headers and payloads cut anywhere)', () => {
    for (let cut = 1; cut < all.length; cut++) {
      const out: string[] = [];
      const err: string[] = [];
      const p = new FrameParser((s, d) => (s === 1 ? out : err).push(d.toString()));
      for (const piece of splitAt(all, [cut])) p.push(piece);
      expect(out.join(''), `cut ${cut}`).toBe('hello world\n');
      expect(err.join(''), `cut ${cut}`).toBe('oops\nE');
      expect(p.truncated).toBe(false);
    }
  });

  it('handles one byte at a time', () => {
    const out: string[] = [];
    const err: string[] = [];
    const p = new FrameParser((s, d) => (s === 1 ? out : err).push(d.toString()));
    for (let i = 0; i < all.length; i++) p.push(all.subarray(i, i + 1));
    expect(out.join('')).toBe('hello world\n');
    expect(err.join('')).toBe('oops\nE');
  });

  it('forwards payloads as slices of the input (no copies)', () => {
    const big = Buffer.concat([frame(1, Buffer.alloc(1000, 0x61)), frame(2, 'x')]);
    const seen: Buffer[] = [];
    const p = new FrameParser((_s, d) => seen.push(d));
    p.push(big);
    expect(seen[0]!.buffer).toBe(big.buffer);
    expect(seen[0]!.length).toBe(1000);
  });

  it('reports a truncated stream and the system-error stream', () => {
    const p = new FrameParser(() => undefined);
    p.push(frame(3, 'daemon broke'));
    p.push(frame(1, 'abc').subarray(0, 9));
    expect(p.systemErrorMessage).toBe('daemon broke');
    expect(p.truncated).toBe(true);
  });

  it('rejects an unknown stream id', () => {
    const p = new FrameParser(() => undefined);
    expect(() => p.push(frame(7, 'x'))).toThrow(/unrecognized stream id 7/);
  });
});

describe('demux', () => {
  it('separates stdout and stderr from a chunked stream', async () => {
    const all = Buffer.concat([frame(1, 'a'.repeat(100)), frame(2, 'b'.repeat(50)), frame(1, 'c')]);
    const src = Readable.from(splitAt(all, [3, 9, 10, 57, 120, 160]));
    const out = collect();
    const err = collect();
    await demux(src, { stdout: out.w, stderr: err.w });
    expect(out.text()).toBe('a'.repeat(100) + 'c');
    expect(err.text()).toBe('b'.repeat(50));
  });

  it('respects back-pressure: a slow destination pauses the source and still gets every byte', async () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) frames.push(frame(1 + (i % 2), Buffer.alloc(64 * 1024, i & 0xff)));
    let produced = 0;
    let maxAhead = 0;
    let consumed = 0;
    const src = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        const f = frames.shift();
        if (f) produced += f.length;
        this.push(f ?? null);
      },
    });
    const slow = () =>
      new Writable({
        highWaterMark: 128 * 1024,
        write(chunk: Buffer, _e, cb) {
          consumed += chunk.length;
          maxAhead = Math.max(maxAhead, produced - consumed);
          setImmediate(cb);
        },
      });
    await demux(src, { stdout: slow(), stderr: slow() });
    expect(consumed).toBe(200 * 64 * 1024);
    // Without back-pressure the source would run the whole 12.5 MiB ahead.
    expect(maxAhead).toBeLessThan(2 * 1024 * 1024);
  });

  it('discards a stream that is not attached and rejects on a system error', async () => {
    const out = collect();
    await demux(Readable.from([frame(2, 'ignored'), frame(1, 'kept')]), { stdout: out.w, stderr: null });
    expect(out.text()).toBe('kept');
    await expect(demux(Readable.from([frame(3, 'boom')]), { stdout: null, stderr: null })).rejects.toThrow('boom');
  });

  it('reports a broken output pipe as docker does ("write /dev/stdout: broken pipe", exit 1)', async () => {
    const broken = new Writable({
      write(_c, _e, cb) {
        const err = new Error('write EPIPE') as NodeJS.ErrnoException;
        err.code = 'EPIPE';
        cb(err);
      },
    });
    const err = await demux(Readable.from([frame(1, 'y\n'), frame(1, 'y\n')]), { stdout: broken, stderr: null }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('write /dev/stdout: broken pipe');
    expect((err as { exitCode?: number }).exitCode).toBe(1);
  });
});
