/**
 * Issue 12 part 1: a request names its project's profile (compose's working_dir label, or
 * io.sdocker.project), and the door reads it only when the socket's profile allows project
 * profiles (door.projectProfiles), under the machine floor and the socket's ceiling. Real doors
 * (bin/sdocker serve), real docker-compose 1.29 and docker CLI, run as uid 1000 (setpriv, in the
 * door's group); the proof is read inside the containers (/proc/self/status, the memory cgroup).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingStatus } from '../helpers/door.js';
import { CLI, cleanupTestObjects, spawnCollect, TEST_LABELS, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { caseLabel, docker, listContainers, tempDir } from '../policy/engine-checks.js';

const hasCompose = existsSync('/usr/bin/docker-compose');
const tmp = tempDir('door-projprof');
const R = tmp.path;
const projects = join(R, 'projects');
const doorDir = join(R, 'door');
const home = join(R, 'home');
const outside = join(R, 'outside');
const UID = 1000;

interface Door {
  socket: string;
  proc?: ChildProcess;
  out: string;
  err: string;
}
const withKey: Door = { socket: join(R, 'a.sock'), out: '', err: '' };
const withoutKey: Door = { socket: join(R, 'b.sock'), out: '', err: '' };

function give(path: string, uid = UID, mode?: number): void {
  chownSync(path, uid, uid);
  if (mode !== undefined) chmodSync(path, mode);
}

function labelsYaml(indent: string): string {
  return Object.entries(TEST_LABELS).map(([k, v]) => `${indent}${k}: "${v}"`).join('\n');
}

/** A compose project owned by uid 1000: its sdocker.yaml (if any) and services. */
function project(parent: string, name: string, profile: string | undefined, services: Record<string, string>): { dir: string; name: string } {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  give(dir, UID, 0o755);
  const body = Object.entries(services)
    .map(([svc, extra]) => `  ${svc}:\n    image: ${IMAGES.root}\n    command: ["sh", "-c", "exec sleep 300"]\n    labels:\n${labelsYaml('      ')}\n${extra}`)
    .join('\n');
  writeFileSync(join(dir, 'docker-compose.yml'), `version: "3.8"\nservices:\n${body}\n`);
  give(join(dir, 'docker-compose.yml'), UID, 0o644);
  if (profile !== undefined) {
    writeFileSync(join(dir, 'sdocker.yaml'), profile);
    give(join(dir, 'sdocker.yaml'), UID, 0o644);
  }
  return { dir, name: `${name}${process.pid}` };
}

/** A command as uid 1000, in the door's group (gid 0: the door's socket is root:root 0660). */
function as1000(door: Door, cmd: string, args: string[], cwd = home, timeoutMs = 120_000) {
  return spawnCollect('setpriv', [`--reuid=${UID}`, `--regid=${UID}`, '--groups=0', '--', cmd, ...args], {
    cwd, timeoutMs, env: { HOME: home, DOCKER_HOST: `unix://${door.socket}`, DOCKER_CONFIG: join(home, '.docker'), DOCKER_CONTEXT: undefined, COMPOSE_INTERACTIVE_NO_CLI: '1' },
  });
}

function compose(door: Door, p: { dir: string; name: string }, args: string[]) {
  return as1000(door, 'docker-compose', ['-p', p.name, ...args], p.dir);
}

async function down(p: { dir: string; name: string }): Promise<void> {
  await compose(withKey, p, ['down', '-v', '-t', '1', '--remove-orphans']);
  for (const id of await listContainers(`com.docker.compose.project=${p.name}`)) await docker(['rm', '-f', id]);
}

async function startDoor(d: Door, profile: string | undefined): Promise<void> {
  d.proc = spawn(CLI, ['serve', '--socket', d.socket, '--log-format', 'json', ...(profile ? ['--profile', profile] : [])], {
    env: { ...process.env, SDOCKER_STATE_DIR: join(R, 'state'), DOCKER_CONTEXT: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  d.proc.stdout?.on('data', (c: Buffer) => (d.out += c.toString()));
  d.proc.stderr?.on('data', (c: Buffer) => (d.err += c.toString()));
  for (let i = 0; i < 100 && !(existsSync(d.socket) && (await pingStatus(d.socket)) === 200); i++) await new Promise((r) => setTimeout(r, 200));
  expect(await pingStatus(d.socket), d.err).toBe(200);
}

async function stopDoor(d: Door): Promise<void> {
  if (d.proc && d.proc.exitCode === null) {
    const exited = new Promise((r) => d.proc!.once('exit', r));
    d.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
}

const OK_PROFILE = `extends: restricted
defaults:
  memory: 1536m
allow:
  capabilities:
    - { name: CHOWN, reason: "the entrypoint chowns /data" }
`;

beforeAll(async () => {
  await ensureTestImages();
  chmodSync(R, 0o755);
  for (const d of [projects, doorDir]) mkdirSync(d, { mode: 0o755 });
  mkdirSync(home, { mode: 0o755 });
  give(home);
  mkdirSync(outside, { mode: 0o755 });
  // The socket's profile: restricted, project profiles under `projects`, capped by the ceiling.
  writeFileSync(join(doorDir, 'socket.yaml'), `extends: restricted\ndoor:\n  projectProfiles:\n    roots: [${projects}]\n    floor: ./ceiling.yaml\n`);
  writeFileSync(join(doorDir, 'ceiling.yaml'), [
    'extends: restricted',
    'allow:',
    '  capabilities:',
    '    - { name: CHOWN, reason: "projects may chown their files" }',
    '  root: { reason: "projects may run as root", withoutUsernsRemap: true }',
    'limits:',
    '  memory: 2g',
    '',
  ].join('\n'));
  await startDoor(withKey, join(doorDir, 'socket.yaml'));
  await startDoor(withoutKey, undefined);
});

afterAll(async () => {
  await stopDoor(withKey);
  await stopDoor(withoutKey);
  await cleanupTestObjects();
  tmp.remove();
});

describe.skipIf(!hasCompose)('project profiles through the door (compose 1.29, as uid 1000)', () => {
  it("a project's sdocker.yaml grants what the socket's profile refuses, only through a door that allows project profiles", async () => {
    // Root in the container too (the project and the ceiling allow it), so the capability is effective, not only bounded.
    const profile = `${OK_PROFILE}  root: { reason: "the entrypoint drops to the app user itself", withoutUsernsRemap: true }\n`;
    const p = project(projects, 'ppok', profile, { web: '    cap_add: [CHOWN]\n    user: "0:0"\n' });
    try {
      const up = await compose(withKey, p, ['up', '-d']);
      expect(up.code, `${up.stdout}${up.stderr}\n${withKey.err}`).toBe(0);
      const [id] = await listContainers(`com.docker.compose.project=${p.name}`);
      expect(id).toBeDefined();
      // Inside: CAP_CHOWN (bit 0) effective and bounding, nothing else; the memory limit is the project's default.
      const ex = await compose(withKey, p, ['exec', '-T', 'web', 'sh', '-c', 'grep -E "^Cap(Eff|Bnd):" /proc/self/status; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; id -u']);
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stdout).toMatch(/CapEff:\s+0000000000000001/);
      expect(ex.stdout).toMatch(/CapBnd:\s+0000000000000001/);
      expect(ex.stdout).toMatch(/^1610612736$/m);
      expect(ex.stdout).toMatch(/^0$/m);
      // docker inspect and the run record name the profile that judged it, with its sha256.
      const sha = createHash('sha256').update(profile).digest('hex');
      const labels = JSON.parse((await docker(['inspect', '--format', '{{json .Config.Labels}}', id!])).stdout) as Record<string, string>;
      expect(labels['io.sdocker.profile']).toBe(join(p.dir, 'sdocker.yaml'));
      expect(labels['io.sdocker.profile.sha256']).toBe(sha);
      const recs = readFileSync(join(R, 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { containerId?: string; profiles: { path: string; sha256?: string; role: string }[]; peer?: { uid: number } });
      const rec = recs.find((r) => r.containerId === id);
      expect(rec?.profiles).toContainEqual({ path: join(p.dir, 'sdocker.yaml'), sha256: sha, role: 'project' });
      expect(rec?.profiles.some((s) => s.path === join(doorDir, 'ceiling.yaml') && s.role === 'floor')).toBe(true);
      expect(rec?.peer?.uid).toBe(UID);
      // The same project through a door whose profile has no door.projectProfiles: refused, and compose says why.
      await compose(withKey, p, ['down', '-t', '1']);
      const refused = await compose(withoutKey, p, ['up', '-d']);
      expect(refused.code).not.toBe(0);
      const out = `${refused.stdout}${refused.stderr}`;
      expect(out).toContain('SD-CAP-001');
      expect(out).toContain("this door's profile does not allow project profiles");
      expect(await listContainers(`com.docker.compose.project=${p.name}`)).toEqual([]);
    } finally {
      await down(p);
    }
  });

  it('a project profile asking more than the ceiling is capped (memory, inside) or refused (a capability), naming the ceiling', async () => {
    const greedy = `extends: restricted\ndefaults:\n  memory: 3g\nallow:\n  capabilities:\n    - { name: SYS_ADMIN, reason: "wants it" }\n`;
    const a = project(projects, 'ppcap', greedy, { web: '' });
    const b = project(projects, 'ppcap2', greedy, { web: '    cap_add: [SYS_ADMIN]\n' });
    try {
      const up = await compose(withKey, a, ['up', '-d']);
      expect(up.code, `${up.stdout}${up.stderr}`).toBe(0);
      const ex = await compose(withKey, a, ['exec', '-T', 'web', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
      expect(ex.stdout.trim()).toBe(String(2 * 1024 ** 3)); // 3g asked, the ceiling's limits.memory 2g
      const no = await compose(withKey, b, ['up', '-d']);
      expect(no.code).not.toBe(0);
      const out = `${no.stdout}${no.stderr}`;
      expect(out).toContain('SD-CAP-001');
      expect(out).toContain(join(doorDir, 'ceiling.yaml'));
      expect(await listContainers(`com.docker.compose.project=${b.name}`)).toEqual([]);
    } finally {
      await down(a);
      await down(b);
    }
  });

  it("compose's label outside the roots: the door's own profile applies (hardened), and the answer says so", async () => {
    const p = project(outside, 'ppout', OK_PROFILE, { web: '    cap_add: [CHOWN]\n' });
    try {
      const up = await compose(withKey, p, ['up', '-d']);
      expect(up.code).not.toBe(0);
      const out = `${up.stdout}${up.stderr}`;
      expect(out).toContain('SD-CAP-001');
      expect(out).toContain("is not under the door's project roots");
      expect(await listContainers(`com.docker.compose.project=${p.name}`)).toEqual([]);
    } finally {
      await down(p);
    }
  });
});

describe('io.sdocker.project through the docker CLI, as uid 1000', () => {
  /** `docker create` naming a project directory; nothing may be left behind. */
  async function create(dir: string, extra: string[] = []) {
    const c = caseLabel('pp');
    const t0 = Date.now();
    const r = await as1000(withKey, 'docker', ['create', ...c.args, '--label', `io.sdocker.project=${dir}`, ...extra, IMAGES.root, 'true'], home, 30_000);
    const ms = Date.now() - t0;
    const left = await listContainers(`${c.key}=${c.value}`);
    for (const id of left) await docker(['rm', '-f', id]);
    return { ...r, ms, left };
  }

  it('names a project: docker run gets its allowances (inside), and the label is not kept', async () => {
    const p = project(projects, 'ppcli', OK_PROFILE, {});
    const r = await as1000(withKey, 'docker', ['run', '--rm', ...TEST_LABEL_ARGS, '--label', `io.sdocker.project=${p.dir}`, '--cap-add', 'CHOWN', IMAGES.root, 'grep', 'CapBnd', '/proc/self/status'], home, 60_000);
    expect(r.code, `${r.stderr}\n${withKey.err}`).toBe(0);
    expect(r.stdout).toMatch(/CapBnd:\s+0000000000000001/);
    // The request's label is the door's question, not a label: the container carries the answer instead.
    const c = caseLabel('ppkeep');
    const made = await as1000(withKey, 'docker', ['create', ...c.args, '--label', `io.sdocker.project=${p.dir}`, IMAGES.root, 'true'], home, 30_000);
    expect(made.code, made.stderr).toBe(0);
    const labels = JSON.parse((await docker(['inspect', '--format', '{{json .Config.Labels}}', made.stdout.trim()])).stdout) as Record<string, string>;
    await docker(['rm', '-f', made.stdout.trim()]);
    expect(labels['io.sdocker.project']).toBeUndefined();
    expect(labels['io.sdocker.profile']).toBe(join(p.dir, 'sdocker.yaml'));
    // Without the label, the socket's profile (restricted) refuses the same capability.
    const plain = await as1000(withKey, 'docker', ['run', '--rm', ...TEST_LABEL_ARGS, '--cap-add', 'CHOWN', IMAGES.root, 'true'], home, 60_000);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('SD-CAP-001');
    const refused = await create(join(projects, 'nothing-here'), ['--cap-add', 'CHOWN']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('SD-DOOR-007');
    expect(refused.left).toEqual([]);
  });

  it.each([
    ['sdocker.yaml a symbolic link to another file', () => {
      const p = project(projects, 'ppsym', undefined, {});
      project(projects, 'pptarget', OK_PROFILE, {});
      symlinkSync(join(projects, 'pptarget', 'sdocker.yaml'), join(p.dir, 'sdocker.yaml'));
      return p.dir;
    }, 'is a symbolic link'],
    ["a directory under the roots owned by another user", () => {
      const p = project(projects, 'ppother', OK_PROFILE, {});
      execFileSync('chown', ['-R', '1001:1001', p.dir]);
      return p.dir;
    }, 'belongs to uid 1001'],
    ['a directory outside the roots', () => project(outside, 'ppout2', OK_PROFILE, {}).dir, "is not under the door's project roots"],
    ['a path with ..', () => `${project(projects, 'ppdots', OK_PROFILE, {}).dir}/../ppdots`, 'must not hold a .. segment'],
    ['a symbolic link to a directory', () => {
      const target = project(projects, 'pplinked', OK_PROFILE, {});
      symlinkSync(target.dir, join(projects, 'ppdirlink'));
      return join(projects, 'ppdirlink');
    }, 'is a symbolic link or not a directory'],
    ['a FIFO named sdocker.yaml', () => {
      const p = project(projects, 'ppfifo', undefined, {});
      execFileSync('mkfifo', [join(p.dir, 'sdocker.yaml')]);
      give(join(p.dir, 'sdocker.yaml'), UID, 0o644);
      return p.dir;
    }, 'is not a regular file'],
    ['a file the client cannot read', () => {
      const p = project(projects, 'ppsecret', undefined, {});
      writeFileSync(join(p.dir, 'sdocker.yaml'), 'SECRET_TOKEN_8b1f2c: "root only"\n');
      give(join(p.dir, 'sdocker.yaml'), 0, 0o600);
      return p.dir;
    }, 'is not readable by the client'],
    ['a group-writable project directory', () => {
      const p = project(projects, 'ppgroup', OK_PROFILE, {});
      chmodSync(p.dir, 0o775);
      return p.dir;
    }, 'is writable by group'],
  ])('refused: %s (SD-DOOR-007, nothing created, the door does not hang)', async (_what, make, why) => {
    const dir = make();
    const r = await create(dir, ['--cap-add', 'CHOWN']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-DOOR-007');
    expect(r.stderr).toContain(why);
    expect(r.left).toEqual([]);
    expect(r.ms).toBeLessThan(15_000);
    // Nothing of a file the client cannot read reaches the client or the door's log.
    for (const text of [r.stdout, r.stderr, withKey.out, withKey.err]) expect(text).not.toContain('SECRET_TOKEN');
  });
});
