/**
 * Start-up, build against build: this checkout's bin/sdocker against another checkout's (built
 * with npm run build), on the same engine and image, in ALTERNATING runs in one process run:
 * `run --rm IMG true` at the restricted and the privileged level, the `--dry-run` of it (no
 * container: sdocker's start-up, the policy, one image inspect, libseccomp for the summary), docker,
 * and node's floor (`node -e 0`). Per run: wall time, and the client's CPU time (user + sys of the process tree,
 * from bash's `times`: steadier than wall time on a loaded machine). Medians, the ratio of each
 * median to docker's, and ours minus base.
 * Usage: npm run bench:startup -- --against /path/to/other/checkout [--runs 25]
 * (the other checkout built: e.g. `git worktree add ../base COMMIT`, node_modules linked, npm run build).
 */
import { execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGES, ensureTestImages } from '../test/helpers/images.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IMG = IMAGES.root;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

// Without NODE_EXTRA_CA_CERTS (set on some machines): node parses the whole CA file at every start
// (~30 ms), which bin/sdocker avoids by itself but `node -e 0` would not.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));

interface Sample {
  wall: number;
  cpu: number;
}

/** bash runs the command, then `times` prints its children's user and sys time (ms resolution). */
const TIMED = 'exec 3>&1 >/dev/null; "$@"; rc=$?; times >&3; exit $rc';

function seconds(t: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  if (!m) throw new Error(`bash times: cannot read ${t}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function measure(cmd: string[]): Promise<Sample> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const child = spawn('bash', ['-c', TIMED, 'bench', ...cmd], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) return fail(new Error(`${cmd.join(' ')} exited ${code}`));
      const [user = '', sys = ''] = out.trim().split('\n').pop()!.split(' ');
      done({ wall, cpu: (seconds(user) + seconds(sys)) * 1000 });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Every client once per round, the order reversed every other round: medians. */
async function interleave(runs: number, clients: Record<string, string[]>): Promise<Map<string, Sample>> {
  const samples = new Map<string, Sample[]>(Object.keys(clients).map((k) => [k, []]));
  const names = Object.keys(clients);
  for (const name of names) await measure(clients[name]!); // warm the page cache and the engine
  for (let i = 0; i < runs; i++) {
    for (const name of i % 2 ? [...names].reverse() : names) samples.get(name)!.push(await measure(clients[name]!));
  }
  return new Map([...samples].map(([k, v]) => [k, { wall: median(v.map((s) => s.wall)), cpu: median(v.map((s) => s.cpu)) }]));
}

async function main() {
  const against = option('against');
  if (!against) throw new Error('--against DIR: the other checkout (built) to compare with');
  const runs = Number(option('runs') ?? 25);
  const base = join(resolve(against), 'bin', 'sdocker');
  const ours = join(ROOT, 'bin', 'sdocker');
  await ensureTestImages();
  execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' });
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`base ${base}\nours ${ours}\nload before: ${load()}`);
  const sdocker = (bin: string, ...args: string[]) => [bin, 'run', '--rm', ...args, IMG, 'true'];
  const medians = await interleave(runs, {
    'node -e 0': [process.execPath, '-e', '0'],
    docker: ['docker', 'run', '--rm', IMG, 'true'],
    'base restricted': sdocker(base),
    'ours restricted': sdocker(ours),
    'base privileged': sdocker(base, '--policy', 'privileged'),
    'ours privileged': sdocker(ours, '--policy', 'privileged'),
    'base dry-run': sdocker(base, '--dry-run'),
    'ours dry-run': sdocker(ours, '--dry-run'),
  });
  const docker = medians.get('docker')!;
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  console.log(`\nstart-up, ${runs} runs each, alternating; medians (load after: ${load()})`);
  console.log('client                wall ms  / docker  ours-base    CPU ms  / docker  ours-base');
  for (const [name, m] of medians) {
    const other = name.startsWith('ours ') ? medians.get(name.replace('ours ', 'base ')) : undefined;
    console.log(
      `${name.padEnd(18)} ${m.wall.toFixed(1).padStart(10)} ${(m.wall / docker.wall).toFixed(3).padStart(9)} ${(other ? signed(m.wall - other.wall) : '').padStart(10)}` +
        ` ${m.cpu.toFixed(0).padStart(9)} ${(m.cpu / docker.cpu).toFixed(3).padStart(9)} ${(other ? signed(m.cpu - other.cpu) : '').padStart(10)}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
