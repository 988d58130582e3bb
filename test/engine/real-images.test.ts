/**
 * Issue 8, points 1, 2 and 5, with real servers built from Debian's packages (nginx, postgres with
 * a root-then-drop entrypoint, redis; scripts/real-images.sh): under the default policy `run -d`
 * says why the server died (the hardening, the path) and exits non-zero; the profile lines it
 * suggests, applied round after round as a user would, make the server answer. Also: the watch's
 * flags, docker's behaviour under --policy privileged, a foreground --rm run diagnosed from its
 * streamed output, and a tmpfs owned by the container's user, seen from inside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { cleanupTestObjects } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { REAL_IMAGE_BUILD_MS, realImages, type RealImage } from '../helpers/real-images.js';
import { caseLabel, docker, listContainers, sdocker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('real');
const baseEnv = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: join(tmp.path, 'state') };
const labels = caseLabel('real');
let tags: Record<RealImage, string>;

interface Finding {
  kind: string;
  rule: string;
  path?: string;
  summary: string;
  flags: string[];
}
interface DiagnosisJson {
  diagnosis: { exitCode: number; user: { uid: number; gid: number; name?: string }; findings: Finding[]; yaml: string };
}

type Profile = { defaults?: Record<string, unknown>; allow?: { capabilities?: { name: string; reason: string }[] } };

/** The suggested lines merged into the profile so far, as a user pastes them. */
function merge(profile: Profile, add: Profile): Profile {
  const out: Profile = { defaults: { ...(profile.defaults ?? {}), ...(add.defaults ?? {}) } };
  const caps = [...(profile.allow?.capabilities ?? []), ...(add.allow?.capabilities ?? [])];
  if (caps.length) out.allow = { capabilities: caps.filter((c, i) => caps.findIndex((d) => d.name === c.name) === i) };
  return out;
}

function diagnosisOf(stderr: string): DiagnosisJson['diagnosis'] {
  const line = stderr.split('\n').find((l) => l.startsWith('{"diagnosis"'));
  if (!line) throw new Error(`no JSON diagnosis on stderr:\n${stderr}`);
  return (JSON.parse(line) as DiagnosisJson).diagnosis;
}

/**
 * `sdocker run -d` in a project directory, applying each diagnosis to its sdocker.yaml, until the
 * container survives the watch. Every dead container is removed on the way.
 */
async function untilItRuns(image: string, args: string[], watch: string, maxRounds = 4) {
  const dir = tempDir('real-project');
  const rounds: DiagnosisJson['diagnosis'][] = [];
  let profile: Profile = {};
  try {
    for (let i = 0; i < maxRounds; i++) {
      writeFileSync(join(dir.path, 'sdocker.yaml'), stringify(profile));
      const r = await sdocker(['run', '-d', '--watch', watch, '--output', 'json', ...labels.args, ...args, image], { cwd: dir.path, env: baseEnv, timeoutMs: 90_000 });
      const id = r.stdout.trim();
      if (r.code === 0) return { id, rounds, profile };
      expect(id).toMatch(/^[0-9a-f]{64}$/); // the id is printed, as docker does, before the watch
      const d = diagnosisOf(r.stderr);
      expect(r.code).toBe(d.exitCode);
      expect(d.exitCode).not.toBe(0);
      rounds.push(d);
      await docker(['rm', '-f', '-v', id]);
      profile = merge(profile, parse(d.yaml) as Profile);
    }
    throw new Error(`still failing after ${maxRounds} rounds: ${JSON.stringify(rounds, null, 1)}`);
  } finally {
    dir.remove();
  }
}

async function execIn(id: string, cmd: string[], timeoutMs = 30_000) {
  return docker(['exec', id, ...cmd], { timeoutMs });
}

async function eventually<T>(f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  await ensureTestImages();
});

afterAll(async () => {
  await cleanupTestObjects();
  expect(await listContainers(`${labels.key}=${labels.value}`)).toEqual([]);
  tmp.remove();
});

describe('real images under the default policy', () => {
  beforeAll(async () => {
    const start = Date.now();
    tags = await realImages(['nginx', 'postgres', 'redis']);
    process.stderr.write(`real images ready in ${Math.round((Date.now() - start) / 1000)}s\n`);
  }, REAL_IMAGE_BUILD_MS);

  it('nginx: EROFS on /var/lib/nginx, then on /run/nginx.pid; with both tmpfs (owned by the user) it serves on 127.0.0.1', async () => {
    // The text a person sees first.
    const first = await sdocker(['run', '-d', ...labels.args, tags.nginx], { cwd: tmp.path, env: baseEnv, timeoutMs: 60_000 });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('/var/lib/nginx/body is on the read-only root filesystem');
    expect(first.stderr).toContain('caused by SD-ROOTFS-001');
    expect(first.stderr).toContain('- { path: /var/lib/nginx, size: 64m }');
    await docker(['rm', '-f', first.stdout.trim()]);

    const { id, rounds, profile } = await untilItRuns(tags.nginx, ['-p', '127.0.0.1::80'], '3s');
    try {
      expect(rounds.map((d) => d.findings.map((f) => [f.rule, f.path]))).toEqual([[['SD-ROOTFS-001', '/var/lib/nginx']], [['SD-ROOTFS-001', '/run']]]);
      expect(rounds[1]!.findings[0]!.summary).toContain('/run/nginx.pid');
      expect(profile.defaults?.tmpfs).toEqual([
        { path: '/tmp', size: '64m' },
        { path: '/var/lib/nginx', size: '64m' },
        { path: '/run', size: '64m' },
      ]);
      // Inside: still hardened (uid 65534, no capabilities), the tmpfs owned by that user with the
      // directory's own mode (runc keeps it), the root filesystem read-only.
      const st = await execIn(id, ['sh', '-c', 'stat -c %u:%g:%a /var/lib/nginx /run; grep -E "^(Uid|CapEff)" /proc/1/status; touch /etc/x 2>&1; true']);
      expect(st.stdout).toContain('65534:65534:755\n65534:65534:755');
      expect(st.stdout).toMatch(/Uid:\s+65534\s+65534/);
      expect(st.stdout).toMatch(/CapEff:\s+0000000000000000/);
      expect(st.stdout).toContain('Read-only file system');
      const port = (await docker(['port', id, '80/tcp'])).stdout.trim().split('\n')[0]!;
      expect(port).toMatch(/^127\.0\.0\.1:\d+$/);
      const body = await eventually(async () => {
        try {
          const res = await fetch(`http://${port}/`);
          return res.ok ? await res.text() : undefined;
        } catch {
          return undefined;
        }
      }, 15_000);
      expect(body).toBe('hello from nginx\n');
    } finally {
      await docker(['rm', '-f', '-v', id]);
    }
  }, 180_000);

  it('postgres: initdb may not chmod its data directory as nobody → run as postgres; then its socket directory → a tmpfs owned by postgres; then psql answers', async () => {
    const { id, rounds, profile } = await untilItRuns(tags.postgres, [], '30s');
    try {
      const first = rounds[0]!;
      expect(first.user).toMatchObject({ uid: 65534, name: 'nobody' });
      expect(first.findings).toHaveLength(1);
      expect(first.findings[0]).toMatchObject({ kind: 'not-owner', rule: 'SD-USER-001', path: '/var/lib/postgresql/data' });
      expect(parse(first.yaml)).toEqual({ defaults: { user: 'postgres' } });
      const second = rounds[1]!;
      expect(second.findings[0]).toMatchObject({ rule: 'SD-ROOTFS-001', path: '/var/run/postgresql' });
      expect(rounds).toHaveLength(2);
      const pg = (await execIn(id, ['id', '-u', 'postgres'])).stdout.trim();
      // `defaults.user: postgres` is resolved to its ids on the image's files before create, so the
      // tmpfs sdocker adds is owned by them without options in the profile.
      expect(profile.defaults?.tmpfs).toContainEqual({ path: '/var/run/postgresql', size: '64m' });
      expect((await execIn(id, ['stat', '-c', '%u', '/var/run/postgresql'])).stdout.trim()).toBe(pg);
      await eventually(async () => ((await execIn(id, ['pg_isready', '-q'])).code === 0 ? true : undefined), 60_000);
      const q = await execIn(id, ['psql', '-U', 'postgres', '-tAc', 'select 1']);
      expect(q.stdout.trim()).toBe('1');
      const who = await execIn(id, ['sh', '-c', 'grep -E "^(Uid|CapEff)" /proc/1/status']);
      expect(who.stdout).toMatch(new RegExp(`Uid:\\s+${pg}\\s+${pg}`));
      expect(who.stdout).toMatch(/CapEff:\s+0000000000000000/);
    } finally {
      await docker(['rm', '-f', '-v', id]);
    }
  }, 300_000);

  it('redis runs as it is (its USER) and answers docker exec redis-cli ping', async () => {
    const r = await sdocker(['run', '-d', ...labels.args, tags.redis], { cwd: tmp.path, env: baseEnv, timeoutMs: 60_000 });
    const id = r.stdout.trim();
    try {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const pong = await eventually(async () => {
        const p = await execIn(id, ['redis-cli', 'ping']);
        return p.stdout.trim() === 'PONG' ? p.stdout.trim() : undefined;
      }, 20_000);
      expect(pong).toBe('PONG');
    } finally {
      await docker(['rm', '-f', '-v', id]);
    }
  }, 90_000);
});

describe('the watch after -d', () => {
  const dying = [IMAGES.user, 'sh', '-c', 'echo about to fail; exit 3'];

  it('a container dying within the watch: its status, its last lines, and nothing recognised said so', async () => {
    const r = await sdocker(['run', '-d', ...labels.args, ...dying], { cwd: tmp.path, env: baseEnv });
    expect(r.code).toBe(3);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toMatch(/exited with status 3 [\d.]+s after its start, running as user \(uid 1000, gid 1000\)/);
    expect(r.stderr).toContain('| about to fail');
    await docker(['rm', '-f', r.stdout.trim()]);
  });

  it('--no-watch, --watch 0 and --policy privileged return at once with 0, as docker does', async () => {
    for (const flags of [['--no-watch'], ['--watch', '0'], ['--policy', 'privileged']]) {
      const t0 = Date.now();
      const r = await sdocker(['run', '-d', ...flags, ...labels.args, ...dying], { cwd: tmp.path, env: baseEnv });
      expect(r.code, flags.join(' ')).toBe(0);
      expect(r.stderr, flags.join(' ')).toBe('');
      expect(Date.now() - t0).toBeLessThan(3000);
      await docker(['rm', '-f', r.stdout.trim()]);
    }
  });

  it('a container still running when the watch ends: 0, silent', async () => {
    const r = await sdocker(['run', '-d', '--watch', '500ms', ...labels.args, IMAGES.user, 'sleep', '30'], { cwd: tmp.path, env: baseEnv });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    await docker(['rm', '-f', r.stdout.trim()]);
  });
});

describe('a foreground run', () => {
  it('with --rm: diagnosed from the output as it streamed (the container is gone), the status kept, nothing left', async () => {
    const r = await sdocker(['run', '--rm', '--output', 'json', ...labels.args, IMAGES.user, 'sh', '-c', 'mkdir /home/user/cache; exit 4'], { cwd: tmp.path, env: baseEnv });
    expect(r.code).toBe(4);
    const d = diagnosisOf(r.stderr);
    expect(d.findings[0]).toMatchObject({ rule: 'SD-ROOTFS-001', path: '/home/user' });
    expect(d.findings[0]!.flags).toEqual(['--tmpfs /home/user:uid=1000,gid=1000']);
    expect(await listContainers(`${labels.key}=${labels.value}`)).toEqual([]);
  });

  it('a plain non-zero exit with nothing recognised prints nothing of its own', async () => {
    const r = await sdocker(['run', '--rm', ...labels.args, IMAGES.user, 'sh', '-c', 'exit 5'], { cwd: tmp.path, env: baseEnv });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('');
  });
});

describe('defaults.capabilities', () => {
  it('added on every run when allow.capabilities lists it: seen in CapEff of a root process; refused without the allowance', async () => {
    const dir = tempDir('real-caps');
    try {
      const allowRoot = '  root: { reason: "test: a root-then-drop entrypoint", withoutUsernsRemap: true }\n';
      writeFileSync(join(dir.path, 'sdocker.yaml'), `defaults:\n  capabilities: [CHOWN]\nallow:\n${allowRoot}  capabilities:\n    - { name: CHOWN, reason: "test: the entrypoint chowns /data" }\n`);
      const ok = await sdocker(['run', '--rm', '-u', '0:0', ...labels.args, IMAGES.root, 'sh', '-c', 'grep CapEff /proc/self/status; chown 1000 /tmp && stat -c %u /tmp'], { cwd: dir.path, env: baseEnv });
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toMatch(/CapEff:\s+0000000000000001\n1000\n/); // CAP_CHOWN is bit 0, and nothing else
      expect(ok.code).toBe(0);
      writeFileSync(join(dir.path, 'sdocker.yaml'), `defaults:\n  capabilities: [SYS_ADMIN]\nallow:\n${allowRoot}`);
      const refused = await sdocker(['run', '--rm', '-u', '0:0', ...labels.args, IMAGES.root, 'true'], { cwd: dir.path, env: baseEnv });
      expect(refused.code).toBe(125);
      expect(refused.stderr).toContain('SD-CAP-001');
      expect(refused.stderr).toContain('name: SYS_ADMIN');
      expect(await listContainers(`${labels.key}=${labels.value}`)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});
