/**
 * The built CLI's bundles (scripts/bundle.mjs): sdocker's own commands live in bundles of their
 * own, loaded only when one of them runs, each with its own copy of src/errors.ts. What must hold
 * through bin/sdocker, on the built bundles:
 * - every own command's bundle loads and runs (its help);
 * - an error thrown inside a separately bundled command keeps its exit code and message (main.ts
 *   reads it by its brand: `instanceof` sees another copy of the class), the engine's refusals
 *   with docker's prefix, and is never reported as an internal error;
 * - `sdocker run`, with the image's scan cached, loads no module file besides the loader: no other
 *   bundle's code, no npm package (tar-stream cost every run ~15 ms of start-up).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupTestObjects, REPO_ROOT, runCli, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';

const BUNDLE_DIR = join(REPO_ROOT, 'dist', 'bundle');
let home: string;

beforeAll(async () => {
  await ensureTestImages();
  home = mkdtempSync(join(tmpdir(), 'sdocker-bundles-'));
});

afterAll(async () => {
  await cleanupTestObjects();
  rmSync(home, { recursive: true, force: true });
});

describe('the built bundles', () => {
  it('main.cjs holds none of the own commands bundled apart, and each bundle has its code cache', () => {
    const main = readFileSync(join(BUNDLE_DIR, 'main.cjs'), 'utf8');
    for (const usage of ['Usage:  sdocker serve', 'Usage:  sdocker audit', 'Usage:  sdocker scan', 'Usage:  sdocker seccomp', 'Usage:  sdocker daemon-config']) {
      expect(main, usage).not.toContain(usage);
    }
    const files = readdirSync(BUNDLE_DIR);
    const bundles = files.filter((f) => f.endsWith('.cjs')).map((f) => f.slice(0, -'.cjs'.length));
    expect(bundles).toEqual(expect.arrayContaining(['main', 'door', 'audit', 'seccomp', 'daemon', 'records', 'init']));
    for (const b of bundles) expect(files, b).toContain(`${b}.cache`);
  });

  it.each([
    ['serve', '--help'],
    ['audit', '--help'],
    ['scan', '--help'],
    ['image', 'harden', '--help'],
    ['seccomp', '--help'],
    ['learn', '--help'],
    ['daemon-config', '--help'],
    ['logs', 'export', '--help'],
    ['audit-log', '--help'],
    ['init', '--help'],
  ])('sdocker %s %s loads its bundle and prints its usage', async (...argv) => {
    const r = await runCli(argv);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage:/m);
    expect(r.code).toBe(0);
  });

  it.each([
    [['scan', '--bogus'], 'sdocker: scan: unknown flag --bogus\n'],
    [['audit', '--fail-on', 'bogus'], 'sdocker: --fail-on: expected one of critical, high, medium, low, info, none, got "bogus"\n'],
    [['serve', '--socket', '/nonexistent-sdocker-dir/door.sock'], /^sdocker: --socket \/nonexistent-sdocker-dir\/door\.sock: its directory cannot be used: ENOENT/],
    [['daemon-config', '--bogus'], /^sdocker: .*--bogus/],
    [['image', 'harden'], /^sdocker: .*image/],
    [['scan', 'sdocker-test/no-such-image:none'], 'sdocker: Error response from daemon: No such image: sdocker-test/no-such-image:none (sdocker scan reads images the engine has; pull it first)\n'],
  ] as const)('an error thrown in a separately bundled command keeps its exit code: %j', async (argv, message) => {
    const r = await runCli([...argv]);
    expect(r.stderr).not.toContain('internal error');
    if (typeof message === 'string') expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
    expect(r.code).toBe(125);
  });

  it('a run with the scan cached loads no module file but the loader: no npm package at start-up', async () => {
    const env = { XDG_CACHE_HOME: join(home, 'cache'), SDOCKER_STATE_DIR: join(home, 'state') };
    // The first run of the image scans it (restricted, on a cache miss) and caches the result.
    const first = await runCli(['run', '--rm', ...TEST_LABEL_ARGS, IMAGES.root, 'true'], { cwd: home, env });
    expect(first.code).toBe(0);
    expect(readdirSync(join(home, 'cache', 'sdocker', 'scan')).length).toBeGreaterThan(0);
    for (const level of ['restricted', 'privileged']) {
      const r = await runCli(['run', '--rm', '--policy', level, ...TEST_LABEL_ARGS, IMAGES.root, 'true'], { cwd: home, env: { ...env, NODE_DEBUG: 'module' } });
      expect(r.code).toBe(0);
      const loaded = [...r.stderr.matchAll(/^MODULE \d+: load "([^"]+)" for module/gm)].map((m) => m[1]);
      expect(loaded, level).toEqual([join(REPO_ROOT, 'bin', 'sdocker.cjs')]);
    }
  });
});
