/**
 * Bad files on the command line, through the built CLI (`bin/sdocker run`): each exits 125 within a
 * few seconds with a message naming the file and holding none of its bytes, and leaves nothing
 * behind (no container, no volume, no half-written file). Before the bounded reader,
 * `--profile /dev/zero` aborted node, `seccomp=/dev/zero` and `--env-file /dev/zero` hung, and a
 * seccomp path printed the first bytes of any file the user could read.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTestObjects, containerExists, runCli, TEST_LABEL_ARGS, testName, volumeExists } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';

let dir: string;
let state: string;
let secret: string;

beforeAll(async () => {
  await ensureTestImages();
  dir = mkdtempSync(join(tmpdir(), 'sdt-badin-'));
  state = mkdtempSync(join(tmpdir(), 'sdt-badin-state-'));
  execFileSync('mkfifo', [join(dir, 'labels.fifo')]);
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) {
    const c = String.fromCharCode(97 + i);
    levels.push(`${c}: &${c} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  }
  writeFileSync(join(dir, 'bomb.yaml'), `${levels.join('\n')}\n`);
  // A root-only file like /etc/shadow, when /etc/shadow itself is not readable here.
  secret = join(dir, 'shadow');
  writeFileSync(secret, 'root:$6$s4lt$h4shh4sh:19000:0:99999:7:::\n');
  chmodSync(secret, 0o600);
});

afterAll(async () => {
  await cleanupTestObjects();
  rmSync(dir, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
});

const shadowPath = (): string => {
  try {
    readFileSync('/etc/shadow');
    return '/etc/shadow';
  } catch {
    return secret;
  }
};

const CASES: [string, () => string[], () => string][] = [
  ['--profile /dev/zero', () => ['--profile', '/dev/zero'], () => '/dev/zero'],
  ['--security-opt seccomp=/dev/zero', () => ['--security-opt', 'seccomp=/dev/zero'], () => '/dev/zero'],
  ['--env-file /dev/zero', () => ['--env-file', '/dev/zero'], () => '/dev/zero'],
  ['--label-file FIFO', () => ['--label-file', join(dir, 'labels.fifo')], () => join(dir, 'labels.fifo')],
  ['--profile with a YAML alias bomb', () => ['--profile', join(dir, 'bomb.yaml')], () => join(dir, 'bomb.yaml')],
  ['--security-opt seccomp=<a root-readable shadow file>', () => ['--security-opt', `seccomp=${shadowPath()}`], shadowPath],
  ['--profile <a root-readable shadow file>', () => ['--profile', shadowPath()], shadowPath],
];

describe('bad files on the command line', () => {
  for (const [what, args, file] of CASES) {
    it(`${what}: exit 125 at once, names the file, quotes none of it, leaves nothing behind`, async () => {
      const name = testName('sdt-badin');
      const before = readdirSync(dir).sort();
      const t0 = Date.now();
      const r = await runCli(['run', '--rm', '--name', name, ...TEST_LABEL_ARGS, '-v', `${name}-vol:/data`, ...args(), IMAGES.root, 'true'], {
        cwd: dir,
        env: { SDOCKER_STATE_DIR: state },
        timeoutMs: 15_000,
      });
      const elapsed = Date.now() - t0;
      expect(r.signal, 'killed: it hung').toBeNull();
      expect(r.code, r.stderr).toBe(125);
      expect(elapsed).toBeLessThan(5000);
      expect(r.stderr).toContain(file());
      expect(r.stderr).not.toContain('root:');
      expect(r.stderr).not.toContain('$6$');
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.stdout).toBe('');
      expect(await containerExists(name)).toBe(false);
      expect(await volumeExists(`${name}-vol`)).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(before);
      expect(readdirSync(state).filter((f) => /\.tmp$|\.lock$/.test(f))).toEqual([]);
    });
  }
});

describe('a command-line --config directory', () => {
  it('with CLI plugins is refused before docker could run one; without plugins it is handed on', async () => {
    const cfg = join(dir, 'cfg');
    const marker = join(dir, 'plugin-ran');
    mkdirSync(join(cfg, 'cli-plugins'), { recursive: true });
    const plugin = join(cfg, 'cli-plugins', 'docker-evil');
    writeFileSync(plugin, `#!/bin/sh\n[ "$1" = docker-cli-plugin-metadata ] && { echo '{"SchemaVersion":"0.1.0","Vendor":"x"}'; exit 0; }\ntouch ${marker}\n`);
    chmodSync(plugin, 0o755);
    for (const args of [['--config', cfg, 'evil'], [`--config=${cfg}`, 'ps', '-q']]) {
      const r = await runCli(args, { cwd: dir, env: { SDOCKER_STATE_DIR: state }, timeoutMs: 15_000 });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain('cli-plugins');
    }
    expect(existsSync(marker)).toBe(false);
    const plain = join(dir, 'cfg-plain');
    mkdirSync(plain);
    const ok = await runCli(['--config', plain, 'ps', '-q', '--filter', 'label=sdocker.none'], { cwd: dir, env: { SDOCKER_STATE_DIR: state }, timeoutMs: 15_000 });
    expect(ok.code, ok.stderr).toBe(0);
  });
});
