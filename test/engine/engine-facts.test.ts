/**
 * Remembered engine facts (src/cli/engine-facts.ts) only save time: a run decided on an outdated
 * copy must end up exactly as one decided on the engine's own answer, with nothing left behind.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_LABEL_ARGS, cleanupTestObjects, runCli } from '../helpers/engine.js';
import { IMAGES, ensureTestImages } from '../helpers/images.js';

// Each test has a state directory of its own, seeded by a run of its own: none reads another's facts.
let state = '';
const facts = () => JSON.parse(readFileSync(join(state, 'engine-facts.json'), 'utf8')) as Record<string, { NCPU?: number; SecurityOptions?: string[] }>;
const cpuQuota = ['sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us'];

/** A real run that writes the engine's and the image's facts into this test's state directory. */
async function seed(): Promise<void> {
  const r = await runCli(['run', '--rm', ...TEST_LABEL_ARGS, IMAGES.root, 'true'], { env: { SDOCKER_STATE_DIR: state } });
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  await ensureTestImages();
});
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'sdt-facts-'));
});
afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});
afterAll(async () => {
  await cleanupTestObjects();
});

describe('remembered engine facts', () => {
  it('are written after a run, per endpoint', async () => {
    await seed();
    const f = Object.values(facts())[0]!;
    expect(f.NCPU).toBeGreaterThan(0);
    expect(f.SecurityOptions?.some((s) => s.startsWith('name=seccomp'))).toBe(true);
  });

  it('an outdated copy that changes the container is caught before start: the container is made again from the real facts', async () => {
    await seed();
    const real = facts();
    const host = Object.keys(real)[0]!;
    const ncpu = real[host]!.NCPU!;
    // Pretend the engine had one CPU: the default CPU limit would be 1 instead of min(2, NCPU).
    writeFileSync(join(state, 'engine-facts.json'), JSON.stringify({ [host]: { ...real[host], NCPU: 1 } }));
    const label = `sdocker.test.facts=${Date.now()}`;
    const r = await runCli(['run', '--rm', ...TEST_LABEL_ARGS, '--label', label, IMAGES.root, ...cpuQuota], { env: { SDOCKER_STATE_DIR: state } });
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(Math.min(2, ncpu) * 100_000);
    expect(facts()[host]!.NCPU).toBe(ncpu);
    // The container made from the outdated copy is gone, like the one that ran.
    const left = await runCli(['ps', '-aq', '--filter', `label=${label}`]);
    expect(left.stdout.trim()).toBe('');
  });

  it("an outdated copy of the image's facts is caught too: the container runs as the real image says", async () => {
    await seed();
    const file = join(state, 'image-facts.json');
    const images = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { Config: { User: string } }>;
    const key = Object.keys(images).find((k) => k.endsWith(` ${IMAGES.root}`))!;
    expect(images[key]!.Config.User).toBe('');
    // Pretend the image had USER 1000: the decision would keep 1000; the real image is root → 65534.
    images[key]!.Config.User = '1000';
    writeFileSync(file, JSON.stringify(images));
    const label = `sdocker.test.facts=${Date.now()}`;
    const r = await runCli(['run', '--rm', ...TEST_LABEL_ARGS, '--label', label, IMAGES.root, 'id', '-u'], { env: { SDOCKER_STATE_DIR: state } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('65534');
    expect((JSON.parse(readFileSync(file, 'utf8')) as typeof images)[key]!.Config.User).toBe('');
    const left = await runCli(['ps', '-aq', '--filter', `label=${label}`]);
    expect(left.stdout.trim()).toBe('');
  });

  it('a refusal is never made on a remembered copy', async () => {
    await seed();
    const host = Object.keys(facts())[0]!;
    // A copy claiming userns-remap would allow root with allow.root; without the profile the
    // refusal stands on the real facts either way, and the message is the policy's.
    writeFileSync(join(state, 'engine-facts.json'), JSON.stringify({ [host]: { ...facts()[host], SecurityOptions: ['name=seccomp,profile=default', 'name=userns'] } }));
    const r = await runCli(['run', '--rm', ...TEST_LABEL_ARGS, '--privileged', IMAGES.root, 'true'], { env: { SDOCKER_STATE_DIR: state } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('SD-PRIV-001');
    expect(facts()[host]!.SecurityOptions).not.toContain('name=userns');
  });
});
