/**
 * seccomp and the policy as one system, through the built CLI against the real engine: a project
 * profile naming a recorded profile, refusals of weak or broken profiles (exit 125, rule id,
 * nothing created), the dry run's counts, and a recording made under the same policy as the run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/seccomp/profile.js';
import { REPO_ROOT, TEST_LABEL_ARGS, cleanupTestObjects, containerExists, runCli, testName } from '../helpers/engine.js';
import { ensureBusybox } from './images.js';

const root = process.getuid?.() === 0;
const RECORDED = join(REPO_ROOT, 'profiles/seccomp/examples/busybox-shell.json');
let dir = '';
let busybox = '';
let env: Record<string, string> = {};

/** A project: sdocker.yaml naming ./seccomp/app.json (relative to the profile file). */
function project(name: string, seccompText?: string): { yaml: string; seccomp: string } {
  const p = join(dir, name);
  mkdirSync(join(p, 'seccomp'), { recursive: true });
  const yaml = join(p, 'sdocker.yaml');
  writeFileSync(yaml, 'extends: restricted\ndefaults:\n  seccomp: ./seccomp/app.json\n');
  const seccomp = join(p, 'seccomp', 'app.json');
  if (seccompText !== undefined) writeFileSync(seccomp, seccompText);
  return { yaml, seccomp };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdocker-seccomp-policy-'));
  busybox = await ensureBusybox();
  // The run record and the seccomp check cache go to this test's own state directory.
  env = { SDOCKER_STATE_DIR: join(dir, 'state') };
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cleanupTestObjects();
});

describe('a project profile naming a seccomp profile', () => {
  it('runs the workload under it; a call outside it fails with EPERM', async () => {
    const { yaml } = project('recorded', readFileSync(RECORDED, 'utf8'));
    const r = await runCli(['run', '--rm', ...TEST_LABEL_ARGS, busybox, 'sh', '-c',
      'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; echo data > /tmp/f && cat /tmp/f; unshare -U true; mkfifo /tmp/p; echo end'],
    { env: { ...env, SDOCKER_PROFILE: yaml } });
    expect(r.stdout).toBe('NoNewPrivs:\t1\nSeccomp:\t2\ndata\nend\n');
    // unshare has an explicit EPERM rule; mknodat is not in the recording: the default (EPERM on Docker 20.10).
    expect(r.stderr).toContain('unshare(0x10000000): Operation not permitted');
    expect(r.stderr).toMatch(/mkfifo: \/tmp\/p: (Operation not permitted|Function not implemented)/);
    expect(r.code).toBe(0);
  });

  it('a profile file with a JSON error is refused naming file:line:col, nothing created', async () => {
    const { yaml, seccomp } = project('broken', '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [\n    {"names": ["read"] "action": "SCMP_ACT_ALLOW"}\n  ]\n}\n');
    const name = testName('sdsec');
    const r = await runCli(['run', '--rm', '--name', name, ...TEST_LABEL_ARGS, busybox, 'true'], { env: { ...env, SDOCKER_PROFILE: yaml } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-SECCOMP-003');
    expect(r.stderr).toContain(`${seccomp}:4:24: invalid JSON`);
    expect(await containerExists(name)).toBe(false);
  });

  it('a profile file that is not a whitelist is refused, and no allowance lets it through', async () => {
    const { yaml, seccomp } = project('weak', JSON.stringify({ defaultAction: 'SCMP_ACT_LOG', syscalls: [] }, null, 2));
    writeFileSync(yaml, `${readFileSync(yaml, 'utf8')}allow:\n  seccompUnconfined: { reason: "try to let it through" }\n`);
    const name = testName('sdsec');
    const r = await runCli(['run', '--rm', '--name', name, ...TEST_LABEL_ARGS, busybox, 'true'], { env: { ...env, SDOCKER_PROFILE: yaml } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-SECCOMP-002');
    expect(r.stderr).toContain(`${seccomp}:2:20: defaultAction SCMP_ACT_LOG allows every syscall`);
    expect(await containerExists(name)).toBe(false);
  });
});

describe('--security-opt seccomp=FILE', () => {
  it.each([
    ['SCMP_ACT_ALLOW', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] }],
    ['SCMP_ACT_LOG', { defaultAction: 'SCMP_ACT_LOG' }],
  ])('a profile whose default is %s is refused with 125 and SD-SECCOMP-002, nothing created', async (action, profile) => {
    const file = join(dir, `weak-${action}.json`);
    writeFileSync(file, JSON.stringify(profile, null, 2));
    const name = testName('sdsec');
    const r = await runCli(['run', '--rm', '--name', name, ...TEST_LABEL_ARGS, '--security-opt', `seccomp=${file}`, busybox, 'true'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-SECCOMP-002');
    expect(r.stderr).toContain(`${file}:2:20: defaultAction ${action} allows every syscall the profile does not name`);
    expect(r.stderr).toContain('[not-whitelist]');
    expect(await containerExists(name)).toBe(false);
  });

  it('a whitelist with an unknown syscall name is refused with SD-SECCOMP-003 (libseccomp name check)', async () => {
    const file = join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'wrte'], action: 'SCMP_ACT_ALLOW' }] }, null, 2));
    const name = testName('sdsec');
    const r = await runCli(['run', '--rm', '--name', name, ...TEST_LABEL_ARGS, '--security-opt', `seccomp=${file}`, busybox, 'true'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(new RegExp(`SD-SECCOMP-003[\\s\\S]*${file}:\\d+:\\d+: unknown syscall "wrte"`));
    expect(await containerExists(name)).toBe(false);
  });
});

describe('--dry-run', () => {
  it('shows the applicable profile and its counts, in text and JSON', async () => {
    const { yaml, seccomp } = project('dry', readFileSync(RECORDED, 'utf8'));
    const text = await runCli(['run', '--dry-run', '--rm', busybox, 'true'], { env: { ...env, SDOCKER_PROFILE: yaml } });
    expect(text.code).toBe(0);
    // Figures of profiles/seccomp/README.md for the recorded busybox profile on x86_64.
    expect(text.stdout).toMatch(new RegExp(`seccomp +${seccomp}: \\d+ names allowed on x86_64 \\(1 conditional\\), \\d+ BPF instructions`));
    const json = await runCli(['run', '--dry-run', '--output', 'json', '--rm', busybox, 'true'], { env: { ...env, SDOCKER_PROFILE: yaml } });
    const s = (JSON.parse(json.stdout) as { seccomp: Record<string, unknown> }).seccomp;
    expect(s).toMatchObject({ profile: seccomp, file: seccomp, arch: 'x86_64', allowed: 68, conditional: 1, instructions: 423 });

    const shipped = JSON.parse((await runCli(['run', '--dry-run', '--output', 'json', busybox, 'true'], { env: { ...env, SDOCKER_PROFILE: '' } })).stdout) as { seccomp: Record<string, unknown> };
    expect(shipped.seccomp).toMatchObject({ profile: join(REPO_ROOT, 'profiles/seccomp/default.json'), allowed: 277, instructions: 1111 });

    const engineYaml = join(dir, 'engine.yaml');
    writeFileSync(engineYaml, 'extends: restricted\ndefaults:\n  seccomp: engine\n');
    const eng = await runCli(['run', '--dry-run', busybox, 'true'], { env: { ...env, SDOCKER_PROFILE: engineYaml } });
    expect(eng.stdout).toMatch(/seccomp +engine default: 292 names allowed on x86_64, \d+ BPF instructions/);
  });
});

describe.skipIf(!root)('seccomp record under the policy', () => {
  it('records -v DIR:/d + cat /d/x hardened; the profile then runs sdocker run with the same flags', async () => {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'x'), 'secret\n');
    const { yaml, seccomp } = project('rec'); // names ./seccomp/app.json, not written yet
    const flags = ['--rm', ...TEST_LABEL_ARGS, '-v', `${data}:/d`, busybox];
    // --no-margin: the size below is the recording's own (the margin has its own test in record.test.ts).
    const rec = await runCli(['seccomp', 'record', '-o', seccomp, '--no-margin', ...flags, 'cat', '/d/x'], { env: { ...env, SDOCKER_PROFILE: yaml }, timeoutMs: 90_000 });
    expect(rec.stderr).toMatch(/syscall names from \d+ records/);
    expect(rec.stdout).toBe('secret\n');
    expect(rec.code).toBe(0);
    // The recording ran hardened: its run record carries the policy's changes.
    const audit = readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; changes: { rule: string }[] });
    const last = audit.filter((a) => a.argv.includes("/d/x")).at(-1)!;
    expect(last.changes.map((c) => c.rule)).toEqual(expect.arrayContaining(['SD-CAP-001', 'SD-NNP-001', 'SD-USER-001', 'SD-ROOTFS-001', 'SD-MNT-003']));
    const names = parseProfile(readFileSync(seccomp, 'utf8'), seccomp).profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names);
    expect(names.length).toBeLessThan(80);

    // sdocker.yaml names the recorded file: the same flags run under it, inside the hardened container.
    const again = await runCli(['run', ...flags, 'cat', '/d/x', '/proc/self/status'], { env: { ...env, SDOCKER_PROFILE: yaml } });
    expect(again.stderr).toBe('');
    expect(again.stdout).toMatch(/^secret\n/);
    expect(again.stdout).toMatch(/^Seccomp:\t2$/m);
    expect(again.stdout).toMatch(/^CapEff:\t0000000000000000$/m);
    expect(again.stdout).toMatch(/^Uid:\t65534\t/m);
    expect(again.code).toBe(0);
    // mknodat was not recorded: the default action (EPERM on Docker 20.10, ENOSYS from 23.0).
    const outside = await runCli(['run', ...flags, 'mkfifo', '/tmp/p'], { env: { ...env, SDOCKER_PROFILE: yaml } });
    expect(outside.stderr).toMatch(/mkfifo: \/tmp\/p: (Operation not permitted|Function not implemented)/);
    expect(outside.code).toBe(1);

    // And as --security-opt seccomp=FILE with the same flags.
    const asFlag = await runCli(['run', ...flags.slice(0, -1), '--security-opt', `seccomp=${seccomp}`, busybox, 'cat', '/d/x'], { env: { ...env, SDOCKER_PROFILE: '' } });
    expect(asFlag.stdout).toBe('secret\n');
    expect(asFlag.code).toBe(0);
  });
});
