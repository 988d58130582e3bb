/**
 * Issue 7, limits and trusted configuration, through the built CLI against the real engine.
 *
 * Limits: each attack is first shown to work with plain `docker run` on this engine (read from
 * inside the container: cpu.cfs_quota_us, memory.limit_in_bytes, pids.max; LogConfig from inspect),
 * so the refusal that follows is not vacuous; then `sdocker run` refuses it (exit 125, the rule,
 * nothing created), and what it lets through is really limited (the cgroup files again).
 * Trusted configuration: a project profile that moves the run record, a symlinked record, and a
 * profile found in a world-writable directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { cleanupTestObjects } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { caseLabel, docker, inspect, keyValues, listContainers, sdocker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('limits');
const env = { SDOCKER_STATE_DIR: join(tmp.path, 'state'), SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined };
const UNLIMITED_MEM = 9223372036854771712n; // the kernel's "no limit" on cgroup v1 (page-rounded LONG_MAX)

const CGROUP = [
  'echo "quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"',
  'echo "period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"',
  'echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
  'echo "soft=$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes)"',
  'echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"',
].join('\n');

beforeAll(async () => {
  await ensureTestImages();
  // cwd of every run: a repository root with no profile (discovery stops here)
  mkdirSync(join(tmp.path, 'repo', '.git'), { recursive: true });
});

afterAll(async () => {
  await cleanupTestObjects();
  tmp.remove();
});

const cwd = () => join(tmp.path, 'repo');

/** `docker run --rm ARGS IMG sh -c CGROUP`: the cgroup files as plain docker leaves them. */
async function dockerCgroup(args: string[]): Promise<Record<string, string>> {
  const label = caseLabel('limits-docker');
  const r = await docker(['run', '--rm', ...label.args, ...args, IMAGES.root, 'sh', '-c', CGROUP]);
  expect(r.code, r.stderr).toBe(0);
  return keyValues(r.stdout);
}

/** `docker create ARGS` then inspect: what the engine keeps of a log config. */
async function dockerLogConfig(args: string[]): Promise<{ Type: string; Config: Record<string, string> }> {
  const label = caseLabel('limits-docker-log');
  const r = await docker(['create', ...label.args, ...args, IMAGES.root, 'true']);
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  try {
    return (await inspect<{ HostConfig: { LogConfig: { Type: string; Config: Record<string, string> } } }>(id)).HostConfig.LogConfig;
  } finally {
    await docker(['rm', '-f', id]);
  }
}

async function expectRefused(args: string[], rule: string, typed?: string): Promise<string> {
  const label = caseLabel('limits-refuse');
  const r = await sdocker(['run', '--rm', ...label.args, ...args, IMAGES.root, 'true'], { env, cwd: cwd() });
  expect(r.code, r.stderr).toBe(125);
  expect(r.stderr).toContain(rule);
  if (typed) expect(r.stderr).toContain(typed);
  expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  return r.stderr;
}

describe('limits that could be undone: docker applies them, sdocker refuses them', () => {
  it('--cpu-quota -1: no CPU limit with docker; SD-RES-006', async () => {
    expect((await dockerCgroup(['--cpus', '1', '--cpu-quota', '-1'])).quota).toBe('-1');
    await expectRefused(['--cpu-quota', '-1'], 'SD-RES-006', '--cpu-quota');
    await expectRefused(['--cpus', '1', '--cpu-quota', '-1'], 'SD-RES-006');
  });
  it('--cpus 0.000000001: the engine rounds the quota to 0, no limit; SD-RES-006', async () => {
    expect((await dockerCgroup(['--cpus', '0.000000001'])).quota).toBe('-1');
    await expectRefused(['--cpus', '0.000000001'], 'SD-RES-006', 'no limit');
  });
  it('--cpu-period 1000 --cpu-quota 1000000: 1000 CPUs; SD-RES-007', async () => {
    const kv = await dockerCgroup(['--cpu-period', '1000', '--cpu-quota', '1000000']);
    expect([kv.quota, kv.period]).toEqual(['1000000', '1000']);
    await expectRefused(['--cpu-period', '1000', '--cpu-quota', '1000000'], 'SD-RES-007', 'cpus maximum 8');
  });
  it('--memory-reservation 1t: no memory limit with docker (and sdocker raised its default to it); SD-RES-007', async () => {
    const kv = await dockerCgroup(['--memory-reservation', '1t']);
    expect(BigInt(kv.memory!)).toBe(UNLIMITED_MEM);
    expect(kv.soft).toBe(String(1024 ** 4));
    await expectRefused(['--memory-reservation', '1t'], 'SD-RES-007', '--memory-reservation');
    await expectRefused(['-m', '1t'], 'SD-RES-007', 'memory: 1t');
  });
  it('--pids-limit above the maximum; SD-RES-007', async () => {
    expect((await dockerCgroup(['--pids-limit', '100000'])).pids).toBe('100000');
    await expectRefused(['--pids-limit', '100000'], 'SD-RES-007');
  });
  it('--log-opt max-size=1t and --log-driver none: kept by the engine; SD-LOG-002', async () => {
    expect(await dockerLogConfig(['--log-opt', 'max-size=1t'])).toEqual({ Type: 'json-file', Config: { 'max-size': '1t' } });
    expect((await dockerLogConfig(['--log-driver', 'none'])).Type).toBe('none');
    await expectRefused(['--log-opt', 'max-size=1t'], 'SD-LOG-002', 'max-size=1t');
    await expectRefused(['--log-driver', 'none'], 'SD-LOG-002', 'discards every line');
    await expectRefused(['--log-driver', 'local', '--log-opt', 'max-size=0'], 'SD-LOG-002');
    await expectRefused(['--log-opt', 'max-file=1000'], 'SD-LOG-002');
  });
});

describe('what sdocker lets through is limited, seen from inside the container', () => {
  it('a small --cpus, a reservation, a pids limit and a bare --cpu-period all end in cgroup limits', async () => {
    const label = caseLabel('limits-ok');
    const r = await sdocker(['run', '--rm', ...label.args, '--cpus', '0.5', '--memory-reservation', '64m', '--pids-limit', '100', IMAGES.root, 'sh', '-c', CGROUP], { env, cwd: cwd() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(keyValues(r.stdout)).toMatchObject({ quota: '50000', period: '100000', memory: String(1024 ** 3), soft: String(64 * 1024 ** 2), pids: '100' });
    const p = await sdocker(['run', '--rm', ...label.args, '--cpu-period', '50000', IMAGES.root, 'sh', '-c', CGROUP], { env, cwd: cwd() });
    expect(p.code, p.stderr).toBe(0);
    const ncpu = Math.min(2, cpus().length);
    expect(keyValues(p.stdout)).toMatchObject({ quota: String(ncpu * 50000), period: '50000' });
  });
  it('log rotation within the maxima is what the engine keeps', async () => {
    const label = caseLabel('limits-log');
    const name = `sdt-limits-log-${process.pid}-${Date.now().toString(36)}`;
    const r = await sdocker(['create', '--name', name, ...label.args, '--log-driver', 'local', '--log-opt', 'max-size=5m', IMAGES.root, 'true'], { env, cwd: cwd() });
    expect(r.code, r.stderr).toBe(0);
    try {
      const c = await inspect<{ HostConfig: { LogConfig: unknown } }>(name);
      expect(c.HostConfig.LogConfig).toEqual({ Type: 'local', Config: { 'max-size': '5m', 'max-file': '3' } });
    } finally {
      await docker(['rm', '-f', name]);
    }
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });
});

describe('a floor\'s maxima: a ceiling the project cannot raise', () => {
  it('the project raises memory to 32g, the floor (SDOCKER_FLOOR) says 256m: refused naming the floor; the default is 256m inside', async () => {
    const proj = join(tmp.path, 'floor-proj');
    mkdirSync(join(proj, '.git'), { recursive: true });
    writeFileSync(join(proj, 'sdocker.yaml'), 'extends: restricted\nlimits:\n  memory: 32g\n  logDrivers: [json-file, none]\n');
    const floor = join(tmp.path, 'floor.yaml');
    writeFileSync(floor, 'extends: restricted\nlimits:\n  memory: 256m\n');
    const fenv = { ...env, SDOCKER_FLOOR: floor };
    const label = caseLabel('limits-floor');
    const r = await sdocker(['run', '--rm', ...label.args, '-m', '1g', IMAGES.root, 'true'], { env: fenv, cwd: proj });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-RES-007');
    expect(r.stderr).toContain(`the machine floor ${floor} does not allow it`);
    const n = await sdocker(['run', '--rm', ...label.args, '--log-driver', 'none', IMAGES.root, 'true'], { env: fenv, cwd: proj });
    expect(n.code).toBe(125);
    expect(n.stderr).toContain('SD-LOG-002');
    const ok = await sdocker(['run', '--rm', ...label.args, IMAGES.root, 'sh', '-c', CGROUP], { env: fenv, cwd: proj });
    expect(ok.code, ok.stderr).toBe(0);
    expect(keyValues(ok.stdout).memory).toBe(String(256 * 1024 ** 2));
    // without the floor the project's own maxima apply (the refusal above is the floor's)
    const free = await sdocker(['run', '--rm', ...label.args, '-m', '1g', IMAGES.root, 'sh', '-c', CGROUP], { env, cwd: proj });
    expect(free.code, free.stderr).toBe(0);
    expect(keyValues(free.stdout).memory).toBe(String(1024 ** 3));
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });
});

describe('trusted configuration stays trusted', () => {
  it('a project profile that sets audit.log is refused; the target file is untouched; nothing created', async () => {
    const proj = join(tmp.path, 'audit-proj');
    mkdirSync(join(proj, '.git'), { recursive: true });
    const target = join(tmp.path, 'bashrc');
    writeFileSync(target, '# my shell start-up\n');
    writeFileSync(join(proj, 'sdocker.yaml'), `extends: restricted\naudit:\n  log: ${target}\n`);
    const label = caseLabel('limits-auditlog');
    const r = await sdocker(['run', '--rm', ...label.args, IMAGES.root, 'echo', 'touch /tmp/pwned'], { env, cwd: proj });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/sdocker\.yaml:3:3: audit\.log: only the machine floor/);
    expect(readFileSync(target, 'utf8')).toBe('# my shell start-up\n');
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });
  it('a symlinked run record is not followed: the run happens, a warning says why, the target is untouched', async () => {
    const state = join(tmp.path, 'state-link');
    mkdirSync(state);
    const target = join(tmp.path, 'profile-target');
    writeFileSync(target, 'export PATH=/usr/bin\n');
    symlinkSync(target, join(state, 'audit.jsonl'));
    const label = caseLabel('limits-loglink');
    const r = await sdocker(['run', '--rm', ...label.args, IMAGES.root, 'echo', 'hi'], { env: { ...env, SDOCKER_STATE_DIR: state }, cwd: cwd() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toMatch(/the run record was not written: .*audit\.jsonl is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('export PATH=/usr/bin\n');
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });
  it('a sdocker.yaml found in a world-writable directory is refused with a message naming it, not applied', async () => {
    const open = join(tmp.path, 'shared');
    mkdirSync(join(open, 'work'), { recursive: true });
    chmodSync(open, 0o1777);
    // what a planted profile would do: extends privileged, so -u 0 --privileged would pass
    writeFileSync(join(open, 'sdocker.yaml'), 'extends: privileged\n');
    const label = caseLabel('limits-wwdir');
    const r = await sdocker(['run', '--rm', ...label.args, '--privileged', IMAGES.root, 'true'], { env, cwd: join(open, 'work') });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`${join(open, 'sdocker.yaml')} (found by discovery`);
    expect(r.stderr).toMatch(/writable by every user/);
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });
});
