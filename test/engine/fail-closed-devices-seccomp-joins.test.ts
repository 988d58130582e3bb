/**
 * Issue 7, point 2 (devices, seccomp, joined containers), against the real engine through the
 * built CLI. Each attack is first shown to work without sdocker's policy (level privileged: the
 * container docker would make), so the refusal is not vacuous; then refused under restricted with
 * the rule named and nothing created; then, where a profile may allow it, run with the allowance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTestObjects, TEST_LABEL_ARGS, testName } from '../helpers/engine.js';
import { ensureImage, ensureTestImages, IMAGES, VARIANTS } from '../helpers/images.js';
import { caseLabel, docker, inspect, listContainers, sdocker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('fail-closed-dsj');
const env = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: join(tmp.path, 'state') };
/** An image whose layer holds a character node 7:0 (/dev/vcs: the text on the host's console). */
const VCS_IMAGE = 'sdocker-test/busybox:vcs-node';
const VCS_NODE = '/opt/vcs';

/** Write a profile file and return `--profile PATH`. */
function profile(name: string, yaml: string): string[] {
  const p = join(tmp.path, name);
  writeFileSync(p, yaml);
  return ['--profile', p];
}

/** `sdocker run` refused: exit 125, the rule on stderr, no container with the case label. */
async function refused(args: string[], rule: string, text?: string): Promise<string> {
  const label = caseLabel('dsj');
  const r = await sdocker(['run', '--rm', ...label.args, ...args], { env });
  expect(r.code, r.stderr).toBe(125);
  expect(r.stderr).toContain(rule);
  if (text) expect(r.stderr).toContain(text);
  expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  return r.stderr;
}

beforeAll(async () => {
  await ensureTestImages();
  await ensureImage(VCS_IMAGE, VARIANTS.root, {
    'opt/': { type: 'directory', mode: 0o755 },
    [VCS_NODE.slice(1)]: { type: 'character-device', devmajor: 7, devminor: 0, mode: 0o444 },
  });
});

afterAll(async () => {
  await cleanupTestObjects();
  await docker(['rmi', VCS_IMAGE]);
  tmp.remove();
});

describe('devices', () => {
  const read = ['sh', '-c', `head -c 64 ${VCS_NODE} | wc -c`];

  it('without sdocker, --device-cgroup-rule "c 7:* r" and the node baked into the image read the host console; without the rule the node is closed', async () => {
    const open = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--policy', 'privileged', '--device-cgroup-rule', 'c 7:* r', VCS_IMAGE, ...read], { env });
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout.trim()).toBe('64');
    const closed = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--policy', 'privileged', VCS_IMAGE, ...read], { env });
    expect(closed.stderr).toMatch(/Operation not permitted/);
    expect(closed.stdout.trim()).toBe('0');
  });

  it('restricted refuses any cgroup rule (SD-DEV-002); baseline refuses one beyond its own devices', async () => {
    await refused(['--device-cgroup-rule', 'c 7:* r', VCS_IMAGE, ...read], 'SD-DEV-002', 'c 7:* r');
    await refused(['--device-cgroup-rule', 'c 7:0 r', VCS_IMAGE, ...read], 'SD-DEV-002');
    await refused(['--policy', 'baseline', '--device-cgroup-rule', 'c 7:0 r', VCS_IMAGE, ...read], 'SD-DEV-002');
  });

  it('an allowance with a reason lets the rule through (and then the node reads)', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS,
      ...profile('vcs.yaml', 'extends: restricted\nallow:\n  deviceCgroupRules:\n    - { rule: "c 7:* r", reason: "screen reader test" }\n'),
      '--device-cgroup-rule', 'c 7:* r', VCS_IMAGE, ...read], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('64');
  });

  it('--device is judged on the real node: a symlink to /dev/vcs mounted as /dev/null is refused; /dev/null itself passes', async () => {
    const link = join(tmp.path, 'null');
    symlinkSync('/dev/vcs', link);
    await refused(['--device', `${link}:/dev/null`, IMAGES.root, 'true'], 'SD-DEV-001', 'resolves to /dev/vcs');
    for (const d of ['/dev/ttyS0', '/dev/vcs', '/dev/userfaultfd', '/dev/kvm', '/dev/fuse']) await refused(['--device', d, IMAGES.root, 'true'], 'SD-DEV-001', d);
    const ok = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--device', '/dev/null:/dev/mynull', IMAGES.root, 'sh', '-c', 'ls -l /dev/mynull'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^c.* 1,\s+3 /);
  });
});

describe('seccomp profiles', () => {
  // The shipped default with unshare moved from its EPERM list to the allowed calls: a "whitelist".
  const file = join(tmp.path, 'unshare.json');
  beforeAll(() => {
    const p = JSON.parse(readFileSync('profiles/seccomp/default.json', 'utf8')) as { syscalls: { names: string[]; action: string }[] };
    for (const r of p.syscalls) r.names = r.names.filter((n) => n !== 'unshare');
    p.syscalls.unshift({ names: ['unshare'], action: 'SCMP_ACT_ALLOW' });
    writeFileSync(file, JSON.stringify(p, null, 2));
  });
  const probe = ['sh', '-c', 'grep CapEff /proc/self/status; unshare -r grep CapEff /proc/self/status'];

  it('without sdocker, a whitelist allowing unshare gives every capability in a new user namespace', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--policy', 'privileged', '-u', '65534', '--cap-drop', 'ALL',
      '--security-opt', `seccomp=${file}`, IMAGES.root, ...probe], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000000\nCapEff:\s+0*1ffffffffff/);
  });

  it('restricted refuses it (SD-SECCOMP-004), naming unshare and the line of the file', async () => {
    const err = await refused(['--security-opt', `seccomp=${file}`, IMAGES.root, ...probe], 'SD-SECCOMP-004', 'unshare');
    expect(err).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: lets unshare through`));
    expect(err).toContain('syscalls:');
  });

  it('with allow.syscalls and a reason it runs (and the cost is visible: CapEff full inside the new namespace)', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS,
      ...profile('unshare.yaml', 'extends: restricted\nallow:\n  syscalls:\n    - { name: unshare, reason: "rootless build inside" }\n'),
      '--security-opt', `seccomp=${file}`, IMAGES.root, ...probe], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000000\nCapEff:\s+0*1ffffffffff/);
  });
});

describe('joining other containers', () => {
  const secret = `hunter2-${process.pid}`;
  const plain = testName('sdt-plain');
  const forged = testName('sdt-forged');
  const mine = testName('sdt-mine');
  const readEnv = ['sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ | grep SECRET; cat /proc/1/cmdline | tr "\\0" " "'];

  beforeAll(async () => {
    // Another tenant's container, made with plain docker, with a secret in its environment.
    let r = await docker(['run', '-d', '--name', plain, ...TEST_LABEL_ARGS, '-e', `SECRET=${secret}`, '--network', 'none', IMAGES.root, 'sleep', '300']);
    expect(r.code, r.stderr).toBe(0);
    // Plain docker with sdocker's labels forged for this user: the labels alone prove nothing.
    const uid = String(process.getuid?.() ?? 0);
    r = await docker(['run', '-d', '--name', forged, ...TEST_LABEL_ARGS, '--label', 'io.sdocker.level=restricted', '--label', 'io.sdocker.mode=enforce',
      '--label', `io.sdocker.owner=${uid}`, '-e', `SECRET=${secret}`, '--network', 'none', IMAGES.root, 'sleep', '300']);
    expect(r.code, r.stderr).toBe(0);
    // This user's own container, made by sdocker under restricted.
    r = await sdocker(['run', '-d', '--name', mine, ...TEST_LABEL_ARGS, '-e', `SECRET=${secret}`, IMAGES.root, 'sleep', '300'], { env });
    expect(r.code, r.stderr).toBe(0);
  });

  it('sdocker labels what it creates', async () => {
    const c = await inspect<{ Config: { Labels: Record<string, string> } }>(mine);
    expect(c.Config.Labels).toMatchObject({ 'io.sdocker.level': 'restricted', 'io.sdocker.mode': 'enforce', 'io.sdocker.owner': String(process.getuid?.()) });
  });

  it('without sdocker, --pid container:X reads X\'s environment', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--policy', 'privileged', '--pid', `container:${plain}`, IMAGES.root, ...readEnv], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`SECRET=${secret}`);
  });

  it('restricted refuses joining a container sdocker did not make for this user (SD-NS-007, SD-MNT-004), labels or not', async () => {
    await refused(['--pid', `container:${plain}`, IMAGES.root, ...readEnv], 'SD-NS-007', `container ${plain} was not created by sdocker`);
    await refused(['--ipc', `container:${plain}`, IMAGES.root, 'true'], 'SD-NS-007');
    await refused(['--network', `container:${plain}`, IMAGES.root, 'true'], 'SD-NS-007');
    await refused(['--volumes-from', plain, IMAGES.root, 'true'], 'SD-MNT-004');
    await refused(['--pid', `container:${forged}`, IMAGES.root, ...readEnv], 'SD-NS-007', 'keeps docker\'s default capabilities');
  });

  it('--link copies X\'s environment: without sdocker it leaks; restricted refuses it unless X is this user\'s own (SD-LINK-001)', async () => {
    const victim = testName('sdt-victim');
    const r = await docker(['run', '-d', '--name', victim, ...TEST_LABEL_ARGS, '-e', `SECRET=${secret}`, IMAGES.root, 'sleep', '300']);
    expect(r.code, r.stderr).toBe(0);
    const showEnv = ['sh', '-c', 'env | grep SECRET || true'];
    const open = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--policy', 'privileged', '--link', `${victim}:v`, IMAGES.root, ...showEnv], { env });
    expect(open.stdout).toContain(`V_ENV_SECRET=${secret}`);
    await refused(['--link', `${victim}:v`, IMAGES.root, ...showEnv], 'SD-LINK-001', `container ${victim} was not created by sdocker`);
    const own = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--link', `${mine}:m`, IMAGES.root, ...showEnv], { env });
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toContain(`M_ENV_SECRET=${secret}`);
  });

  it('a request may not forge the labels (SD-LABEL-001)', async () => {
    await refused(['--label', 'io.sdocker.level=restricted', IMAGES.root, 'true'], 'SD-LABEL-001');
    const lf = join(tmp.path, 'labels');
    writeFileSync(lf, 'io.sdocker.owner=0\n');
    await refused(['--label-file', lf, IMAGES.root, 'true'], 'SD-LABEL-001');
  });

  it('joining this user\'s own restricted container is allowed, and really joins it', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS, '--pid', `container:${mine}`, IMAGES.root, ...readEnv], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('sleep 300');
  });

  it('allow.joinContainers names the container, with a reason', async () => {
    const r = await sdocker(['run', '--rm', ...TEST_LABEL_ARGS,
      ...profile('join.yaml', `extends: restricted\nallow:\n  joinContainers:\n    - { name: ${plain}, reason: "debug sidecar" }\n`),
      '--network', `container:${plain}`, IMAGES.root, 'true'], { env });
    expect(r.code, r.stderr).toBe(0);
  });
});
