/**
 * Issue 12, plugins and swarm services through the door, against a PRIVATE dockerd (its own
 * socket, data root and bridge: swarm is never initialised on the shared engine, and plugins are
 * installed only there), with the real docker CLI pointed at a door in front of it.
 *
 * Plugins: tiny plugins made here (config.json + a rootfs holding one static program that
 * listens on the plugin socket), pushed to Debian's docker-registry on 127.0.0.1. One asking for
 * no privilege installs and enables through the door; one asking for the host network and one
 * mounting `/` are refused at install with the privilege named; one created around the door is
 * refused at enable; `plugin set` of a mount source to /etc is refused.
 *
 * Services: a service created through the door runs hardened, as seen INSIDE its task container
 * (CapEff 0, uid 65534, a read-only root, the pids and memory limits in its cgroup); under the
 * plain restricted level it is refused because API 1.41 cannot carry no-new-privileges (SD-SVC-001,
 * naming API 1.46 and the line that accepts the engine default); `--cap-add SYS_ADMIN`, a bind of
 * /etc, the host network, the engine socket, and `service update --cap-add SYS_ADMIN` are refused
 * with the rule and the fix.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { loadDoorProfile } from '../../src/door/core.js';
import { startPrivateDoor, type PrivateDoor } from '../../src/door/private.js';
import { spawnCollect, TEST_LABELS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { startPrivateDockerd, type PrivateDockerd } from '../helpers/private-dockerd.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('door-swarm');
const env = { ...process.env, SDOCKER_STATE_DIR: join(tmp.path, 'state') };
const uniq = `${process.pid}-${Date.now().toString(36)}`;
let engine: PrivateDockerd;
let registry: TestRegistry;
/** The restricted level: every plugin privilege and every service refused. */
let strict: PrivateDoor;
/** restricted + the lines that accept the engine's defaults API 1.41 cannot replace. */
let services: PrivateDoor;

const LISTENER_C = `
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, argc > 1 ? argv[1] : "/run/docker/plugins/sdt.sock", sizeof a.sun_path - 1);
  unlink(a.sun_path);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0) return 1;
  for (;;) { int c = accept(s, 0, 0); if (c >= 0) close(c); }
}
`;

/** docker against the private engine directly (around the door: setup, checks, cleanup). */
function direct(args: string[], opts: { timeoutMs?: number } = {}) {
  return spawnCollect('docker', args, { env: { DOCKER_HOST: engine.host, DOCKER_CONTEXT: undefined }, timeoutMs: opts.timeoutMs ?? 60_000 });
}
/** docker through a door. */
function via(door: PrivateDoor, args: string[], opts: { timeoutMs?: number } = {}) {
  return spawnCollect('docker', args, { env: { DOCKER_HOST: door.host, DOCKER_CONTEXT: undefined }, timeoutMs: opts.timeoutMs ?? 60_000 });
}

/** A plugin directory: config.json and a rootfs with the listener. */
function pluginDir(name: string, extra: Record<string, unknown>): string {
  const dir = join(tmp.path, 'plugins', name);
  mkdirSync(join(dir, 'rootfs', 'run', 'docker', 'plugins'), { recursive: true });
  execFileSync('cp', [join(tmp.path, 'listen'), join(dir, 'rootfs', 'listen')]);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    description: 'sdocker test plugin', documentation: 'https://invalid.example',
    entrypoint: ['/listen', '/run/docker/plugins/sdt.sock'],
    interface: { socket: 'sdt.sock', types: ['docker.volumedriver/1.0'] },
    ...extra,
  }));
  return dir;
}

/** Make a plugin on the private engine (around the door), push it to the registry, remove it. */
async function publish(name: string, extra: Record<string, unknown>): Promise<string> {
  const ref = `${registry.address}/sdt-${name}:${uniq}`;
  const made = await direct(['plugin', 'create', ref, pluginDir(name, extra)]);
  expect(made.code, made.stderr).toBe(0);
  const pushed = await direct(['plugin', 'push', ref]);
  expect(pushed.code, pushed.stderr).toBe(0);
  expect((await direct(['plugin', 'rm', '-f', ref])).code).toBe(0);
  return ref;
}

function records(): { event?: string; argv?: string[]; peer?: { uid: number } }[] {
  return readFileSync(join(env.SDOCKER_STATE_DIR, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event?: string; argv?: string[]; peer?: { uid: number } });
}

async function pluginNames(): Promise<string[]> {
  const r = await direct(['plugin', 'ls', '--format', '{{.Name}}']);
  return r.stdout.split('\n').filter(Boolean);
}

beforeAll(async () => {
  await ensureTestImages();
  execFileSync('gcc', ['-static', '-O2', '-o', join(tmp.path, 'listen'), '-x', 'c', '-'], { input: LISTENER_C });
  chmodSync(join(tmp.path, 'listen'), 0o755);
  engine = await startPrivateDockerd([]);
  registry = await startTestRegistry();
  execFileSync('sh', ['-c', `docker save ${IMAGES.root} | DOCKER_HOST=${engine.host} docker load -q`], { env: { ...process.env, DOCKER_CONTEXT: '' } });
  const endpoint = resolveEndpoint({}, { DOCKER_HOST: engine.host });
  const profileFile = join(tmp.path, 'services.yaml');
  writeFileSync(profileFile, [
    'extends: restricted',
    'defaults:',
    '  seccomp: engine',
    'allow:',
    '  newPrivileges:',
    '    reason: "API 1.41 cannot carry no-new-privileges in a service spec"',
    '  hostNamespaces:',
    '    - name: cgroupns',
    '      reason: "a service container gets the engine default cgroup namespace"',
    '',
  ].join('\n'));
  const warn = () => undefined;
  strict = await startPrivateDoor({ endpoint, profile: await loadDoorProfile({ env, cwd: tmp.path }), env, cwd: tmp.path, warn });
  services = await startPrivateDoor({ endpoint, profile: await loadDoorProfile({ env, cwd: tmp.path, profile: profileFile }), env, cwd: tmp.path, warn });
}, 240_000);

afterAll(async () => {
  await strict?.stop();
  await services?.stop();
  if (engine) {
    for (const p of await pluginNames()) await direct(['plugin', 'rm', '-f', p]);
    const svcs = (await direct(['service', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
    if (svcs.length) await direct(['service', 'rm', ...svcs]);
    await direct(['swarm', 'leave', '--force']);
    await engine.stop();
  }
  await registry?.stop();
  tmp.remove();
}, 180_000);

describe('plugins through the door', () => {
  it('a plugin asking for no privilege installs and enables through the door', async () => {
    const ref = await publish('plain', {});
    const alias = `sdt-plain-${uniq}`;
    const r = await via(strict, ['plugin', 'install', '--grant-all-permissions', '--alias', alias, ref], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const enabled = await direct(['plugin', 'inspect', '--format', '{{.Enabled}}', alias]);
    expect(enabled.stdout.trim()).toBe('true');
    expect((await direct(['plugin', 'disable', alias])).code).toBe(0);
    // Enabled again through the door: its installed config is judged, and it has nothing to refuse.
    const again = await via(strict, ['plugin', 'enable', alias]);
    expect(again.code, again.stderr).toBe(0);
    // An upgrade to a version asking for the host network is judged as an install.
    const hostnet = await publish('upgrade-hostnet', { network: { type: 'host' } });
    expect((await direct(['plugin', 'disable', alias])).code).toBe(0);
    const up = await via(strict, ['plugin', 'upgrade', '--grant-all-permissions', '--skip-remote-check', alias, hostnet], { timeoutMs: 120_000 });
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain('SD-PLUGIN-001');
    expect(up.stderr).toContain('network host');
    expect((await direct(['plugin', 'inspect', '--format', '{{.PluginReference}}', alias])).stdout.trim()).toBe(ref);
    await direct(['plugin', 'rm', '-f', alias]);
  }, 240_000);

  it.each([
    ['hostnet', { network: { type: 'host' } }, 'network host', 'name: network'],
    ['rootmount', { mounts: [{ source: '/', destination: '/host', type: 'bind', options: ['rbind', 'ro'] }] }, 'mount /', 'hostPaths:'],
  ])('a plugin asking for %s is refused at install, the privilege named, nothing installed', async (name, extra, privilege, yaml) => {
    const ref = await publish(name, extra);
    const r = await via(strict, ['plugin', 'install', '--grant-all-permissions', ref], { timeoutMs: 120_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-PLUGIN-001');
    expect(r.stderr).toContain(privilege);
    expect(r.stderr).toContain(yaml);
    expect(await pluginNames()).not.toContain(ref);
  }, 240_000);

  it('a plugin created around the door is judged at enable, from the config the engine reports', async () => {
    const name = `sdt-around-${uniq}`;
    const made = await direct(['plugin', 'create', name, pluginDir('around', { network: { type: 'host' } })]);
    expect(made.code, made.stderr).toBe(0);
    const r = await via(strict, ['plugin', 'enable', name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-PLUGIN-001');
    expect(r.stderr).toContain('network host');
    expect((await direct(['plugin', 'inspect', '--format', '{{.Enabled}}', name])).stdout.trim()).toBe('false');
    await direct(['plugin', 'rm', '-f', name]);
  }, 120_000);

  it('plugin set of a mount source to /etc is refused; an env setting passes', async () => {
    const name = `sdt-settable-${uniq}`;
    const src = join(tmp.path, 'plugin-data');
    mkdirSync(src, { recursive: true });
    const made = await direct(['plugin', 'create', name, pluginDir('settable', {
      mounts: [{ name: 'mymount', source: src, destination: '/data', type: 'bind', options: ['rbind'], settable: ['source'] }],
      env: [{ name: 'DEBUG', value: '0', settable: ['value'] }],
    })]);
    expect(made.code, made.stderr).toBe(0);
    const r = await via(strict, ['plugin', 'set', name, 'mymount.source=/etc']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-PLUGIN-001');
    expect(r.stderr).toContain('mount /etc');
    const inspect = await direct(['plugin', 'inspect', '--format', '{{json .Settings.Mounts}}', name]);
    expect(inspect.stdout).not.toContain('"/etc"');
    const env = await via(strict, ['plugin', 'set', name, 'DEBUG=1']);
    expect(env.code, env.stderr).toBe(0);
    await direct(['plugin', 'rm', '-f', name]);
  }, 120_000);
});

describe('swarm services through the door', () => {
  const label = ['--label', `sdocker.test=1`, '--container-label', `sdocker.test.owner=${TEST_LABELS['sdocker.test.owner']}`];
  let name = '';

  beforeAll(async () => {
    const init = await direct(['swarm', 'init', '--advertise-addr', engine.address!, '--listen-addr', `${engine.address!}:${2377 + (process.pid % 1000) + 100}`]);
    expect(init.code, init.stderr).toBe(0);
  }, 120_000);

  it('a service created through the door runs hardened, seen from inside its task container', async () => {
    name = `sdt-svc-${uniq}`;
    const r = await via(services, ['service', 'create', '--detach', '--no-resolve-image', '--name', name, ...label, IMAGES.root, 'sleep', '600']);
    expect(r.code, r.stderr).toBe(0);
    const id = await waitFor(async () => {
      const ps = await direct(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}`, '--filter', 'status=running']);
      return ps.stdout.trim().split('\n')[0] || undefined;
    }, { timeoutMs: 90_000, intervalMs: 500, what: `a running task of ${name}` });
    const inside = await direct(['exec', id, 'sh', '-c', "grep -E '^(CapEff|CapBnd):' /proc/self/status; id -u; touch /x 2>&1 || true; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes"]);
    expect(inside.code, inside.stderr).toBe(0);
    expect(inside.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(inside.stdout).toMatch(/CapBnd:\s+0000000000000000/);
    expect(inside.stdout).toMatch(/^65534$/m);
    expect(inside.stdout).toContain('Read-only file system');
    expect(inside.stdout).toMatch(/^512$/m);
    expect(inside.stdout).toMatch(/^1073741824$/m);
    const rec = records().find((x) => x.argv?.[0] === 'POST /services/create' && x.event === 'create');
    expect(rec?.peer?.uid).toBe(process.getuid!());
    const mounts = await direct(['exec', id, 'sh', '-c', 'grep " /tmp " /proc/mounts']);
    expect(mounts.stdout).toMatch(/nosuid/);
    expect(mounts.stdout).toMatch(/nodev/);
    expect(mounts.stdout).toMatch(/noexec/);
  }, 180_000);

  it('docker service update --cap-add SYS_ADMIN is refused (SD-CAP-001), the service unchanged', async () => {
    expect(name).not.toBe('');
    const r = await via(services, ['service', 'update', '--detach', '--no-resolve-image', '--cap-add', 'SYS_ADMIN', name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-CAP-001');
    expect(r.stderr).toContain('capabilities:');
    const caps = await direct(['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.CapabilityAdd}}', name]);
    expect(caps.stdout).not.toContain('SYS_ADMIN');
  }, 120_000);

  it.each([
    [['--cap-add', 'SYS_ADMIN'], 'SD-CAP-001', 'capabilities:'],
    [['--mount', 'type=bind,src=/etc,dst=/host-etc'], 'SD-MNT-002', 'hostPaths:'],
    [['--network', 'host'], 'SD-NS-004', 'name: network'],
    [['--mount', 'type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock'], 'SD-MNT-001', ''],
  ])('service create %j is refused (%s) with the fix, no service made', async (flags, rule, yaml) => {
    const n = `sdt-svc-bad-${uniq}-${rule.toLowerCase()}`;
    const r = await via(services, ['service', 'create', '--detach', '--no-resolve-image', '--name', n, ...label, ...flags, IMAGES.root, 'sleep', '600']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(rule);
    if (yaml) expect(r.stderr).toContain(yaml);
    expect((await direct(['service', 'ls', '-q', '--filter', `name=${n}`])).stdout.trim()).toBe('');
  }, 120_000);

  it('under the plain restricted level a service is refused: API 1.41 cannot carry no-new-privileges (SD-SVC-001)', async () => {
    const n = `sdt-svc-strict-${uniq}`;
    const r = await via(strict, ['service', 'create', '--detach', '--no-resolve-image', '--name', n, ...label, IMAGES.root, 'sleep', '600']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-SVC-001');
    expect(r.stderr).toContain('no-new-privileges');
    expect(r.stderr).toContain('1.46');
    expect(r.stderr).toContain('newPrivileges:');
    expect(r.stderr).toMatch(/seccomp.*1\.44/);
    expect(records().at(-1)).toMatchObject({ event: 'refused', argv: ['POST /services/create'] });
    expect((await direct(['service', 'ls', '-q', '--filter', `name=${n}`])).stdout.trim()).toBe('');
  }, 120_000);

  it('swarm init, join and leave-style changes to the daemon stay refused (SD-DOOR-003)', async () => {
    const r = await via(strict, ['swarm', 'update', '--task-history-limit', '3']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SD-DOOR-003');
  }, 60_000);
});
