import { describe, expect, it } from 'vitest';
import { MARGIN_GROUPS, recordingMargin } from '../../src/seccomp/margin.js';
import { EPERM_SYSCALLS, generateProfile } from '../../src/seccomp/record.js';
import { allowedNames } from '../../src/seccomp/record.js';

describe('recording margin', () => {
  it('never adds a call the shipped default denies for safety', () => {
    for (const g of MARGIN_GROUPS) for (const n of g.names) expect(EPERM_SYSCALLS, `${g.name}: ${n}`).not.toContain(n);
  });
  it('adds the reaping calls only when the workload forks or starts threads', () => {
    const without = recordingMargin(['read', 'write']).flatMap((m) => m.names);
    expect(recordingMargin(['read', 'write']).map((m) => m.group)).toEqual(['files', 'exec']);
    expect(without).not.toContain('waitid');
    const withClone = recordingMargin(['read', 'clone']);
    expect(withClone.map((m) => m.group)).toContain('process');
    expect(withClone.flatMap((m) => m.names)).toContain('wait4');
  });
  it('adds socket introspection for a server, and lists only names not already recorded', () => {
    const m = recordingMargin(['socket', 'bind', 'listen', 'getsockname']);
    const sockets = m.find((x) => x.group === 'sockets')!;
    expect(sockets.names).toContain('getpeername');
    expect(sockets.names).not.toContain('getsockname');
    const all = m.flatMap((x) => x.names);
    expect(new Set(all).size).toBe(all.length);
  });
  it('a generated profile with the margin allows wait4 for a forking workload', () => {
    const names = ['clone', 'read'];
    const margin = recordingMargin(names).flatMap((m) => m.names);
    const profile = generateProfile([...names, ...margin], { base: false });
    expect(allowedNames(profile)).toContain('wait4');
    expect(allowedNames(generateProfile(names, { base: false }))).not.toContain('wait4');
  });
});
