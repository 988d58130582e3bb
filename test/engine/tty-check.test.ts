/** docker's CheckTty: `-it` with stdin that is not a terminal is refused before anything exists. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_LABEL_ARGS, cleanupTestObjects, runCli } from '../helpers/engine.js';
import { IMAGES, ensureTestImages } from '../helpers/images.js';

beforeAll(async () => {
  await ensureTestImages();
});
afterAll(async () => {
  await cleanupTestObjects();
});

describe('-it without a terminal', () => {
  it('exits 1 with docker\'s message, and creates nothing', async () => {
    const label = `sdocker.test.tty=${Date.now()}`;
    const r = await runCli(['run', '-it', '--rm', ...TEST_LABEL_ARGS, '--label', label, IMAGES.root, 'true'], { input: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the input device is not a TTY');
    const ps = await runCli(['ps', '-aq', '--filter', `label=${label}`]);
    expect(ps.stdout.trim()).toBe('');
  });
  it('-d -it needs no terminal (docker does not check then)', async () => {
    const r = await runCli(['run', '-d', '-it', '--rm', ...TEST_LABEL_ARGS, IMAGES.root, 'true'], { input: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
  });
});
