// One loopback test (src/policy/loopback.ts) for the policy, the invariants and the profile.
// The engine reads HostIp with Go's net.ParseIP and binds what it cannot parse on EVERY address
// (measured on Docker 20.10: HostIp "localhost", "127.0.0.01" and " 127.0.0.1" gave
// 0.0.0.0 and ::), so only a real loopback address keeps a port on the machine.
import { describe, expect, it } from 'vitest';
import { bodyInvariants, contextOf } from '../../src/policy/invariants.js';
import { engineFactsFrom } from '../../src/policy/facts.js';
import { isLoopbackHostIp } from '../../src/policy/loopback.js';
import { validateProfile } from '../../src/policy/profile.js';
import { profileOf, rules, run } from './helpers.js';

const withHostIp = (ip: string) => ({ alter: (b: { HostConfig?: { PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> } }) => {
  b.HostConfig!.PortBindings = { '80/tcp': [{ HostIp: ip, HostPort: '8080' }] };
} });

describe('loopback, as the engine binds it', () => {
  it.each(['127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '0:0:0:0:0:0:0:1', '::0:1', '::ffff:127.0.0.1'])('%j is loopback', (ip) => {
    expect(isLoopbackHostIp(ip)).toBe(true);
  });
  it.each(['localhost', 'LOCALHOST', '127.0.0.01', '127.000.0.1', '127.256.0.1', '127.0.0', ' 127.0.0.1', '127.0.0.1 ', '[::1]', '::2', '0.0.0.0', '', '128.0.0.1', '::ffff:10.0.0.1'])('%j is not', (ip) => {
    expect(isLoopbackHostIp(ip)).toBe(false);
  });

  it('the policy moves a "localhost" binding to the default address (it was taken as loopback and published everywhere)', () => {
    const o = run(['-p', '8080:80'], withHostIp('localhost'));
    expect(o.body.HostConfig.PortBindings?.['80/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '8080' }]);
    expect(o.changes.map((c) => c.rule)).toContain('SD-PORT-001');
    const kept = run(['-p', '8080:80'], withHostIp('127.0.0.2'));
    expect(kept.body.HostConfig.PortBindings?.['80/tcp']).toEqual([{ HostIp: '127.0.0.2', HostPort: '8080' }]);
    expect(rules(kept)).toEqual([]);
  });

  it('the invariants flag it in a body made elsewhere', () => {
    const ctx = { ...contextOf(profileOf('restricted'), engineFactsFrom({}, [])), imageUser: '' };
    const names = (ip: string) => bodyInvariants({ Image: 'x', HostConfig: { PortBindings: { '80/tcp': [{ HostIp: ip, HostPort: '1' }] } } }, ctx).map((d) => d.name).filter((n) => n.startsWith('port:'));
    expect(names('localhost')).toEqual(['port:localhost:80/tcp']);
    expect(names('127.0.0.01')).toEqual(['port:127.0.0.01:80/tcp']);
    expect(names('127.0.0.1')).toEqual([]);
  });

  it('a profile names addresses as the engine compares them', () => {
    expect(() => validateProfile({ defaults: { portAddress: 'localhost' } }, 'p.yaml')).toThrow(/p\.yaml: defaults\.portAddress: not an IP address/);
    expect(() => validateProfile({ defaults: { portAddress: '127.0.0.01' } }, 'p.yaml')).toThrow(/defaults\.portAddress: not an IP address/);
    expect(() => validateProfile({ allow: { portAddresses: [{ address: '0:0:0:0:0:0:0:0', reason: 'r' }] } }, 'p.yaml')).toThrow(/write it as ::/);
    expect(() => validateProfile({ defaults: { portAddress: '127.0.0.2' } }, 'p.yaml')).not.toThrow();
  });
});
