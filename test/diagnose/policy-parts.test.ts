/**
 * Issue 8 point 2 in the pure core: defaults.capabilities (judged as --cap-add), tmpfs owned by
 * the container's numeric user, the --watch flags, and `init` not suggesting capabilities a
 * non-root user never gets.
 */
import { describe, expect, test } from 'vitest';
import { buildRunRequest } from '../../src/flags/request.js';
import { starterProfile } from '../../src/cli/init.js';
import { validateProfile } from '../../src/policy/profile.js';
import { profileOf, run } from '../policy/helpers.js';

describe('defaults.capabilities', () => {
  test('added on every run when allowed, with the reason recorded', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', defaults: { capabilities: ['CHOWN'] }, allow: { capabilities: [{ name: 'CHOWN', reason: 'entrypoint chowns /data' }] } }]);
    const o = run([], { profile: p });
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.CapAdd).toEqual(['CHOWN']);
    expect(o.body.HostConfig.CapDrop).toEqual(['ALL']);
    expect(o.allowances).toContainEqual({ rule: 'SD-CAP-001', subject: 'CHOWN', reason: 'entrypoint chowns /data', source: 'p.yaml' });
    // Typed as well: not added twice.
    expect(run(['--cap-add', 'chown'], { profile: p }).body.HostConfig.CapAdd).toEqual(['CAP_CHOWN']);
  });

  test('without an allowance it is refused like a --cap-add', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', defaults: { capabilities: ['SYS_ADMIN'] } }]);
    const o = run([], { profile: p });
    expect(o.refused).toBe(true);
    expect(o.violations.map((v) => [v.rule, v.subject])).toEqual([['SD-CAP-001', 'SYS_ADMIN']]);
  });

  test('validated and normalised from YAML', () => {
    expect(validateProfile({ defaults: { capabilities: ['cap_setuid', 'SETGID'] } }, 'p.yaml').defaults?.capabilities).toEqual(['SETUID', 'SETGID']);
    expect(() => validateProfile({ defaults: { capabilities: 'CHOWN' } }, 'p.yaml')).toThrow(/defaults\.capabilities/);
    expect(() => validateProfile({ defaults: { capabilities: ['CHOWN; rm'] } }, 'p.yaml')).toThrow(/not a capability name/);
  });
});

describe('a tmpfs sdocker adds is owned by the container user', () => {
  test('the default user, a numeric image USER, a typed -u', () => {
    expect(run([]).body.HostConfig.Tmpfs?.['/tmp']).toBe('rw,nosuid,nodev,noexec,size=64m,uid=65534,gid=65534');
    expect(run([], { image: { User: '1000' } }).body.HostConfig.Tmpfs?.['/tmp']).toContain('uid=1000,gid=1000');
    expect(run(['-u', '1001:1002']).body.HostConfig.Tmpfs?.['/tmp']).toContain('uid=1001,gid=1002');
  });

  test('a named user is resolved on the image\'s files before create, so its tmpfs gets its ids; explicit options win; a typed --tmpfs is as typed', () => {
    const named = run([], { image: { User: 'app' } }).body;
    expect(named.User).toBe('1000:1000');
    expect(named.HostConfig.Tmpfs?.['/tmp']).toBe('rw,nosuid,nodev,noexec,size=64m,uid=1000,gid=1000');
    const p = profileOf('restricted', [{ path: 'p.yaml', defaults: { tmpfs: [{ path: '/run', options: 'uid=7,gid=8' }] } }]);
    expect(run([], { profile: p }).body.HostConfig.Tmpfs?.['/run']).toBe('rw,uid=7,gid=8,nosuid,nodev,noexec,size=64m');
    expect(run(['--tmpfs', '/x']).body.HostConfig.Tmpfs?.['/x']).toBe('rw,nosuid,nodev,noexec,size=64m');
  });
});

describe('--watch', () => {
  const req = (argv: string[]) => buildRunRequest([...argv, 'IMG'], 'run', { cwd: '/tmp', env: {}, readFile: () => '' });
  test('a Go duration in ms; --no-watch is 0; unset leaves the default to the CLI', () => {
    expect(req(['-d', '--watch', '10s']).sdocker.watchMs).toBe(10_000);
    expect(req(['-d', '--watch=1m30s']).sdocker.watchMs).toBe(90_000);
    expect(req(['-d', '--no-watch']).sdocker.watchMs).toBe(0);
    expect(req(['-d']).sdocker.watchMs).toBeUndefined();
    expect(() => req(['--watch', 'soon'])).toThrow(/--watch/);
  });
  test('never reaches the create body', () => {
    expect(req(['-d', '--watch', '10s']).body).toEqual(req(['-d']).body);
  });
});

test('init does not suggest CHOWN (or NET_BIND_SERVICE) for the non-root user it sets', () => {
  const text = starterProfile({ image: 'nginx', config: { User: '', ExposedPorts: { '80/tcp': {} } } });
  expect(text).not.toMatch(/name: CHOWN|--cap-add NET_BIND_SERVICE/);
  expect(text).toContain('capabilities reach only a root process');
});
