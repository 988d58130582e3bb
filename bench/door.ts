/**
 * The door (`sdocker serve`, the real judge) against the engine's own socket, in one run,
 * alternating:
 *  1. `docker run --rm IMG true`: the docker CLI given sdocker's hardened flags on the direct
 *     socket; the same through a pass-through door (bench/pass-door.ts: the proxy's own cost);
 *     plain `docker run` through `sdocker serve` (the judge hardens the create: the same
 *     container). Ratios of medians against the first;
 *  2. 1 GiB through attach (stdout of `head -c 1G /dev/zero`), the same three ways; wall ratio,
 *     and each door's own CPU time (utime + stime from /proc/PID/stat) per run;
 *  3. 1000 sequential `GET /_ping` on one keep-alive connection: p50 and p99 latency.
 * Containers run with --network none (the same on every side; no bridge needed).
 * `--base PATH` (another build's bin/sdocker) adds that build's `sdocker serve` to the runs:
 * build against build, in the same rotation.
 * Usage: npm run bench:door [-- --runs 21 --stream-runs 5 --pings 1000 --base ../other/bin/sdocker]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGES, ensureTestImages } from '../test/helpers/images.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SDOCKER = join(ROOT, 'bin', 'sdocker');
const IMG = IMAGES.root;
const GIB = 1024 ** 3;
const DIRECT = '/var/run/docker.sock';
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || '100');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** The door's CPU time so far (ms). */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

interface Sample {
  wall: number;
  bytes: number;
  doorCpu: number;
}

function run(cmd: string[], host: string, doorPid: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const cpu0 = doorPid ? cpuOf(doorPid) : 0;
    const start = process.hrtime.bigint();
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DOCKER_HOST: host } });
    let bytes = 0;
    child.stdout.on('data', (c: Buffer) => (bytes += c.length));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd.join(' ')} via ${host} exited ${code}`));
      else resolve({ wall, bytes, doorCpu: doorPid ? cpuOf(doorPid) - cpu0 : 0 });
    });
  });
}

interface Client {
  label: string;
  cmd: string[];
  host: string;
  /** The door process whose CPU is counted (0: none). */
  pid: number;
}

async function compare(label: string, runs: number, clients: Client[], check: (s: Sample) => void) {
  const samples: Sample[][] = clients.map(() => []);
  for (let i = 0; i < runs; i++) {
    // rotate the order each round so no client always runs on a warmer engine
    for (let j = 0; j < clients.length; j++) {
      const k = (i + j) % clients.length;
      const c = clients[k]!;
      const s = await run(c.cmd, c.host, c.pid);
      check(s);
      samples[k]!.push(s);
    }
  }
  const base = median(samples[0]!.map((s) => s.wall));
  console.log(`\n${label} (${runs} runs each, rotating; medians)`);
  clients.forEach((c, k) => {
    const w = median(samples[k]!.map((s) => s.wall));
    const cpu = c.pid ? `   door CPU ${median(samples[k]!.map((s) => s.doorCpu)).toFixed(0)} ms/run` : '';
    console.log(`  ${c.label.padEnd(44)} ${w.toFixed(1).padStart(9)} ms   ratio ${(w / base).toFixed(3)}${cpu}`);
  });
}

function pings(socketPath: string, n: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const t = process.hrtime.bigint();
      const req = http.request({ socketPath, path: '/_ping', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(Number(process.hrtime.bigint() - t) / 1e6));
      });
      req.on('error', reject);
      req.end();
    });
  return (async () => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await one());
    agent.destroy();
    return out;
  })();
}

async function main() {
  await ensureTestImages();
  const runs = arg('runs', 21);
  const streamRuns = arg('stream-runs', 5);
  const n = arg('pings', 1000);
  console.log(`load average before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'sdocker-bench-door-'));
  const sock = join(dir, 'door.sock');
  const passSock = join(dir, 'pass.sock');
  const doorProc: ChildProcess = spawn(SDOCKER, ['serve', '--socket', sock], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DOCKER_HOST: `unix://${DIRECT}`, SDOCKER_STATE_DIR: join(dir, 'state') } });
  // The proxy alone (every request passed untouched): what the server costs, apart from the judge.
  const baseBin = (() => {
    const i = process.argv.indexOf('--base');
    return i > 0 ? process.argv[i + 1] : undefined;
  })();
  const baseSock = join(dir, 'base.sock');
  const baseProc: ChildProcess | undefined = baseBin
    ? spawn(baseBin, ['serve', '--socket', baseSock], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DOCKER_HOST: `unix://${DIRECT}`, SDOCKER_STATE_DIR: join(dir, 'base-state') } })
    : undefined;
  const passProc: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist-bench', 'bench', 'pass-door.js'), passSock], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DOCKER_HOST: `unix://${DIRECT}` } });
  try {
    for (let i = 0; i < 100 && !(existsSync(sock) && existsSync(passSock) && (!baseProc || existsSync(baseSock))); i++) await new Promise((r) => setTimeout(r, 100));
    const door = `unix://${sock}`;
    const pass = `unix://${passSock}`;
    const direct = `unix://${DIRECT}`;
    const pid = doorProc.pid!;
    const passPid = passProc.pid!;
    const hardenedCmd = (cmd: string[]) =>
      (JSON.parse(execFileSync(SDOCKER, ['run', '--rm', '--network', 'none', '--dry-run', '--output', 'json', IMG, ...cmd], { encoding: 'utf8' })) as { commands: string[] }).commands.at(-1)!;
    const runH = hardenedCmd(['true']);
    await compare('docker run --rm IMG true', runs, [
      { label: 'direct, docker CLI with the hardened flags', cmd: ['sh', '-c', runH], host: direct, pid: 0 },
      { label: 'pass-through door, the same hardened flags', cmd: ['sh', '-c', runH], host: pass, pid: passPid },
      { label: 'sdocker serve (judged, hardened by the door)', cmd: ['docker', 'run', '--rm', '--network', 'none', IMG, 'true'], host: door, pid },
      ...(baseProc ? [{ label: 'sdocker serve of --base (the other build)', cmd: ['docker', 'run', '--rm', '--network', 'none', IMG, 'true'], host: `unix://${baseSock}`, pid: baseProc.pid! }] : []),
    ], () => undefined);
    const gib = ['sh', '-c', `head -c ${GIB} /dev/zero`];
    const streamH = hardenedCmd(gib);
    if (streamRuns > 0) await compare('1 GiB through attach (stdout)', streamRuns, [
      { label: 'direct, docker CLI with the hardened flags', cmd: ['sh', '-c', streamH], host: direct, pid: 0 },
      { label: 'pass-through door, the same hardened flags', cmd: ['sh', '-c', streamH], host: pass, pid: passPid },
      { label: 'sdocker serve (judged, hardened by the door)', cmd: ['docker', 'run', '--rm', '--network', 'none', IMG, ...gib], host: door, pid },
    ], (s) => {
      if (s.bytes !== GIB) throw new Error(`expected ${GIB} bytes, got ${s.bytes}`);
    });
    const viaDoor: number[] = [];
    const viaDirect: number[] = [];
    // alternate blocks of 100 so neither side always runs on a warmer machine
    for (let i = 0; i < n; i += 100) {
      viaDirect.push(...(await pings(DIRECT, Math.min(100, n - i))));
      viaDoor.push(...(await pings(sock, Math.min(100, n - i))));
    }
    console.log(`\n${n} GET /_ping on one keep-alive connection`);
    console.log(`  direct                 p50 ${percentile(viaDirect, 50).toFixed(3)} ms   p99 ${percentile(viaDirect, 99).toFixed(3)} ms`);
    console.log(`  through sdocker serve  p50 ${percentile(viaDoor, 50).toFixed(3)} ms   p99 ${percentile(viaDoor, 99).toFixed(3)} ms`);
    console.log(`\n(load average during the run: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
  } finally {
    passProc.kill('SIGTERM');
    baseProc?.kill('SIGTERM');
    doorProc.kill('SIGTERM');
    await new Promise((r) => doorProc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
