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
  test('a private namespace of an unprivileged container, or an unknown one, passes', () => {
    expect(rules(run(['--pid', 'container:plain', '--ipc', 'container:plain', '--network', 'container:plain'], { containers: CONTAINERS }))).toEqual([]);
    expect(rules(run(['--network', 'container:abc123'], { containers: CONTAINERS }))).toEqual([]);
    expect(rules(run(['--pid', 'container:nosuch'], { containers: CONTAINERS }))).toEqual([]);
    expect(rules(run(['--pid', 'container:hostns']))).toEqual([]);
  });
  test('allow.hostNamespaces lets the join through (recorded); warn keeps it; enforce drops it from the body', () => {
    const p = profileOf('restricted', [{ path: '/p.yaml', allow: { hostNamespaces: [{ name: 'pid', reason: 'debug sidecar' }] } }]);
    const allowed = run(['--pid', 'container:hostns'], { containers: CONTAINERS, profile: p });
    expect(rules(allowed)).toEqual([]);
    expect(allowed.allowances).toEqual([expect.objectContaining({ rule: 'SD-NS-001', reason: 'debug sidecar' })]);
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
