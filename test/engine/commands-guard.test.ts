/**
 * Issue 7, points 1 and 3, against the real engine through the built CLI: run/create spelled with
 * docker's global options in front (`--`, `-D=true`, `--help`) get the policy (refused with the
 * rule, nothing created); exec, update and build are judged before docker runs them. Each refusal
 * is proven from inside the container: the refused exec left no trace (its marker file is absent,
 * its output never appeared), the refused update left the pids cgroup limit as it was; and the
 * permitted commands still work (exec prints the hardened uid, update sets a lower limit).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTestObjects, TEST_LABEL_ARGS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { caseLabel, docker, listContainers, sdocker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('guard');
const name = testName('sdt-guard');
const buildTag = `sdt-guard-build-${process.pid}-${Date.now().toString(36)}`;
const buildDir = join(tmp.path, 'ctx');

beforeAll(async () => {
  await ensureTestImages();
  mkdirSync(buildDir);
  writeFileSync(join(buildDir, 'Dockerfile'), `FROM ${IMAGES.root}\nLABEL sdocker.test=1\n`);
  // A container sdocker hardened (restricted: uid 65534, no capabilities, pids 512).
  const r = await sdocker(['run', '-d', '--name', name, ...TEST_LABEL_ARGS, IMAGES.root, 'sleep', '600']);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await cleanupTestObjects();
  await docker(['image', 'rm', '-f', `${buildTag}:ok`, `${buildTag}:host`]);
  tmp.remove();
});

const inside = async (...cmd: string[]): Promise<string> => {
  const r = await docker(['exec', name, ...cmd]);
  return r.stdout.trim();
};

describe('run/create behind global options get the policy', () => {
  it.each([
    [['--'], 'run'],
    [['-D=true'], 'run'],
    [['-D=1', '--'], 'create'],
    [['--help'], 'run'],
    [['-Dl', 'info'], 'container run'],
    [['container', '--help'], 'create'],
  ])('%j %s --rm -u 0 -v /:/host --pid host is refused with the rules, nothing created', async (globals, command) => {
    const c = caseLabel('globals');
    const words = command.split(' ');
    const r = await sdocker([...globals, ...words, ...c.args, '-u', '0', '-v', '/:/host', '--pid', 'host', IMAGES.root, 'cat', '/host/etc/hostname']);
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toContain('SD-NS-001');
    expect(r.stderr).toContain('SD-USER-001');
    expect(r.stdout).toBe('');
    expect(await listContainers(`${c.key}=${c.value}`)).toEqual([]);
  });

  it('refuses what it cannot read, before anything reaches docker', async () => {
    const c = caseLabel('globals-bad');
    for (const line of [['-D=yes', 'run'], ['--', '-D', 'run'], ['container', '--', 'run'], ['-H', 'unix:///var/run/docker.sock', '-H', 'unix:///x', 'run']]) {
      const r = await sdocker([...line, ...c.args, '--privileged', IMAGES.root, 'true']);
      expect(r.code, JSON.stringify(line)).toBe(125);
      expect(r.stderr).toMatch(/^sdocker: /);
    }
    expect(await listContainers(`${c.key}=${c.value}`)).toEqual([]);
  });
});

describe('exec', () => {
  it('a permitted exec runs as the hardened user, with no capabilities', async () => {
    const r = await sdocker(['exec', name, 'id', '-u']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('65534');
    expect(await inside('grep', 'CapEff', '/proc/self/status')).toBe('CapEff:\t0000000000000000');
  });

  it('exec --privileged is refused (SD-EXEC-001) and never runs', async () => {
    const state = join(tmp.path, 'state');
    const r = await sdocker(['exec', '--privileged', name, 'sh', '-c', 'touch /tmp/priv-ran; grep CapEff /proc/self/status'], { env: { SDOCKER_STATE_DIR: state } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-EXEC-001');
    // the run record has the refusal, as it has run's
    const rec = JSON.parse(readFileSync(join(state, 'audit.jsonl'), 'utf8').trim().split('\n').pop() ?? '{}') as { event: string; argv: string[]; violations: { rule: string }[] };
    expect(rec.event).toBe('refused');
    expect(rec.argv.slice(0, 2)).toEqual(['exec', '--privileged']);
    expect(rec.violations.map((v) => v.rule)).toEqual(['SD-EXEC-001']);
    expect(r.stdout).toBe('');
    expect((await docker(['exec', name, 'ls', '/tmp/priv-ran'])).code).not.toBe(0);
  });

  it.each([[['-u', '00']], [['-u', '0']], [['--user=+0']], [['-u', '-0']], [['-u', 'root']], [['-u', '1000:00']], [['-u0:0']], [['container', 'exec', '-u', '0']]])(
    'exec %j is refused (SD-EXEC-002) and never runs',
    async (spelling) => {
      const [pre, flags] = spelling[0] === 'container' ? [['container', 'exec'], spelling.slice(2)] : [['exec'], spelling];
      const marker = `/tmp/root-ran-${Math.random().toString(36).slice(2, 8)}`;
      const r = await sdocker([...pre, ...flags, name, 'sh', '-c', `touch ${marker}; id -u`]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain('SD-EXEC-002');
      expect(r.stdout).toBe('');
      expect((await docker(['exec', name, 'ls', marker])).code).not.toBe(0);
    },
  );

  it('a numeric non-root -u is handed to docker', async () => {
    const r = await sdocker(['exec', '-u', '1000:1001', name, 'sh', '-c', 'id -u; id -g']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1000\n1001\n');
  });
});

describe('exec under a project profile', () => {
  const project = join(tmp.path, 'project');
  const floor = join(tmp.path, 'floor.yaml');
  beforeAll(() => {
    mkdirSync(join(project, '.git'), { recursive: true }); // profile discovery stops here
    writeFileSync(join(project, 'sdocker.yaml'), 'extends: restricted\nallow:\n  root: {reason: "maintenance", withoutUsernsRemap: true}\n');
    writeFileSync(floor, 'extends: restricted\n');
  });

  it('a profile that allows root lets exec -u 0 through to docker', async () => {
    const r = await sdocker(['exec', '-u', '0', name, 'id', '-u'], { cwd: project, env: { SDOCKER_FLOOR: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0');
  });

  it('the machine floor beats it: refused, naming the floor', async () => {
    const r = await sdocker(['exec', '-u', '0', name, 'id', '-u'], { cwd: project, env: { SDOCKER_FLOOR: floor } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-EXEC-002');
    expect(r.stderr).toContain(`the machine floor ${floor} does not allow it`);
    expect(r.stdout).toBe('');
  });
});

describe('update', () => {
  const pidsMax = () => inside('cat', '/sys/fs/cgroup/pids/pids.max');

  it.each([[['--pids-limit', '-1']], [['--pids-limit=-1']], [['--memory-swap', '-1']], [['--cpu-quota', '-1']], [['--cpus', '0']], [['--pids-limit', '100000']]])(
    'update %j is refused (SD-UPDATE-001) and the limits stay',
    async (flags) => {
      const before = await pidsMax();
      const r = await sdocker(['update', ...flags, name]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain('SD-UPDATE-001');
      expect(await pidsMax()).toBe(before);
      expect(before).not.toBe('max');
    },
  );

  it('the flags may follow the container, as docker reads them', async () => {
    const before = await pidsMax();
    const r = await sdocker(['container', 'update', name, '--pids-limit', '-1']);
    expect(r.code).toBe(125);
    expect(await pidsMax()).toBe(before);
  });

  it('a lower limit is handed to docker', async () => {
    const r = await sdocker(['update', '--pids-limit', '100', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(await pidsMax()).toBe('100');
  });
});

describe('build', () => {
  it('build --network host is refused (SD-BUILD-001), no image', async () => {
    for (const pre of [['build'], ['image', 'build'], ['builder', 'build']]) {
      const r = await sdocker([...pre, '--network', 'host', '-t', `${buildTag}:host`, buildDir]);
      expect(r.code, pre.join(' ')).toBe(125);
      expect(r.stderr).toContain('SD-BUILD-001');
    }
    expect((await docker(['image', 'inspect', `${buildTag}:host`])).code).not.toBe(0);
  });

  it('a plain build is handed to docker', async () => {
    const r = await sdocker(['build', '-q', '--add-host', 'db:10.0.0.2', '-t', `${buildTag}:ok`, buildDir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await docker(['image', 'inspect', `${buildTag}:ok`])).code).toBe(0);
  });
});
