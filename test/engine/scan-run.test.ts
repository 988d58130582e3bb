/**
 * Issue 10, part 6, against the real engine: under restricted, an image carrying setuid-root files
 * runs with no-new-privileges (seen inside: NoNewPrivs in /proc/self/status), the run record lists
 * those files, and a profile's newPrivileges allowance does not lift it for that image (SD-NNP-002)
 * while it still does for an image without them and under baseline. The scan result is cached by
 * image id, validated on read (a corrupt file is scanned again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTestObjects } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { loadLayeredImage, removeImage } from '../helpers/scan-images.js';
import { caseLabel, listContainers, sdocker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('scan-run');
const state = join(tmp.path, 'state');
const cache = join(tmp.path, 'cache');
const project = join(tmp.path, 'project');
const allowing = join(tmp.path, 'allowing');
const env = { SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined, SDOCKER_STATE_DIR: state, XDG_CACHE_HOME: cache };
const TAG = `sdocker-test/scan-run-suid:${process.pid}`;
let imageId = '';

function lastRecord(): { event: string; setuidFiles?: string[] | 'unknown'; violations: Array<{ rule: string }> } {
  const lines = readFileSync(join(state, 'audit.jsonl'), 'utf8').trim().split('\n');
  return JSON.parse(lines.at(-1)!) as ReturnType<typeof lastRecord>;
}

const STATUS = ['sh', '-c', 'grep NoNewPrivs /proc/self/status'];

beforeAll(async () => {
  mkdirSync(project, { recursive: true });
  mkdirSync(allowing, { recursive: true });
  writeFileSync(join(allowing, 'sdocker.yaml'), 'allow:\n  newPrivileges:\n    reason: "test: a setuid helper"\n');
  await ensureTestImages();
  imageId = await loadLayeredImage(TAG, [[
    { path: '/opt', dir: true },
    { path: '/opt/suid', dir: true },
    { path: '/opt/suid/cat', body: 'busybox', mode: 0o4755 },
    { path: '/opt/user-suid', body: 'x', mode: 0o4755, uid: 1000 },
  ]]);
});

afterAll(async () => {
  await cleanupTestObjects();
  await removeImage(TAG);
  tmp.remove();
});

describe('setuid-root images at run time', () => {
  it('restricted: runs with no-new-privileges (seen inside), the record lists the setuid-root files, the scan is cached', async () => {
    const label = caseLabel('scan-run');
    const r = await sdocker(['run', '--rm', ...label.args, TAG, ...STATUS], { cwd: project, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/NoNewPrivs:\s*1/);
    expect(lastRecord()).toMatchObject({ event: 'run', setuidFiles: ['/opt/suid/cat'] });
    const cached = join(cache, 'sdocker', 'scan', `${imageId.slice('sha256:'.length)}.json`);
    const first = statSync(cached).mtimeMs;
    // A second run reads the cache: not written again.
    expect((await sdocker(['run', '--rm', ...label.args, TAG, 'true'], { cwd: project, env })).code).toBe(0);
    expect(statSync(cached).mtimeMs).toBe(first);
    expect(lastRecord().setuidFiles).toEqual(['/opt/suid/cat']);
    // A corrupt or forged cache entry is not believed: scanned again, and the record is right.
    writeFileSync(cached, JSON.stringify({ version: 1, id: imageId, diffIds: [], findings: [{ rule: 'SD-SCAN-001', severity: 'high', message: 'x', path: 'no-slash' }] }));
    expect((await sdocker(['run', '--rm', ...label.args, TAG, 'true'], { cwd: project, env })).code).toBe(0);
    expect(lastRecord().setuidFiles).toEqual(['/opt/suid/cat']);
    expect(readFileSync(cached, 'utf8')).toContain('/opt/suid/cat');
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });

  it('restricted: newPrivileges allowed by the profile is refused for this image (SD-NNP-002), nothing created', async () => {
    const label = caseLabel('scan-run-nnp');
    const r = await sdocker(['run', '--rm', ...label.args, '--security-opt', 'no-new-privileges=false', TAG, ...STATUS], { cwd: allowing, env });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-NNP-002');
    expect(r.stderr).toContain('/opt/suid/cat');
    expect(r.stdout).toBe('');
    expect(lastRecord()).toMatchObject({ event: 'refused', setuidFiles: ['/opt/suid/cat'], violations: [{ rule: 'SD-NNP-002' }] });
    expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  });

  it('the same allowance still holds for an image without setuid files, and under baseline', async () => {
    const label = caseLabel('scan-run-ok');
    const plain = await sdocker(['run', '--rm', ...label.args, '--security-opt', 'no-new-privileges=false', IMAGES.root, ...STATUS], { cwd: allowing, env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/NoNewPrivs:\s*0/);
    expect(lastRecord().setuidFiles).toEqual([]);
    const baseline = await sdocker(['run', '--rm', ...label.args, '--policy', 'baseline', '--security-opt', 'no-new-privileges=false', TAG, ...STATUS], { cwd: allowing, env });
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toMatch(/NoNewPrivs:\s*0/);
    // baseline reads the cache the restricted run wrote (it does not scan by itself).
    expect(lastRecord().setuidFiles).toEqual(['/opt/suid/cat']);
    expect(readdirSync(join(cache, 'sdocker', 'scan')).length).toBe(2);
  });
});
