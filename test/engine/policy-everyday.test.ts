/**
 * Issue 3: everyday `docker run` command lines still work, unchanged in what the user sees, under
 * the default `restricted` level (no policy flag typed), while the container stays hardened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { cleanupTestObjects, freePort, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, inspect, keyValues, mountOptions, removeOwnedVolumesUnder, sdocker, tempDir } from '../policy/engine-checks.js';

const L = TEST_LABEL_ARGS;
const tmp = tempDir('everyday');
const hostDir = join(tmp.path, 'src');
const env = { SDOCKER_STATE_DIR: join(tmp.path, 'state') };

beforeAll(async () => {
  await ensureTestImages();
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'input.txt'), 'one\ntwo\nthree\n');
});

afterAll(async () => {
  await cleanupTestObjects();
  await removeOwnedVolumesUnder(tmp.path);
  tmp.remove();
});

const run = (args: string[], input?: string) => sdocker(['run', '--rm', ...L, ...args], input === undefined ? { env } : { env, input });

describe.concurrent('everyday commands under restricted', () => {
  it('echo', async () => {
    const r = await run([IMAGES.root, 'echo', 'hello', 'world']);
    expect(r).toMatchObject({ code: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('a shell pipeline, with its exit status', async () => {
    const r = await run([IMAGES.root, 'sh', '-c', 'seq 1 100 | grep 7 | sort -r | head -n 3; exit 4']);
    expect(r).toMatchObject({ code: 4, stdout: '97\n87\n79\n', stderr: '' });
  });

  it('stdin piped with -i into wc -c', async () => {
    const input = 'x'.repeat(100_000);
    const r = await run(['-i', IMAGES.root, 'wc', '-c'], input);
    expect(r).toMatchObject({ code: 0, stdout: '100000\n', stderr: '' });
  });

  it('writing /tmp (and reading it back), as the default user', async () => {
    const r = await run([IMAGES.root, 'sh', '-c', 'echo data > /tmp/f && cat /tmp/f && id -u']);
    expect(r).toMatchObject({ code: 0, stdout: 'data\n65534\n', stderr: '' });
  });

  it('-u 1000', async () => {
    const r = await run(['-u', '1000', IMAGES.root, 'sh', '-c', 'id -u; echo ok > /tmp/x && cat /tmp/x']);
    expect(r).toMatchObject({ code: 0, stdout: '1000\nok\n', stderr: '' });
  });

  it('-w /tmp', async () => {
    const r = await run(['-w', '/tmp', IMAGES.root, 'sh', '-c', 'pwd; echo x > rel && ls']);
    expect(r).toMatchObject({ code: 0, stdout: '/tmp\nrel\n', stderr: '' });
  });

  it('--entrypoint, and an image entrypoint', async () => {
    const a = await run(['--entrypoint', '/bin/printf', IMAGES.root, '%s-%s\\n', 'a', 'b']);
    expect(a).toMatchObject({ code: 0, stdout: 'a-b\n', stderr: '' });
    const b = await run([IMAGES.entrypoint, 'arg']);
    expect(b).toMatchObject({ code: 0, stdout: 'ep arg\n', stderr: '' });
  });

  it('--init: PID 1 is docker-init and the command is its child', async () => {
    const r = await run(['--init', IMAGES.root, 'sh', '-c', 'cat /proc/1/comm; echo $$; grep NoNewPrivs /proc/self/status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [comm, pid, nnp] = r.stdout.trim().split('\n');
    expect(comm).toMatch(/init/);
    expect(pid).not.toBe('1');
    expect(nnp).toMatch(/NoNewPrivs:\s+1/);
  });

  it('-h name', async () => {
    const r = await run(['-h', 'my-box', IMAGES.root, 'hostname']);
    expect(r).toMatchObject({ code: 0, stdout: 'my-box\n', stderr: '' });
  });

  it('--ulimit nofile=100:100', async () => {
    const r = await run(['--ulimit', 'nofile=100:100', IMAGES.root, 'sh', '-c', 'ulimit -n; ulimit -Hn']);
    expect(r).toMatchObject({ code: 0, stdout: '100\n100\n', stderr: '' });
  });

  it('a read-only bind mount (:ro) reads the host files; still nosuid,nodev', async () => {
    const r = await run(['-v', `${hostDir}:/src:ro`, IMAGES.root, 'sh', '-c', 'wc -l < /src/input.txt; grep " /src " /proc/mounts']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('3');
    expect(mountOptions(r.stdout, '/src')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev']));
  });

  it('-d prints the id; the detached container is hardened and its output is in docker logs', async () => {
    const r = await sdocker(['run', '-d', ...L, IMAGES.root, 'sh', '-c', "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status; id -u; sleep 30"], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = r.stdout.trim();
    try {
      const info = await inspect<{ State: { Running: boolean }; HostConfig: { ReadonlyRootfs: boolean } }>(id);
      expect(info.State.Running).toBe(true);
      expect(info.HostConfig.ReadonlyRootfs).toBe(true);
      let logs = '';
      for (let i = 0; i < 50 && !/65534/.test(logs); i++) {
        logs = (await docker(['logs', id])).stdout;
        if (!/65534/.test(logs)) await new Promise((res) => setTimeout(res, 100));
      }
      expect(keyValues(logs)).toMatchObject({ CapEff: '0000000000000000', NoNewPrivs: '1' });
      expect(logs.trim().split('\n').pop()).toBe('65534');
    } finally {
      await docker(['rm', '-f', '-v', id]);
    }
  });

  it('-p 127.0.0.1:PORT:80: a server in the container answers on the host', async () => {
    const port = await freePort();
    const r = await sdocker(['run', '-d', ...L, '-p', `127.0.0.1:${port}:80`, IMAGES.root, 'sh', '-c', 'while true; do echo pong | nc -l -p 80; done'], { env });
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    try {
      let reply = '';
      for (let i = 0; i < 50 && reply !== 'pong\n'; i++) {
        reply = await readReply('127.0.0.1', port).catch(() => '');
        if (reply !== 'pong\n') await new Promise((res) => setTimeout(res, 100));
      }
      expect(reply).toBe('pong\n');
    } finally {
      await docker(['rm', '-f', '-v', id]);
    }
  });
});

function readReply(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: 2000 });
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.endsWith('\n')) s.end();
    });
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', reject);
    s.on('close', () => resolve(buf));
  });
}
