import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { diagnose } from '../../src/diagnose/diagnose.js';
import type { DiagnosisInput } from '../../src/diagnose/types.js';
import { imageShortName, parseLearnArgs } from '../../src/learn/args.js';
import { learnReason, stepFromDiagnosis } from '../../src/learn/step.js';
import { applyFix, parseProfileText, setSeccomp } from '../../src/learn/yaml.js';
import { validateProfile } from '../../src/policy/profile.js';
import { parsePasswd } from '../../src/policy/user-names.js';

const PARSED = parsePasswd('root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\npostgres:x:104:106::/var/lib/postgresql:/bin/bash\n');
if ('error' in PARSED) throw new Error(PARSED.error);

function input(lines: string[], over: Partial<DiagnosisInput> = {}): DiagnosisInput {
  return {
    exitCode: 1,
    oomKilled: false,
    logLines: lines,
    body: { User: '65534:65534', HostConfig: { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,size=64m' }, Memory: 1024 ** 3, PidsLimit: 512 } },
    imageUser: '',
    passwd: PARSED as Exclude<typeof PARSED, { error: string }>,
    profile: { tmpfs: [{ path: '/tmp', size: '64m' }], capabilities: [], memory: 1024 ** 3, pids: 512, seccomp: 'default' },
    ...over,
  };
}

const NGINX_EROFS = 'nginx: [emerg] mkdir() "/var/lib/nginx/body" failed (30: Read-only file system)';

describe('learn: a diagnosis → allowances with reasons (pure)', () => {
  test('EROFS under /var/lib/nginx: a tmpfs there, the profile\'s /tmp kept, the reason says what was seen', () => {
    const step = stepFromDiagnosis(diagnose(input([NGINX_EROFS])), 'nginx');
    expect(step.fix).toEqual({ defaults: { tmpfs: [{ path: '/tmp', size: '64m' }, { path: '/var/lib/nginx', size: '64m' }] } });
    expect(step.entries).toEqual([{ key: 'defaults.tmpfs', value: '/var/lib/nginx', reason: 'learn: nginx failed: /var/lib/nginx/body is on the read-only root filesystem' }]);
    expect(step.unresolved).toEqual([]);
  });

  test('a non-root user that may not chmod a postgres-owned directory: defaults.user postgres', () => {
    const d = diagnose(input(['initdb: error: could not change permissions of directory "/var/lib/postgresql/data": Operation not permitted'], {
      owners: { '/var/lib/postgresql/data': { uid: 104, gid: 106, dir: true } },
    }));
    const step = stepFromDiagnosis(d, 'postgres');
    expect(step.fix.defaults?.user).toBe('postgres');
    expect(step.entries[0]).toMatchObject({ key: 'defaults.user', value: 'postgres' });
    expect(step.entries[0]!.reason).toMatch(/^learn: postgres failed: nobody .* may not change \/var\/lib\/postgresql\/data/);
  });

  test('a root entrypoint that switches users: SETUID and SETGID under defaults and allow, each with the learn reason', () => {
    const d = diagnose(input(['setpriv: setresuid failed: Operation not permitted'], { body: { User: '0:0', HostConfig: { ReadonlyRootfs: true } } }));
    const step = stepFromDiagnosis(d, 'pg');
    expect(step.fix.defaults?.capabilities).toEqual(['SETUID', 'SETGID']);
    expect(step.fix.allow?.capabilities?.map((c) => c.name)).toEqual(['SETUID', 'SETGID']);
    for (const c of step.fix.allow!.capabilities!) expect(c.reason).toMatch(/^learn: pg failed: the entrypoint switches users/);
  });

  test("redis's failed background save names its directory in parentheses: a tmpfs at /data, with the diagnosis' note on volumes", () => {
    const line = '16:C 01 Dec 2026 15:07:43.824 # Failed opening the temp RDB file temp-16.rdb (in server root dir /data) for saving: Read-only file system';
    const d = diagnose(input([line], { exitCode: 0, owners: { '/data': { uid: 100, gid: 101, dir: true } } }));
    expect(d.findings[0]).toMatchObject({ kind: 'read-only', path: '/data' });
    expect(d.findings[0]!.note).toContain('-v NAME:/data');
    const step = stepFromDiagnosis(d, 'redis');
    expect(step.entries).toEqual([{ key: 'defaults.tmpfs', value: '/data', reason: 'learn: redis failed: /data is on the read-only root filesystem' }]);
  });

  test('what learn cannot fill in is unresolved, not written: a user it cannot name, a path a tmpfs cannot cover, a silent failure', () => {
    const who = stepFromDiagnosis(diagnose(input(['setpriv: setresuid failed: Operation not permitted'])), 'x');
    expect(who.fix).toEqual({});
    expect(who.entries).toEqual([]);
    expect(who.unresolved[0]).toContain('switches users');
    const etc = stepFromDiagnosis(diagnose(input(["sh: can't create /etc/app.conf: Read-only file system"])), 'x');
    expect(etc.entries).toEqual([]);
    expect(etc.unresolved[0]).toContain('/etc/app.conf');
    const silent = stepFromDiagnosis(diagnose(input(['something else went wrong'], { exitCode: 3 })), 'x');
    expect(silent.unresolved).toEqual(['exit status 3 with no known hardening signature; last lines: something else went wrong']);
  });

  test('a reason is one printable line of bounded length (the image\'s output is not trusted)', () => {
    const r = learnReason('x', { summary: `a\x1b]52;c;evil\x07\n${'y'.repeat(400)}` });
    expect(r).not.toMatch(/[\x00-\x1f]/);
    expect(r.length).toBeLessThanOrEqual(200);
  });
});

describe('learn: merging into sdocker.yaml (pure)', () => {
  const EXISTING = `# my project's profile\nextends: restricted # the level\ndefaults:\n  # scratch space\n  tmpfs:\n    - { path: /tmp, size: 64m } # keep me\n  memory: 512m\nallow:\n  capabilities:\n    - { name: NET_BIND_SERVICE, reason: "port 80" }\n`;

  test('keeps the comments, extends the lists, adds the learn reasons; the result is a valid profile', () => {
    const doc = parseProfileText(EXISTING, 'sdocker.yaml');
    const d = diagnose(input([NGINX_EROFS, 'setpriv: setresuid failed: Operation not permitted'], { body: { User: '0:0', HostConfig: { ReadonlyRootfs: true } } }));
    const step = stepFromDiagnosis(d, 'nginx');
    expect(applyFix(doc, step.fix, step.entries)).toBe(true);
    setSeccomp(doc, './seccomp/nginx.json', 'learn: 57 system calls recorded');
    const text = doc.toString();
    for (const c of ["# my project's profile", '# the level', '# scratch space', '# keep me', 'reason: "port 80"']) expect(text).toContain(c);
    expect(text).toContain('# learn: nginx failed: /var/lib/nginx/body is on the read-only root filesystem\n    - { path: /var/lib/nginx, size: 64m');
    expect(text).toContain('seccomp: ./seccomp/nginx.json # learn: 57 system calls recorded');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed document, looked at field by field
    const js = parse(text) as Record<string, any>;
    expect(js.defaults.tmpfs.map((t: { path: string }) => t.path)).toEqual(['/tmp', '/var/lib/nginx']);
    expect(js.defaults.memory).toBe('512m');
    expect(js.defaults.capabilities).toEqual(['SETUID', 'SETGID']);
    expect(js.allow.capabilities.map((c: { name: string }) => c.name)).toEqual(['NET_BIND_SERVICE', 'SETUID', 'SETGID']);
    expect(js.allow.capabilities[1].reason).toMatch(/^learn: nginx failed: the entrypoint switches users/);
    expect(() => validateProfile(js, 'sdocker.yaml')).not.toThrow();
  });

  test('the same fix twice changes nothing (learn stops: no progress)', () => {
    const doc = parseProfileText('', 'sdocker.yaml');
    const step = stepFromDiagnosis(diagnose(input([NGINX_EROFS])), 'nginx');
    expect(applyFix(doc, step.fix, step.entries)).toBe(true);
    const once = doc.toString();
    expect(applyFix(doc, step.fix, step.entries)).toBe(false);
    expect(doc.toString()).toBe(once);
    expect(parse(once)).toEqual({ defaults: { tmpfs: [{ path: '/tmp', size: '64m' }, { path: '/var/lib/nginx', size: '64m' }] } });
  });

  test('a profile learn cannot merge into is refused, not overwritten', () => {
    expect(() => parseProfileText('- a list\n', 'p.yaml')).toThrow(/not a mapping/);
    expect(() => parseProfileText('a: [\n', 'p.yaml')).toThrow(/cannot merge/);
    expect(() => applyFix(parseProfileText('defaults: 3\n', 'p.yaml'), { defaults: { user: 'x' } }, [])).toThrow(/defaults is not a mapping/);
  });
});

describe('learn: its command line (pure)', () => {
  test('own flags, then run flags with their values, then the image and its arguments', () => {
    const a = parseLearnArgs(['--probe', 'curl -f http://x/', '--duration=5s', '--no-seccomp', '-o', 'out', '-p', '127.0.0.1:8080:80', '-e', 'A=1', 'nginx', '-g', 'daemon off;']);
    expect(a).toEqual({ probe: 'curl -f http://x/', durationMs: 5000, seccomp: false, outDir: 'out', help: false, runArgs: ['-p', '127.0.0.1:8080:80', '-e', 'A=1', 'nginx', '-g', 'daemon off;'] });
    expect(parseLearnArgs(['redis']).durationMs).toBe(20_000);
    expect(parseLearnArgs(['redis']).seccomp).toBeUndefined();
  });

  test('the flags learn decides itself, an unknown flag, a bad duration and a missing image are refused', () => {
    for (const bad of [['-d', 'x'], ['--rm', 'x'], ['-it', 'x'], ['--policy', 'baseline', 'x'], ['--security-opt', 'seccomp=unconfined', 'x'], ['--name', 'n', 'x']]) {
      expect(() => parseLearnArgs(bad), bad.join(' ')).toThrow(/not supported/);
    }
    expect(() => parseLearnArgs(['--bogus', 'x'])).toThrow(/unknown flag/);
    expect(() => parseLearnArgs(['--duration', '5', 'x'])).toThrow(/missing unit/);
    expect(() => parseLearnArgs(['--duration', '0s', 'x'])).toThrow(/above 0/);
    expect(() => parseLearnArgs(['-p', '80:80'])).toThrow(/IMAGE is required/);
  });

  test('the image\'s short name for the seccomp file', () => {
    expect(imageShortName('registry:5000/lib/nginx:1.25@sha256:abc')).toBe('nginx');
    expect(imageShortName('sdocker-test/real-redis:14dd')).toBe('real-redis');
  });
});
