/** The parts of `sdocker logs export` that need no engine: times, spools, the archive, stale work directories. */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, describe, expect, test } from 'vitest';
import { writeArchive } from '../../src/export/archive.js';
import { folderOf } from '../../src/export/manifest.js';
import { Spool, spoolText } from '../../src/export/spool.js';
import { makeWorkDir, removeStale } from '../../src/export/temp.js';
import { apiTime } from '../../src/export/times.js';

const dir = mkdtempSync(join(tmpdir(), 'sdocker-export-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--since / --until', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  test.each([
    ['1700000000', '1700000000'],
    ['1700000000.5', '1700000000.500000000'],
    ['2026-12-01T11:00:00Z', '1796122800.000'],
    ['10m', '1796125800.000'],
    ['1h30m', '1796121000.000'],
  ])('%s → %s', (v, api) => expect(apiTime(v, '--since', now).api).toBe(api));
  test.each(['yesterday', '-5m', '1.2.3', ''])('%j is refused naming the flag', (v) => {
    expect(() => apiTime(v, '--until', now)).toThrow(/--until/);
  });
});

describe('spool and archive', () => {
  test('a spool learns size, sha256 and lines of what passed; the archive holds the same bytes', async () => {
    const data = Buffer.from('a\nbb\nccc\n'.repeat(100_000));
    const s = new Spool(join(dir, 'one'));
    for (let i = 0; i < data.length; i += 65536) if (!s.write(data.subarray(i, i + 65536))) await new Promise((r) => s.once('drain', r));
    await new Promise<void>((r) => s.end(() => r()));
    const got = s.done();
    expect(got).toMatchObject({ size: data.length, lines: 300_000, sha256: createHash('sha256').update(data).digest('hex') });
    const small = await spoolText(join(dir, 'two'), '{"x":1}');
    const out = join(dir, 'a.tar.gz');
    await writeArchive(out, [{ name: 'c/one', path: got.path, size: got.size }, { name: 'c/two', path: small.path, size: small.size }, { name: 'manifest.json', data: Buffer.from('{}') }], new Date(0));
    const seen: Record<string, string> = {};
    const ex = tar.extract();
    ex.on('entry', (h, stream, next) => {
      const hash = createHash('sha256');
      stream.on('data', (c: unknown) => hash.update(c as Buffer));
      stream.on('end', () => {
        seen[h.name] = hash.digest('hex');
        next();
      });
    });
    await pipeline(createReadStream(out), createGunzip(), ex);
    expect(seen).toEqual({ 'c/one': got.sha256, 'c/two': small.sha256, 'manifest.json': createHash('sha256').update('{}').digest('hex') });
  });
  test('a spool never writes over an existing file', async () => {
    const s = new Spool(join(dir, 'two'));
    await expect(new Promise((resolve, reject) => {
      s.on('error', reject);
      s.end('x', (err?: Error | null) => (err ? reject(err) : resolve(undefined)));
    })).rejects.toThrow(/EEXIST/);
  });
  test('folders: the engine\'s name made safe, and the short id', () => {
    expect(folderOf('0123456789abcdef', '/web')).toBe('web-0123456789ab');
    expect(folderOf('0123456789abcdef', '/../x y')).toBe('.._x_y-0123456789ab');
    expect(folderOf('0123456789abcdef', '/')).toBe('container-0123456789ab');
  });
});

describe('work directories', () => {
  test('those of a process that is gone are removed; ours, other names and symlinks stay', () => {
    const d = join(dir, 'stale');
    mkdirSync(d);
    const mine = makeWorkDir(d);
    mkdirSync(join(d, '.sdocker-export-999999999-abcdef')); // no such process
    mkdirSync(join(d, '.sdocker-export-x-abcdef'));
    symlinkSync('/tmp', join(d, '.sdocker-export-999999998-abcdef'));
    expect(removeStale(d)).toEqual(['.sdocker-export-999999999-abcdef']);
    expect(existsSync(mine)).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['.sdocker-export-999999998-abcdef', '.sdocker-export-x-abcdef', mine.split('/').at(-1)].sort());
  });
});
