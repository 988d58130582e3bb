/**
 * What the run-time scan (src/cli/run-scan.ts) costs when the local fast path is not available: a
 * user in the engine's group but not root (the usual `alias docker=sdocker`) cannot read the data
 * root. Under restricted with no-new-privileges set, the decision does not depend on the scan: the
 * image is not streamed out of the engine, the record says 'not-scanned' and how to fill the cache.
 * When a profile lifts no-new-privileges the decision depends on it: the image is scanned anyway
 * (save stream) and refused (SD-NNP-002). `sdocker scan IMAGE` fills the cache the run then uses.
 * As root the same run scans in place (via local) and lists the files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cleanupTestObjects, spawnCollect } from '../helpers/engine.js';
import { ensureTestImages } from '../helpers/images.js';
import { loadLayeredImage, removeImage } from '../helpers/scan-images.js';
import { caseLabel, listContainers, tempDir } from '../policy/engine-checks.js';

const UID = 1000;
const tmp = tempDir('scan-run-local');
const home = join(tmp.path, 'home');
const state = join(home, 'state');
const cache = join(home, 'cache');
const project = join(home, 'project');
const allowing = join(home, 'allowing');
const TAG = `sdocker-test/scan-run-local:${process.pid}`;
let imageId = '';

const STATUS = ['sh', '-c', 'grep NoNewPrivs /proc/self/status'];

/** bin/sdocker as uid 1000 with the socket's group only: it reaches the engine, not its data root. */
function asUser(args: string[], cwd: string) {
  const group = statSync('/var/run/docker.sock').gid;
  return spawnCollect('setpriv', ['--reuid', String(UID), '--regid', String(UID), '--groups', String(group), '--', CLI, ...args], {
    cwd,
    env: { HOME: home, XDG_CACHE_HOME: cache, SDOCKER_STATE_DIR: state, SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined },
    timeoutMs: 120_000,
  });
}

function lastRecord(): { event: string; setuidFiles?: string[] | string; setuidNote?: string; violations: Array<{ rule: string }> } {
  const lines = readFileSync(join(state, 'audit.jsonl'), 'utf8').trim().split('\n');
  return JSON.parse(lines.at(-1)!) as ReturnType<typeof lastRecord>;
}

const cached = () => (existsSync(join(cache, 'sdocker', 'scan')) ? readdirSync(join(cache, 'sdocker', 'scan')) : []);

beforeAll(async () => {
  chmodSync(tmp.path, 0o755);
  for (const d of [home, project, allowing]) {
    mkdirSync(d, { recursive: true });
    chownSync(d, UID, UID);
  }
  writeFileSync(join(allowing, 'sdocker.yaml'), 'allow:\n  newPrivileges:\n    reason: "test: a setuid helper"\n');
  await ensureTestImages();
  imageId = await loadLayeredImage(TAG, [[{ path: '/opt', dir: true }, { path: '/opt/cat', body: 'busybox', mode: 0o4755 }]]);
});

afterAll(async () => {
  await cleanupTestObjects();
  await removeImage(TAG);
  tmp.remove();
});

describe.skipIf(process.getuid?.() !== 0)('the run-time scan without the local fast path (not root)', () => {
  it('restricted, no-new-privileges set: runs without streaming the image; the record says not-scanned and how to fill the cache', async () => {
    const label = caseLabel('scan-run-local');
    const r = await asUser(['run', '--rm', ...label.args, TAG, ...STATUS], project);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/NoNewPrivs:\s*1/);
    const rec = lastRecord();
    expect(rec.setuidFiles).toBe('not-scanned');
    expect(rec.setuidNote).toContain(`sdocker scan ${imageId}`);
    expect(rec.setuidNote).toContain('permission denied');
    expect(cached()).toEqual([]);
  });

  it('a profile lifting no-new-privileges makes the decision depend on the scan: scanned anyway (save stream), refused', async () => {
    const label = caseLabel('scan-run-local');
    const r = await asUser(['run', '--rm', ...label.args, '--security-opt', 'no-new-privileges=false', TAG, ...STATUS], allowing);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-NNP-002');
    expect(r.stderr).toContain('/opt/cat');
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
    expect(cached()).toEqual([`${imageId.slice(7)}.json`]);
  });

  it('sdocker scan as that user falls back to the save stream and says why; the run then reads the cache', async () => {
    const s = await asUser(['scan', '-o', 'json', TAG], project);
    expect(s.code).toBe(0);
    const report = JSON.parse(s.stdout) as { via: string; fallback?: string };
    expect(report.via).toBe('save');
    expect(report.fallback).toContain('permission denied');
    const forced = await asUser(['scan', '--via', 'local', TAG], project);
    expect(forced.code).toBe(125);
    expect(forced.stderr).toContain('permission denied');
    const label = caseLabel('scan-run-local');
    expect((await asUser(['run', '--rm', ...label.args, TAG, 'true'], project)).code).toBe(0);
    expect(lastRecord().setuidFiles).toEqual(['/opt/cat']);
  });
});
