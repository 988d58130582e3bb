/** What a deploy job reads: --output json makes sdocker's own reports machine-readable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_LABEL_ARGS, cleanupTestObjects, runCli } from '../helpers/engine.js';
import { IMAGES, ensureTestImages } from '../helpers/images.js';

beforeAll(async () => {
  await ensureTestImages();
});
afterAll(async () => {
  await cleanupTestObjects();
});

describe('--output json', () => {
  it('a refusal is one JSON object on stdout, exit 125, nothing on stdout besides', async () => {
    const r = await runCli(['run', '--rm', '--output', 'json', ...TEST_LABEL_ARGS, '--privileged', '--cap-add', 'sys_admin', IMAGES.root, 'true']);
    expect(r.code).toBe(125);
    const report = JSON.parse(r.stdout) as { refused: boolean; violations: Array<{ rule: string; flag: string; allowWith: string }> };
    expect(report.refused).toBe(true);
    expect(report.violations.map((v) => v.rule).sort()).toEqual(['SD-CAP-001', 'SD-PRIV-001']);
    expect(report.violations.find((v) => v.rule === 'SD-CAP-001')!.flag).toBe('--cap-add sys_admin');
    expect(report.violations.find((v) => v.rule === 'SD-PRIV-001')!.allowWith).toContain('privileged:');
  });

  it('the dry run is JSON with the hardened body and the docker command that reproduces it', async () => {
    const r = await runCli(['run', '--rm', '--dry-run', '--output', 'json', IMAGES.root, 'true']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as { body: { HostConfig: { CapDrop: string[]; ReadonlyRootfs: boolean } }; commands: string[] };
    expect(d.body.HostConfig.CapDrop).toEqual(['ALL']);
    expect(d.body.HostConfig.ReadonlyRootfs).toBe(true);
    expect(d.commands.at(-1)).toMatch(/^docker run /);
  });
});
