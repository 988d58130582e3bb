/**
 * Issue 3: every refused form, through the built CLI against the real engine. Each case shows
 * exit 125, the rule id (and the flag as typed) on stderr, and that NOTHING was created: no
 * container create event and no container carrying the case's unique label, and no new volume
 * that sdocker made for the refused host path (owned bind volumes are created before the
 * container, so a refusal that came too late would leave one). The image declares a VOLUME, so a
 * container that did get created would also have made an anonymous volume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTestObjects, TEST_LABELS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { bindDevice, caseLabel, docker, eventsSince, listContainers, listVolumes, sdocker, tempDir, type VolumeInfo } from '../policy/engine-checks.js';

const tmp = tempDir('refusals');
const stateDir = join(tmp.path, 'state');
const etcLink = join(tmp.path, 'etc-link');
const memLink = join(tmp.path, 'mem-link');
const seccompAllow = join(tmp.path, 'allow.json');
const seccompLog = join(tmp.path, 'log.json');
const etcVolume = `sdt-etcbind-${process.pid}-${Date.now().toString(36)}`;

/** A block device present on this host (the rule must refuse it by what it is, not by name lists only). */
function blockDevice(): string {
  const names = existsSync('/sys/block') ? readdirSync('/sys/block') : [];
  const pick = names.find((n) => !/^(loop|ram|zram)/.test(n) && existsSync(`/dev/${n}`)) ?? names.find((n) => existsSync(`/dev/${n}`));
  return pick ? `/dev/${pick}` : '/dev/sda';
}

beforeAll(async () => {
  await ensureTestImages();
  symlinkSync('/etc', etcLink);
  symlinkSync('/dev/mem', memLink); // docker follows a device symlink to its target
  writeFileSync(seccompAllow, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] }));
  writeFileSync(seccompLog, JSON.stringify({ defaultAction: 'SCMP_ACT_LOG', syscalls: [] }));
  // A named volume that is really a bind of /etc, made with the docker CLI (labelled so cleanup removes it).
  const labels = Object.entries(TEST_LABELS).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const r = await docker(['volume', 'create', ...labels, '-o', 'type=none', '-o', 'o=bind', '-o', 'device=/etc', etcVolume]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await cleanupTestObjects();
  tmp.remove();
});

/** Host paths a refused run must never have turned into an sdocker bind volume. */
const FORBIDDEN_DEVICES = ['/', '/etc', '/proc', '/var/lib/docker', '/var/run/docker.sock', '/run/docker.sock'];
function isForbiddenOwned(v: VolumeInfo): boolean {
  const dev = bindDevice(v);
  // '/' itself only: every path starts with '/', and other test files make ordinary bind volumes concurrently.
  return !!dev && FORBIDDEN_DEVICES.some((p) => dev === p || (p !== '/' && dev.startsWith(`${p}/`)));
}

interface Case {
  name: string;
  args: string[];
  rule: string;
  /** Text that must appear on stderr besides the rule id (the flag or value as typed). */
  typed?: string;
}

const CASES: Case[] = [
  { name: '--privileged', args: ['--privileged'], rule: 'SD-PRIV-001', typed: '--privileged' },
  // capabilities in every spelling
  { name: '--cap-add SYS_ADMIN', args: ['--cap-add', 'SYS_ADMIN'], rule: 'SD-CAP-001', typed: 'SYS_ADMIN' },
  { name: '--cap-add sys_admin', args: ['--cap-add', 'sys_admin'], rule: 'SD-CAP-001', typed: 'sys_admin' },
  { name: '--cap-add CAP_SYS_ADMIN', args: ['--cap-add', 'CAP_SYS_ADMIN'], rule: 'SD-CAP-001', typed: 'CAP_SYS_ADMIN' },
  { name: '--cap-add ALL', args: ['--cap-add', 'ALL'], rule: 'SD-CAP-001', typed: 'ALL' },
  { name: '--cap-add list with one bad', args: ['--cap-add', 'NET_BIND_SERVICE,SYS_PTRACE'], rule: 'SD-CAP-001', typed: 'SYS_PTRACE' },
  // host namespaces
  { name: '--pid host', args: ['--pid', 'host'], rule: 'SD-NS-001' },
  { name: '--ipc host', args: ['--ipc', 'host'], rule: 'SD-NS-002' },
  { name: '--uts host', args: ['--uts', 'host'], rule: 'SD-NS-003' },
  { name: '--network host', args: ['--network', 'host'], rule: 'SD-NS-004' },
  { name: '--userns host', args: ['--userns', 'host'], rule: 'SD-NS-005' },
  { name: '--cgroupns host', args: ['--cgroupns', 'host'], rule: 'SD-NS-006' },
  // security options
  { name: 'seccomp=unconfined', args: ['--security-opt', 'seccomp=unconfined'], rule: 'SD-SECCOMP-001' },
  { name: 'seccomp file defaultAction ALLOW', args: ['--security-opt', `seccomp=${seccompAllow}`], rule: 'SD-SECCOMP-002' },
  { name: 'seccomp file defaultAction LOG', args: ['--security-opt', `seccomp=${seccompLog}`], rule: 'SD-SECCOMP-002' },
  { name: 'apparmor=unconfined', args: ['--security-opt', 'apparmor=unconfined'], rule: 'SD-MAC-001' },
  { name: 'label=disable', args: ['--security-opt', 'label=disable'], rule: 'SD-MAC-002' },
  { name: 'label=type:spc_t', args: ['--security-opt', 'label=type:spc_t'], rule: 'SD-MAC-002' },
  { name: 'systempaths=unconfined', args: ['--security-opt', 'systempaths=unconfined'], rule: 'SD-PATHS-001' },
  { name: 'no-new-privileges=false', args: ['--security-opt', 'no-new-privileges=false'], rule: 'SD-NNP-001' },
  // the engine parses the value with Go's ParseBool: these turned NoNewPrivs off before they were refused
  { name: 'no-new-privileges=0', args: ['--security-opt', 'no-new-privileges=0'], rule: 'SD-NNP-001' },
  { name: 'no-new-privileges:False', args: ['--security-opt', 'no-new-privileges:False'], rule: 'SD-NNP-001' },
  { name: 'seccomp:unconfined (old separator)', args: ['--security-opt', 'seccomp:unconfined'], rule: 'SD-SECCOMP-001' },
  // users
  { name: '-u 0', args: ['-u', '0'], rule: 'SD-USER-001' },
  { name: '-u root', args: ['-u', 'root'], rule: 'SD-USER-001' },
  { name: '-u 1000:0', args: ['-u', '1000:0'], rule: 'SD-USER-002' },
  { name: '--group-add 0', args: ['--group-add', '0'], rule: 'SD-USER-002' },
  // host paths, however spelled
  { name: '-v docker.sock', args: ['-v', '/var/run/docker.sock:/s'], rule: 'SD-MNT-001', typed: '/var/run/docker.sock' },
  { name: '-v /etc', args: ['-v', '/etc:/e'], rule: 'SD-MNT-002', typed: '/etc' },
  { name: '-v /', args: ['-v', '/:/host'], rule: 'SD-MNT-002' },
  { name: '-v /tmp/../etc', args: ['-v', '/tmp/../etc:/e'], rule: 'SD-MNT-002', typed: '/tmp/../etc' },
  { name: '-v //etc', args: ['-v', '//etc:/e'], rule: 'SD-MNT-002' },
  { name: '-v symlink to /etc', args: ['-v', `${etcLink}:/e`], rule: 'SD-MNT-002', typed: etcLink },
  { name: '-v /etc/ (trailing slash)', args: ['-v', '/etc/:/e'], rule: 'SD-MNT-002' },
  { name: '-v /proc:ro', args: ['-v', '/proc:/p:ro'], rule: 'SD-MNT-002' },
  { name: '-v /var/lib/docker', args: ['-v', '/var/lib/docker:/d'], rule: 'SD-MNT-002' },
  { name: '--mount type=bind /etc', args: ['--mount', 'type=bind,src=/etc,dst=/e'], rule: 'SD-MNT-002' },
  {
    name: '--mount volume-opt bind of /etc',
    args: ['--mount', 'type=volume,dst=/x,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc'],
    rule: 'SD-MNT-002',
  },
  { name: 'named volume that binds /etc', args: ['-v', `${etcVolume}:/x`], rule: 'SD-MNT-002', typed: etcVolume },
  // tmpfs
  { name: '--tmpfs suid', args: ['--tmpfs', '/x:exec,suid'], rule: 'SD-MNT-005' },
  { name: '--tmpfs dev', args: ['--tmpfs', '/x:dev'], rule: 'SD-MNT-005' },
  // devices
  { name: '--device /dev/mem', args: ['--device', '/dev/mem'], rule: 'SD-DEV-001', typed: '/dev/mem' },
  { name: '--device symlink to /dev/mem', args: ['--device', memLink], rule: 'SD-DEV-001', typed: memLink },
  { name: '--device /dev/kmsg', args: ['--device', '/dev/kmsg'], rule: 'SD-DEV-001', typed: '/dev/kmsg' },
  { name: `--device ${blockDevice()} (block device)`, args: ['--device', blockDevice()], rule: 'SD-DEV-001', typed: blockDevice() },
  { name: "--device-cgroup-rule 'a *:* rwm'", args: ['--device-cgroup-rule', 'a *:* rwm'], rule: 'SD-DEV-002' },
  { name: "--device-cgroup-rule 'b 254:0 rwm'", args: ['--device-cgroup-rule', 'b 254:0 rwm'], rule: 'SD-DEV-002' },
  { name: "--device-cgroup-rule 'c 1:1 rwm' (/dev/mem)", args: ['--device-cgroup-rule', 'c 1:1 rwm'], rule: 'SD-DEV-002' },
  { name: '--gpus all', args: ['--gpus', 'all'], rule: 'SD-DEV-003' },
  // sysctls outside the safe set (kernel.shm_rmid_forced is in it: see policy-defaults)
  { name: '--sysctl net.ipv4.ip_forward=1', args: ['--sysctl', 'net.ipv4.ip_forward=1'], rule: 'SD-SYSCTL-001', typed: 'net.ipv4.ip_forward' },
  { name: '--sysctl kernel.msgmax (namespaced, not safe)', args: ['--sysctl', 'kernel.msgmax=65536'], rule: 'SD-SYSCTL-001' },
  // "unlimited" resources
  { name: '-m 0', args: ['-m', '0'], rule: 'SD-RES-001' },
  { name: '--pids-limit -1', args: ['--pids-limit', '-1'], rule: 'SD-RES-002' },
  { name: '--pids-limit 0', args: ['--pids-limit', '0'], rule: 'SD-RES-002' },
  { name: '--oom-kill-disable', args: ['--oom-kill-disable'], rule: 'SD-RES-003' },
  { name: '--cgroup-parent x', args: ['--cgroup-parent', 'x'], rule: 'SD-RES-004' },
  // ports on other addresses
  { name: '-p 0.0.0.0:PORT:80', args: ['-p', '0.0.0.0:18099:80'], rule: 'SD-PORT-001' },
];

describe.concurrent('restricted refuses, exit 125, nothing created', () => {
  it.each(CASES)('$name', async ({ args, rule, typed }) => {
    const label = caseLabel('refuse');
    const volumesBefore = new Set((await listVolumes()).map((v) => v.Name));
    const since = Date.now();
    const r = await sdocker(['run', ...label.args, ...args, IMAGES.volume, 'true'], { env: { SDOCKER_STATE_DIR: stateDir } });
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toContain(rule);
    expect(r.stderr).toMatch(/refused this container/);
    if (typed) expect(r.stderr).toContain(typed);
    expect(r.stdout).toBe('');
    // No container: none with the case label, and the engine never saw one created.
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
    expect(await eventsSince(since, { type: ['container'], event: ['create'], label: [`${label.key}=${label.value}`] })).toEqual([]);
    // No volume: nothing owned by this process appeared, and no sdocker bind volume of a forbidden path.
    const fresh = (await listVolumes()).filter((v) => !volumesBefore.has(v.Name));
    expect(fresh.filter((v) => v.Labels?.['sdocker.test.owner'] === String(process.pid))).toEqual([]);
    expect(fresh.filter(isForbiddenOwned)).toEqual([]);
  });

  it('the refusal names every violation at once', async () => {
    const label = caseLabel('refuse-many');
    const r = await sdocker(
      ['run', ...label.args, '--privileged', '--pid', 'host', '-v', '/etc:/e', '--cap-add', 'sys_admin', IMAGES.root, 'true'],
      { env: { SDOCKER_STATE_DIR: stateDir } },
    );
    expect(r.code).toBe(125);
    for (const id of ['SD-PRIV-001', 'SD-NS-001', 'SD-MNT-002', 'SD-CAP-001']) expect(r.stderr).toContain(id);
    expect(r.stderr).toMatch(/4 violations/);
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });
});

describe('allowed under restricted (control: the refusals are not blanket failures)', () => {
  it('the same image and command run when nothing forbidden is asked', async () => {
    const label = caseLabel('control');
    const r = await sdocker(['run', '--rm', ...label.args, '--cap-add', 'NET_BIND_SERVICE', '--sysctl', 'kernel.shm_rmid_forced=1', IMAGES.volume, 'cat', '/proc/sys/kernel/shm_rmid_forced'], {
      env: { SDOCKER_STATE_DIR: stateDir },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1\n');
  });
});

describe('the run record', () => {
  it('has one refused line per refusal (appended concurrently) and its hash chain verifies', async () => {
    // Its own runs into its own state directory (not the other tests' leftovers): every case and
    // the one with four violations, eight at a time, then one allowed run.
    const own = join(tmp.path, 'record-state');
    const env = { SDOCKER_STATE_DIR: own };
    const argvs = [
      ...CASES.map((c) => ['run', ...caseLabel('record').args, ...c.args, IMAGES.volume, 'true']),
      ['run', ...caseLabel('record').args, '--privileged', '--pid', 'host', '-v', '/etc:/e', '--cap-add', 'sys_admin', IMAGES.root, 'true'],
    ];
    for (let i = 0; i < argvs.length; i += 8) {
      const codes = await Promise.all(argvs.slice(i, i + 8).map(async (a) => (await sdocker(a, { env })).code));
      expect(codes.every((c) => c === 125), String(codes)).toBe(true);
    }
    const ok = await sdocker(['run', '--rm', ...caseLabel('record').args, IMAGES.volume, 'true'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const lines = readFileSync(join(own, 'audit.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; violations?: { rule: string }[]; containerId?: string; argv: string[] });
    const refused = lines.filter((l) => l.event === 'refused');
    expect(refused).toHaveLength(CASES.length + 1);
    for (const l of refused) {
      expect(l.containerId).toBeUndefined();
      expect(l.violations?.length).toBeGreaterThan(0);
    }
    // every case's rule is in the record of the run that typed it
    for (const c of CASES) {
      const line = refused.find((l) => c.args.every((a, i) => l.argv.includes(a) && (i === 0 || l.argv.indexOf(a) > l.argv.indexOf(c.args[0]!))));
      expect(line?.violations?.map((v) => v.rule), c.name).toContain(c.rule);
    }
    expect(lines.filter((l) => l.event === 'run')).toHaveLength(1);
    const v = await sdocker(['audit-log', 'verify', join(own, 'audit.jsonl')]);
    expect(v.stdout + v.stderr).toMatch(/chain intact/);
    expect(v.code).toBe(0);
  });
});
