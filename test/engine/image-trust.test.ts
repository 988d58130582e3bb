/**
 * Issue 10, parts 1, 2 and 5, through the built CLI, the real engine and Debian's docker-registry
 * on 127.0.0.1: the allowlist refuses before any pull (the registry never sees the request),
 * sdocker.lock is written on first use, a tag moved on the registry is refused (SD-IMG-003),
 * --update-lock moves the pin, the create is pinned to the digest, pulls by digest, registry
 * credentials from the docker config (auths, a credential helper) and none (the engine's error),
 * and DOCKER_CONTENT_TRUST refused as docker refuses it without a notary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { httpApi } from '../../src/engine/http-api.js';
import { pullImage } from '../../src/engine/pull.js';
import { cleanupTestObjects, engineClient, runCli, TEST_LABEL_ARGS, TEST_LABELS } from '../helpers/engine.js';
import { ensureImage, VARIANTS } from '../helpers/images.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';

// No network: nothing here needs one (and the bridge is shared with other tests).
const L = [...TEST_LABEL_ARGS, '--network', 'none'];
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const tmp = mkdtempSync(join(tmpdir(), 'sdocker-imgtrust-'));
const project = join(tmp, 'project');
const state = join(tmp, 'state');
const env = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: state, DOCKER_CONTENT_TRUST: undefined };
let reg: TestRegistry;
let app: string;
let other: string;
const made: string[] = [];

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function rmi(ref: string): void {
  try {
    docker('rmi', '-f', ref);
  } catch {
    // not there
  }
}
const sdocker = (args: string[], extra: Record<string, string | undefined> = {}, cwd = project) => runCli(args, { cwd, env: { ...env, ...extra } });
const repoDigest = (ref: string, name: string) =>
  (JSON.parse(docker('image', 'inspect', '-f', '{{json .RepoDigests}}', ref)) as string[]).find((d) => d.startsWith(`${name}@`))!.split('@')[1]!;
const lockLines = () => readFileSync(join(project, 'sdocker.lock'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));

/** Build an image whose /marker.txt says `marker`, tag it `ref` and push it. */
async function pushImage(ref: string, marker: string): Promise<void> {
  const local = `sdocker-test/trust:${tag}-${marker}`;
  made.push(local, ref);
  await ensureImage(local, VARIANTS.root, { 'marker.txt': `${marker}\n` });
  docker('tag', local, ref);
  docker('push', '-q', ref);
}

beforeAll(async () => {
  reg = await startTestRegistry();
  app = `${reg.address}/sdt-trust/app:v1`;
  other = `${reg.address}/elsewhere/app:v1`;
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'sdocker.yaml'), `images:\n  allow: ["${reg.address}/sdt-trust/**", "docker.io/library/*"]\n  lock: true\n`);
  await pushImage(app, `A-${tag}`);
  await pushImage(other, `O-${tag}`);
  rmi(app);
  rmi(other);
});

/** Every image reference (tags and digests) of a test registry: pulls leave NAME@digest behind. */
function rmiRegistry(address: string | undefined): void {
  if (!address) return;
  for (const line of docker('images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}').split('\n')) {
    const [repo, t, digest] = line.split(' ');
    if (!repo?.startsWith(`${address}/`)) continue;
    if (t && t !== '<none>') rmi(`${repo}:${t}`);
    if (digest && digest !== '<none>') rmi(`${repo}@${digest}`);
  }
}

afterAll(async () => {
  await cleanupTestObjects();
  for (const r of made) rmi(r);
  rmiRegistry(reg?.address);
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('allowlist', () => {
  it('refuses an image outside the allowlist before any pull: the registry never hears of it', async () => {
    const mark = await reg.settled();
    const r = await sdocker(['run', '--rm', ...L, other, 'cat', '/marker.txt']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-IMG-001');
    expect(r.stderr).toContain(`normalised: ${other}`);
    expect(r.stderr).toContain(`    - ${reg.address}/elsewhere/app`);
    expect(r.stdout).toBe('');
    await reg.settled();
    expect(reg.log().slice(mark)).not.toContain('/v2/elsewhere/');
    expect(() => docker('image', 'inspect', other)).toThrow();
    // The same image is there to be pulled: docker itself fetches it (the control).
    const control = execFileSync('docker', ['pull', '-q', other], { encoding: 'utf8' });
    expect(control.trim()).toBe(other);
    await reg.settled();
    expect(reg.log().slice(mark)).toMatch(/"(GET|HEAD) \/v2\/elsewhere\/app\/manifests\/v1 /);
    rmi(other);
  });

  it('judges the name docker reads: index.docker.io/library/x is docker.io/library/x (allowed), a short id of a local image is not', async () => {
    const id = docker('image', 'inspect', '-f', '{{.Id}}', `sdocker-test/trust:${tag}-O-${tag}`).trim();
    const r = await sdocker(['run', '--rm', ...L, id.slice(7, 19), 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/SD-IMG-001[^]*no tag of this image: the engine found image sha256:[0-9a-f]{64} by an id prefix/);
  });
});

describe('sdocker.lock', () => {
  let digestA = '';

  it('is written on first use (mode 0644), pins the manifest digest, and the container is created from NAME@digest', async () => {
    expect(existsSync(join(project, 'sdocker.lock'))).toBe(false);
    const mark = await reg.settled();
    const r = await sdocker(['run', '--rm', ...L, app, 'cat', '/marker.txt']);
    expect(r.stderr).not.toMatch(/SD-IMG/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`A-${tag}\n`);
    await reg.settled();
    expect(reg.log().slice(mark)).toMatch(/"(GET|HEAD) \/v2\/sdt-trust\/app\/manifests\/v1 /);
    digestA = repoDigest(app, `${reg.address}/sdt-trust/app`);
    expect(lockLines()).toEqual([`${app} digest ${digestA}`]);
    expect(statSync(join(project, 'sdocker.lock')).mode & 0o777).toBe(0o644);
    const name = `sdt-trust-${tag}`;
    const c = await sdocker(['create', ...L, '--name', name, app, 'true']);
    expect(c.code).toBe(0);
    expect(docker('inspect', '-f', '{{.Config.Image}}', name).trim()).toBe(`${reg.address}/sdt-trust/app@${digestA}`);
    docker('rm', '-v', name);
  });

  it('refuses the run when the tag has moved on the registry (SD-IMG-003), and creates nothing', async () => {
    await pushImage(app, `B-${tag}`);
    rmi(app);
    const before = docker('ps', '-aq', '--filter', `label=sdocker.test.owner=${TEST_LABELS['sdocker.test.owner']}`);
    const r = await sdocker(['run', '--rm', ...L, app, 'cat', '/marker.txt']);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('SD-IMG-003');
    expect(r.stderr).toContain(`${join(project, 'sdocker.lock')}: ${app} is pinned to digest ${digestA}`);
    expect(r.stderr).toContain('--update-lock');
    expect(docker('ps', '-aq', '--filter', `label=sdocker.test.owner=${TEST_LABELS['sdocker.test.owner']}`)).toBe(before);
    expect(lockLines()).toEqual([`${app} digest ${digestA}`]);
  });

  it('--update-lock accepts the new image and moves the pin', async () => {
    const r = await sdocker(['run', '--rm', '--update-lock', ...L, app, 'cat', '/marker.txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`B-${tag}\n`);
    const digestB = repoDigest(app, `${reg.address}/sdt-trust/app`);
    expect(digestB).not.toBe(digestA);
    expect(r.stderr).toContain(`moves from digest ${digestA} to digest ${digestB} (--update-lock)`);
    expect(lockLines()).toEqual([`${app} digest ${digestB}`]);
    // And the next plain run agrees with the lock.
    const again = await sdocker(['run', '--rm', ...L, app, 'cat', '/marker.txt']);
    expect(again.code).toBe(0);
  });

  it('pulls by digest: NAME@digest of the first image runs it, without touching the lock', async () => {
    const byDigest = `${reg.address}/sdt-trust/app@${digestA}`;
    rmi(byDigest);
    expect(() => docker('image', 'inspect', byDigest)).toThrow();
    const mark = await reg.settled();
    const r = await sdocker(['run', '--rm', ...L, byDigest, 'cat', '/marker.txt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`A-${tag}\n`);
    expect(r.stderr).toContain(`Digest: ${digestA}`);
    expect(r.stderr).toContain(`Status: Downloaded newer image for ${byDigest}`);
    // The engine asked the registry (it may skip the manifest when it still holds the layers).
    await reg.settled();
    expect(reg.log().slice(mark)).toContain('GET /v2/ ');
    expect(docker('image', 'inspect', '-f', '{{.Id}}', byDigest)).toMatch(/^sha256:/);
    expect(lockLines()).toHaveLength(1);
  });

  it('a lock that is a symbolic link is refused, not followed; a corrupt lock names its line', async () => {
    const dir = join(tmp, 'linked');
    mkdirSync(dir);
    writeFileSync(join(dir, 'sdocker.yaml'), `images:\n  lock: true\n`);
    const target = join(tmp, 'secret.txt');
    writeFileSync(target, 'SECRET-CONTENT\n');
    symlinkSync(target, join(dir, 'sdocker.lock'));
    const r = await sdocker(['run', '--rm', ...L, app, 'true'], {}, dir);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/sdocker.lock: cannot read the lock file: it is a symbolic link/);
    expect(r.stderr).not.toContain('SECRET');
    expect(readFileSync(target, 'utf8')).toBe('SECRET-CONTENT\n');
    rmSync(join(dir, 'sdocker.lock'));
    writeFileSync(join(dir, 'sdocker.lock'), `# ok\n${app} digest sha256:1234\n`);
    const bad = await sdocker(['run', '--rm', ...L, app, 'true'], {}, dir);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain(`${join(dir, 'sdocker.lock')}:2: the third field is not a digest`);
  });
});

describe('pull progress', () => {
  it('on a terminal each layer\'s line is redrawn in place (cursor up, erase, cursor down); elsewhere plain lines', async () => {
    // An image with a layer of its own, present nowhere but on the registry.
    const ref = `${reg.address}/sdt-trust/progress:v1`;
    await pushImage(ref, `P-${tag}`);
    rmi(`sdocker-test/trust:${tag}-P-${tag}`);
    const pullWith = async (tty: boolean) => {
      rmi(ref);
      const out = Object.assign(new PassThrough(), tty ? { isTTY: true, columns: 120 } : {});
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString('utf8')));
      const client = engineClient();
      try {
        await pullImage(httpApi(client), ref, { progress: out, env: { DOCKER_CONFIG: join(tmp, 'no-config') } });
      } finally {
        client.close();
      }
      return text;
    };
    const onTty = await pullWith(true);
    expect(onTty).toMatch(/^v1: Pulling from sdt-trust\/progress\n/);
    expect(onTty).toMatch(/\n\x1b\[1A\x1b\[2K\r[0-9a-f]{12}: (Pulling fs layer|Already exists|Waiting) ?\r\x1b\[1B/);
    expect(onTty).toMatch(/\x1b\[\d+A\x1b\[2K\r[0-9a-f]{12}: Pull complete \r\x1b\[\d+B/);
    expect(onTty).toMatch(/Status: Downloaded newer image for [^\n]+\n$/);
    const plain = await pullWith(false);
    expect(plain).not.toContain('\x1b');
    expect(plain).toMatch(/^[0-9a-f]{12}: Pull complete$/m);
  });
});

describe('registry credentials from the docker config', () => {
  let authReg: TestRegistry;
  let secured: string;
  const cfg = join(tmp, 'docker-auth');
  beforeAll(async () => {
    authReg = await startTestRegistry({ user: 'sdt', password: 'pw-sdt' });
    secured = `${authReg.address}/sdt-trust/auth:v1`;
    mkdirSync(cfg, { recursive: true });
    execFileSync('docker', ['--config', cfg, 'login', '-u', 'sdt', '--password-stdin', authReg.address], { input: 'pw-sdt\n', stdio: ['pipe', 'ignore', 'ignore'] });
    const local = `sdocker-test/trust:${tag}-auth`;
    made.push(local, secured);
    await ensureImage(local, VARIANTS.root, { 'marker.txt': `AUTH-${tag}\n` });
    docker('tag', local, secured);
    execFileSync('docker', ['--config', cfg, 'push', '-q', secured], { stdio: 'ignore' });
    rmi(secured);
  });
  afterAll(async () => {
    rmiRegistry(authReg?.address);
    await authReg?.stop();
  });

  it('without credentials the pull fails with the engine\'s error, exit 125', async () => {
    const empty = join(tmp, 'docker-empty');
    mkdirSync(empty, { recursive: true });
    const r = await sdocker(['run', '--rm', ...L, secured, 'true'], { DOCKER_CONFIG: empty }, tmp);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/no basic auth credentials|unauthorized|authentication required/i);
  });

  it('the auths entry of $DOCKER_CONFIG/config.json (as docker login wrote it) pulls', async () => {
    expect(JSON.parse(readFileSync(join(cfg, 'config.json'), 'utf8')).auths[authReg.address].auth).toBeTruthy();
    const r = await sdocker(['run', '--rm', ...L, secured, 'cat', '/marker.txt'], { DOCKER_CONFIG: cfg }, tmp);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`AUTH-${tag}\n`);
    rmi(secured);
  });

  it('a credential helper named by credHelpers (docker-credential-NAME get, the server on stdin) pulls', async () => {
    const bin = join(tmp, 'bin');
    const helperCfg = join(tmp, 'docker-helper');
    mkdirSync(bin, { recursive: true });
    mkdirSync(helperCfg, { recursive: true });
    const helper = `sdt${process.pid}`;
    const seen = join(tmp, 'helper-stdin');
    writeFileSync(join(bin, `docker-credential-${helper}`), `#!/bin/sh\n[ "$1" = get ] || exit 1\ncat > ${seen}\necho '{"ServerURL":"${authReg.address}","Username":"sdt","Secret":"pw-sdt"}'\n`);
    chmodSync(join(bin, `docker-credential-${helper}`), 0o755);
    writeFileSync(join(helperCfg, 'config.json'), JSON.stringify({ credHelpers: { [authReg.address]: helper } }));
    const r = await sdocker(['run', '--rm', ...L, secured, 'cat', '/marker.txt'], { DOCKER_CONFIG: helperCfg, PATH: `${bin}:${process.env.PATH ?? ''}` }, tmp);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`AUTH-${tag}\n`);
    expect(readFileSync(seen, 'utf8')).toBe(authReg.address);
    rmi(secured);
  });
});

describe('Docker Content Trust', () => {
  const local = () => `sdocker-test/trust:${tag}-A-${tag}`;
  it('with DOCKER_CONTENT_TRUST=1 a tag is refused (no notary), naming the variable and --disable-content-trust; docker refuses it too', async () => {
    const r = await sdocker(['run', '--rm', ...L, local(), 'true'], { DOCKER_CONTENT_TRUST: '1' }, tmp);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-IMG-004');
    expect(r.stderr).toContain('DOCKER_CONTENT_TRUST');
    expect(r.stderr).toContain('--disable-content-trust');
    let dockerCode = 0;
    try {
      execFileSync('docker', ['run', '--rm', ...L, local(), 'true'], { env: { ...process.env, DOCKER_CONTENT_TRUST: '1' }, stdio: 'ignore' });
    } catch (err) {
      dockerCode = (err as { status: number }).status;
    }
    expect(dockerCode).toBe(125);
  });

  it('--disable-content-trust=false turns it on without the variable; DOCKER_CONTENT_TRUST=yes is on too', async () => {
    expect((await sdocker(['run', '--rm', '--disable-content-trust=false', ...L, local(), 'true'], {}, tmp)).code).toBe(125);
    expect((await sdocker(['run', '--rm', ...L, local(), 'true'], { DOCKER_CONTENT_TRUST: 'yes' }, tmp)).code).toBe(125);
  });

  it('runs with --disable-content-trust, with DOCKER_CONTENT_TRUST=0, and by image id (docker checks tags only)', async () => {
    const a = await sdocker(['run', '--rm', '--disable-content-trust', ...L, local(), 'cat', '/marker.txt'], { DOCKER_CONTENT_TRUST: '1' }, tmp);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(`A-${tag}\n`);
    expect((await sdocker(['run', '--rm', ...L, local(), 'true'], { DOCKER_CONTENT_TRUST: '0' }, tmp)).code).toBe(0);
    const id = docker('image', 'inspect', '-f', '{{.Id}}', local()).trim();
    expect((await sdocker(['run', '--rm', ...L, id, 'true'], { DOCKER_CONTENT_TRUST: '1' }, tmp)).code).toBe(0);
  });
});
