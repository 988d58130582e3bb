/**
 * The run policy's CIS catch-up (issue 11 part 4): a bounded restart policy (SD-RESTART-001,
 * CIS 5.15), default ulimits (SD-RES-008, 5.19) and a health check (SD-HEALTH-001, 5.27).
 */
import { describe, expect, test } from 'vitest';
import { validateProfile } from '../../src/policy/profile.js';
import type { ProfileFile } from '../../src/policy/types.js';
import { profileOf, rules, run } from './helpers.js';

const project = (f: Omit<ProfileFile, 'path'>): ProfileFile[] => [{ path: '/p/sdocker.yaml', ...f }];
const changed = (o: ReturnType<typeof run>, rule: string) => o.changes.filter((c) => c.rule === rule);

describe('SD-RESTART-001: a bounded restart policy', () => {
  test.each([
    [['--restart', 'always'], 'always'],
    [['--restart=unless-stopped'], 'unless-stopped'],
    [['--restart', 'on-failure'], 'on-failure'],
    [['--restart', 'on-failure:6'], 'on-failure:6'],
    [['--restart', 'on-failure:1000'], 'on-failure:1000'],
  ])('%j becomes on-failure:5 under restricted, no refusal', (argv, typed) => {
    const o = run(argv);
    expect(o.refused).toBe(false);
    expect(o.body.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 5 });
    expect(changed(o, 'SD-RESTART-001')[0]?.why).toContain(`--restart ${typed} becomes on-failure:5`);
  });
  test.each([[['--restart', 'no']], [['--restart', 'on-failure:5']], [['--restart', 'on-failure:1']], [[]]])('%j is kept', (argv) => {
    const o = run(argv);
    expect(changed(o, 'SD-RESTART-001')).toEqual([]);
    const before = run(argv, { profile: profileOf('privileged') }).body.HostConfig.RestartPolicy;
    expect(o.body.HostConfig.RestartPolicy).toEqual(before);
  });
  test('baseline keeps --restart always, recorded as an allowance', () => {
    const o = run(['--restart', 'always'], { profile: profileOf('baseline') });
    expect(o.body.HostConfig.RestartPolicy?.Name).toBe('always');
    expect(o.allowances.find((a) => a.rule === 'SD-RESTART-001')).toMatchObject({ subject: '--restart always', source: 'level:baseline' });
  });
  test('a project allows it with unboundedRestart', () => {
    const o = run(['--restart', 'unless-stopped'], { profile: profileOf('restricted', project({ extends: 'restricted', allow: { unboundedRestart: { reason: 'a daemon' } } })) });
    expect(o.body.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
  });
  test('audit mode leaves the request, and says what enforce would change', () => {
    const o = run(['--restart', 'always'], { mode: 'audit' });
    expect(o.body.HostConfig.RestartPolicy?.Name).toBe('always');
    expect(changed(o, 'SD-RESTART-001')).toHaveLength(1);
  });
});

describe('SD-RES-008: default ulimits', () => {
  test('restricted sets nofile=8192:8192 and nothing else', () => {
    const o = run([]);
    expect(o.body.HostConfig.Ulimits).toEqual([{ Name: 'nofile', Soft: 8192, Hard: 8192 }]);
    expect(changed(o, 'SD-RES-008')).toHaveLength(1);
  });
  test('a typed --ulimit of the same resource stays as typed; others are kept beside the default', () => {
    expect(run(['--ulimit', 'nofile=1024:2048']).body.HostConfig.Ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
    expect(run(['--ulimit', 'core=0']).body.HostConfig.Ulimits).toEqual([
      { Name: 'core', Soft: 0, Hard: 0 }, { Name: 'nofile', Soft: 8192, Hard: 8192 },
    ]);
  });
  test('a project\'s defaults.ulimits replace the level\'s', () => {
    const o = run([], { profile: profileOf('restricted', project({ extends: 'restricted', defaults: { ulimits: ['nproc=200', 'nofile=4096:8192'] } })) });
    expect(o.body.HostConfig.Ulimits).toEqual([{ Name: 'nofile', Soft: 4096, Hard: 8192 }, { Name: 'nproc', Soft: 200, Hard: 200 }]);
  });
  test.each([
    [['nofile=-1'], 'above 0'],
    [['nofile=10:5'], 'soft limit must be less than or equal'],
    [['bogus=1'], 'invalid ulimit type'],
    [['nofile=1', 'nofile=2'], 'named twice'],
    ['nofile=1', 'must be a list'],
  ])('defaults.ulimits %j is refused (%s)', (v, msg) => {
    expect(() => validateProfile({ defaults: { ulimits: v } }, 'p.yaml')).toThrow(msg);
  });
});

describe('SD-HEALTH-001: a health check', () => {
  const withHc = { extends: 'restricted', defaults: { healthcheck: { cmd: 'test -e /tmp', interval: '2s', timeout: '1s', retries: 3 } } };
  test('neither the image nor the command line: a note, nothing changed or refused', () => {
    const o = run([], { image: { User: '' } });
    expect(o.notes).toEqual([expect.objectContaining({ rule: 'SD-HEALTH-001' })]);
    expect(o.body.Healthcheck).toBeUndefined();
    expect(rules(o)).toEqual([]);
  });
  test('the command line\'s or the image\'s: no note', () => {
    expect(run(['--health-cmd', 'true'], { image: { User: '' } }).notes).toBeUndefined();
    expect(run([], { image: { User: '', Healthcheck: { Test: ['CMD', 'true'] } } }).notes).toBeUndefined();
  });
  test('an image that disables it (HEALTHCHECK NONE) counts as none', () => {
    expect(run([], { image: { User: '', Healthcheck: { Test: ['NONE'] } } }).notes?.[0]?.rule).toBe('SD-HEALTH-001');
  });
  test('the image is not known yet: nothing said or set', () => {
    const o = run([], { image: undefined, profile: profileOf('restricted', project(withHc)) });
    expect(o.notes).toBeUndefined();
    expect(o.body.Healthcheck).toBeUndefined();
  });
  test('defaults.healthcheck is set when neither defines one; typed durations stay', () => {
    const profile = profileOf('restricted', project(withHc));
    const o = run([], { image: { User: '' }, profile });
    expect(o.body.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'test -e /tmp'], Interval: 2e9, Timeout: 1e9, Retries: 3 });
    expect(o.notes).toBeUndefined();
    const t = run(['--health-interval', '5s'], { image: { User: '' }, profile });
    expect(t.body.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'test -e /tmp'], Interval: 5e9, Timeout: 1e9 });
    expect(run([], { image: { User: '', Healthcheck: { Test: ['CMD', 'x'] } }, profile }).body.Healthcheck).toBeUndefined();
  });
  test('--no-healthcheck is kept, with the note', () => {
    const o = run(['--no-healthcheck'], { image: { User: '' }, profile: profileOf('restricted', project(withHc)) });
    expect(o.body.Healthcheck?.Test).toEqual(['NONE']);
    expect(o.notes?.[0]?.why).toContain('--no-healthcheck');
  });
  test('a list cmd runs directly (CMD)', () => {
    const o = run([], { image: { User: '' }, profile: profileOf('restricted', project({ extends: 'restricted', defaults: { healthcheck: { cmd: ['/bin/true'] } } })) });
    expect(o.body.Healthcheck).toEqual({ Test: ['CMD', '/bin/true'] });
  });
  test.each([
    [{}, 'cmd'],
    [{ cmd: '' }, 'cmd'],
    [{ cmd: [] }, 'cmd'],
    [{ cmd: 'x', interval: '0s' }, 'at least 1ms'],
    [{ cmd: 'x', interval: 'soon' }, 'at least 1ms'],
    [{ cmd: 'x', retries: -1 }, 'whole number'],
    [{ cmd: 'x', every: '1s' }, 'unknown key'],
    ['true', 'must be a mapping'],
  ])('defaults.healthcheck %j is refused (%s)', (v, msg) => {
    expect(() => validateProfile({ defaults: { healthcheck: v } }, 'p.yaml')).toThrow(msg);
  });
});
