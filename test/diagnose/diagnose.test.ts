import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { diagnose, pathsToOwn } from '../../src/diagnose/diagnose.js';
import { fixYaml, renderJson, renderText } from '../../src/diagnose/render.js';
import { OutputTail } from '../../src/diagnose/tail.js';
import type { DiagnosisInput } from '../../src/diagnose/types.js';
import { parsePasswd } from '../../src/policy/user-names.js';

const PARSED = parsePasswd(
  'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\npostgres:x:104:106::/var/lib/postgresql:/bin/bash\n',
);
if ('error' in PARSED) throw new Error(PARSED.error);
const PASSWD = PARSED;

function input(lines: string[], over: Partial<DiagnosisInput> = {}): DiagnosisInput {
  return {
    exitCode: 1,
    oomKilled: false,
    logLines: lines,
    body: { User: '65534:65534', HostConfig: { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,noexec,size=64m,uid=65534,gid=65534' }, Memory: 1024 ** 3, PidsLimit: 512 } },
    imageUser: '',
    passwd: PASSWD,
    profile: { tmpfs: [{ path: '/tmp', size: '64m' }], capabilities: [], memory: 1024 ** 3, pids: 512, seccomp: 'default' },
    ...over,
  };
}

describe('diagnose (pure)', () => {
  test("nginx's mkdir under /var/lib/nginx on the read-only root: a tmpfs at /var/lib/nginx, the profile's /tmp kept", () => {
    const d = diagnose(input(['nginx: [emerg] mkdir() "/var/lib/nginx/body" failed (30: Read-only file system)']));
    expect(d.user).toEqual({ uid: 65534, gid: 65534, name: 'nobody' });
    expect(d.findings).toHaveLength(1);
    expect(d.findings[0]).toMatchObject({ kind: 'read-only', rule: 'SD-ROOTFS-001', path: '/var/lib/nginx' });
    expect(d.findings[0]!.flags).toEqual(['--tmpfs /var/lib/nginx:uid=65534,gid=65534']);
    expect(parse(fixYaml(d.fix))).toEqual({ defaults: { tmpfs: [{ path: '/tmp', size: '64m' }, { path: '/var/lib/nginx', size: '64m' }] } });
  });

  test('a pid file in /run and a file created in a wide directory: /run is covered, /etc is not', () => {
    const d = diagnose(input(['open() "/run/nginx.pid" failed (30: Read-only file system)', "sh: can't create /etc/app.conf: Read-only file system"]));
    expect(d.findings.map((f) => f.path)).toEqual(['/run', '/etc/app.conf']);
    expect(d.findings[1]!.fix).toEqual({});
    expect(d.findings[1]!.note).toMatch(/cannot cover \/etc/);
    expect(d.fix.defaults?.tmpfs?.map((t) => t.path)).toEqual(['/tmp', '/run']);
  });

  test('an existing directory (known from the container) gets the tmpfs itself', () => {
    const d = diagnose(input(["touch: cannot touch '/var/cache/app/x': Read-only file system", "chown: changing ownership of '/srv/data': Read-only file system"], {
      owners: { '/srv/data': { uid: 0, gid: 0, dir: true } },
    }));
    expect(d.findings.map((f) => f.path)).toEqual(['/var/cache/app', '/srv/data']);
  });

  test("postgres's initdb chmod as nobody: run as the directory's owner, named from the image's passwd", () => {
    const line = 'initdb: error: could not change permissions of directory "/var/lib/postgresql/data": Operation not permitted';
    expect(pathsToOwn([line])).toEqual(['/var/lib/postgresql/data']);
    const d = diagnose(input([line], { owners: { '/var/lib/postgresql/data': { uid: 104, gid: 106, dir: true } } }));
    expect(d.findings).toHaveLength(1);
    expect(d.findings[0]).toMatchObject({ kind: 'not-owner', rule: 'SD-USER-001', path: '/var/lib/postgresql/data' });
    expect(d.fix).toEqual({ defaults: { user: 'postgres' } });
    expect(d.findings[0]!.flags).toEqual(['-u postgres']);
  });

  test('as root (allowed by the profile), a failed chown is the dropped capabilities, listed under defaults and allow', () => {
    const d = diagnose(input(["chown: changing ownership of '/data': Operation not permitted"], { body: { User: '', HostConfig: {} } }));
    expect(d.user.uid).toBe(0);
    expect(d.findings[0]).toMatchObject({ kind: 'capability', rule: 'SD-CAP-001' });
    expect(d.fix.defaults?.capabilities).toEqual(['CHOWN', 'FOWNER', 'DAC_OVERRIDE']);
    expect(d.fix.allow?.capabilities?.map((c) => c.name)).toEqual(['CHOWN', 'FOWNER', 'DAC_OVERRIDE']);
    expect(d.fix.allow?.capabilities?.every((c) => c.reason.length > 0)).toBe(true);
  });

  test('setpriv / setgid failures: root needs SETUID and SETGID, a non-root user must start as the target', () => {
    const asRoot = diagnose(input(['setpriv: setresuid failed: Operation not permitted'], { body: { HostConfig: {} } }));
    expect(asRoot.fix.defaults?.capabilities).toEqual(['SETUID', 'SETGID']);
    const asUser = diagnose(input(['nginx: [emerg] setgid(33) failed (1: Operation not permitted)']));
    expect(asUser.findings[0]).toMatchObject({ kind: 'switch-user', rule: 'SD-USER-001' });
  });

  test('a named user: the tmpfs says its uid and gid (sdocker only knows numeric users)', () => {
    const d = diagnose(input(['FATAL:  could not create lock file "/var/run/postgresql/.s.PGSQL.5432.lock": Read-only file system'], { body: { User: 'postgres', HostConfig: {} } }));
    expect(d.fix.defaults?.tmpfs).toContainEqual({ path: '/var/run/postgresql', size: '64m', options: 'uid=104,gid=106' });
  });

  test('a user change and a tmpfs together: the tmpfs is owned by the new user', () => {
    const d = diagnose(input(
      ['could not change permissions of directory "/var/lib/postgresql/data": Operation not permitted', 'could not create lock file "/run/postgresql/.s.PGSQL.5432.lock": Read-only file system'],
      { owners: { '/var/lib/postgresql/data': { uid: 104, gid: 106, dir: true } } },
    ));
    expect(d.fix.defaults?.user).toBe('postgres');
    expect(d.fix.defaults?.tmpfs).toContainEqual({ path: '/run/postgresql', size: '64m', options: 'uid=104,gid=106' });
  });

  test('OOM kill, pids limit, a refused system call, a low port', () => {
    expect(diagnose(input([], { exitCode: 137, oomKilled: true })).fix.defaults).toEqual({ memory: '2g' });
    // --rm: the state is gone; 137 under a memory limit is reported as a likely OOM kill.
    expect(diagnose(input([], { exitCode: 137, oomKilled: undefined as unknown as boolean })).findings[0]?.summary).toMatch(/SIGKILL/);
    expect(diagnose(input(['sh: can\'t fork: Resource temporarily unavailable'])).fix.defaults).toEqual({ pids: 1024 });
    const sc = diagnose(input(['waitpid() returned an error: Operation not permitted']));
    expect(sc.findings[0]).toMatchObject({ kind: 'syscall', rule: 'SD-SECCOMP-001' });
    expect(sc.findings[0]!.summary).toContain('waitpid');
    const port = diagnose(input(['nginx: [emerg] bind() to 0.0.0.0:80 failed (13: Permission denied)'], { body: { HostConfig: {} } }));
    expect(port.fix.defaults?.capabilities).toEqual(['NET_BIND_SERVICE']);
  });

  test('nothing recognised: no finding, the text shows the last lines', () => {
    const d = diagnose(input(['segfault somewhere', 'goodbye']));
    expect(d.findings).toEqual([]);
    const text = renderText(d, { when: 'died', containerId: 'abcdef0123456789', watchMs: 3000 });
    expect(text).toContain('no known hardening signature');
    expect(text).toContain('| goodbye');
  });

  test('text names the rule and indents the YAML; JSON carries the YAML and the findings', () => {
    const d = diagnose(input(['mkdir() "/var/lib/nginx/body" failed (30: Read-only file system)']));
    const text = renderText(d, { when: 'died', containerId: 'abcdef0123456789', watchMs: 3000 });
    expect(text).toContain('exited with status 1 3s after its start, running as nobody (uid 65534, gid 65534)');
    expect(text).toContain('SD-ROOTFS-001');
    expect(text).toContain('      - { path: /var/lib/nginx, size: 64m }');
    const json = JSON.parse(renderJson(d, { when: 'died', containerId: 'abc' })) as { diagnosis: { yaml: string; findings: { rule: string; guideline: number }[] } };
    expect(json.diagnosis.findings[0]).toMatchObject({ rule: 'SD-ROOTFS-001', guideline: 7 });
    expect(parse(json.diagnosis.yaml)).toEqual(parse(fixYaml(d.fix)));
  });
});

describe('OutputTail', () => {
  const frame = (stream: number, s: string) => {
    const p = Buffer.from(s);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(p.length, 4);
    return Buffer.concat([h, p]);
  };

  test('keeps the last lines of both streams from frames split anywhere', () => {
    const t = new OutputTail(true, 3);
    const all = Buffer.concat([frame(1, 'a\nb\n'), frame(2, 'err1\nerr'), frame(2, '2\n'), frame(1, 'c\npartial')]);
    for (let i = 0; i < all.length; i += 5) t.feed(all.subarray(i, i + 5));
    expect(t.get()).toEqual(['err2', 'c', 'partial']);
  });

  test('raw (TTY) output and a line without end are bounded', () => {
    const t = new OutputTail(false, 2);
    t.feed(Buffer.from('x'.repeat(10_000)));
    expect(t.get()[0]!.length).toBe(4096);
    t.feed(Buffer.from('\r\nok\r\n'));
    expect(t.get()).toEqual(['x'.repeat(4096), 'ok']);
  });
});

describe('what the image writes cannot steer the user', () => {
  test('a path owned by root: no "run as root" suggestion', () => {
    const d = diagnose(input(["chmod: changing permissions of '/etc/shadow': Operation not permitted"], { owners: { '/etc/shadow': { uid: 0, gid: 42, dir: false } } }));
    expect(d.findings[0]).toMatchObject({ rule: 'SD-USER-001', fix: {} });
    expect(d.fix).toEqual({});
    expect(fixYaml(d.fix)).toBe('');
  });

  test('escape sequences in log lines are shown, not played; a hostile path is quoted in the YAML', () => {
    const d = diagnose(input(['\x1b]52;c;ZXZpbA==\x07mkdir() "/var/lib/a:b\x1b[2J/x" failed (30: Read-only file system)']));
    const text = renderText(d, { when: 'exited', containerId: 'abc' });
    expect(text).not.toMatch(/[\x1b\x07]/);
    expect(text).toContain('\\x1b]52;c;');
    const yaml = parse(fixYaml(d.fix)) as { defaults: { tmpfs: { path: string }[] } };
    expect(yaml.defaults.tmpfs.map((t) => t.path)).toEqual(['/tmp', '/var/lib/a:b\x1b[2J']);
  });
});
