/**
 * `--pid`/`--ipc`/`--network` `container:<ref>` of a container in the host's namespace (directly
 * or through a chain of joins) is the host's namespace; a privileged container's is judged the same.
 */
import { describe, expect, test } from 'vitest';
import { JOIN_DEPTH, resolveJoin } from '../../src/policy/joins.js';
import type { JoinedContainers } from '../../src/policy/types.js';
import { profileOf, rules, run } from './helpers.js';

const CONTAINERS: JoinedContainers = {
  hostns: { Name: '/hostns', Privileged: false, PidMode: 'host', IpcMode: 'host', NetworkMode: 'host', UTSMode: 'host' },
  chained: { Name: '/chained', Privileged: false, PidMode: 'container:hostns', IpcMode: 'container:hostns', NetworkMode: 'container:hostns' },
  priv: { Name: '/priv', Privileged: true, PidMode: '', IpcMode: 'private', NetworkMode: 'default' },
  plain: { Name: '/plain', Privileged: false, PidMode: '', IpcMode: 'shareable', NetworkMode: 'bridge' },
  'abc123': { Name: '/byid', Privileged: false, PidMode: 'host', NetworkMode: 'container:plain' },
};

describe('resolveJoin', () => {
  test('direct, chained, privileged, private, unknown', () => {
    expect(resolveJoin('hostns', 'PidMode', CONTAINERS)).toEqual({ kind: 'host', via: ['hostns'] });
    expect(resolveJoin('chained', 'NetworkMode', CONTAINERS)).toEqual({ kind: 'host', via: ['chained', 'hostns'] });
    expect(resolveJoin('priv', 'IpcMode', CONTAINERS)).toEqual({ kind: 'privileged', via: ['priv'] });
    expect(resolveJoin('plain', 'PidMode', CONTAINERS)).toBeUndefined();
    expect(resolveJoin('abc123', 'NetworkMode', CONTAINERS)).toBeUndefined();
    expect(resolveJoin('nosuch', 'PidMode', CONTAINERS)).toBeUndefined();
    expect(resolveJoin('hostns', 'PidMode', undefined)).toBeUndefined();
  });
  test('a chain longer than JOIN_DEPTH (or a loop) is not followed to its end', () => {
    const loop: JoinedContainers = { a: { Name: '/a', Privileged: false, PidMode: 'container:b' }, b: { Name: '/b', Privileged: false, PidMode: 'container:a' } };
    const v = resolveJoin('a', 'PidMode', loop);
    expect(v?.kind).toBe('too-deep');
    expect(v?.via).toHaveLength(JOIN_DEPTH);
  });
});

describe('applyPolicy with joined containers', () => {
  test.each([
    [['--pid', 'container:hostns'], 'SD-NS-001'],
    [['--ipc', 'container:hostns'], 'SD-NS-002'],
    [['--network', 'container:hostns'], 'SD-NS-004'],
    [['--pid', 'container:chained'], 'SD-NS-001'],
    [['--network', 'container:chained'], 'SD-NS-004'],
    [['--pid', 'container:abc123'], 'SD-NS-001'],
    [['--pid', 'container:priv'], 'SD-NS-001'],
    [['--network', 'container:priv'], 'SD-NS-004'],
  ])('%j is refused with %s', (argv, rule) => {
    const o = run(argv, { containers: CONTAINERS });
    expect(rules(o)).toEqual([rule]);
    expect(o.refused).toBe(true);
    expect(o.violations[0]?.why).toMatch(/joined through container/);
    expect(o.violations[0]?.allowWith.join('\n')).toMatch(/hostNamespaces:\n\s+- name: (pid|ipc|network)\n/);
  });
  test('the message names the chain', () => {
    expect(run(['--pid', 'container:chained'], { containers: CONTAINERS }).violations[0]?.why).toContain('chained → hostns, which is in the host\'s pid namespace');
    expect(run(['--ipc', 'container:priv'], { containers: CONTAINERS }).violations[0]?.why).toContain('priv, which is privileged');
  });
  test('a private namespace of an unprivileged container sdocker did not make is refused (SD-NS-007); an unknown one is left to the engine', () => {
    const o = run(['--pid', 'container:plain', '--ipc', 'container:plain', '--network', 'container:plain'], { containers: CONTAINERS });
    expect(rules(o)).toEqual(['SD-NS-007', 'SD-NS-007', 'SD-NS-007']);
    expect(o.violations[0]?.why).toContain('container plain was not created by sdocker');
    expect(o.violations[0]?.allowWith.join('\n')).toContain('joinContainers:\n    - name: plain');
    expect(o.body.HostConfig.PidMode).toBe('');
    expect(rules(run(['--network', 'container:abc123'], { containers: CONTAINERS }))).toEqual(['SD-NS-007']);
    expect(rules(run(['--pid', 'container:nosuch'], { containers: CONTAINERS }))).toEqual([]);
    expect(rules(run(['--pid', 'container:hostns']))).toEqual([]);
  });
  test('allow.hostNamespaces lets the join through (recorded); warn keeps it; enforce drops it from the body', () => {
    const p = profileOf('restricted', [{ path: '/p.yaml', allow: {
      hostNamespaces: [{ name: 'pid', reason: 'debug sidecar' }], joinContainers: [{ name: 'hostns', reason: 'debug sidecar' }],
    } }]);
    const allowed = run(['--pid', 'container:hostns'], { containers: CONTAINERS, profile: p });
    expect(rules(allowed)).toEqual([]);
    expect(allowed.allowances).toEqual([
      expect.objectContaining({ rule: 'SD-NS-001', reason: 'debug sidecar' }), expect.objectContaining({ rule: 'SD-NS-007', reason: 'debug sidecar' }),
    ]);
    expect(allowed.body.HostConfig.PidMode).toBe('container:hostns');
    const warned = run(['--pid', 'container:hostns'], { containers: CONTAINERS, mode: 'warn' });
    expect(warned.refused).toBe(false);
    expect(warned.body.HostConfig.PidMode).toBe('container:hostns');
    expect(run(['--pid', 'container:hostns'], { containers: CONTAINERS }).body.HostConfig.PidMode).toBe('');
  });
  test('--pid host asks for the namespace name in the allowance', () => {
    expect(run(['--pid', 'host']).violations[0]?.allowWith).toContain('    - name: pid');
  });
});

describe('which containers may be joined (SD-NS-007, SD-MNT-004)', () => {
  const sd = (level: string, extra: Partial<JoinedContainers[string]> = {}, labels: Record<string, string> = {}): JoinedContainers[string] => ({
    Name: `/sd-${level}`, Privileged: false, PidMode: '', IpcMode: 'private', NetworkMode: 'bridge', User: '65534:65534', CapAdd: null, CapDrop: ['ALL'],
    Labels: { 'io.sdocker.level': level, 'io.sdocker.mode': 'enforce', 'io.sdocker.owner': '1000', ...labels }, ImageSdockerLabels: false, ...extra,
  });
  const C: JoinedContainers = {
    restricted: sd('restricted'),
    baseline: sd('baseline'),
    other: sd('restricted', { Name: '/other' }, { 'io.sdocker.owner': '1001' }),
    warned: sd('restricted', { Name: '/warned' }, { 'io.sdocker.mode': 'warn' }),
    forgedImage: sd('restricted', { Name: '/forged', ImageSdockerLabels: true }),
    forgedCaps: sd('restricted', { Name: '/caps', CapDrop: null }),
    sysadmin: sd('restricted', { Name: '/sysadmin', CapAdd: ['CAP_SYS_ADMIN'] }),
    root: sd('restricted', { Name: '/root', User: '0' }),
    named: sd('restricted', { Name: '/named', User: 'toor' }),
    viaPlain: sd('restricted', { Name: '/via', PidMode: 'container:plainX' }),
    plainX: { Name: '/plainX', Privileged: false, PidMode: '' },
  };
  const why = (argv: string[], owner = 1000, level: 'restricted' | 'baseline' = 'restricted') =>
    run(argv, { containers: C, owner, profile: profileOf(level) }).violations.map((v) => `${v.rule} ${v.why}`);

  test('one sdocker made for this user under a level at least as strict passes', () => {
    expect(why(['--pid', 'container:restricted', '--ipc', 'container:restricted', '--network', 'container:restricted'])).toEqual([]);
    expect(why(['--volumes-from', 'restricted:ro'])).toEqual([]);
    expect(why(['--pid', 'container:restricted'], 1000, 'baseline')).toEqual([]);
    expect(why(['--pid', 'container:baseline'], 1000, 'baseline')).toEqual([]);
  });

  test.each([
    ['baseline', 'created under level baseline, weaker than restricted'],
    ['other', 'belongs to uid 1001, not to uid 1000'],
    ['warned', 'created in warn mode'],
    ['forgedImage', 'carries io.sdocker.* labels'],
    ['forgedCaps', 'keeps docker\'s default capabilities'],
    ['sysadmin', 'holds SYS_ADMIN'],
    ['root', 'runs as 0'],
    ['named', 'user name toor'],
    ['viaPlain', 'plainX was not created by sdocker'],
  ])('%s is refused: %s', (ref, text) => {
    const v = why(['--pid', `container:${ref}`]);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatch(/^SD-NS-007 /);
    expect(v[0]).toContain(text);
    const vf = why(['--volumes-from', ref]);
    if (ref !== 'viaPlain') expect(vf[0]).toMatch(new RegExp(`^SD-MNT-004 .*${text.replace(/[.*()]/g, '\\$&')}`));
  });

  test('--link copies the linked container\'s environment: only to one sdocker hardened for this user, or allowed (SD-LINK-001)', () => {
    expect(why(['--link', 'restricted:db'])).toEqual([]);
    expect(why(['--link', 'plainX:db'])[0]).toMatch(/^SD-LINK-001 .*plainX was not created by sdocker/);
    expect(why(['--link', 'other'])[0]).toMatch(/^SD-LINK-001 .*belongs to uid 1001/);
    expect(why(['--link', 'missing:db'])[0]).toMatch(/^SD-LINK-001 .*container missing was not found/);
    const allowed = profileOf('restricted', [{ path: '/p.yaml', allow: { joinContainers: [{ name: 'plainX', reason: 'r' }] } }]);
    expect(rules(run(['--link', 'plainX:db'], { containers: C, owner: 1000, profile: allowed }))).toEqual([]);
    const refused = run(['--link', 'plainX:db', '--link', 'restricted:r'], { containers: C, owner: 1000 });
    expect(refused.refused).toBe(true);
    expect(refused.body.HostConfig.Links).toEqual(['restricted:r']);
  });

  test('without the owner (unknown uid) nothing is trusted', () => {
    expect(run(['--pid', 'container:restricted'], { containers: C, profile: profileOf() }).violations.map((v) => v.rule)).toEqual(['SD-NS-007']);
  });

  test('allow.joinContainers by name or *, allow.volumesFrom as before', () => {
    const p = (allow: Record<string, unknown>) => profileOf('restricted', [{ path: '/p.yaml', allow }]);
    expect(rules(run(['--pid', 'container:plainX'], { containers: C, owner: 1000, profile: p({ joinContainers: [{ name: 'other', reason: 'r' }] }) }))).toEqual(['SD-NS-007']);
    expect(rules(run(['--pid', 'container:plainX'], { containers: C, owner: 1000, profile: p({ joinContainers: [{ name: 'plainX', reason: 'r' }] }) }))).toEqual([]);
    expect(rules(run(['--pid', 'container:other', '--volumes-from', 'plainX'], { containers: C, owner: 1000, profile: p({ joinContainers: [{ name: '*', reason: 'r' }] }) }))).toEqual([]);
    expect(rules(run(['--volumes-from', 'plainX'], { containers: C, owner: 1000, profile: p({ volumesFrom: { reason: 'r' } }) }))).toEqual([]);
    const refused = run(['--volumes-from', 'plainX', '--volumes-from', 'restricted'], { containers: C, owner: 1000 });
    expect(rules(refused)).toEqual(['SD-MNT-004']);
    expect(refused.body.HostConfig.VolumesFrom).toEqual(['restricted']);
  });

  test('sdocker labels what it creates, and refuses a request that sets those labels itself (SD-LABEL-001)', () => {
    const o = run(['--label', 'app=x'], { owner: 1000 });
    expect(o.body.Labels).toEqual({ app: 'x', 'io.sdocker.level': 'restricted', 'io.sdocker.mode': 'enforce', 'io.sdocker.owner': '1000' });
    expect(run([], { owner: 1000, profile: profileOf('baseline'), mode: 'warn' }).body.Labels).toMatchObject({ 'io.sdocker.level': 'baseline', 'io.sdocker.mode': 'warn' });
    for (const argv of [['--label', 'io.sdocker.level=restricted'], ['--label', 'IO.SDOCKER.owner=0'], ['--mount', 'type=volume,dst=/d,volume-label=io.sdocker.bind=/etc']]) {
      const r = run(argv, { owner: 1000 });
      expect(rules(r), argv.join(' ')).toEqual(['SD-LABEL-001']);
      expect(r.violations[0]?.allowWith).toEqual([]);
    }
    // Level privileged: exactly docker's container, no labels added or checked.
    const priv = run(['--label', 'io.sdocker.level=restricted'], { owner: 1000, profile: profileOf('privileged') });
    expect(priv.violations).toEqual([]);
    expect(priv.body.Labels).toEqual({ 'io.sdocker.level': 'restricted' });
  });
});

describe('allow.joinContainers under a machine floor', () => {
  const X: JoinedContainers = { db: { Name: '/db', Privileged: false, PidMode: '' }, cache: { Name: '/cache', Privileged: false, PidMode: '' } };
  const floor = (names: string[]) => [{ chain: [{ path: '/etc/sdocker/policy.yaml', extends: 'restricted', allow: { joinContainers: names.map((name) => ({ name, reason: 'floor' })) } }], level: 'restricted' as const, path: '/etc/sdocker/policy.yaml' }];
  const project = [{ path: '/p/sdocker.yaml', extends: 'restricted', allow: { joinContainers: [{ name: 'db', reason: 'sidecar' }] } }];
  test('a floor granting * or the name lets the project\'s allowance through; another name does not', () => {
    expect(rules(run(['--pid', 'container:db'], { containers: X, owner: 1, profile: profileOf('restricted', project, floor(['*'])) }))).toEqual([]);
    expect(rules(run(['--pid', 'container:db'], { containers: X, owner: 1, profile: profileOf('restricted', project, floor(['db'])) }))).toEqual([]);
    const o = run(['--pid', 'container:db'], { containers: X, owner: 1, profile: profileOf('restricted', project, floor(['cache'])) });
    expect(rules(o)).toEqual(['SD-NS-007']);
    expect(o.violations[0]?.floorBlocked).toBe('/etc/sdocker/policy.yaml');
  });
});
