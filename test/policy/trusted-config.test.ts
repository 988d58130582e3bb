/**
 * Trusted configuration stays trusted: a project profile cannot move the run record, the record
 * is never written through a symbolic link or to someone else's file, and a profile someone
 * other than the user (or root) could have written is refused, not applied. Real files, no mocks.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { appendRecord, type RunRecord } from '../../src/record/run-record.js';
import { loadEffectiveProfile } from '../../src/policy/load-profile.js';
import { checkProfileTrust, writableByOthers } from '../../src/policy/profile-trust.js';

const rec: RunRecord = {
  time: '2024-01-01T00:00:00Z', event: 'run', user: 'u', uid: 0, host: 'h', cwd: '/w', profiles: [], level: 'restricted',
  mode: 'enforce', image: 'busybox', argv: ['busybox', 'echo', 'pwned'], changes: [], violations: [], allowances: [],
};

function dir(mode?: number): string {
  const d = mkdtempSync(join(tmpdir(), 'sdocker-trust-'));
  if (mode !== undefined) chmodSync(d, mode);
  return d;
}
const load = (cwd: string, extra: Partial<Parameters<typeof loadEffectiveProfile>[0]> = {}) =>
  loadEffectiveProfile({ cwd, env: {}, machineFloor: join(cwd, 'no-floor.yaml'), seccomp: false, ...extra });
const me = { uid: process.getuid!(), gid: process.getgid!() };

describe('audit.log: only the machine floor moves the run record', () => {
  test('a project profile that sets audit.log is refused with file:line:col', async () => {
    const d = dir();
    writeFileSync(join(d, '.git'), '');
    writeFileSync(join(d, 'sdocker.yaml'), 'extends: restricted\naudit:\n  log: ../.bashrc\n');
    await expect(load(d)).rejects.toThrow(/sdocker\.yaml:3:3: audit\.log: only the machine floor .* may move the run record/);
  });
  test('so does one in a file the project extends, and one in a floor named by SDOCKER_FLOOR', async () => {
    const d = dir();
    writeFileSync(join(d, '.git'), '');
    writeFileSync(join(d, 'base.yaml'), 'audit: {log: /root/.profile}\n');
    writeFileSync(join(d, 'sdocker.yaml'), 'extends: ./base.yaml\n');
    await expect(load(d)).rejects.toThrow(/base\.yaml:1:9: audit\.log/);
    writeFileSync(join(d, 'sdocker.yaml'), 'extends: restricted\n');
    await expect(load(d, { env: { SDOCKER_FLOOR: join(d, 'base.yaml') } })).rejects.toThrow(/SDOCKER_FLOOR could make sdocker append/);
  });
  test('the machine floor may set it', async () => {
    const d = dir();
    writeFileSync(join(d, '.git'), '');
    writeFileSync(join(d, 'floor.yaml'), 'extends: restricted\naudit: {log: /var/log/sdocker.jsonl}\n');
    expect((await load(d, { machineFloor: join(d, 'floor.yaml') })).auditLog).toBe('/var/log/sdocker.jsonl');
  });
});

describe('the run record is opened without following links', () => {
  test('a symlinked log file is not followed; nothing is written to its target', () => {
    const d = dir();
    const target = join(d, 'bashrc');
    writeFileSync(target, '# mine\n');
    mkdirSync(join(d, 'state'));
    symlinkSync(target, join(d, 'state', 'audit.jsonl'));
    expect(() => appendRecord(join(d, 'state', 'audit.jsonl'), rec)).toThrow(/is a symbolic link: the run record is not written through it/);
    expect(readFileSync(target, 'utf8')).toBe('# mine\n');
    // a dangling link is not created through either
    symlinkSync(join(d, 'new-target'), join(d, 'state', 'dangling.jsonl'));
    expect(() => appendRecord(join(d, 'state', 'dangling.jsonl'), rec)).toThrow(/symbolic link/);
    expect(() => readFileSync(join(d, 'new-target'))).toThrow();
  });
  test('a FIFO does not hang and a file of another user is refused', () => {
    const d = dir();
    execFileSync('mkfifo', [join(d, 'fifo')]);
    expect(() => appendRecord(join(d, 'fifo'), rec)).toThrow(/not a regular file/);
    writeFileSync(join(d, 'theirs.jsonl'), '');
    chownSync(join(d, 'theirs.jsonl'), me.uid + 4242, me.gid);
    expect(() => appendRecord(join(d, 'theirs.jsonl'), rec)).toThrow(/belongs to uid \d+, not to you/);
    expect(readFileSync(join(d, 'theirs.jsonl'), 'utf8')).toBe('');
  });
  test('a new log is created 0600 and written', () => {
    const d = dir();
    appendRecord(join(d, 'a.jsonl'), rec);
    expect(readFileSync(join(d, 'a.jsonl'), 'utf8')).toContain('"pwned"');
    expect(execFileSync('stat', ['-c', '%a', join(d, 'a.jsonl')], { encoding: 'utf8' }).trim()).toBe('600');
  });
});

describe('a profile someone else could have written is refused', () => {
  test('discovery in a world-writable directory (sticky or not) without a repository root', async () => {
    for (const mode of [0o777, 0o1777]) {
      const d = dir(mode);
      writeFileSync(join(d, 'sdocker.yaml'), 'extends: baseline\n');
      mkdirSync(join(d, 'work', 'sub'), { recursive: true });
      await expect(load(join(d, 'work', 'sub'))).rejects.toThrow(
        new RegExp(`${join(d, 'sdocker.yaml')} \\(found by discovery from .*\\): refusing a profile that someone else could have written: its directory ${d}: it is writable by every user`),
      );
    }
  });
  test('--profile naming such a file, a file writable by others or owned by another user', async () => {
    const d = dir(0o1777);
    writeFileSync(join(d, 'p.yaml'), 'extends: baseline\n');
    await expect(load(dir(), { profile: join(d, 'p.yaml') })).rejects.toThrow(/\(--profile\): refusing .* writable by every user/);
    const e = dir();
    writeFileSync(join(e, '.git'), '');
    writeFileSync(join(e, 'sdocker.yaml'), 'extends: baseline\n');
    chmodSync(join(e, 'sdocker.yaml'), 0o666);
    await expect(load(e)).rejects.toThrow(/sdocker\.yaml .*: the file: it is writable by every user/);
    chmodSync(join(e, 'sdocker.yaml'), 0o644);
    chownSync(join(e, 'sdocker.yaml'), me.uid + 4242, me.gid);
    await expect(load(e)).rejects.toThrow(/belongs to uid/);
    chownSync(join(e, 'sdocker.yaml'), me.uid, me.gid);
    expect((await load(e)).level).toBe('baseline');
  });
  test('an extends target in a world-writable place, and a non-sticky world-writable directory above', async () => {
    const open = dir(0o1777);
    writeFileSync(join(open, 'team.yaml'), 'extends: baseline\n');
    const d = dir();
    writeFileSync(join(d, '.git'), '');
    writeFileSync(join(d, 'sdocker.yaml'), `extends: ${join(open, 'team.yaml')}\n`);
    await expect(load(d)).rejects.toThrow(/team\.yaml \(extended by .*sdocker\.yaml\): refusing/);
    const up = dir(0o777);
    mkdirSync(join(up, 'proj'), { mode: 0o755 });
    writeFileSync(join(up, 'proj', 'sdocker.yaml'), 'extends: baseline\n');
    expect(() => checkProfileTrust(join(up, 'proj', 'sdocker.yaml'), 'test')).toThrow(/the directory .* above it: it is writable by every user and not sticky/);
  });
  test('the rules on one inode', () => {
    expect(writableByOthers({ uid: me.uid, gid: me.gid, mode: 0o40755 }, me, { ownerMatters: true, stickyProtects: false })).toBeUndefined();
    expect(writableByOthers({ uid: me.uid, gid: me.gid + 1, mode: 0o40775 }, me, { ownerMatters: true, stickyProtects: false })).toMatch(/group/);
    expect(writableByOthers({ uid: 0, gid: 0, mode: 0o41777 }, me, { ownerMatters: false, stickyProtects: true })).toBeUndefined();
    expect(writableByOthers({ uid: 0, gid: 0, mode: 0o41777 }, me, { ownerMatters: true, stickyProtects: false })).toMatch(/every user/);
  });
});
