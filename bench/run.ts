/**
 * sdocker against the docker CLI on the same engine, in the same run, alternating:
 *  1. `run --rm IMG true`, N times each: wall time, ratio of medians (sdocker at the default
 *     restricted level, and at --policy privileged, which is docker's own container);
 *  2. 1 GiB streamed to stdout (no TTY): wall time and the client's own CPU time (user + sys,
 *     measured by /usr/bin/time around the client alone), ratio of medians.
 * Usage: npm run bench [-- --runs 25 --stream-runs 5]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGES, ensureTestImages } from '../test/helpers/images.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SDOCKER = join(ROOT, 'bin', 'sdocker');
const IMG = IMAGES.root;
const GIB = 1024 ** 3;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

interface Sample {
  wall: number;
  cpu: number;
  bytes: number;
  code: number;
}

const timeDir = mkdtempSync(join(tmpdir(), 'sdocker-bench-'));

/** Run a client under /usr/bin/time; count (and discard) its stdout here. */
function measure(cmd: string[]): Promise<Sample> {
  const timeFile = join(timeDir, 'time');
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      const [u = '0', s = '0'] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ');
      resolve({ wall, cpu: (Number(u) + Number(s)) * 1000, bytes, code: code ?? -1 });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function compare(label: string, runs: number, clients: Record<string, string[]>, check: (s: Sample) => void) {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    // alternate the order each round so neither client always runs on a warmer engine
    const order = i % 2 ? Object.keys(clients).reverse() : Object.keys(clients);
    for (const name of order) {
      const s = await measure(clients[name]!);
      check(s);
      samples[name]!.push(s);
    }
  }
  const base = samples.docker!;
  const rows = Object.entries(samples).map(([name, ss]) => ({
    client: name,
    wallMs: median(ss.map((s) => s.wall)),
    cpuMs: median(ss.map((s) => s.cpu)),
    wallRatio: median(ss.map((s) => s.wall)) / median(base.map((s) => s.wall)),
    cpuRatio: median(ss.map((s) => s.cpu)) / Math.max(1, median(base.map((s) => s.cpu))),
  }));
  console.log(`\n${label} (${runs} runs each, alternating; medians)`);
  console.log('client                      wall ms   client CPU ms   wall ratio   CPU ratio');
  for (const r of rows) {
    console.log(
      `${r.client.padEnd(26)} ${r.wallMs.toFixed(1).padStart(8)} ${r.cpuMs.toFixed(0).padStart(15)} ${r.wallRatio.toFixed(3).padStart(12)} ${r.cpuRatio.toFixed(3).padStart(11)}`,
    );
  }
  return rows;
}

async function main() {
  await ensureTestImages();
  execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' });
  const runs = arg('runs', 25);
  const streamRuns = arg('stream-runs', 5);
  const ok = (s: Sample) => {
    if (s.code !== 0) throw new Error(`a run exited ${s.code}`);
  };
  // The same hardened container through the docker CLI (the command sdocker's dry run prints):
  // the difference to sdocker (restricted) is then client time only, not the engine's extra work.
  const dry = JSON.parse(execFileSync(SDOCKER, ['run', '--rm', '--dry-run', '--output', 'json', IMG, 'true'], { encoding: 'utf8' })) as { commands: string[] };
  const hardened = dry.commands.at(-1)!;
  await compare('run --rm IMG true', runs, {
    docker: ['docker', 'run', '--rm', IMG, 'true'],
    'docker (hardened flags)': ['sh', '-c', hardened],
    'sdocker (restricted)': [SDOCKER, 'run', '--rm', IMG, 'true'],
    'sdocker (privileged)': [SDOCKER, 'run', '--rm', '--policy', 'privileged', IMG, 'true'],
  }, ok);
  const stream = ['sh', '-c', `head -c ${GIB} /dev/zero`];
  // The same container on both sides for the stream: restricted rotates the container's json log,
  // which changes the engine's work; privileged is docker's own container.
  // --stream-runs 0: the start-up comparison alone.
  if (streamRuns > 0) await compare('1 GiB to stdout', streamRuns, {
    docker: ['docker', 'run', '--rm', IMG, ...stream],
    'sdocker (privileged)': [SDOCKER, 'run', '--rm', '--policy', 'privileged', IMG, ...stream],
    'sdocker (restricted)': [SDOCKER, 'run', '--rm', IMG, ...stream],
  }, (s) => {
    ok(s);
    if (s.bytes !== GIB) throw new Error(`expected ${GIB} bytes on stdout, got ${s.bytes}`);
  });
  rmSync(timeDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
