/**
 * Issue 10, parts 3 and 4, against the real engine: `sdocker scan` on images built here (several
 * layers: setuid, setgid, a binary file capability, world-writable directories; a whiteout; an
 * opaque directory; a file replacing a directory) and on the real Debian images. The truth is what a
 * container of the same image shows: `find / -xdev -perm /6000`, file for file, and the capability
 * the kernel really raises (CapEff in /proc/self/status of the capable file run as uid 1000).
 * `sdocker image harden` then makes an image that scans clean, in which find finds nothing and the
 * files still run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFileCaps } from '../../src/scan/caps.js';
import { cleanupTestObjects, runCli, spawnCollect, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { REAL_IMAGE_BUILD_MS, realImages } from '../helpers/real-images.js';
import { loadLayeredImage, removeImage, type Entry } from '../helpers/scan-images.js';

const cache = mkdtempSync(join(tmpdir(), 'sdocker-scan-cache-'));
const env = { XDG_CACHE_HOME: cache };
const suffix = `${process.pid}`;
const TAGS = {
  layers: `sdocker-test/scan-layers:${suffix}`,
  whiteout: `sdocker-test/scan-whiteout:${suffix}`,
  opaque: `sdocker-test/scan-opaque:${suffix}`,
  hardened: `sdocker-test/scan-hardened:${suffix}`,
  sshd: `sdocker-test/scan-sshd:${suffix}`,
};

const NET_RAW = 1n << 13n;

const LAYERS: Entry[][] = [
  [
    { path: '/opt', dir: true },
    { path: '/opt/suid', dir: true },
    // A copy of busybox named cat, setuid root: runs as its applet.
    { path: '/opt/suid/cat', body: 'busybox', mode: 0o4755 },
    { path: '/opt/sgid-tool', body: '#!/bin/sh\necho sgid\n', mode: 0o2755, gid: 42 },
    { path: '/opt/replaced', body: 'x', mode: 0o4755 },
    { path: '/opt/capbin', dir: true },
    { path: '/opt/capbin/cat', body: 'busybox', mode: 0o755, caps: encodeFileCaps(['NET_RAW']) },
    { path: '/opt/ww', dir: true, mode: 0o777 },
    { path: '/opt/sticky', dir: true, mode: 0o1777 },
    { path: '/opt/shared', dir: true, mode: 0o2775, gid: 42 },
  ],
  [
    { path: '/opt/user-suid', body: 'u', mode: 0o4750, uid: 1000, gid: 1000 },
    // A later layer writes the same path without the bit: the setuid one is gone.
    { path: '/opt/replaced', body: 'y', mode: 0o755 },
    { path: '/opt/ww2', dir: true, mode: 0o757 },
  ],
];

const WHITEOUT: Entry[][] = [
  [
    { path: '/opt', dir: true },
    { path: '/opt/gone', body: 'g', mode: 0o4755 },
    { path: '/opt/back', body: 'b', mode: 0o4755 },
    { path: '/opt/d', dir: true },
    { path: '/opt/d/inside', body: 'i', mode: 0o6755 },
    { path: '/opt/kept', body: 'k', mode: 0o2755 },
  ],
  [
    { path: '/opt/.wh.gone' },
    { path: '/opt/.wh.back' },
    { path: '/opt/.wh.d' },
  ],
  [{ path: '/opt/back', body: 'b2', mode: 0o4711 }],
];

const OPAQUE: Entry[][] = [
  [
    { path: '/opt', dir: true },
    { path: '/opt/o', dir: true },
    { path: '/opt/o/a', body: 'a', mode: 0o4755 },
    { path: '/opt/o/sub', dir: true },
    { path: '/opt/o/sub/b', body: 'b', mode: 0o2755 },
    { path: '/opt/p', dir: true },
    { path: '/opt/p/x', body: 'x', mode: 0o4755 },
  ],
  [
    { path: '/opt/o', dir: true },
    { path: '/opt/o/.wh..wh..opq' },
    { path: '/opt/o/c', body: 'c', mode: 0o4755 },
    // A file where a directory was: everything under it is gone.
    { path: '/opt/p', body: 'now a file' },
  ],
];

interface JsonReport {
  id: string;
  layers: string[];
  findings: Array<{ rule: string; severity: string; path?: string; mode?: string; uid?: number; gid?: number; layer?: { index: number; diffId: string }; caps?: { permitted: string[]; effective: boolean } }>;
}

async function scanJson(image: string, extra: string[] = []): Promise<{ code: number | null; report: JsonReport; stderr: string }> {
  const r = await runCli(['scan', '--output', 'json', ...extra, image], { env, timeoutMs: 300_000 });
  if (r.code !== 0 && r.code !== 1) throw new Error(`scan exited ${r.code}: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as JsonReport, stderr: r.stderr };
}

/** `find / -xdev -perm /6000` in a container of the image: "MODE UID GID PATH" lines, sorted. */
async function findInContainer(image: string, findArgs = '-perm /6000'): Promise<string[]> {
  // As root: the image's USER (redis) may not read every directory.
  const r = await spawnCollect('docker', ['run', '--rm', ...TEST_LABEL_ARGS, '--network', 'none', '-u', '0', '--entrypoint', '', image, 'sh', '-c', `find / -xdev ${findArgs} -exec stat -c '%a %u %g %n' {} +`], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`find failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^0*(\d)/, '$1')).sort();
}

/** The scan's setuid/setgid findings in the same shape as findInContainer's lines. */
function sBits(r: JsonReport): string[] {
  const seen = new Set<string>();
  for (const f of r.findings) {
    if ((f.rule === 'SD-SCAN-001' || f.rule === 'SD-SCAN-002') && f.path) seen.add(`${parseInt(f.mode!, 8).toString(8)} ${f.uid} ${f.gid} ${f.path}`);
  }
  return [...seen].sort();
}

beforeAll(async () => {
  await loadLayeredImage(TAGS.layers, LAYERS);
  await loadLayeredImage(TAGS.whiteout, WHITEOUT);
  await loadLayeredImage(TAGS.opaque, OPAQUE);
  await loadLayeredImage(TAGS.sshd, [], { User: '', Entrypoint: ['/bin/sh', '-c', 'exec /usr/sbin/sshd -D'] });
});

afterAll(async () => {
  await cleanupTestObjects();
  for (const t of Object.values(TAGS)) await removeImage(t);
  rmSync(cache, { recursive: true, force: true });
});

describe('sdocker scan on images built by the test', () => {
  it('reports setuid, setgid, file capabilities and world-writable directories across layers, as the container shows them', async () => {
    const { report, code } = await scanJson(TAGS.layers);
    expect(code).toBe(0);
    expect(sBits(report)).toEqual(await findInContainer(TAGS.layers));
    const byPath = (p: string, rule: string) => report.findings.find((f) => f.path === p && f.rule === rule);
    expect(byPath('/opt/suid/cat', 'SD-SCAN-001')).toMatchObject({ severity: 'high', mode: '4755', uid: 0, layer: { index: 1, diffId: report.layers[1] } });
    expect(byPath('/opt/user-suid', 'SD-SCAN-001')).toMatchObject({ severity: 'medium', uid: 1000, layer: { index: 2 } });
    expect(byPath('/opt/sgid-tool', 'SD-SCAN-002')).toMatchObject({ gid: 42, mode: '2755' });
    expect(byPath('/opt/replaced', 'SD-SCAN-001')).toBeUndefined();
    expect(byPath('/opt/capbin/cat', 'SD-SCAN-003')).toMatchObject({ caps: { permitted: ['NET_RAW'], effective: true }, severity: 'medium' });
    const ww = report.findings.filter((f) => f.rule === 'SD-SCAN-004').map((f) => f.path).sort();
    expect(ww).toEqual((await findInContainer(TAGS.layers, '-type d -perm -0002 ! -perm -1000')).map((l) => l.split(' ')[3]).sort());
    expect(ww).toEqual(['/opt/ww', '/opt/ww2']);
    // The kernel raises the capability the scan decoded: CapEff of the capable file run as uid 1000.
    const capRun = await spawnCollect('docker', ['run', '--rm', ...TEST_LABEL_ARGS, '--network', 'none', '-u', '1000', TAGS.layers, '/opt/capbin/cat', '/proc/self/status']);
    const eff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(capRun.stdout)![1]}`);
    expect(eff).toBe(NET_RAW);
    // The image's USER is unset: root.
    expect(report.findings.some((f) => f.rule === 'SD-SCAN-005')).toBe(true);
  });

  it('does not report a setuid file a later layer deleted (whiteout), and does report one written again after', async () => {
    const { report } = await scanJson(TAGS.whiteout);
    const lines = sBits(report);
    expect(lines).toEqual(await findInContainer(TAGS.whiteout));
    expect(lines).toEqual(['2755 0 0 /opt/kept', '4711 0 0 /opt/back']);
    expect(report.findings.find((f) => f.path === '/opt/back')?.layer?.index).toBe(3);
  });

  it('hides what an opaque directory covers, and what sits under a directory replaced by a file', async () => {
    const { report } = await scanJson(TAGS.opaque);
    const lines = sBits(report);
    expect(lines).toEqual(await findInContainer(TAGS.opaque));
    expect(lines).toEqual(['4755 0 0 /opt/o/c']);
  });

  it('--fail-on sets the exit code; sarif carries the rules and results; sshd as the entrypoint is a finding', async () => {
    expect((await runCli(['scan', '--fail-on', 'high', TAGS.layers], { env })).code).toBe(1);
    expect((await runCli(['scan', '--fail-on', 'critical', TAGS.layers], { env })).code).toBe(0);
    const bad = await runCli(['scan', '--fail-on', 'severe', TAGS.layers], { env });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('--fail-on');
    const sarif = JSON.parse((await runCli(['scan', '-o', 'sarif', TAGS.layers], { env })).stdout) as { runs: Array<{ results: Array<{ ruleId: string; locations?: unknown[] }>; tool: { driver: { rules: Array<{ id: string }> } } }> };
    expect(sarif.runs[0]!.tool.driver.rules.map((r) => r.id)).toContain('SD-SCAN-001');
    expect(sarif.runs[0]!.results.filter((r) => r.ruleId === 'SD-SCAN-001').length).toBe(2);
    const { report } = await scanJson(TAGS.sshd);
    expect(report.findings.find((f) => f.rule === 'SD-SCAN-006')).toMatchObject({ severity: 'high' });
    const table = await runCli(['scan', TAGS.layers], { env });
    expect(table.stdout).toMatch(/HIGH\s+SD-SCAN-001\s+\/opt\/suid\/cat\s+4755\s+0:0\s+1/);
    const missing = await runCli(['scan', `sdocker-test/no-such-image:${suffix}`], { env });
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain('No such image');
  });
});

describe('sdocker image harden', () => {
  it('adds one layer without setuid/setgid (and capabilities with --drop-caps); scan and find find none; the files still run', async () => {
    const h = await runCli(['image', 'harden', TAGS.layers, '-t', TAGS.hardened, '--drop-caps'], { env, timeoutMs: 300_000 });
    expect(h.stderr).toContain('/opt/suid/cat: 4755 -> 0755');
    expect(h.code).toBe(0);
    const { report } = await scanJson(TAGS.hardened);
    expect(report.findings.filter((f) => ['SD-SCAN-001', 'SD-SCAN-002', 'SD-SCAN-003'].includes(f.rule))).toEqual([]);
    expect(await findInContainer(TAGS.hardened)).toEqual([]);
    const before = JSON.parse((await spawnCollect('docker', ['image', 'inspect', TAGS.layers])).stdout)[0];
    const after = JSON.parse((await spawnCollect('docker', ['image', 'inspect', TAGS.hardened])).stdout)[0];
    expect(after.RootFS.Layers.slice(0, -1)).toEqual(before.RootFS.Layers);
    expect(after.RootFS.Layers.length).toBe(before.RootFS.Layers.length + 1);
    expect(after.Config.Cmd).toEqual(before.Config.Cmd);
    expect(after.Config.Env).toEqual(before.Config.Env);
    const hist = await spawnCollect('docker', ['history', '--no-trunc', '--format', '{{.CreatedBy}}', TAGS.hardened]);
    expect(hist.stdout.split('\n')[0]).toContain('sdocker image harden --drop-caps');
    // The rewritten files run; the capable file no longer raises anything; owners and groups kept.
    const run = await spawnCollect('docker', ['run', '--rm', ...TEST_LABEL_ARGS, '--network', 'none', '-u', '1000', TAGS.hardened, 'sh', '-c', "/opt/suid/cat /etc/hostname >/dev/null && echo cat-ok; /opt/capbin/cat /proc/self/status | grep CapEff; stat -c '%a %u %g' /opt/sgid-tool /opt/shared; /opt/sgid-tool"]);
    expect(run.stdout).toContain('cat-ok');
    expect(run.stdout).toMatch(/CapEff:\s*0+\n/);
    expect(run.stdout).toContain('755 0 42\n775 0 42\n');
    expect(run.stdout).toContain('sgid');
  });

  it('without --drop-caps keeps the capability, byte for byte', async () => {
    const tag = `${TAGS.hardened}-caps`;
    try {
      expect((await runCli(['image', 'harden', TAGS.layers, '-t', tag], { env, timeoutMs: 300_000 })).code).toBe(0);
      const { report } = await scanJson(tag);
      expect(report.findings.filter((f) => f.rule === 'SD-SCAN-001' || f.rule === 'SD-SCAN-002')).toEqual([]);
      expect(report.findings.find((f) => f.rule === 'SD-SCAN-003')).toMatchObject({ path: '/opt/capbin/cat' });
    } finally {
      await removeImage(tag);
    }
  });
});

describe('sdocker scan on the real images (Debian packages)', () => {
  let tags: Record<'nginx' | 'postgres' | 'redis', string>;
  beforeAll(async () => {
    tags = await realImages(['nginx', 'postgres', 'redis']);
  }, REAL_IMAGE_BUILD_MS);

  for (const name of ['nginx', 'postgres', 'redis'] as const) {
    it(`${name}: the report matches find / -xdev -perm /6000 in a container, file for file`, async () => {
      const { report } = await scanJson(tags[name]);
      const found = await findInContainer(tags[name]);
      expect(sBits(report)).toEqual(found);
      // A Debian base carries setuid su, passwd, chsh ...
      expect(found.some((l) => l.endsWith(' /usr/bin/su'))).toBe(true);
    }, 300_000);
  }
});
