/**
 * Issue 8 point 3: `sdocker learn` on real servers (scripts/real-images.sh): from the image to a
 * profile under which `sdocker run -d` serves and keeps working, written with its reasons and a
 * recorded seccomp profile (as root), verified by learn itself; every container it ran and their
 * anonymous volumes removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cleanupTestObjects, freePort } from '../helpers/engine.js';
import { REAL_IMAGE_BUILD_MS, realImages, type RealImage } from '../helpers/real-images.js';
import { caseLabel, docker, eventsSince, listContainers, listVolumes, sdocker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('learn');
const baseEnv = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: join(tmp.path, 'state') };
const labels = caseLabel('learn');
const root = process.getuid?.() === 0;
let tags: Record<RealImage, string>;

beforeAll(async () => {
  const start = Date.now();
  tags = await realImages(['nginx', 'postgres', 'redis']);
  process.stderr.write(`real images ready in ${Math.round((Date.now() - start) / 1000)}s\n`);
}, REAL_IMAGE_BUILD_MS);

afterAll(async () => {
  await cleanupTestObjects();
  expect(await listContainers(`${labels.key}=${labels.value}`)).toEqual([]);
  tmp.remove();
});

/** A project directory (a repository root, so no profile above it is found). */
function project(name: string) {
  const dir = tempDir(`learn-${name}`);
  return dir;
}

/** `sdocker learn` in `dir`; afterwards nothing it ran is left: no container, no anonymous volume. */
async function learn(dir: string, args: string[]) {
  const t0 = Date.now();
  const r = await sdocker(['learn', ...args], { cwd: dir, env: baseEnv, timeoutMs: 240_000 });
  const secs = (Date.now() - t0) / 1000;
  expect(await listContainers(`${labels.key}=${labels.value}`)).toEqual([]);
  const created = (await eventsSince(t0, { type: ['container'], event: ['create'], label: [`${labels.key}=${labels.value}`] })).map((e) => e.Actor.ID);
  expect(created.length).toBeGreaterThan(0);
  const mounted = (await eventsSince(t0, { type: ['volume'], event: ['mount'] }))
    .filter((e) => created.includes(e.Actor.Attributes?.container ?? ''))
    .map((e) => e.Actor.ID);
  const volumes = new Set((await listVolumes()).map((v) => v.Name));
  expect(mounted.filter((v) => volumes.has(v))).toEqual([]);
  process.stderr.write(`sdocker learn ${args.at(-1)}: ${secs.toFixed(1)}s, ${created.length} containers\n${r.stderr}`);
  return { ...r, secs, rounds: created.length };
}

async function until<T>(f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 300));
  }
}

const get = async (url: string): Promise<string | undefined> => {
  try {
    const res = await fetch(url);
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
};

function profileOf(dir: string) {
  const text = readFileSync(join(dir, 'sdocker.yaml'), 'utf8');
  return { text, js: parse(text) as { defaults?: { tmpfs?: { path: string }[]; user?: string; seccomp?: string } } };
}

describe('sdocker learn', () => {
  it('nginx with a curl probe: two tmpfs and a seccomp profile learned; sdocker run -d then serves 50 parallel requests and survives a HUP reload', async () => {
    const dir = project('nginx');
    try {
      const port = await freePort();
      const r = await learn(dir.path, ['--probe', `curl -fsS http://127.0.0.1:${port}/`, '--duration', '20s', '-p', `127.0.0.1:${port}:80`, ...labels.args, tags.nginx]);
      expect(r.stderr).toContain('round 1: exited with status 1');
      expect(r.stderr).toContain('learn: real-nginx failed: /var/lib/nginx/body is on the read-only root filesystem');
      expect(r.stderr).toMatch(/round 3: the probe passed/);
      expect(r.code, r.stderr).toBe(0);
      const { text, js } = profileOf(dir.path);
      expect(js.defaults?.tmpfs?.map((t) => t.path)).toEqual(['/tmp', '/var/lib/nginx', '/run']);
      expect(text).toContain('# learn: real-nginx failed: /run/nginx.pid is on the read-only root filesystem');
      if (root) {
        expect(js.defaults?.seccomp).toBe('./seccomp/real-nginx.json');
        expect(r.stderr).toContain('verify (restricted, the learned profile and its seccomp profile): the probe passed');
        const stats = await sdocker(['seccomp', 'stats', join(dir.path, 'seccomp/real-nginx.json')], { env: baseEnv });
        process.stderr.write(stats.stdout);
      }

      // The written profile, as a user runs it next.
      const run = await sdocker(['run', '-d', '-p', `127.0.0.1:${port}:80`, ...labels.args, tags.nginx], { cwd: dir.path, env: baseEnv, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const id = run.stdout.trim();
      try {
        const url = `http://127.0.0.1:${port}/`;
        expect(await until(() => get(url), 15_000)).toBe('hello from nginx\n');
        const many = await Promise.all(Array.from({ length: 50 }, () => get(url)));
        expect(many.filter((b) => b === 'hello from nginx\n')).toHaveLength(50);
        const hup = await docker(['kill', '-s', 'HUP', id]);
        expect(hup.code).toBe(0);
        await new Promise((res) => setTimeout(res, 1000));
        expect(await until(() => get(url), 10_000)).toBe('hello from nginx\n');
        const st = await docker(['inspect', '-f', '{{.State.Running}} {{.RestartCount}}', id]);
        expect(st.stdout.trim()).toBe('true 0');
        // Still hardened inside: the user nobody, no capabilities, the root filesystem read-only.
        const inside = await docker(['exec', id, 'sh', '-c', 'grep -E "^(Uid|CapEff)" /proc/1/status; touch /etc/x 2>&1; true']);
        expect(inside.stdout).toMatch(/Uid:\s+65534/);
        expect(inside.stdout).toMatch(/CapEff:\s+0000000000000000/);
        expect(inside.stdout).toContain('Read-only file system');
      } finally {
        await docker(['rm', '-f', '-v', id]);
      }
    } finally {
      dir.remove();
    }
  }, 300_000);

  it('redis with a docker exec probe that also runs BGSAVE: /data learned from the failed save; SET/GET, BGSAVE and docker exec redis-cli ping under the result', async () => {
    const dir = project('redis');
    try {
      // The probe exercises the background save too: it fails on the read-only root, and its
      // own exercise is what makes learn find it (and record the calls the forked child makes).
      const probe = 'c=$SDOCKER_LEARN_CONTAINER; docker exec $c redis-cli ping | grep -qx PONG && docker exec $c redis-cli bgsave >/dev/null && sleep 1 && docker exec $c redis-cli info persistence | grep -q rdb_last_bgsave_status:ok';
      const r = await learn(dir.path, ['--probe', probe, '--duration', '8s', ...labels.args, tags.redis]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('round 1: the probe still failed after 8s');
      expect(r.stderr).toContain('defaults.tmpfs: /data — learn: real-redis failed: /data is on the read-only root filesystem');
      expect(r.stderr).toContain('note: data that must outlive the container belongs on a volume (-v NAME:/data) instead');
      const { js } = profileOf(dir.path);
      expect(js.defaults?.tmpfs?.map((t) => t.path)).toEqual(['/tmp', '/data']);
      if (root) expect(js.defaults?.seccomp).toBe('./seccomp/real-redis.json');
      const run = await sdocker(['run', '-d', ...labels.args, tags.redis], { cwd: dir.path, env: baseEnv, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const id = run.stdout.trim();
      const cli = (...a: string[]) => docker(['exec', id, 'redis-cli', ...a]);
      try {
        await until(async () => ((await cli('ping')).stdout.trim() === 'PONG' ? true : undefined), 20_000);
        expect((await cli('set', 'k', 'v')).stdout.trim()).toBe('OK');
        expect((await cli('get', 'k')).stdout.trim()).toBe('v');
        const before = Number((await cli('lastsave')).stdout.trim());
        await new Promise((res) => setTimeout(res, 1100));
        expect((await cli('bgsave')).stdout).toContain('Background saving started');
        await until(async () => (Number((await cli('lastsave')).stdout.trim()) > before ? true : undefined), 20_000);
        expect((await cli('info', 'persistence')).stdout).toContain('rdb_last_bgsave_status:ok');
      } finally {
        await docker(['rm', '-f', '-v', id]);
      }
    } finally {
      dir.remove();
    }
  }, 300_000);

  it('postgres with a psql probe: the user and the socket directory learned; a table survives a restart under the result', async () => {
    const dir = project('postgres');
    try {
      const probe = 'docker exec "$SDOCKER_LEARN_CONTAINER" pg_isready -q && docker exec "$SDOCKER_LEARN_CONTAINER" psql -U postgres -tAc "select 1" | grep -qx 1';
      const r = await learn(dir.path, ['--probe', probe, '--duration', '60s', ...labels.args, tags.postgres]);
      expect(r.code, r.stderr).toBe(0);
      const { js } = profileOf(dir.path);
      expect(js.defaults?.user).toBe('postgres');
      expect(js.defaults?.tmpfs?.map((t) => t.path)).toContain('/var/run/postgresql');
      const run = await sdocker(['run', '-d', ...labels.args, tags.postgres], { cwd: dir.path, env: baseEnv, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const id = run.stdout.trim();
      const psql = (sql: string) => docker(['exec', id, 'psql', '-U', 'postgres', '-tAc', sql]);
      const ready = () => until(async () => ((await docker(['exec', id, 'pg_isready', '-q'])).code === 0 ? true : undefined), 60_000);
      try {
        await ready();
        expect((await psql('create table t (x int); insert into t values (42)')).code).toBe(0);
        expect((await docker(['restart', id], { timeoutMs: 60_000 })).code).toBe(0);
        await ready();
        expect((await psql('select x from t')).stdout.trim()).toBe('42');
      } finally {
        await docker(['rm', '-f', '-v', id]);
      }
    } finally {
      dir.remove();
    }
  }, 400_000);

  it('merges into the project\'s sdocker.yaml: its comments and entries kept, the learned tmpfs appended with their reasons (--no-seccomp: its seccomp line untouched)', async () => {
    const dir = project('merge');
    try {
      const mine = '# the team\'s profile: keep this line\ndefaults:\n  memory: 256m # measured\n  tmpfs:\n    - { path: /tmp, size: 16m } # small\n';
      writeFileSync(join(dir.path, 'sdocker.yaml'), mine);
      const port = await freePort();
      const r = await learn(dir.path, ['--no-seccomp', '--probe', `curl -fsS http://127.0.0.1:${port}/`, '-p', `127.0.0.1:${port}:80`, ...labels.args, tags.nginx]);
      expect(r.code, r.stderr).toBe(0);
      const { text, js } = profileOf(dir.path);
      for (const kept of ["# the team's profile: keep this line", 'memory: 256m # measured', '- { path: /tmp, size: 16m } # small']) expect(text).toContain(kept);
      expect(js.defaults?.tmpfs?.map((t) => t.path)).toEqual(['/tmp', '/var/lib/nginx', '/run']);
      expect(js.defaults?.seccomp).toBeUndefined();
      expect(existsSync(join(dir.path, 'seccomp'))).toBe(false);
    } finally {
      dir.remove();
    }
  }, 120_000);

  it('an image that cannot be made to work says what could not be found and exits 1, writing nothing', async () => {
    const dir = project('fail');
    try {
      const r = await learn(dir.path, ['--no-seccomp', '--duration', '5s', ...labels.args, '--entrypoint', 'sh', tags.redis, '-c', 'echo cannot start; exit 7']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('round 1: exited with status 7');
      expect(r.stderr).toContain('brought no new allowance; what could not be found');
      expect(r.stderr).toContain('exit status 7 with no known hardening signature; last lines: cannot start');
      expect(existsSync(join(dir.path, 'sdocker.yaml'))).toBe(false);
    } finally {
      dir.remove();
    }
  }, 120_000);

  it('a link the project planted where learn writes (sdocker.yaml, seccomp/) is refused before anything runs', async () => {
    const dir = project('links');
    const victim = tempDir('learn-victim');
    try {
      writeFileSync(join(victim.path, 'keep'), 'mine\n');
      symlinkSync(victim.path, join(dir.path, 'seccomp'));
      const r = await sdocker(['learn', ...labels.args, tags.redis], { cwd: dir.path, env: baseEnv });
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(`${join(dir.path, 'seccomp')} is a symbolic link`);
      expect(readFileSync(join(victim.path, 'keep'), 'utf8')).toBe('mine\n');
      expect(await listContainers(`${labels.key}=${labels.value}`)).toEqual([]);
    } finally {
      dir.remove();
      victim.remove();
    }
  });
});
