/**
 * Issue 11: containers started in known bad configurations (plain docker, on the main engine) are
 * each reported with the right id, and what each finding claims is checked inside the container
 * (the kernel's view: namespaces, capabilities, seccomp, mounts). A container made by `sdocker run`
 * under `restricted` yields no container finding above low.
 */
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTestObjects, runCli, TEST_LABEL_ARGS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, keyValues, sdocker, tempDir } from '../policy/engine-checks.js';

interface Finding {
  id: string;
  severity: string;
  subject: string;
  message: string;
}

const L = TEST_LABEL_ARGS;
const tmp = tempDir('audit-ctr');
const env = { SDOCKER_STATE_DIR: join(tmp.path, 'state') };
const VOLUME = testName('audit-bindvol');
/** Built in beforeAll: the root test image with one more passwd line, toor with uid 0. */
const TOOR_IMAGE = `sdocker-test/busybox:audit-toor-${process.pid}`;

/**
 * name → docker run flags and the finding it must get. `create`: created, not started — this host's
 * dockerd lacks CAP_SYS_RESOURCE in its bounding set, so runc cannot start a privileged container
 * here ("unable to apply caps"); the audit reads the created one (the engine's inspect is the same).
 */
const CASES: Record<string, { flags: string[]; id: string; create?: boolean; image?: string }> = {
  privileged: { flags: ['--privileged'], id: 'SDA-CTR-PRIVILEGED', create: true },
  capadd: { flags: ['--cap-add', 'SYS_ADMIN'], id: 'SDA-CTR-CAP-ADD' },
  hostnet: { flags: ['--network', 'host'], id: 'SDA-CTR-HOST-NET' },
  hostpid: { flags: ['--pid', 'host'], id: 'SDA-CTR-HOST-PID' },
  hostipc: { flags: ['--ipc', 'host'], id: 'SDA-CTR-HOST-IPC' },
  hostuts: { flags: ['--uts', 'host'], id: 'SDA-CTR-HOST-UTS' },
  socket: { flags: ['-v', '/var/run/docker.sock:/var/run/docker.sock'], id: 'SDA-CTR-SOCKET' },
  etcrw: { flags: ['-v', '/etc:/h'], id: 'SDA-CTR-MOUNT-SENSITIVE-RW' },
  etcro: { flags: ['-v', '/etc:/h:ro'], id: 'SDA-CTR-MOUNT-SENSITIVE' },
  /** A symlink in the project's tree that leads to /etc: mount(2) follows it, so does the audit. */
  etclink: { flags: ['-v', `${tmp.path}/link:/h:ro`], id: 'SDA-CTR-MOUNT-SENSITIVE' },
  /** A named volume whose local-driver options bind /etc (made in beforeAll): the engine shows the volume's own path. */
  etcvolume: { flags: ['-v', `${VOLUME}:/h:ro`], id: 'SDA-CTR-MOUNT-SENSITIVE' },
  bindrw: { flags: ['-v', `${tmp.path}/share:/d`], id: 'SDA-CTR-MOUNT-RW' },
  seccomp: { flags: ['--security-opt', 'seccomp=unconfined'], id: 'SDA-CTR-SECCOMP-UNCONFINED' },
  ports: { flags: ['-p', '8080'], id: 'SDA-CTR-PORT-ALL' },
  restart: { flags: ['--restart', 'always'], id: 'SDA-CTR-RESTART' },
  device: { flags: ['--device', '/dev/zero:/dev/zz'], id: 'SDA-CTR-DEVICES' },
  plain: { flags: [], id: 'SDA-CTR-ROOT' },
  /** USER toor, a name the image's /etc/passwd maps to uid 0: root as the host sees the process. */
  toor: { flags: ['-u', 'toor'], id: 'SDA-CTR-ROOT', image: TOOR_IMAGE },
};
/** What plain `docker run` lacks, beyond running as root. */
const PLAIN_ALSO = ['SDA-CTR-MEMORY', 'SDA-CTR-PIDS', 'SDA-CTR-CPU', 'SDA-CTR-NNP', 'SDA-CTR-ROOTFS-RW', 'SDA-CTR-CAP-DEFAULT', 'SDA-CTR-HEALTH', 'SDA-CTR-ULIMIT'];

const names: Record<string, string> = {};
let restricted = '';
let byName: Map<string, Finding[]> = new Map();

function execIn(name: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return docker(['exec', name, 'sh', '-c', script]);
}

beforeAll(async () => {
  await ensureTestImages();
  mkdirSync(`${tmp.path}/share`);
  symlinkSync('/etc', `${tmp.path}/link`);
  const v = await docker(['volume', 'create', ...L, '-d', 'local', '-o', 'type=none', '-o', 'o=bind', '-o', 'device=/etc', VOLUME]);
  expect(v.code, v.stderr).toBe(0);
  const ctx = join(tmp.path, 'toor');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${IMAGES.root}\nRUN echo 'toor:x:0:0:toor:/root:/bin/sh' >> /etc/passwd\n`);
  const b = await docker(['build', '-q', '--label', 'sdocker.test=1', '-t', TOOR_IMAGE, ctx]);
  expect(b.code, b.stderr).toBe(0);
  await Promise.all(
    Object.entries(CASES).map(async ([k, c]) => {
      names[k] = testName(`audit-${k}`);
      const r = await docker([...(c.create ? ['create'] : ['run', '-d']), '--name', names[k]!, ...L, ...c.flags, c.image ?? IMAGES.root, 'sleep', '300']);
      expect(r.code, `${k}: ${r.stderr}`).toBe(0);
    }),
  );
  restricted = testName('audit-restricted');
  const r = await sdocker(['run', '-d', '--name', restricted, ...L, '-p', '8080', IMAGES.root, 'sleep', '300'], { env });
  expect(r.code, r.stderr).toBe(0);
  const a = await runCli(['audit', '-o', 'json', ...Object.values(names), restricted]);
  expect(a.stderr).toBe('');
  expect(a.code).toBe(0);
  const report = JSON.parse(a.stdout) as { containers: number; findings: Finding[] };
  expect(report.containers).toBe(Object.keys(names).length + 1);
  byName = new Map();
  for (const f of report.findings) {
    const n = f.subject.split(' ')[0]!;
    byName.set(n, [...(byName.get(n) ?? []), f]);
  }
}, 180_000);

afterAll(async () => {
  await cleanupTestObjects();
  await docker(['rmi', TOOR_IMAGE]);
  tmp.remove();
});

const idsOf = (key: string) => new Set((byName.get(names[key]!) ?? []).map((f) => f.id));

describe('sdocker audit: each bad container is reported with the right id', () => {
  it.each(Object.keys(CASES))('%s', (k) => {
    expect([...idsOf(k)]).toContain(CASES[k]!.id);
  });

  it('plain docker run: root, no limits, no no-new-privileges, writable /, default capabilities, no health check, no ulimits', () => {
    expect([...idsOf('plain')]).toEqual(expect.arrayContaining(PLAIN_ALSO));
    // and nothing it does not have
    for (const id of ['SDA-CTR-PRIVILEGED', 'SDA-CTR-CAP-ADD', 'SDA-CTR-HOST-NET', 'SDA-CTR-SOCKET', 'SDA-CTR-PORT-ALL', 'SDA-CTR-RESTART', 'SDA-CTR-DEVICES']) {
      expect(idsOf('plain').has(id), id).toBe(false);
    }
  });

  it('toor is root: the process runs as uid 0 on the host, and the finding says so', async () => {
    const f = (byName.get(names.toor!) ?? []).find((x) => x.id === 'SDA-CTR-ROOT')!;
    expect(f.message).toContain('uid 0 on the host');
    expect((await execIn(names.toor!, 'id -u')).stdout.trim()).toBe('0');
  });

  it('a read-only sensitive bind is not reported as writable, nor the writable one as read-only', () => {
    expect(idsOf('etcro').has('SDA-CTR-MOUNT-SENSITIVE-RW')).toBe(false);
    expect(idsOf('etcrw').has('SDA-CTR-MOUNT-SENSITIVE')).toBe(false);
  });
});

describe('what the findings claim is what the kernel shows inside', () => {
  it('host namespaces: the same ns inode as the host', async () => {
    for (const [k, ns] of [['hostnet', 'net'], ['hostpid', 'pid'], ['hostipc', 'ipc'], ['hostuts', 'uts']] as const) {
      const r = await execIn(names[k]!, `readlink /proc/self/ns/${ns}`);
      expect(r.stdout.trim(), k).toBe(readlinkSync(`/proc/self/ns/${ns}`));
      const other = await execIn(names.plain!, `readlink /proc/self/ns/${ns}`);
      expect(other.stdout.trim(), `plain ${ns}`).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
    }
  });

  it('SYS_ADMIN, seccomp unconfined: the process status says so', async () => {
    const status = async (k: string) => keyValues((await execIn(names[k]!, "grep -E '^(CapEff|Seccomp):' /proc/self/status")).stdout);
    expect(BigInt(`0x${(await status('capadd')).CapEff}`) & (1n << 21n)).not.toBe(0n);
    expect((await status('seccomp')).Seccomp).toBe('0');
    expect((await status('plain')).Seccomp).toBe('2');
  });

  it('the engine socket is a socket inside; the host file is read and written through the binds; the device is there', async () => {
    expect((await execIn(names.socket!, 'test -S /var/run/docker.sock && echo sock')).stdout.trim()).toBe('sock');
    expect((await execIn(names.etcro!, 'cat /h/hostname')).stdout).toBe(readFileSync('/etc/hostname', 'utf8'));
    expect((await execIn(names.etcro!, 'touch /h/.sda-probe 2>&1 || echo refused')).stdout).toMatch(/Read-only file system/);
    expect((await execIn(names.etclink!, 'cat /h/hostname')).stdout).toBe(readFileSync('/etc/hostname', 'utf8'));
    expect((await execIn(names.etcvolume!, 'cat /h/hostname')).stdout).toBe(readFileSync('/etc/hostname', 'utf8'));
    expect((await execIn(names.etcrw!, "grep ' /h ' /proc/mounts")).stdout.split(' ')[3]!.split(',')).toContain('rw');
    writeFileSync(`${tmp.path}/share/planted`, 'from the host\n');
    expect((await execIn(names.bindrw!, 'cat /d/planted; echo back > /d/written')).stdout).toBe('from the host\n');
    expect(readFileSync(`${tmp.path}/share/written`, 'utf8')).toBe('back\n');
    expect((await execIn(names.device!, 'test -c /dev/zz && echo chr')).stdout.trim()).toBe('chr');
  });
});

describe('a container made by sdocker run under restricted', () => {
  it('yields no container finding above low, and is hardened inside', async () => {
    const fs = byName.get(restricted) ?? [];
    const above = fs.filter((f) => !['low', 'info'].includes(f.severity));
    expect(above).toEqual([]);
    const kv = keyValues((await execIn(restricted, "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; echo uid=$(id -u)")).stdout);
    expect(kv).toMatchObject({ CapEff: '0000000000000000', NoNewPrivs: '1', Seccomp: '2', uid: '65534' });
  });
});
