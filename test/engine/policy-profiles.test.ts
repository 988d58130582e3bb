/**
 * Issue 3, end to end through the built CLI and the real engine: the machine floor beats a
 * malicious project profile, the run record's hash chain catches tampering, --dry-run tells the
 * truth (its docker command rebuilds the same hardened container), and the modes and levels do
 * what docs/policy.md says, seen from inside the container.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { cleanupTestObjects, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import {
  bash,
  bindDevice,
  caseLabel,
  docker,
  eventsSince,
  keyValues,
  listContainers,
  listVolumes,
  PROBE,
  removeOwnedVolumesUnder,
  removeVolume,
  sdocker,
  tempDir,
  httpStatusLine,
} from '../policy/engine-checks.js';

const L = TEST_LABEL_ARGS;
const tmp = tempDir('profiles');
/** Never the developer's own profile, floor or record: every run gets these. */
const baseEnv = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: join(tmp.path, 'state') };

interface RecordLine {
  seq: number;
  event: string;
  mode: string;
  level: string;
  argv: string[];
  changes: { rule: string }[];
  violations: { rule: string; subject: string }[];
  allowances: { rule: string; reason: string }[];
  containerId?: string;
  exitStatus?: number;
  profiles: { path: string; role: string }[];
}
const readRecord = (dir: string): RecordLine[] =>
  readFileSync(join(dir, 'audit.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as RecordLine);

beforeAll(async () => {
  await ensureTestImages();
});

afterAll(async () => {
  await cleanupTestObjects();
  await removeOwnedVolumesUnder(tmp.path);
  tmp.remove();
});

describe('the floor beats the project profile', () => {
  const project = join(tmp.path, 'project');
  const floor = join(tmp.path, 'floor.yaml');
  const state = join(tmp.path, 'floor-state');
  beforeAll(() => {
    mkdirSync(join(project, '.git'), { recursive: true }); // discovery stops here
    writeFileSync(
      join(project, 'sdocker.yaml'),
      [
        'extends: restricted',
        'mode: audit',
        'allow:',
        '  privileged: {reason: "trust me"}',
        '  capabilities:',
        '    - {name: ALL, reason: "trust me"}',
        '  writableRootfs: {reason: "trust me"}',
        '  hostNamespaces:',
        '    - {name: pid, reason: "trust me"}',
        '  hostPaths:',
        '    - {path: /, reason: "trust me", writable: true}',
        '  root: {reason: "trust me", withoutUsernsRemap: true}',
        '',
      ].join('\n'),
    );
    writeFileSync(floor, 'extends: restricted\n');
  });
  const inProject = (args: string[], withFloor: boolean) =>
    sdocker(['run', '--rm', ...args], { cwd: project, env: { ...baseEnv, SDOCKER_STATE_DIR: state, SDOCKER_FLOOR: withFloor ? floor : undefined } });

  it('with SDOCKER_FLOOR (extends restricted): --privileged, caps ALL, host pid, / are refused, naming the floor; nothing created', async () => {
    for (const args of [['--privileged'], ['--cap-add', 'ALL'], ['--cap-add', 'SYS_ADMIN'], ['--pid', 'host'], ['-v', '/:/host'], ['-u', '0'], ['--privileged', '--policy-mode', 'audit']]) {
      const label = caseLabel('floor');
      const since = Date.now();
      const r = await inProject([...label.args, ...args, IMAGES.root, 'true'], true);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr).toContain(`the machine floor ${floor} does not allow it`);
      expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
      expect(await eventsSince(since, { type: ['container'], event: ['create'], label: [`${label.key}=${label.value}`] })).toEqual([]);
    }
    // --policy privileged cannot step around it either
    const p = await inProject([...L, '--policy', 'privileged', IMAGES.root, 'true'], true);
    expect(p.code).toBe(125);
    expect(p.stderr).toMatch(/privileged/);
  });

  it("with the floor, the project's writable root filesystem and audit mode do not apply: the container is hardened", async () => {
    const r = await inProject([...L, IMAGES.root, 'sh', '-c', PROBE], true);
    expect(r.code, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv).toMatchObject({ CapEff: '0000000000000000', CapBnd: '0000000000000000', NoNewPrivs: '1', Seccomp: '2', uid: '65534' });
    expect(kv.rootwrite).toMatch(/Read-only file system/);
    const last = readRecord(state).pop()!;
    expect(last.mode).toBe('enforce');
    expect(last.profiles.map((p) => p.role)).toEqual(expect.arrayContaining(['project', 'floor']));
  });

  it('without the floor the same profile lets --privileged, caps and host pid through (so the tests above are not vacuous)', async () => {
    // The policy accepts --privileged (this engine itself cannot start a privileged container:
    // runc fails "unable to apply caps" under plain docker too, so the dry run shows the verdict).
    const dry = await inProject([...L, '--dry-run', '--output', 'json', '--privileged', IMAGES.root, 'true'], false);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { refused: boolean; body: { HostConfig: { Privileged: boolean } }; allowances: { rule: string }[] };
    expect(plan.refused).toBe(false);
    expect(plan.body.HostConfig.Privileged).toBe(true);
    // and the engine really gets what the project allows: SYS_ADMIN, host pid, root, writable /
    const r = await inProject([...L, '--cap-add', 'SYS_ADMIN', '--pid', 'host', IMAGES.root, 'sh', '-c', `${PROBE}\necho "pid1=$(cat /proc/1/comm)"`], false);
    expect(r.code, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(BigInt(`0x${kv.CapEff}`) & (1n << 21n)).toBe(1n << 21n); // CAP_SYS_ADMIN
    expect(kv.uid).toBe('0');
    expect(kv.rootwrite).toBe('ok');
    expect(kv.pid1).not.toBe('sh');
    // with the floor, that same line is refused
    const f = await inProject([...L, '--cap-add', 'SYS_ADMIN', '--pid', 'host', IMAGES.root, 'true'], true);
    expect(f.code).toBe(125);
    expect(f.stderr).toContain('SD-CAP-001');
    expect(f.stderr).toContain('SD-NS-001');
  });
});

describe('the run record', () => {
  const state = join(tmp.path, 'record-state');
  const log = join(state, 'audit.jsonl');
  const env = { ...baseEnv, SDOCKER_STATE_DIR: state };
  const verify = (path: string) => sdocker(['audit-log', 'verify', path], { env });
  /** A tampered copy of the log (and its head file, which the tamperer leaves alone). */
  const tampered = (name: string, edit: (lines: string[]) => string[]): string => {
    const p = join(state, `${name}.jsonl`);
    copyFileSync(`${log}.head`, `${p}.head`);
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    writeFileSync(p, `${edit(lines).join('\n')}\n`);
    return p;
  };

  beforeAll(async () => {
    expect((await sdocker(['run', '--rm', ...L, IMAGES.root, 'echo', 'one'], { env })).code).toBe(0);
    expect((await sdocker(['run', '--rm', ...L, IMAGES.root, 'sh', '-c', 'exit 3'], { env })).code).toBe(3);
    expect((await sdocker(['run', '--rm', ...L, '--privileged', IMAGES.root, 'true'], { env })).code).toBe(125);
  });

  it('two runs and a refusal append three chained lines; verify exits 0', async () => {
    const lines = readRecord(state);
    expect(lines.map((l) => [l.seq, l.event])).toEqual([
      [1, 'run'],
      [2, 'run'],
      [3, 'refused'],
    ]);
    expect(lines[0]!.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(lines[1]!.exitStatus).toBe(3);
    expect(lines[2]!.containerId).toBeUndefined();
    expect(lines[2]!.violations.map((v) => v.rule)).toEqual(['SD-PRIV-001']);
    expect(lines[0]!.changes.map((c) => c.rule)).toEqual(expect.arrayContaining(['SD-CAP-001', 'SD-USER-001', 'SD-ROOTFS-001']));
    const v = await verify(log);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout + v.stderr).toMatch(/3 records, chain intact/);
  });

  it('an edited line is reported by number, exit 1', async () => {
    const p = tampered('edited', (ls) => ls.map((l, i) => (i === 1 ? l.replace('"exitStatus":3', '"exitStatus":0') : l)));
    expect(readFileSync(p, 'utf8')).not.toBe(readFileSync(log, 'utf8'));
    const v = await verify(p);
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).toMatch(/line 2 was edited/);
  });

  it('a deleted line (middle, and last) is reported, exit 1', async () => {
    const mid = await verify(tampered('deleted-mid', (ls) => [ls[0]!, ls[2]!]));
    expect(mid.code).toBe(1);
    expect(mid.stdout + mid.stderr).toMatch(/:2: .*deleted/);
    const last = await verify(tampered('deleted-last', (ls) => ls.slice(0, 2)));
    expect(last.code).toBe(1);
    expect(last.stdout + last.stderr).toMatch(/deleted|head/);
  });

  it('two swapped lines are reported, exit 1', async () => {
    const v = await verify(tampered('swapped', (ls) => [ls[1]!, ls[0]!, ls[2]!]));
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).toMatch(/:1: .*seq is 2, expected 1/);
    expect(v.stdout + v.stderr).toMatch(/reordered/);
  });
});

describe('--dry-run tells the truth', () => {
  const hostDir = join(tmp.path, 'dry-bind');
  const env = { ...baseEnv, SDOCKER_STATE_DIR: join(tmp.path, 'dry-state') };
  beforeAll(() => {
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'f'), 'host file\n');
  });
  const script = `${PROBE}\ncat /m/f; grep " /m " /proc/mounts | cut -d" " -f4`;

  it('text: the changes with rule ids and the equivalent commands; nothing created', async () => {
    const label = caseLabel('dry-text');
    const since = Date.now();
    const before = new Set((await listVolumes()).map((v) => v.Name));
    const r = await sdocker(['run', '--rm', '--dry-run', ...label.args, '-v', `${hostDir}:/m`, '-p', '80', IMAGES.root, 'sh', '-c', script], { env });
    expect(r.code, r.stderr).toBe(0);
    for (const id of ['SD-CAP-001', 'SD-NNP-001', 'SD-USER-001', 'SD-ROOTFS-001', 'SD-TMPFS-001', 'SD-MNT-003', 'SD-RES-001', 'SD-RES-002', 'SD-PORT-001', 'SD-LOG-001'])
      expect(r.stdout).toContain(id);
    expect(r.stdout).toMatch(/^ {2}docker (run|volume create) .*o=bind,nosuid,nodev,ro/m);
    expect(r.stdout).toMatch(/^ {2}docker run .*--cap-drop ALL/m);
    expect(r.stdout).toContain('127.0.0.1');
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
    expect(await eventsSince(since, { type: ['container'], event: ['create'], label: [`${label.key}=${label.value}`] })).toEqual([]);
    expect((await listVolumes()).filter((v) => !before.has(v.Name) && bindDevice(v) === hostDir)).toEqual([]);
  });

  it('json: its docker commands, run with the real docker CLI, give the same hardened container as sdocker run', async () => {
    const label = caseLabel('dry-json');
    const since = Date.now();
    const args = ['run', '--rm', ...label.args, '-v', `${hostDir}:/m`, IMAGES.root, 'sh', '-c', script];
    const dry = await sdocker(['run', '--dry-run', '--output', 'json', ...args.slice(1)], { env });
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { refused: boolean; changes: unknown[]; commands: string[]; ownedVolumes: { Name: string }[] };
    expect(plan.refused).toBe(false);
    expect(plan.changes.length).toBeGreaterThan(5);
    expect(await eventsSince(since, { type: ['container'], event: ['create'], label: [`${label.key}=${label.value}`] })).toEqual([]);
    // `docker volume create` lines (if any) first, then one `docker run`
    expect(plan.commands.at(-1)).toMatch(/^docker run /);
    for (const c of plan.commands.slice(0, -1)) expect(c).toMatch(/^docker volume create /);
    const replay = async () => {
      for (const cmd of plan.commands.slice(0, -1)) {
        const c = await bash(cmd);
        expect(c.code, `${cmd}: ${c.stderr}`).toBe(0);
      }
      return bash(plan.commands.at(-1)!);
    };
    try {
      const viaDocker = await replay();
      const viaSdocker = await sdocker(args, { env });
      expect(viaSdocker.code, viaSdocker.stderr).toBe(0);
      expect(viaDocker.code, viaDocker.stderr).toBe(0);
      expect(viaDocker.stdout).toBe(viaSdocker.stdout);
      const kv = keyValues(viaDocker.stdout);
      expect(kv).toMatchObject({ CapEff: '0000000000000000', CapBnd: '0000000000000000', NoNewPrivs: '1', Seccomp: '2', uid: '65534' });
      expect(kv.rootwrite).toMatch(/Read-only file system/);
      expect(viaDocker.stdout).toMatch(/host file\n.*ro.*nosuid.*nodev|host file\n.*nosuid.*nodev.*ro/);
    } finally {
      for (const v of plan.ownedVolumes ?? []) await removeVolume(v.Name);
      await removeOwnedVolumesUnder(hostDir);
    }
  });
});

describe('modes and levels', () => {
  const state = join(tmp.path, 'mode-state');
  const env = { ...baseEnv, SDOCKER_STATE_DIR: state };
  const capSysAdmin = 1n << 21n;
  const has = (hex: string | undefined, bit: bigint) => (BigInt(`0x${hex ?? '0'}`) & bit) === bit;
  const lastRecord = () => readRecord(state).pop()!;

  it('--policy-mode warn: --cap-add SYS_ADMIN gets through with a warning; everything else stays hardened', async () => {
    const r = await sdocker(['run', '--rm', ...L, '--policy-mode', 'warn', '--cap-add', 'SYS_ADMIN', IMAGES.root, 'sh', '-c', PROBE], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('SD-CAP-001');
    expect(r.stderr).toMatch(/would refuse/);
    const kv = keyValues(r.stdout);
    expect(has(kv.CapBnd, capSysAdmin)).toBe(true);
    expect(BigInt(`0x${kv.CapBnd}`)).toBe(capSysAdmin); // only the one asked for
    expect(kv).toMatchObject({ NoNewPrivs: '1', Seccomp: '2', uid: '65534' });
    expect(kv.rootwrite).toMatch(/Read-only file system/);
    const rec = lastRecord();
    expect(rec).toMatchObject({ event: 'run', mode: 'warn' });
    expect(rec.violations.map((v) => v.rule)).toEqual(['SD-CAP-001']);
  });

  it('--policy-mode audit: the request runs exactly as typed and the record holds the violation and the would-be changes', async () => {
    const r = await sdocker(['run', '--rm', ...L, '--policy-mode', 'audit', '--cap-add', 'SYS_ADMIN', IMAGES.root, 'sh', '-c', PROBE], { env });
    expect(r.code, r.stderr).toBe(0);
    const plain = await docker(['run', '--rm', ...L, '--cap-add', 'SYS_ADMIN', IMAGES.root, 'sh', '-c', PROBE]);
    const kv = keyValues(r.stdout);
    const pk = keyValues(plain.stdout);
    for (const k of ['CapEff', 'CapBnd', 'NoNewPrivs', 'uid', 'rootwrite', 'memory', 'pids']) expect(kv[k], k).toBe(pk[k]);
    expect(has(kv.CapEff, capSysAdmin)).toBe(true);
    const rec = lastRecord();
    expect(rec).toMatchObject({ event: 'run', mode: 'audit' });
    expect(rec.violations.map((v) => v.rule)).toEqual(['SD-CAP-001']);
    expect(rec.changes.map((c) => c.rule)).toEqual(expect.arrayContaining(['SD-CAP-001', 'SD-USER-001', 'SD-ROOTFS-001']));
  });

  it('--policy baseline: docker default capabilities, root, writable /, 4g/4096 limits, still no-new-privileges and seccomp; restricted differs', async () => {
    const script = `${PROBE}\ncat /proc/sys/kernel/msgmax`;
    const base = await sdocker(['run', '--rm', ...L, '--policy', 'baseline', '--sysctl', 'kernel.msgmax=65536', IMAGES.root, 'sh', '-c', script], { env });
    const plain = await docker(['run', '--rm', ...L, IMAGES.root, 'sh', '-c', PROBE]);
    expect(base.code, base.stderr).toBe(0);
    const kv = keyValues(base.stdout);
    const pk = keyValues(plain.stdout);
    expect(kv.CapEff).toBe(pk.CapEff);
    expect(kv.CapBnd).toBe(pk.CapBnd);
    expect(kv.uid).toBe('0');
    expect(kv.rootwrite).toBe('ok');
    expect(kv).toMatchObject({ NoNewPrivs: '1', Seccomp: '2', memory: String(4 * 1024 ** 3), pids: '4096' });
    expect(pk.NoNewPrivs).toBe('0');
    expect(base.stdout.trim().split('\n').pop()).toBe('65536');
    // the same sysctl is refused under restricted; --privileged under both
    const restricted = await sdocker(['run', '--rm', ...L, '--sysctl', 'kernel.msgmax=65536', IMAGES.root, 'true'], { env });
    expect(restricted.code).toBe(125);
    expect(restricted.stderr).toContain('SD-SYSCTL-001');
    const priv = await sdocker(['run', '--rm', ...L, '--policy', 'baseline', '--privileged', IMAGES.root, 'true'], { env });
    expect(priv.code).toBe(125);
    expect(priv.stderr).toContain('SD-PRIV-001');
  });

  it('--policy baseline: binds writable; a port without an address is published on every address (restricted: 127.0.0.1 only)', async () => {
    const dir = join(tmp.path, 'baseline-bind');
    mkdirSync(dir);
    const r = await sdocker(['run', '-d', ...L, '--policy', 'baseline', '-v', `${dir}:/m`, '-p', '80', IMAGES.root, 'sh', '-c', 'echo w > /m/w; httpd -f -p 80 -h /tmp'], { env });
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    try {
      const port = (await docker(['port', id, '80/tcp'])).stdout.trim().split('\n');
      expect(port.some((p) => p.startsWith('0.0.0.0:'))).toBe(true);
      const hostPort = Number(port[0]!.split(':').pop());
      const other = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (other) expect(await httpStatusLine(other, hostPort)).toMatch(/^HTTP\/1\.[01] /);
      let w = '';
      for (let i = 0; i < 50 && !w; i++) {
        try {
          w = readFileSync(join(dir, 'w'), 'utf8');
        } catch {
          await new Promise((res) => setTimeout(res, 100));
        }
      }
      expect(w).toBe('w\n');
    } finally {
      await docker(['rm', '-f', '-v', id]);
      await removeOwnedVolumesUnder(dir);
    }
  });

});

