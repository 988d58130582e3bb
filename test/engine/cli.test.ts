/**
 * The built CLI (`node bin/sdocker ...`, after `npm run build`) against the real engine:
 * what a user of `docker run` sees: bytes, streams, exit codes, signals, TTY, endpoint refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { CLI, cleanupTestObjects, containerExists, freePort, runCli, TEST_LABEL_ARGS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const L = TEST_LABEL_ARGS;

beforeAll(async () => {
  await ensureTestImages();
});

afterAll(async () => {
  await cleanupTestObjects();
});

describe('sdocker run (CLI)', () => {
  it('pipes 1,000,003 bytes of stdin into wc -c', async () => {
    const input = Buffer.alloc(1_000_003, 0x5a);
    const r = await runCli(['run', '--rm', '-i', ...L, IMAGES.root, 'wc', '-c'], { input });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1000003');
    expect(r.code).toBe(0);
  });

  it('keeps stdout and stderr apart and passes the exit status through', async () => {
    const r = await runCli(['run', '--rm', ...L, IMAGES.root, 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    expect(r.stdout).toBe('to-out\n');
    expect(r.stderr).toBe('to-err\n');
    expect(r.code).toBe(3);
  });

  it('exits 126 / 127 on start errors and --rm leaves no container', async () => {
    for (const [cmd, code] of [
      ['/etc/passwd', 126],
      ['/no/such/command', 127],
    ] as const) {
      const name = testName();
      const r = await runCli(['run', '--rm', '--name', name, ...L, IMAGES.root, cmd]);
      expect(r.code).toBe(code);
      expect(r.stderr.length).toBeGreaterThan(0);
      expect(await containerExists(name)).toBe(false);
    }
  });

  it('-d prints the container id', async () => {
    const r = await runCli(['run', '-d', ...L, IMAGES.root, 'sleep', '20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(await containerExists(r.stdout.trim())).toBe(true);
  });

  it('forwards SIGTERM to the container', async () => {
    const r = await runCli(
      ['run', '--rm', ...L, IMAGES.root, 'sh', '-c', "trap 'echo got; exit 7' TERM; echo ready; while true; do sleep 0.1; done"],
      {
        onSpawn: (child) => {
          child.stdout!.on('data', (c: Buffer) => {
            if (c.toString().includes('ready')) child.kill('SIGTERM');
          });
        },
      },
    );
    expect(r.stdout).toBe('ready\ngot\n');
    expect(r.code).toBe(7);
  });

  it('refuses a plain tcp:// endpoint with 125 without connecting to it', async () => {
    const port = await freePort();
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const r = await runCli(['-H', `tcp://127.0.0.1:${port}`, 'run', '--rm', IMAGES.root, 'true']);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/without TLS/);
      expect(r.stderr).toMatch(/--allow-insecure-tcp/);
      const env = await runCli(['run', '--rm', IMAGES.root, 'true'], { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
      expect(env.code).toBe(125);
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('runs with a TTY (-t under script(1)): output shows, terminal size follows ours', async () => {
    const inner = `stty cols 123 rows 45; ${CLI} run --rm -t ${L.join(' ')} ${IMAGES.root} sh -c 'tty; sleep 0.3; stty -a | head -n 1; exit 5'`;
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      execFile('script', ['-qec', inner, '/dev/null'], { timeout: 30_000 }, (err, out) => {
        resolve({ stdout: out, code: err ? ((err as { code?: number }).code ?? null) : 0 });
      });
    });
    expect(stdout).toMatch(/\/dev\/pts\/\d+\r*\n/);
    expect(stdout).toMatch(/rows 45; columns 123;/);
    expect(code).toBe(5);
  });

  it('-it: interactive input through the raw terminal, docker-identical line endings, terminal restored', async () => {
    const inner = `${CLI} run --rm -it ${L.join(' ')} ${IMAGES.root} sh; echo "rc=$?"; stty -a`;
    let seen = '';
    const child = execFile('script', ['-qec', inner, '/dev/null'], { timeout: 30_000 });
    const done = new Promise<string>((resolve) => child.on('close', () => resolve(seen)));
    child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
    // Type once the shell's prompt is there, and close our side once the run has ended.
    await waitFor(() => /[#$] /.test(seen), { timeoutMs: 15_000, what: 'the shell prompt' });
    child.stdin!.write('echo hi-from-tty; exit 4\r');
    await waitFor(() => seen.includes('rc='), { timeoutMs: 15_000, what: 'the run to end' });
    child.stdin!.end();
    const out = await done;
    // docker turns output post-processing off while attached: "\r\n" from the container stays "\r\n".
    expect(out).toMatch(/\nhi-from-tty\r\n/);
    expect(out).toMatch(/rc=4/);
    // and restores the terminal afterwards (icanon, echo, opost back on)
    expect(out).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(out).toMatch(/(^|\s)echo(\s|$)/m);
    expect(out).toMatch(/(^|\s)opost(\s|$)/m);
  });
});
