/**
 * `sdocker logs export` on the real engine (issue 11 part 3): a container that wrote 200 MB of
 * logs is exported in bounded memory (peak RSS measured by GNU time), and the archive read back:
 * every entry's sha256 and size match the manifest, the line counts match what the container
 * wrote, stdout and stderr apart, each line with its timestamp. An interrupted export (SIGINT)
 * leaves no archive and no work directory; after a SIGKILL the next export removes the one left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { cleanupTestObjects, CLI, spawnCollect, TEST_LABEL_ARGS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, sdocker, tempDir } from '../policy/engine-checks.js';

const L = TEST_LABEL_ARGS;
const tmp = tempDir('logs-export');
const env = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: join(tmp.path, 'state') };
const LINES = 2_000_000; // of 100 bytes: 200 MB on stdout
const ERR_LINES = 5000;
const big = testName('logs-big');
const medium = testName('logs-medium');

interface Manifest {
  containers: { id: string; name: string; records: number; events: number; tty: boolean }[];
  entries: { name: string; size: number; sha256: string; lines?: number }[];
}

/** Each entry of a .tar.gz, streamed: size, sha256, newlines, first and last line (not the bytes). */
async function readBack(file: string): Promise<Map<string, { size: number; sha256: string; lines: number; first: string; last: string; text?: string }>> {
  const out = new Map<string, { size: number; sha256: string; lines: number; first: string; last: string; text?: string }>();
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const hash = createHash('sha256');
    let size = 0;
    let lines = 0;
    let head = '';
    let tail = '';
    const small: Buffer[] = [];
    stream.on('data', (chunk: unknown) => {
      const c = chunk as Buffer;
      hash.update(c);
      size += c.length;
      for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
      if (head.length < 200) head += c.subarray(0, 200).toString('utf8');
      tail = (tail + c.subarray(Math.max(0, c.length - 200)).toString('utf8')).slice(-400);
      if (size < 1_000_000) small.push(c);
    });
    stream.on('end', () => {
      const t = tail.trimEnd().split('\n');
      out.set(h.name, { size, sha256: hash.digest('hex'), lines, first: head.split('\n')[0] ?? '', last: t[t.length - 1] ?? '', ...(size < 1_000_000 ? { text: Buffer.concat(small).toString('utf8') } : {}) });
      next();
    });
    stream.resume();
  });
  await pipeline(createReadStream(file), createGunzip(), ex);
  return out;
}

const workDirs = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.sdocker-export-'));

beforeAll(async () => {
  await ensureTestImages();
  // 200 MB kept by json-file: 100m files, 5 of them (within restricted's maxima).
  const script = `L=$(printf "%099d" 0); yes "$L" | head -n ${LINES}; yes err | head -n ${ERR_LINES} >&2`;
  const r = await sdocker(['run', '-d', ...L, '--name', big, '--network', 'none', '--log-opt', 'max-size=100m', '--log-opt', 'max-file=5', IMAGES.root, 'sh', '-c', script], { env });
  expect(r.code, r.stderr).toBe(0);
  const m = await sdocker(['run', '-d', ...L, '--name', medium, '--network', 'none', IMAGES.root, 'sh', '-c', 'L=$(printf "%099d" 0); yes "$L" | head -n 200000'], { env });
  expect(m.code, m.stderr).toBe(0);
  const w = await docker(['wait', big, medium], { timeoutMs: 170_000 });
  expect(w.stdout.trim().split('\n')).toEqual(['0', '0']);
}, 180_000);

afterAll(async () => {
  await cleanupTestObjects();
  tmp.remove();
});

describe('sdocker logs export', () => {
  it('200 MB of logs: bounded memory, and the archive reads back with the manifest\'s sums and the lines written', async () => {
    const out = join(tmp.path, 'big.tar.gz');
    const r = await spawnCollect('/usr/bin/time', ['-f', 'maxrss_kb=%M', CLI, 'logs', 'export', big, '-o', out], { env, timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    const rssKb = Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1]);
    console.log(`logs export of ${LINES * 100} bytes: peak RSS ${Math.round(rssKb / 1024)} MiB`);
    // The logs are not held in memory: far below their 200 MB (node itself is about 60 MiB).
    expect(rssKb).toBeLessThan(160 * 1024);
    expect(workDirs(tmp.path)).toEqual([]);
    const entries = await readBack(out);
    const manifest = JSON.parse(entries.get('manifest.json')!.text!) as Manifest;
    expect(manifest.containers).toHaveLength(1);
    expect(manifest.containers[0]).toMatchObject({ name: big, tty: false, records: 1 });
    expect(manifest.entries.map((e) => e.name.replace(/^[^/]+\//, '')).sort()).toEqual(['events.jsonl', 'inspect.json', 'records.jsonl', 'stderr.log', 'stdout.log']);
    for (const e of manifest.entries) {
      const got = entries.get(e.name);
      expect(got, e.name).toBeDefined();
      expect({ size: got!.size, sha256: got!.sha256 }).toEqual({ size: e.size, sha256: e.sha256 });
      if (e.lines !== undefined) expect(got!.lines).toBe(e.lines);
    }
    const part = (n: string) => entries.get(manifest.entries.find((e) => e.name.endsWith(`/${n}`))!.name)!;
    expect(part('stdout.log').lines).toBe(LINES);
    expect(part('stderr.log').lines).toBe(ERR_LINES);
    // Each line: the engine's timestamp, a space, what the container wrote.
    expect(part('stdout.log').first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z 0{99}$/);
    expect(part('stdout.log').last).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z 0{99}$/);
    expect(part('stderr.log').first).toMatch(/Z err$/);
    const inspect = JSON.parse(part('inspect.json').text!) as { Id: string };
    expect(inspect.Id).toBe(manifest.containers[0]!.id);
    // The engine keeps only its latest 256 events (of every container): this one's may be gone by now.
    const events = part('events.jsonl').text!.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Action: string; id: string });
    expect(events.every((e) => e.id === inspect.Id)).toBe(true);
    const records = part('records.jsonl').text!.trim().split('\n').map((l) => JSON.parse(l) as { containerId: string; argv: string[] });
    expect(records).toHaveLength(1);
    expect(records[0]!.containerId).toBe(inspect.Id);
  }, 620_000);

  it('a fresh container: its events (create, start, die) and its run record; a TTY container has one stream', async () => {
    const name = testName('logs-tty');
    const r = await sdocker(['run', '-t', ...L, '--name', name, '--network', 'none', IMAGES.root, 'sh', '-c', 'echo to-out; echo to-err >&2'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = join(tmp.path, 'tty.tar.gz');
    const e = await sdocker(['logs', 'export', name, '-o', out], { env, timeoutMs: 120_000 });
    expect(e.code, e.stderr).toBe(0);
    const entries = await readBack(out);
    const m = JSON.parse(entries.get('manifest.json')!.text!) as Manifest;
    expect(m.containers[0]).toMatchObject({ name, tty: true, records: 1 });
    const folder = m.entries[0]!.name.split('/')[0]!;
    expect(entries.has(`${folder}/stdout.log`)).toBe(false);
    const output = entries.get(`${folder}/output.log`)!.text!;
    expect(output).toMatch(/Z to-out\r?\n/);
    expect(output).toMatch(/Z to-err\r?\n/);
    const events = entries.get(`${folder}/events.jsonl`)!.text!.trim().split('\n').map((l) => JSON.parse(l) as { Action: string; id: string });
    expect(events.map((x) => x.Action)).toEqual(expect.arrayContaining(['create', 'start', 'die']));
    expect(new Set(events.map((x) => x.id)).size).toBe(1);
  }, 130_000);

  it('--since/--until bound the logs', async () => {
    const out = join(tmp.path, 'none.tar.gz');
    const r = await sdocker(['logs', 'export', medium, '-o', out, '--until', '2000-01-01T00:00:00Z'], { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const entries = await readBack(out);
    const m = JSON.parse(entries.get('manifest.json')!.text!) as Manifest;
    expect(m.entries.find((e) => e.name.endsWith('/stdout.log'))?.size).toBe(0);
    const bad = await sdocker(['logs', 'export', medium, '-o', out, '--since', 'yesterday'], { env });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('--since yesterday');
  }, 130_000);

  it('SIGINT: no archive, no work directory, exit 130', async () => {
    const dir = join(tmp.path, 'int');
    mkdirSync(dir);
    const out = join(dir, 'x.tar.gz');
    let child: import('node:child_process').ChildProcess | undefined;
    const run = spawnCollect(CLI, ['logs', 'export', medium, big, '-o', out], { env, timeoutMs: 120_000, onSpawn: (c) => { child = c; } });
    for (let i = 0; i < 100 && workDirs(dir).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(workDirs(dir)).toHaveLength(1);
    child!.kill('SIGINT');
    const r = await run;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted by SIGINT');
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  }, 130_000);

  it('SIGKILL leaves the work directory; the next export into that directory removes it', async () => {
    const dir = join(tmp.path, 'kill');
    mkdirSync(dir);
    let child: import('node:child_process').ChildProcess | undefined;
    const run = spawnCollect(CLI, ['logs', 'export', big, '-o', join(dir, 'x.tar.gz')], { env, timeoutMs: 120_000, onSpawn: (c) => { child = c; } });
    for (let i = 0; i < 100 && workDirs(dir).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    child!.kill('SIGKILL');
    await run;
    expect(workDirs(dir)).toHaveLength(1);
    expect(existsSync(join(dir, 'x.tar.gz'))).toBe(false);
    const r = await sdocker(['logs', 'export', medium, '-o', join(dir, 'y.tar.gz')], { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['y.tar.gz']);
  }, 260_000);

  it('an output that is a symlink is refused and not followed', async () => {
    const target = join(tmp.path, 'victim');
    writeFileSync(target, 'keep\n');
    const link = join(tmp.path, 'link.tar.gz');
    symlinkSync(target, link);
    const r = await sdocker(['logs', 'export', medium, '-o', link], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('is a symbolic link');
    expect((await import('node:fs')).readFileSync(target, 'utf8')).toBe('keep\n');
    expect(workDirs(tmp.path)).toEqual([]);
  });
});

