/**
 * `sdocker scan` on a large image, beside `docker save IMG | tar -tv` (the engine's export and a
 * plain listing of it) and beside `find / -xdev -perm /6000` in a container of the same image
 * (the answer the scan must match). Also the scanner alone on the saved archive read from a file
 * (where the time goes: the engine's export or our parsing), and the local path (--via local: the
 * engine's overlay2 layer directories walked in place, MB/s counted on the same layer bytes).
 * Peak RSS from /usr/bin/time -v.
 *
 * The image is built here once (tagged by its parameters): the busybox test layer, then LAYERS
 * generated layers of FILES files each (most 4 KiB, one in ten ~190 KiB: ~100 MB a layer), every
 * 500th file setuid root, and a last layer deleting some of them (whiteouts). Loaded with
 * POST /images/load from files on disk: the benchmark itself never holds a layer in memory.
 * Usage: node dist-bench/bench/scan.js [--runs 3] [--layers 4] [--files 5000]
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';
import { rootfsLayer } from '../test/helpers/images.js';
import { EngineClient, readBody } from '../src/engine/client.js';
import { resolveEndpoint } from '../src/engine/endpoint.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from '../src/scan/tar-writer.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SDOCKER = join(ROOT, 'bin', 'sdocker');
const SCAN_FILE = join(ROOT, 'dist-bench', 'bench', 'scan-file.js');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const RUNS = arg('runs', 3);
const LAYERS = arg('layers', 4);
const FILES = arg('files', 5000);
const TAG = `sdocker-bench/scan:l${LAYERS}-f${FILES}`;
const work = mkdtempSync(join(tmpdir(), 'sdocker-bench-scan-'));

/** One generated layer written to `path`; returns its sha256 and the setuid paths it holds. */
function writeLayer(path: string, layer: number): { sha: string; bytes: number } {
  const fd = openSync(path, 'w', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  const out = (b: Buffer) => {
    hash.update(b);
    writeSync(fd, b);
    bytes += b.length;
  };
  const block = Buffer.alloc(1 << 16);
  for (let i = 0; i < block.length; i++) block[i] = (i * 131 + layer * 7) & 0xff;
  out(encodeHeader({ name: `data${layer}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 }));
  for (let i = 0; i < FILES; i++) {
    const dir = `data${layer}/d${Math.floor(i / 100)}`;
    if (i % 100 === 0) out(encodeHeader({ name: `${dir}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 }));
    const size = i % 10 === 9 ? 190 * 1024 + (i % 7) * 512 : 4096;
    const mode = i % 500 === 0 ? 0o4755 : 0o644;
    out(encodeHeader({ name: `${dir}/f${i}`, type: 'file', mode, uid: 0, gid: 0, size, mtime: 0 }));
    for (let left = size; left > 0; left -= block.length) out(block.subarray(0, Math.min(left, block.length)));
    out(padding(size));
  }
  out(END_OF_ARCHIVE);
  closeSync(fd);
  return { sha: hash.digest('hex'), bytes };
}

/** The last layer: deletes the setuid file of every other directory of layer 0. */
function writeWhiteouts(path: string): string {
  const entries: Buffer[] = [];
  for (let i = 0; i < FILES; i += 1000) entries.push(encodeHeader({ name: `data0/d${Math.floor(i / 100)}/.wh.f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 }));
  entries.push(END_OF_ARCHIVE);
  const b = Buffer.concat(entries);
  const fd = openSync(path, 'w', 0o600);
  writeSync(fd, b);
  closeSync(fd);
  return createHash('sha256').update(b).digest('hex');
}

async function ensureImage(client: EngineClient): Promise<void> {
  try {
    await client.json('GET', `/images/${encodeURIComponent(TAG)}/json`);
    return;
  } catch {
    // build it
  }
  process.stderr.write(`building ${TAG} ...\n`);
  const files: Array<{ path: string; sha: string }> = [];
  const base = join(work, 'base.tar');
  const baseBytes = await rootfsLayer();
  const fd = openSync(base, 'w', 0o600);
  writeSync(fd, baseBytes);
  closeSync(fd);
  files.push({ path: base, sha: createHash('sha256').update(baseBytes).digest('hex') });
  for (let l = 0; l < LAYERS; l++) {
    const p = join(work, `l${l}.tar`);
    files.push({ path: p, sha: writeLayer(p, l).sha });
  }
  const wh = join(work, 'wh.tar');
  files.push({ path: wh, sha: writeWhiteouts(wh) });
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin:/usr/bin'], Cmd: ['sh'], Labels: { 'sdocker.bench': '1' } },
    rootfs: { type: 'layers', diff_ids: files.map((f) => `sha256:${f.sha}`) },
    history: files.map((_, i) => ({ created_by: `bench layer ${i}` })),
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const pack = tar.pack();
  const loading = client.request('POST', '/images/load', { query: { quiet: 1 }, raw: pack as unknown as NodeJS.ReadableStream, headers: { 'Content-Type': 'application/x-tar' } });
  for (const f of files) {
    const entry = pack.entry({ name: `${f.sha}/layer.tar`, size: statSync(f.path).size, mode: 0o644 });
    await new Promise<void>((resolve, reject) => {
      const rs = createReadStream(f.path);
      rs.on('error', reject);
      entry.on('finish', () => resolve());
      rs.pipe(entry);
    });
  }
  pack.entry({ name: configName }, config);
  pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: configName, RepoTags: [TAG], Layers: files.map((f) => `${f.sha}/layer.tar`) }]));
  pack.finalize();
  const text = (await readBody(await loading)).toString('utf8');
  if (/"error"/.test(text)) throw new Error(text);
  for (const f of files) rmSync(f.path);
}

interface Sample {
  wall: number;
  rssKB: number;
  out: string;
}

/** Run under /usr/bin/time -v: wall time and peak RSS (of the largest process of the command). */
function measure(cmd: string[], env: Record<string, string> = {}): Promise<Sample> {
  const timeFile = join(work, 'time');
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      if (out.length < 1 << 20) out += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0 && code !== 1) return reject(new Error(`${cmd.join(' ')} exited ${code}`));
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
      resolve({ wall, rssKB: Number(rss?.[1] ?? 0), out });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const client = new EngineClient(resolveEndpoint({}, process.env));
  try {
    await ensureImage(client);
  } finally {
    client.close();
  }
  const size = Number(execFileSync('docker', ['image', 'inspect', '-f', '{{.Size}}', TAG], { encoding: 'utf8' }).trim());
  const saved = join(work, 'saved.tar');
  execFileSync('docker', ['save', '-o', saved, TAG]);
  const cache = join(work, 'cache');
  const cases: Record<string, () => Promise<Sample>> = {
    'sdocker scan --via save IMG': () => measure([SDOCKER, 'scan', '--via', 'save', '-o', 'json', TAG], { XDG_CACHE_HOME: cache }),
    'sdocker scan --via local IMG': () => measure([SDOCKER, 'scan', '--via', 'local', '-o', 'json', TAG], { XDG_CACHE_HOME: cache }),
    'docker save IMG | tar -tv': () => measure(['bash', '-c', `docker save ${TAG} | tar -tv | wc -l`]),
    'docker run IMG find / -xdev -perm /6000': () => measure(['docker', 'run', '--rm', '--network', 'none', '--label', 'sdocker.bench=1', TAG, 'find', '/', '-xdev', '-perm', '/6000']),
    'scanner alone, on the saved archive': () => measure([process.execPath, SCAN_FILE, saved]),
  };
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < RUNS; r++) for (const [k, f] of Object.entries(cases)) samples[k]!.push(await f());
  type Out = { findings: Array<{ rule: string; path?: string }>; stats: { entries: number; layerBytes: number } };
  const scanOut = JSON.parse(samples['sdocker scan --via save IMG']![0]!.out) as Out;
  const localOut = JSON.parse(samples['sdocker scan --via local IMG']![0]!.out) as Out;
  const found = samples['docker run IMG find / -xdev -perm /6000']![0]!.out.split('\n').filter(Boolean).sort();
  const reported = scanOut.findings.filter((f) => f.rule === 'SD-SCAN-001').map((f) => f.path!).sort();
  const reportedLocal = localOut.findings.filter((f) => f.rule === 'SD-SCAN-001').map((f) => f.path!).sort();
  const mb = scanOut.stats.layerBytes / 1e6;
  console.log(`${TAG}: ${(size / 1e6).toFixed(0)} MB, ${scanOut.stats.entries} entries in ${LAYERS + 2} layers; ${RUNS} runs each, alternating; medians`);
  console.log(`scan == find: save ${JSON.stringify(reported) === JSON.stringify(found)}, local ${JSON.stringify(reportedLocal) === JSON.stringify(found)} (${reported.length} setuid files; local == save: ${JSON.stringify(localOut.findings) === JSON.stringify(scanOut.findings)})`);
  console.log('command                                    wall ms    MB/s   peak RSS MB');
  for (const [k, s] of Object.entries(samples)) {
    const wall = median(s.map((x) => x.wall));
    const rate = k.startsWith('docker run') ? '' : (mb / (wall / 1000)).toFixed(0);
    console.log(`${k.padEnd(42)} ${wall.toFixed(0).padStart(7)} ${rate.padStart(7)} ${(median(s.map((x) => x.rssKB)) / 1024).toFixed(0).padStart(13)}`);
  }
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  rmSync(work, { recursive: true, force: true });
  process.exitCode = 1;
});
