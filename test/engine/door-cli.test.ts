/**
 * Issue 12 "what it must show", docker CLI part: the real docker CLI with DOCKER_HOST naming the
 * door (its own server and judge): `run -it` under script(1), attach, `logs -f`, events, `cp` and a
 * classic build work unchanged, and a `run` through the door is hardened (uid, capabilities, from
 * inside); `exec --privileged`, `exec -u 0`, `update --pids-limit -1`, `volume create` with
 * `o=bind,device=/etc`, and a build on the host network are refused with the rule, and leave
 * nothing (no exec instance, the pids limit as it was, no volume). Then `sdocker` itself (the CLI
 * as `alias docker=sdocker` uses it): pass-through commands go through a private door.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { loadDoorProfile } from '../../src/door/core.js';
import { startPrivateDoor, type PrivateDoor } from '../../src/door/private.js';
import { cleanupTestObjects, spawnCollect, TEST_LABEL_ARGS, testName, volumeExists } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, sdocker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('door-cli');
const env = { ...process.env, SDOCKER_STATE_DIR: join(tmp.path, 'state') };
let door: PrivateDoor;
const tag = `sdt-door-build-${process.pid}-${Date.now().toString(36)}`;

/** The docker CLI through the door. */
function viaDoor(args: string[], opts: { timeoutMs?: number; env?: Record<string, string | undefined> } = {}) {
  return spawnCollect('docker', args, { env: { DOCKER_HOST: door.host, DOCKER_CONTEXT: undefined, ...(opts.env ?? {}) }, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
}

beforeAll(async () => {
  await ensureTestImages();
  door = await startPrivateDoor({ endpoint: resolveEndpoint({}, process.env), profile: await loadDoorProfile({ env, cwd: tmp.path }), env, cwd: tmp.path, warn: () => undefined });
});

afterAll(async () => {
  await door?.stop();
  await cleanupTestObjects();
  await docker(['image', 'rm', '-f', `${tag}:ok`, `${tag}:host`]);
  tmp.remove();
});

describe('the docker CLI through the door', () => {
  it('run -it under script(1) works, hardened: uid 65534, no capability, as seen from inside', async () => {
    const line = `docker run -it --rm --network none ${TEST_LABEL_ARGS.join(' ')} ${IMAGES.root} sh -c 'id -u; grep CapEff /proc/self/status; echo done'`;
    const r = await spawnCollect('script', ['-qec', line, '/dev/null'], { env: { DOCKER_HOST: door.host } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/(^|[^0-9])65534\r?$/m);
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(r.stdout).toContain('done');
  });

  it('attach, logs -f, events and cp work', async () => {
    const name = testName('sdt-door-cli');
    const since = Math.floor(Date.now() / 1000) - 1;
    const made = await viaDoor(['run', '-d', '--network', 'none', '--name', name, ...TEST_LABEL_ARGS, IMAGES.root, 'sh', '-c', 'sleep 2; for i in 1 2 3; do echo line$i; sleep 0.3; done; sleep 2']);
    expect(made.code, made.stderr).toBe(0);
    const [attach, logs] = await Promise.all([viaDoor(['attach', '--no-stdin', name]), viaDoor(['logs', '-f', name])]);
    expect(attach.code, attach.stderr).toBe(0);
    expect(attach.stdout).toContain('line3');
    expect(logs.stdout.trim().split('\n')).toEqual(['line1', 'line2', 'line3']);
    const ev = await viaDoor(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--format', '{{.Action}}']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout.split('\n')).toEqual(expect.arrayContaining(['create', 'start', 'die']));
    const cp = await viaDoor(['cp', `${name}:/etc/passwd`, join(tmp.path, 'passwd')]);
    expect(cp.code, cp.stderr).toBe(0);
    expect(readFileSync(join(tmp.path, 'passwd'), 'utf8')).toContain('root:');
  });

  it('a classic build works; on the host network it is refused (SD-BUILD-001)', async () => {
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${IMAGES.root}\nLABEL sdocker.test=1\nCOPY built /built\n`);
    writeFileSync(join(ctx, 'built'), 'built\n');
    const ok = await viaDoor(['build', '-q', '--force-rm', '-t', `${tag}:ok`, ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await docker(['image', 'inspect', `${tag}:ok`])).code).toBe(0);
    const host = await viaDoor(['build', '-q', '--force-rm', '--network', 'host', '-t', `${tag}:host`, ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    expect(host.code).not.toBe(0);
    expect(host.stderr).toContain('SD-BUILD-001');
    expect((await docker(['image', 'inspect', `${tag}:host`])).code).not.toBe(0);
  });

  it('exec --privileged and exec -u 0 are refused (no exec instance made); update --pids-limit -1 is refused (the limit stays)', async () => {
    const name = testName('sdt-door-exec');
    const made = await viaDoor(['run', '-d', '--network', 'none', '--name', name, ...TEST_LABEL_ARGS, IMAGES.root, 'sleep', '300']);
    expect(made.code, made.stderr).toBe(0);
    const priv = await viaDoor(['exec', '--privileged', name, 'id']);
    expect(priv.code).not.toBe(0);
    expect(priv.stderr).toContain('Error response from daemon');
    expect(priv.stderr).toContain('SD-EXEC-001');
    const root = await viaDoor(['exec', '-u', '0', name, 'id', '-u']);
    expect(root.code).not.toBe(0);
    expect(root.stderr).toContain('SD-EXEC-002');
    expect(root.stdout).toBe('');
    expect((await docker(['inspect', '--format', '{{json .ExecIDs}}', name])).stdout.trim()).toBe('null');
    const before = (await docker(['exec', name, 'cat', '/sys/fs/cgroup/pids/pids.max'])).stdout.trim() || (await docker(['exec', name, 'cat', '/sys/fs/cgroup/pids.max'])).stdout.trim();
    expect(before).toMatch(/^\d+$/);
    const upd = await viaDoor(['update', '--pids-limit', '-1', name]);
    expect(upd.code).not.toBe(0);
    expect(upd.stderr).toContain('SD-UPDATE-001');
    const after = (await docker(['exec', name, 'cat', '/sys/fs/cgroup/pids/pids.max'])).stdout.trim() || (await docker(['exec', name, 'cat', '/sys/fs/cgroup/pids.max'])).stdout.trim();
    expect(after).toBe(before);
    const ok = await viaDoor(['exec', name, 'id', '-u']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('65534');
  });

  it('volume create with o=bind,device=/etc is refused, no volume made', async () => {
    const vol = `sdt-door-etc-${process.pid}`;
    const r = await viaDoor(['volume', 'create', '--label', 'sdocker.test=1', '-o', 'type=none', '-o', 'o=bind', '-o', 'device=/etc', vol]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/SD-MNT-00[26]/);
    expect(await volumeExists(vol)).toBe(false);
  });
});

describe('sdocker (alias docker=sdocker): pass-through commands reach the engine through a private door', () => {
  it('a network the door refuses (macvlan, which no argv check looks at) is refused through sdocker, and not made', async () => {
    const net = `sdt-door-net-${process.pid}`;
    const r = await sdocker(['network', 'create', '-d', 'macvlan', '--label', 'sdocker.test=1', net], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-DOOR-005');
    expect((await docker(['network', 'inspect', net])).code).not.toBe(0);
  });

  it('ordinary pass-through commands work through it, SDOCKER_HOST names a running door instead, and read-only ones go straight to docker', async () => {
    const vol = `sdt-door-v-${process.pid}`;
    const made = await sdocker(['volume', 'create', '--label', 'sdocker.test=1', vol], { env });
    expect(made.code, made.stderr).toBe(0);
    expect(await volumeExists(vol)).toBe(true);
    const again = await sdocker(['volume', 'create', '--label', 'sdocker.test=1', `${vol}-2`], { env: { ...env, SDOCKER_HOST: door.host } });
    expect(again.code, again.stderr).toBe(0);
    expect(await volumeExists(`${vol}-2`)).toBe(true);
    // SDOCKER_HOST naming nothing: the command fails rather than going around the door.
    const none = await sdocker(['volume', 'create', `${vol}-3`], { env: { ...env, SDOCKER_HOST: `unix://${join(tmp.path, 'absent.sock')}` } });
    expect(none.code).not.toBe(0);
    expect(await volumeExists(`${vol}-3`)).toBe(false);
    // volume rm is not judged: it works whatever SDOCKER_HOST says.
    const rm = await sdocker(['volume', 'rm', vol, `${vol}-2`], { env: { ...env, SDOCKER_HOST: `unix://${join(tmp.path, 'absent.sock')}` } });
    expect(rm.code, rm.stderr).toBe(0);
    expect(await volumeExists(vol)).toBe(false);
  });
});
