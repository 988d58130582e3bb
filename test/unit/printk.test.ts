/**
 * The host-wide registry of recordings that sets printk_ratelimit to 0 and puts it back: a
 * temporary directory and a plain file stand for /run/sdocker/printk and the sysctl.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitGuard, RateLimitRegistry, isLive } from '../../src/seccomp/printk.js';
import { SdockerError } from '../../src/errors.js';

let base = '';
let dir = '';
let sysctl = '';
const A = process.pid;
const B = process.ppid;

/** A pid that no longer runs (a child that has exited). */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  expect(isLive(pid)).toBe(false);
  return pid;
}
const value = () => readFileSync(sysctl, 'utf8').trim();
const guard = (pid: number) => RateLimitGuard.disable({ sysctl, dir, pid });

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'sdocker-printk-'));
  dir = join(base, 'run', 'printk');
  sysctl = join(base, 'printk_ratelimit');
  writeFileSync(sysctl, '5\n');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('printk_ratelimit registry', () => {
  it('one recording: 0 while it runs, the old value after, nothing left behind', () => {
    const g = guard(A);
    expect(value()).toBe('0');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual([String(A), 'saved']);
    g.restore();
    expect(value()).toBe('5');
    expect(readdirSync(dir)).toEqual([]);
    g.restore();
    expect(value()).toBe('5');
  });

  it('two overlapping recordings restore the original value once both finish, whichever ends first', () => {
    for (const [first, second] of [[A, B], [B, A]] as const) {
      const ga = guard(A);
      const gb = guard(B);
      expect(value()).toBe('0');
      (first === A ? ga : gb).restore();
      expect(value()).toBe('0');
      (second === A ? ga : gb).restore();
      expect(value()).toBe('5');
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('a second recording that starts while the first runs does not save 0 as the old value', () => {
    const ga = guard(A);
    const gb = guard(B);
    expect(readFileSync(join(dir, 'saved'), 'utf8').trim()).toBe('5');
    ga.restore();
    const gc = guard(A);
    gb.restore();
    gc.restore();
    expect(value()).toBe('5');
  });

  it('a stale entry of a dead pid does not block restoring, and is removed', () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dead = deadPid();
    writeFileSync(join(dir, String(dead)), '\n');
    const g = guard(A);
    g.restore();
    expect(value()).toBe('5');
    expect(existsSync(join(dir, String(dead)))).toBe(false);
  });

  it('an entry of a live pid whose start time differs (a reused pid) does not block restoring', () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, String(B)), '1\n');
    guard(A).restore();
    expect(value()).toBe('5');
  });

  it('a crashed recording leaves 0 until the next recording finishes, which restores the original', () => {
    const dead = deadPid();
    new RateLimitRegistry({ sysctl, dir }).enter(dead); // entered, never left
    expect(value()).toBe('0');
    const g = guard(A);
    expect(readFileSync(join(dir, 'saved'), 'utf8').trim()).toBe('5');
    g.restore();
    expect(value()).toBe('5');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('after a crash, a value the administrator set since is the one kept', () => {
    new RateLimitRegistry({ sysctl, dir }).enter(deadPid());
    writeFileSync(sysctl, '7\n');
    guard(A).restore();
    expect(value()).toBe('7');
  });

  it('a host whose value is 0 already keeps it', () => {
    writeFileSync(sysctl, '0\n');
    guard(A).restore();
    expect(value()).toBe('0');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock left by a dead pid is broken; a live holder is waited for, then refused', () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'lock'), `${deadPid()} 1\n`);
    guard(A).restore();
    expect(value()).toBe('5');
    writeFileSync(join(dir, 'lock'), `${B}\n`);
    const t = Date.now();
    expect(() => RateLimitGuard.disable({ sysctl, dir, pid: A, lockTimeoutMs: 50 })).toThrow(SdockerError);
    expect(Date.now() - t).toBeGreaterThanOrEqual(50);
    expect(value()).toBe('5');
  });

  it('refuses a registry directory others can write, and an unwritable sysctl leaves nothing behind', () => {
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    expect(() => guard(A)).toThrow(/mode 0700/);
    rmSync(dir, { recursive: true });
    expect(() => RateLimitGuard.disable({ sysctl: join(base, 'missing'), dir, pid: A })).toThrow(/cannot set .*missing to 0/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('many recorder processes starting and finishing at once: 0 while any runs, the original after', async () => {
    const bundle = join(base, 'printk.mjs');
    buildSync({ entryPoints: [fileURLToPath(new URL('../../src/seccomp/printk.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'node', outfile: bundle, logLevel: 'error' });
    const script = `
      import { readFileSync } from 'node:fs';
      const { RateLimitGuard } = await import(${JSON.stringify(bundle)});
      const [sysctl, dir] = process.argv.slice(1);
      const nap = (ms) => new Promise((r) => setTimeout(r, ms));
      for (let i = 0; i < 15; i++) {
        const g = RateLimitGuard.disable({ sysctl, dir });
        await nap(Math.random() * 6);
        const v = readFileSync(sysctl, 'utf8').trim();
        if (v !== '0') { console.error('value ' + v + ' during a recording'); process.exit(1); }
        g.restore();
        await nap(Math.random() * 3);
      }`;
    const codes = await Promise.all(
      Array.from({ length: 8 }, () => new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, sysctl, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('exit', (code) => resolve(code));
      })),
    );
    expect(codes).toEqual(Array(8).fill(0));
    expect(value()).toBe('5');
    expect(readdirSync(dir)).toEqual([]);
  });
});
