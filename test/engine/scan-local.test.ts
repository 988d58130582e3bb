/**
 * The scan's local fast path (src/scan/local.ts: the engine's overlay2 layer directories walked in
 * place) against the real engine: its report equals the save stream's, finding for finding and
 * layer index for layer index, on a multi-layer image built here (setuid, setgid, a binary file
 * capability, world-writable directories, whiteouts the engine stores as 0:0 character devices, an
 * opaque directory it marks with trusted.overlay.opaque, a file over a directory) and on the real
 * Debian images; and it still matches `find -perm /6000` in a container of the same image.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainIds, layerDirsOf } from '../../src/scan/local.js';
import { encodeFileCaps } from '../../src/scan/caps.js';
import { cleanupTestObjects, runCli, spawnCollect, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { REAL_IMAGE_BUILD_MS, realImages, type RealImage } from '../helpers/real-images.js';
import { loadLayeredImage, removeImage, type Entry } from '../helpers/scan-images.js';

const cache = mkdtempSync(join(tmpdir(), 'sdocker-scanlocal-cache-'));
const env = { XDG_CACHE_HOME: cache };
const TAG = `sdocker-test/scan-local:${process.pid}`;
const ONE = `sdocker-test/scan-local-one:${process.pid}`;
let real: Record<RealImage, string>;

const LAYERS: Entry[][] = [
  [
    { path: '/opt', dir: true },
    { path: '/opt/suid', body: 's', mode: 0o4755 },
    { path: '/opt/gone', body: 'g', mode: 0o4755 },
    { path: '/opt/d', dir: true },
    { path: '/opt/d/inside', body: 'i', mode: 0o6755 },
    { path: '/opt/o', dir: true },
    { path: '/opt/o/a', body: 'a', mode: 0o4755 },
    { path: '/opt/p', dir: true },
    { path: '/opt/p/x', body: 'x', mode: 0o4755 },
    { path: '/opt/ww', dir: true, mode: 0o777 },
  ],
  [
    { path: '/opt/.wh.gone' },
    { path: '/opt/.wh.d' },
    { path: '/opt/o', dir: true },
    { path: '/opt/o/.wh..wh..opq' },
    { path: '/opt/o/c', body: 'c', mode: 0o2755, gid: 42 },
    { path: '/opt/p', body: 'now a file' },
    { path: '/opt/cap', body: 'busybox', mode: 0o755, caps: encodeFileCaps(['NET_RAW']) },
  ],
  [
    { path: '/opt/gone', body: 'back', mode: 0o4711, uid: 1000 },
    { path: '/opt/ww2', dir: true, mode: 0o757 },
    { path: '/opt/sadmin', body: 'busybox', mode: 0o755, caps: encodeFileCaps(['SYS_ADMIN'], { rootid: 0 }) },
  ],
];

interface JsonReport {
  id: string;
  layers: string[];
  via: string;
  fallback?: string;
  findings: Array<{ rule: string; path?: string; mode?: string; uid?: number; gid?: number; layer?: { index: number }; caps?: { version?: number; rootid?: number } }>;
}

async function scan(image: string, via: 'local' | 'save'): Promise<JsonReport> {
  const r = await runCli(['scan', '--via', via, '--output', 'json', image], { env, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`scan --via ${via} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as JsonReport;
}

async function findInContainer(image: string): Promise<string[]> {
  const r = await spawnCollect('docker', ['run', '--rm', ...TEST_LABEL_ARGS, '--network', 'none', '-u', '0', '--entrypoint', '', image, 'sh', '-c', `find / -xdev -perm /6000 -exec stat -c '%a %u %g %n' {} +`], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`find failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).sort();
}

function sBits(r: JsonReport): string[] {
  const seen = new Set<string>();
  for (const f of r.findings) if ((f.rule === 'SD-SCAN-001' || f.rule === 'SD-SCAN-002') && f.path) seen.add(`${parseInt(f.mode!, 8).toString(8)} ${f.uid} ${f.gid} ${f.path}`);
  return [...seen].sort();
}

async function expectSame(image: string): Promise<{ local: JsonReport; save: JsonReport }> {
  const local = await scan(image, 'local');
  const save = await scan(image, 'save');
  expect(local.via).toBe('local');
  expect(save.via).toBe('save');
  expect(local.id).toBe(save.id);
  expect(local.layers).toEqual(save.layers);
  expect(local.findings).toEqual(save.findings);
  return { local, save };
}

beforeAll(async () => {
  await loadLayeredImage(TAG, LAYERS);
  await loadLayeredImage(ONE, [], { User: 'nobody' });
  real = await realImages(['nginx', 'postgres', 'redis']);
}, REAL_IMAGE_BUILD_MS);

afterAll(async () => {
  await cleanupTestObjects();
  await removeImage(TAG);
  await removeImage(ONE);
  rmSync(cache, { recursive: true, force: true });
});

describe('scan --via local', () => {
  it('equals the save stream on layers with whiteouts, an opaque directory, capabilities, and matches find in a container', async () => {
    // A v3 capability whose rootid is 0 is stored by the kernel as v2 (it applies everywhere):
    // the local path reads what is on disk, the save stream replays the header as loaded (the
    // engine keeps the original tar headers, tar-split). The same capabilities either way.
    const sadmin = (r: JsonReport) => r.findings.find((f) => f.path === '/opt/sadmin')!;
    const local0 = await scan(TAG, 'local');
    const save0 = await scan(TAG, 'save');
    expect(sadmin(save0).caps).toMatchObject({ version: 3, rootid: 0, permitted: ['SYS_ADMIN'] });
    expect(sadmin(local0).caps).toEqual({ version: 2, effective: true, permitted: ['SYS_ADMIN'], inheritable: [] });
    const strip = (x: JsonReport) => ({ ...x, via: '', fallback: '', findings: x.findings.map((f) => (f.path === '/opt/sadmin' ? { ...f, caps: undefined } : f)) });
    expect(strip(local0).findings).toEqual(strip(save0).findings);
    expect(local0.layers).toEqual(save0.layers);
    const r = local0;
    const lines = sBits(r);
    expect(lines).toEqual(await findInContainer(TAG));
    expect(lines).toEqual(['2755 0 42 /opt/o/c', '4711 1000 0 /opt/gone', '4755 0 0 /opt/suid']);
    const at = (p: string, rule: string) => r.findings.find((f) => f.path === p && f.rule === rule)?.layer?.index;
    expect(at('/opt/gone', 'SD-SCAN-001')).toBe(3);
    expect(at('/opt/cap', 'SD-SCAN-003')).toBe(2);
    expect(at('/opt/sadmin', 'SD-SCAN-003')).toBe(3);
    expect(r.findings.filter((f) => f.rule === 'SD-SCAN-004').map((f) => f.path).sort()).toEqual(['/opt/ww', '/opt/ww2']);
  });

  it('equals the save stream on a one-layer image (no LowerDir) and reads USER from its /etc/passwd', async () => {
    const { local: r } = await expectSame(ONE);
    expect(r.findings.some((f) => f.rule === 'SD-SCAN-005')).toBe(false);
  });

  it.each(['nginx', 'postgres', 'redis'] as const)('equals the save stream on the real %s image, and find in a container', async (name) => {
    const { local: r } = await expectSame(real[name]);
    expect(sBits(r)).toEqual(await findInContainer(real[name]));
  });

  it('auto picks the local path here (root, unix socket, overlay2) and the table says so', async () => {
    const r = await runCli(['scan', TAG], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain('(read via local)');
  });

  it("pairs the layer directories with the engine's chain ids bottom-up", async () => {
    const inspect = JSON.parse((await spawnCollect('docker', ['image', 'inspect', TAG])).stdout)[0] as { GraphDriver: { Data: Record<string, string> }; RootFS: { Layers: string[] } };
    const dirs = layerDirsOf(inspect.GraphDriver.Data);
    const chains = chainIds(inspect.RootFS.Layers);
    expect(dirs.length).toBe(4);
    // The layer store's cache-id of each chain id names the directory inspect gives at that height.
    for (let i = 0; i < dirs.length; i++) {
      const cacheId = (await spawnCollect('cat', [`/var/lib/docker/image/overlay2/layerdb/sha256/${chains[i]!.slice(7)}/cache-id`])).stdout.trim();
      expect(dirs[i]).toBe(`/var/lib/docker/overlay2/${cacheId}/diff`);
    }
  });
});
