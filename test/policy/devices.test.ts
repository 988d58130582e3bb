/**
 * Devices by allowlist (SD-DEV-001/002/003) without the engine: the node judged is the one the
 * host path really is (symlinks resolved by the shell, its type and major:minor from stat), the
 * level's list is short, and anything else needs an allowance naming the real node.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { canonicalCgroupRule, cgroupRuleBeyondLevel, harmlessDevice, LEVEL_DEVICES, parseCgroupRule } from '../../src/policy/devices.js';
import { majorMinor, resolveHostPath } from '../../src/policy/resolve-paths.js';
import { profileOf, rules, run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sdocker-devices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const link = (name: string, target: string) => {
  const p = join(dir, name);
  symlinkSync(target, p);
  return p;
};
const allowing = (allow: Record<string, unknown>, level: 'restricted' | 'baseline' = 'restricted') =>
  profileOf(level, [{ path: '/p/sdocker.yaml', extends: level, allow }]);

describe('host facts', () => {
  test('the real node, its type and its number', () => {
    expect(resolveHostPath('/dev/null')).toMatchObject({ realPath: '/dev/null', exists: true, device: { type: 'c', major: 1, minor: 3 } });
    expect(resolveHostPath(link('null-link', '/dev/null'))).toMatchObject({ realPath: '/dev/null', device: { type: 'c', major: 1, minor: 3 } });
    expect(resolveHostPath('/dev').device).toBeUndefined();
    expect(resolveHostPath('/etc/hostname').device).toBeUndefined();
  });
  test('dev_t as glibc splits it', () => {
    expect(majorMinor(0x0103)).toEqual({ major: 1, minor: 3 });
    expect(majorMinor(0x10300)).toEqual({ major: 259, minor: 0 }); // blkext majors above 255
    expect(majorMinor(0xfe001004)).toEqual({ major: 16, minor: 0xfe004 }); // minors above 255 spill into bits 20+
  });
});

describe('--device', () => {
  test('the restricted list: null, zero, full, random, urandom, tty, and nothing that reaches the host', () => {
    expect(LEVEL_DEVICES.restricted.map((d) => d.path)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    expect(rules(run(['--device', '/dev/null', '--device', '/dev/zero:/dev/z', '--device', '/dev/urandom', '--device', '/dev/tty']))).toEqual([]);
    for (const d of ['/dev/fuse', '/dev/net/tun', '/dev/kvm', '/dev/ttyS0', '/dev/vcs', '/dev/vcsa1', '/dev/userfaultfd', '/dev/tty0', '/dev/kmsg', '/dev/mem']) {
      expect(harmlessDevice('restricted', resolveHostPath(d).device), d).toBeUndefined();
      expect(harmlessDevice('baseline', resolveHostPath(d).device), d).toEqual(d === '/dev/fuse' ? expect.objectContaining({ path: '/dev/fuse' }) : undefined);
      expect(rules(run(['--device', d])), d).toEqual(['SD-DEV-001']);
    }
  });

  test('baseline adds /dev/fuse', () => {
    expect(rules(run(['--device', '/dev/fuse'], { profile: profileOf('baseline') }))).toEqual([]);
    expect(rules(run(['--device', '/dev/vcs'], { profile: profileOf('baseline') }))).toEqual(['SD-DEV-001']);
  });

  test('judged by the node a path really is: a symlink to /dev/vcs named like /dev/null is /dev/vcs', () => {
    const o = run(['--device', `${link('null', '/dev/vcs')}:/dev/null`]);
    expect(rules(o)).toEqual(['SD-DEV-001']);
    expect(o.violations[0]?.why).toContain('resolves to /dev/vcs: character device 7:0 is not on the restricted level\'s list');
    expect(o.violations[0]?.allowWith.join('\n')).toContain('- path: /dev/vcs');
    // And a symlink to /dev/null is /dev/null.
    expect(rules(run(['--device', link('devnull', '/dev/null')]))).toEqual([]);
  });

  test('a directory, a missing path, a file that is no device are refused', () => {
    expect(run(['--device', '/dev']).violations[0]?.why).toContain('a directory hands over every device in it');
    expect(run(['--device', '/dev/nosuch-sdocker']).violations[0]?.why).toContain('does not exist on this host');
    expect(run(['--device', '/etc/hostname']).violations[0]?.why).toContain('is not a device node');
  });

  test('allow.devices names the real node, with a reason', () => {
    const p = allowing({ devices: [{ path: '/dev/net/tun', reason: 'vpn client' }] });
    const o = run(['--device', '/dev/net/tun', '--device', link('tun', '/dev/net/tun')], { profile: p });
    expect(o.violations).toEqual([]);
    expect(o.allowances.map((a) => a.rule)).toEqual(['SD-DEV-001', 'SD-DEV-001']);
    // An allowance for a symlink's own path does not cover where it leads.
    const q = allowing({ devices: [{ path: join(dir, 'tun2'), reason: 'x' }] });
    expect(rules(run(['--device', link('tun2', '/dev/kvm')], { profile: q }))).toEqual(['SD-DEV-001']);
  });

  test('--gpus needs allow.deviceRequests at every level but privileged', () => {
    expect(rules(run(['--gpus', 'all']))).toEqual(['SD-DEV-003']);
    expect(rules(run(['--gpus', '1'], { profile: profileOf('baseline') }))).toEqual(['SD-DEV-003']);
    expect(rules(run(['--gpus', 'all'], { profile: allowing({ deviceRequests: { reason: 'cuda' } }) }))).toEqual([]);
  });
});

describe('--device-cgroup-rule', () => {
  test('parsed as the engine does', () => {
    expect(parseCgroupRule('c 7:* r')).toEqual({ type: 'c', major: 7, minor: '*', perms: 'r' });
    expect(parseCgroupRule('c  7:0 r')).toBeUndefined();
    expect(canonicalCgroupRule('  c  7:0   r ')).toBe('c 7:0 r');
  });

  test('restricted refuses every rule, even one for /dev/null', () => {
    for (const r of ['c 1:3 rwm', 'c 7:0 r', 'c 7:* r', 'a *:* rwm']) {
      expect(rules(run(['--device-cgroup-rule', r])), r).toEqual(['SD-DEV-002']);
      expect(cgroupRuleBeyondLevel('restricted', r)).toContain('no device cgroup rule');
    }
  });

  test('baseline: only rules for devices on its list', () => {
    const b = profileOf('baseline');
    expect(rules(run(['--device-cgroup-rule', 'c 1:3 rwm', '--device-cgroup-rule', 'c 10:229 rwm'], { profile: b }))).toEqual([]);
    for (const r of ['c 7:0 r', 'c 7:* r', 'b 8:0 r', 'c 4:64 rw', 'a *:* rwm', 'c 10:200 rwm']) {
      expect(rules(run(['--device-cgroup-rule', r], { profile: b })), r).toEqual(['SD-DEV-002']);
    }
  });

  test('an allowance names the rule (white space aside)', () => {
    const p = allowing({ deviceCgroupRules: [{ rule: 'c 188:*  rwm', reason: 'USB serial adapters come and go' }] });
    const o = run(['--device-cgroup-rule', 'c 188:* rwm'], { profile: p });
    expect(o.violations).toEqual([]);
    expect(o.allowances).toEqual([expect.objectContaining({ rule: 'SD-DEV-002', subject: 'c 188:* rwm' })]);
  });
});
