/**
 * Issue 11 part 4, on the real engine: the restricted defaults now bound the restart policy
 * (SD-RESTART-001, CIS 5.15), set an open-file limit (SD-RES-008, 5.19) and a profile's
 * defaults.healthcheck gives a container a health check that the engine runs (SD-HEALTH-001, 5.27).
 * Seen from inside the container (/proc/self/limits) and from the engine (inspect, Health).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTestObjects, TEST_LABEL_ARGS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, inspect, sdocker, tempDir } from '../policy/engine-checks.js';

const L = TEST_LABEL_ARGS;
const tmp = tempDir('cis-runtime');
const env = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: join(tmp.path, 'state') };

beforeAll(async () => {
  await ensureTestImages();
});

afterAll(async () => {
  await cleanupTestObjects();
  tmp.remove();
});

interface Inspected {
  Config: { Healthcheck?: unknown };
  HostConfig: { RestartPolicy?: { Name: string; MaximumRetryCount: number } };
  State: { Status: string; ExitCode: number; Health?: { Status: string } };
  RestartCount: number;
}
const inspectC = (id: string) => inspect<Inspected>(id);

/** The soft and hard values of one line of /proc/self/limits. */
function limitOf(text: string, name: string): [string, string] | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name));
  const m = line ? /\s(\S+)\s+(\S+)\s+\S+\s*$/.exec(line) : null;
  return m ? [m[1]!, m[2]!] : undefined;
}

describe('ulimits (SD-RES-008)', () => {
  it('restricted: the container\'s own open-file limit is 8192, not the engine\'s', async () => {
    const mine = await sdocker(['run', '--rm', ...L, '--network', 'none', IMAGES.root, 'cat', '/proc/self/limits'], { env });
    expect(mine.code, mine.stderr).toBe(0);
    expect(limitOf(mine.stdout, 'Max open files')).toEqual(['8192', '8192']);
    // The reference: what plain docker gives the same image (the engine's own limit: 1048576 under
    // systemd's LimitNOFILE=infinity, 20000 on this test machine).
    const plain = await docker(['run', '--rm', ...L, '--network', 'none', IMAGES.root, 'cat', '/proc/self/limits']);
    expect(limitOf(plain.stdout, 'Max open files')?.[1]).not.toBe('8192');
    // no nproc default: the kernel counts it per uid across every container of that uid
    expect(limitOf(mine.stdout, 'Max processes')).toEqual(limitOf(plain.stdout, 'Max processes'));
  });
  it('a typed --ulimit stays as typed, and is what the process gets', async () => {
    const r = await sdocker(['run', '--rm', ...L, '--network', 'none', '--ulimit', 'nofile=512:1024', IMAGES.root, 'sh', '-c', 'cat /proc/self/limits; ulimit -n 2000 2>&1 || echo raise=refused'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(limitOf(r.stdout, 'Max open files')).toEqual(['512', '1024']);
    expect(r.stdout).toContain('raise=refused');
  });
});

describe('restart policy (SD-RESTART-001)', () => {
  it('--restart always becomes on-failure:5 under restricted; the engine holds that', async () => {
    const name = testName('restart');
    const r = await sdocker(['run', '-d', ...L, '--network', 'none', '--name', name, '--restart', 'always', IMAGES.root, 'sleep', '60'], { env });
    expect(r.code, r.stderr).toBe(0);
    const c = await inspectC(name);
    expect(c.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 5 });
  });
  it('a failing container is restarted 5 times, then left stopped', async () => {
    const name = testName('restart-fail');
    // create, then start with docker: `sdocker run -d` would wait to explain the quick exit.
    const r = await sdocker(['create', ...L, '--network', 'none', '--name', name, '--restart', 'unless-stopped', IMAGES.root, 'sh', '-c', 'exit 3'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((await docker(['start', name])).code).toBe(0);
    // The engine backs off 100ms, 200ms, ... 3.2s between restarts: about 6.3s for 5.
    let state: { Status: string; ExitCode: number } = { Status: '', ExitCode: -1 };
    let count = 0;
    for (let i = 0; i < 60; i++) {
      const c = await inspectC(name);
      state = c.State;
      count = c.RestartCount;
      if (state.Status === 'exited' && count === 5) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    await new Promise((res) => setTimeout(res, 4000));
    const c = await inspectC(name);
    expect(c.RestartCount).toBe(5);
    expect(c.State.Status).toBe('exited');
    expect(c.State.ExitCode).toBe(3);
    expect(count).toBe(5);
  }, 60_000);
  it('baseline keeps --restart always (allowance unboundedRestart)', async () => {
    const name = testName('restart-baseline');
    const r = await sdocker(['run', '--policy', 'baseline', '-d', ...L, '--network', 'none', '--name', name, '--restart', 'always', IMAGES.root, 'sleep', '60'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((await inspectC(name)).HostConfig.RestartPolicy).toEqual({ Name: 'always', MaximumRetryCount: 0 });
  });
});

describe('health check (SD-HEALTH-001)', () => {
  it('neither image nor command line: a note in the dry run, and the container has none', async () => {
    const r = await sdocker(['run', '--dry-run', '--output', 'json', ...L, IMAGES.root, 'true'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { notes?: { rule: string }[]; body: { Healthcheck?: unknown } };
    expect(out.notes?.map((n) => n.rule)).toEqual(['SD-HEALTH-001']);
    expect(out.body.Healthcheck).toBeUndefined();
  });
  it('defaults.healthcheck: the engine runs it and reports the container healthy', async () => {
    const project = join(tmp.path, 'project');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'sdocker.yaml'), [
      'extends: restricted',
      'defaults:',
      '  healthcheck:',
      '    cmd: "test -e /tmp/ready"',
      '    interval: 1s',
      '    timeout: 2s',
      '    retries: 2',
      '',
    ].join('\n'));
    const name = testName('health');
    const r = await sdocker(['run', '-d', ...L, '--network', 'none', '--name', name, IMAGES.root, 'sh', '-c', 'sleep 6; touch /tmp/ready; sleep 60'], { env, cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const c0 = await inspectC(name);
    expect(c0.Config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'test -e /tmp/ready'], Interval: 1e9, Timeout: 2e9, Retries: 2 });
    const seen = new Set<string>();
    let status = '';
    for (let i = 0; i < 40 && status !== 'healthy'; i++) {
      status = (await inspectC(name)).State.Health?.Status ?? '';
      seen.add(status);
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(status).toBe('healthy');
    // Before /tmp/ready existed the check failed: it is the command that decides, not a constant.
    expect(seen.has('starting') || seen.has('unhealthy')).toBe(true);
  }, 60_000);
});
