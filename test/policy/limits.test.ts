/**
 * Limits judged as the engine applies them (SD-RES-006/007, SD-LOG-002), the maxima of `limits:`
 * (levels, projects, floors), and the one function that says whether the floor grants an allowance.
 */
import { describe, expect, test } from 'vitest';
import { parseHumanSize } from '../../src/flags/values/go-numbers.js';
import { grantedByAny, grants } from '../../src/policy/floor.js';
import { buildRunRequest } from '../../src/flags/request.js';
import { effectiveCpu, judgeLogConfig, resolveLimits, validateLimits } from '../../src/policy/limits.js';
import { validateProfile } from '../../src/policy/profile.js';
import type { ProfileFile } from '../../src/policy/types.js';
import { profileOf, rules, run } from './helpers.js';

const FLOOR = '/etc/sdocker/policy.yaml';
const floorOf = (f: Omit<ProfileFile, 'path'>, level: 'restricted' | 'baseline' = 'restricted') => [{ chain: [{ path: FLOOR, ...f }], level, path: FLOOR }];

describe('CPU: the quota the engine applies', () => {
  test('effectiveCpu follows the daemon: NanoCpus, then CpuPeriod and CpuQuota override', () => {
    expect(effectiveCpu({ NanoCpus: 2e9 })).toEqual({ quota: 200000, period: 100000, set: true });
    expect(effectiveCpu({ NanoCpus: 2e9, CpuQuota: -1 })).toMatchObject({ quota: -1 });
    expect(effectiveCpu({ NanoCpus: 1 })).toMatchObject({ quota: 0 });
    expect(effectiveCpu({ CpuPeriod: 1000, CpuQuota: 1000000 })).toMatchObject({ quota: 1000000, period: 1000 });
    expect(effectiveCpu({})).toMatchObject({ set: false });
  });
  test.each([
    [['--cpu-quota', '-1'], 'SD-RES-006'],
    [['--cpu-quota=-5'], 'SD-RES-006'],
    [['--cpus', '2', '--cpu-quota', '-1'], 'SD-RES-006'],
    [['--cpus', '0.000000001'], 'SD-RES-006'],
    [['--cpus', '0.00009'], 'SD-RES-006'],
    [['--cpus', '0.001'], 'SD-RES-006'],
    [['--cpu-quota', '999'], 'SD-RES-006'],
    [['--cpu-period', '1000', '--cpu-quota', '1000000'], 'SD-RES-007'],
    [['--cpu-quota', '1000000'], 'SD-RES-007'],
  ])('%j is refused as %s', (argv, rule) => {
    const o = run(argv);
    expect(rules(o)).toEqual([rule]);
    expect(o.refused).toBe(true);
  });
  test('within the limits: unchanged; a bare --cpu-period gets the default as a quota over it', () => {
    expect(rules(run(['--cpus', '1.5']))).toEqual([]);
    expect(run(['--cpus', '1.5']).body.HostConfig.NanoCpus).toBe(1.5e9);
    const q = run(['--cpu-period', '100000', '--cpu-quota', '50000']);
    expect(rules(q)).toEqual([]);
    expect(q.body.HostConfig.CpuQuota).toBe(50000);
    const p = run(['--cpu-period', '50000']);
    expect(rules(p)).toEqual([]);
    expect(p.body.HostConfig).toMatchObject({ CpuPeriod: 50000, CpuQuota: 100000 });
    expect(p.body.HostConfig.NanoCpus ?? 0).toBe(0);
    // --cpuset-cpus is no quota: the default still applies
    expect(run(['--cpuset-cpus', '0']).body.HostConfig.NanoCpus).toBe(2e9);
  });
  test('refused in warn mode the request stays; allow.unlimited cpu lets -1 through', () => {
    expect(run(['--cpu-quota', '-1'], { mode: 'warn' }).body.HostConfig.CpuQuota).toBe(-1);
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { unlimited: [{ resource: 'cpu', reason: 'batch box' }] } }]);
    expect(rules(run(['--cpu-quota', '-1'], { profile: p }))).toEqual([]);
  });
  test('the refusal body of a disabled quota has the default instead', () => {
    const o = run(['--cpus', '2', '--cpu-quota', '-1']);
    expect(o.body.HostConfig).toMatchObject({ CpuQuota: 0, NanoCpus: 2e9 });
    expect(run(['--cpus', '0.000000001']).violations[0]!.why).toContain('the engine turns --cpus 0.000000001 into a quota of 0: no limit');
  });
});

describe('memory and pids', () => {
  test('--memory-reservation 1t no longer lifts the memory limit', () => {
    const o = run(['--memory-reservation', '1t']);
    expect(rules(o)).toEqual(['SD-RES-007']);
    expect(o.body.HostConfig.Memory).toBe(1024 ** 3);
    expect(o.body.HostConfig.MemoryReservation).toBe(0);
    expect(o.violations[0]!.allowWith).toEqual(['limits:', '  memory: 1t']);
  });
  test('a reservation within the maximum raises the default to it', () => {
    const o = run(['--memory-reservation', '2g']);
    expect(rules(o)).toEqual([]);
    expect(o.body.HostConfig.Memory).toBe(2 * 1024 ** 3);
  });
  test('above the level maximum (restricted 16g, 4096 pids) is refused; at it is fine', () => {
    expect(rules(run(['-m', '17g']))).toEqual(['SD-RES-007']);
    expect(rules(run(['-m', '16g']))).toEqual([]);
    expect(rules(run(['--pids-limit', '4097']))).toEqual(['SD-RES-007']);
    expect(rules(run(['--pids-limit', '4096']))).toEqual([]);
    expect(rules(run(['-m', '1g', '--memory-swap', '-1']))).toEqual(['SD-RES-001']);
    expect(rules(run(['-m', '1g', '--memory-swap', '33g']))).toEqual(['SD-RES-007']);
    expect(rules(run(['-m', '1g', '--memory-swap', '2g']))).toEqual([]);
  });
  test('baseline has higher maxima', () => {
    expect(rules(run(['-m', '17g'], { profile: profileOf('baseline') }))).toEqual([]);
  });
});

describe('logging', () => {
  test.each([
    [['--log-driver', 'none']],
    [['--log-driver', 'syslog']],
    [['--log-opt', 'max-size=1t']],
    [['--log-opt', 'max-size=-1']],
    [['--log-opt', 'max-size=0']],
    [['--log-driver', 'local', '--log-opt', 'max-size=0']],
    [['--log-opt', 'max-size=xx']],
    [['--log-opt', 'max-file=11']],
    [['--log-opt', 'max-file=0']],
  ])('%j is refused (SD-LOG-002)', (argv) => {
    const o = run(argv);
    expect(rules(o)).toEqual(['SD-LOG-002']);
  });
  test('allowed drivers and rotation within the maxima pass, with rotation added', () => {
    expect(rules(run(['--log-driver', 'journald']))).toEqual([]);
    const o = run(['--log-opt', 'max-size=100m', '--log-opt', 'max-file=+3']);
    expect(rules(o)).toEqual([]);
    const l = run(['--log-driver', 'local']);
    expect(l.body.HostConfig.LogConfig).toEqual({ Type: 'local', Config: { 'max-size': '10m', 'max-file': '3' } });
    expect(rules(run(['--log-driver', 'syslog'], { profile: profileOf('baseline') }))).toEqual([]);
  });
  test('the engine\'s own default driver is the machine\'s choice: not judged', () => {
    expect(rules(run([], { engine: { loggingDriver: 'syslog' } }))).toEqual([]);
  });
  test('a refused driver becomes json-file with rotation in the body', () => {
    const o = run(['--log-driver', 'none'], { mode: 'enforce' });
    expect(o.body.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    expect(o.violations[0]!.allowWith).toEqual(['limits:', '  logDrivers: [json-file, local, journald, none]']);
  });
  test('max-size is read as the drivers read it (go-units FromHumanSize, decimal)', () => {
    expect(parseHumanSize('1t')).toBe(1e12);
    expect(parseHumanSize('10m')).toBe(1e7);
    expect(parseHumanSize('10MiB')).toBe(1e7);
    expect(() => parseHumanSize('-1')).toThrow();
    expect(() => parseHumanSize('1.2.3m')).toThrow();
    // The profile's logMaxSize is read the same way: `logMaxSize: 100m` and `max-size=100m` are one size.
    expect(judgeLogConfig('json-file', { 'max-size': '100000000' }, resolveLimits({ logMaxSize: '100m' })).problems).toEqual([]);
    expect(judgeLogConfig('json-file', { 'max-size': '100m' }, resolveLimits({ logMaxSize: '100m' })).problems).toEqual([]);
    expect(judgeLogConfig('json-file', { 'max-size': '100000001' }, resolveLimits({ logMaxSize: '100m' })).problems).toHaveLength(1);
  });
});

describe('maxima: project and floor', () => {
  test('validated with file:line', () => {
    expect(() => validateProfile({ limits: { memory: 'lots' } }, 'p.yaml')).toThrow(/p\.yaml: limits\.memory: must be a size/);
    expect(() => validateProfile({ limits: { cpu: 2 } }, 'p.yaml')).toThrow(/limits\.cpu: unknown key/);
    expect(() => validateProfile({ limits: { logDrivers: 'none' } }, 'p.yaml')).toThrow(/limits\.logDrivers/);
  });
  test('without a floor a project may raise its own maxima', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', limits: { memory: '32g', logDrivers: ['json-file', 'none'] } }]);
    expect(rules(run(['-m', '20g'], { profile: p }))).toEqual([]);
    expect(rules(run(['--log-driver', 'none'], { profile: p }))).toEqual([]);
  });
  test('a floor\'s maxima are a ceiling the project cannot raise, and the refusal names the floor', () => {
    const project = [{ path: 'p.yaml', limits: { memory: '32g', cpus: 64, pids: 100000, logMaxSize: '1g', logDrivers: ['json-file', 'none'] } }];
    const p = profileOf('restricted', project, floorOf({ limits: { memory: '4g', cpus: 1, pids: 1024, logMaxSize: '50m' } }));
    expect(p.limits).toMatchObject({ memory: 4 * 1024 ** 3, cpus: 1, pids: 1024, logMaxSize: 50e6, logDrivers: ['json-file'] });
    for (const argv of [['-m', '5g'], ['--pids-limit', '2000'], ['--cpus', '2'], ['--log-opt', 'max-size=60m'], ['--log-driver', 'none']]) {
      const o = run(argv, { profile: p });
      expect(o.refused).toBe(true);
      expect(o.violations[0]!.floorBlocked).toBe(FLOOR);
    }
    // the defaults come down to the floor's maxima
    expect(p.defaults.nanoCpus).toBe(1e9);
    expect(run([], { profile: p }).body.HostConfig.NanoCpus).toBe(1e9);
    const low = profileOf('restricted', [], floorOf({ limits: { memory: '512m' } }));
    expect(run([], { profile: low }).body.HostConfig.Memory).toBe(512 * 1024 ** 2);
  });
  test('the floor\'s level maxima apply too (a floor that extends restricted caps a baseline project)', () => {
    const p = profileOf('baseline', [], floorOf({}));
    expect(p.limits.memory).toBe(16 * 1024 ** 3);
    expect(run(['-m', '17g'], { profile: p }).violations[0]).toMatchObject({ rule: 'SD-RES-007', floorBlocked: FLOOR });
  });
});

describe('one function decides whether the floor grants an allowance', () => {
  test('wildcards, prefixes and ALL', () => {
    expect(grants('sysctls', { name: 'net.ipv4.tcp_rmem' }, { sysctls: [{ name: 'net.*', reason: 'r' }] })).toBe(true);
    expect(grants('sysctls', { name: 'net.ipv4.*' }, { sysctls: [{ name: 'net.ipv4.tcp_rmem', reason: 'r' }] })).toBe(false);
    expect(grants('capabilities', { name: 'cap_sys_admin' }, { capabilities: [{ name: 'ALL', reason: 'r' }] })).toBe(true);
    expect(grants('hostPaths', { path: '/srv/data/x', writable: true }, { hostPaths: [{ path: '/srv/data', reason: 'r' }] })).toBe(false);
    expect(grants('hostPaths', { path: '/srv/data/x' }, { hostPaths: [{ path: '/srv/data', reason: 'r' }] })).toBe(true);
    expect(grants('privileged', { reason: 'r' }, {})).toBe(false);
    expect(grantedByAny([{ key: 'sysctls', value: 'net.ipv4.*', floor: FLOOR }], 'sysctls', 'net.ipv4.ip_forward')).toBeDefined();
    expect(grantedByAny([{ key: 'sysctls', value: 'net.ipv4.*', floor: FLOOR }], 'sysctls', 'kernel.msgmax')).toBeUndefined();
  });
  test('a project allowing net.ipv4.* under a floor that does not: the refusal says the floor blocks it', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { sysctls: [{ name: 'net.ipv4.*', reason: 'tuning' }] } }], floorOf({}));
    expect(p.floorDenied).toEqual([expect.objectContaining({ key: 'sysctls', value: 'net.ipv4.*', floor: FLOOR })]);
    const o = run(['--sysctl', 'net.ipv4.ip_forward=1'], { profile: p });
    expect(rules(o)).toEqual(['SD-SYSCTL-001']);
    expect(o.violations[0]!.floorBlocked).toBe(FLOOR);
    // without the project's allowance it is the level's refusal, not the floor's
    const q = run(['--sysctl', 'net.ipv4.ip_forward=1'], { profile: profileOf('restricted', [], floorOf({})) });
    expect(q.violations[0]!.floorBlocked).toBeUndefined();
  });
});

describe('one size parser: a profile reads a size as the engine reads the same flag', () => {
  const ctx = { readFile: () => { throw new Error('no files'); }, env: {}, cwd: '/' };
  const flagMemory = (s: string): number | undefined => {
    try {
      return buildRunRequest(['-m', s, 'img'], 'run', ctx).body.HostConfig?.Memory;
    } catch {
      return undefined;
    }
  };
  const profileMemory = (s: string): number | undefined => {
    const { errors } = validateLimits({ memory: s });
    return errors.length > 0 ? undefined : resolveLimits({ memory: s }).memory;
  };
  test.each(['1p', '1P', '1.5g', '64MiB', '512 m', '512mb', '7', '1.2.3g', '1e3m', '-1m', ' 512m', '512m ', '0x10m', '1pb', '1x', ''])('memory %j', (s) => {
    expect(profileMemory(s)).toBe(flagMemory(s) === 0 ? undefined : flagMemory(s));
  });
  test('memory: 1p is -m 1p (it used to be refused in a profile)', () => {
    expect(profileMemory('1p')).toBe(1024 ** 5);
    expect(() => validateProfile({ defaults: { memory: '1p' }, limits: { memory: '2p' } }, 'p.yaml')).not.toThrow();
  });
});
