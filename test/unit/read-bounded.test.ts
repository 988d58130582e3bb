/**
 * The one reader for files sdocker reads on a project's behalf (src/fs/read-bounded.ts): regular
 * files under a size limit, nothing that hangs, aborts or grows without bound.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_LIMITS, FileReadError, invalidUtf8Line, readBounded, readBoundedText } from '../../src/fs/read-bounded.js';

let dir: string;
let server: Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdt-read-'));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The error readBounded throws (the test fails when it does not throw). */
function refusal(fn: () => unknown): FileReadError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FileReadError);
    return err as FileReadError;
  }
  throw new Error('expected the read to be refused');
}

describe('readBounded', () => {
  it('reads a regular file', () => {
    const p = join(dir, 'ok.yaml');
    writeFileSync(p, 'extends: restricted\n');
    expect(readBoundedText(p, 'profile')).toBe('extends: restricted\n');
  });

  it('refuses a FIFO at once, without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Safety net: should the reader block in open(2), a writer comes after 3 s and closes at once,
    // so the test fails on the time taken instead of hanging the worker (a sync call cannot be timed out).
    const writer = spawn('sh', ['-c', `sleep 3; : > '${fifo}'`], { stdio: 'ignore' });
    try {
      const t0 = Date.now();
      const err = refusal(() => readBounded(fifo, 'env-file'));
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(err.code).toBe('ENOTREG');
      expect(err.message).toBe(`${fifo}: not a regular file (a FIFO): env files are read only from regular files`);
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('refuses /dev/zero, a symlink to it, a directory and a socket', () => {
    const link = join(dir, 'zero-link');
    symlinkSync('/dev/zero', link);
    expect(refusal(() => readBounded('/dev/zero', 'profile')).reason).toMatch(/^not a regular file \(a character device\)/);
    expect(refusal(() => readBounded(link, 'seccomp')).reason).toMatch(/^not a regular file \(a character device\)/);
    expect(refusal(() => readBounded(dir, 'label-file')).reason).toMatch(/^not a regular file \(a directory\)/);
    expect(refusal(() => readBounded(join(dir, 'sock'), 'state')).reason).toMatch(/^not a regular file \(a socket\)/);
  });

  it('reads a file exactly at the limit and refuses one byte more', () => {
    const limit = FILE_LIMITS.profile;
    const at = join(dir, 'at-limit');
    const over = join(dir, 'over-limit');
    writeFileSync(at, Buffer.alloc(limit, 0x61));
    writeFileSync(over, Buffer.alloc(limit + 1, 0x61));
    expect(readBounded(at, 'profile').length).toBe(limit);
    const err = refusal(() => readBounded(over, 'profile'));
    expect(err.code).toBe('EFBIG');
    expect(err.reason).toBe('larger than 1 MiB, the limit for profiles');
  });

  it('reads past what fstat reports (/proc files say 0) and still stops at the limit', () => {
    expect(readBoundedText('/proc/self/status', 'state')).toMatch(/^Name:/);
  });

  it('names a missing file by errno, and puts no byte of a file in any message', () => {
    expect(refusal(() => readBounded(join(dir, 'nope'), 'env-file')).code).toBe('ENOENT');
    const p = join(dir, 'latin1.env');
    writeFileSync(p, Buffer.concat([Buffer.from('A=1\nB=2\nSECRET=caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const err = refusal(() => readBoundedText(p, 'env-file'));
    expect(err.code).toBe('EILSEQ');
    expect(err.line).toBe(3);
    expect(err.message).toBe(`${p}: invalid utf8 bytes at line 3`);
  });
});

describe('invalidUtf8Line', () => {
  it('finds the first line that is not UTF-8 (overlong, surrogate, truncated)', () => {
    expect(invalidUtf8Line(Buffer.from('ok\nçà\n'))).toBeUndefined();
    expect(invalidUtf8Line(Buffer.from([0x61, 0x0a, 0xc0, 0x80]))).toBe(2);
    expect(invalidUtf8Line(Buffer.from([0x0a, 0x0a, 0xed, 0xa0, 0x80]))).toBe(3);
    expect(invalidUtf8Line(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
  });
});
