/**
 * The pure parts of project profiles at the door (src/door/project-profile.ts,
 * src/policy/profile-door.ts): the `door:` key, which directory a request names, the judgement of
 * its path and of each component's owner and mode. The walk over real files is tested here too
 * (this runs as root: files are given to uid 1000 and 1001 with chown); the door itself, with
 * compose and attacks as uid 1000, in test/engine/door-project-profile.test.ts.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { canonicalPathProblem, underRoot } from '../../src/policy/profile-door.js';
import { validateProfile } from '../../src/policy/profile.js';
import {
  componentProblem, judgeProjectDir, LABEL_COMPOSE_WORKDIR, LABEL_PROJECT, namedProject, projectProfile, readProjectFile, withoutRequestLabel,
  type ProjectProfiles,
} from '../../src/door/project-profile.js';
import { distrustFor } from '../../src/door/routes/owned.js';
import { defaultSeccompPath } from '../../src/policy/load-profile.js';
import { mergeProfiles } from '../../src/policy/profile-effective.js';
import type { JoinedContainer } from '../../src/policy/types.js';

const peer = { uid: 1000, gid: 1000, pid: 1 };

describe('the door: key', () => {
  const ok = { projectProfiles: { roots: ['/srv/projects', '/home'], floor: './ceiling.yaml' } };
  test('is read into the profile file', () => {
    expect(validateProfile({ door: ok }, 'door.yaml').door).toEqual(ok);
  });
  test.each([
    [{ projectProfiles: { roots: ['/srv/../etc'], floor: 'c.yaml' } }, /roots\.0: "\/srv\/\.\.\/etc" must not hold a \.\. segment/],
    [{ projectProfiles: { roots: ['srv'], floor: 'c.yaml' } }, /must be an absolute path/],
    [{ projectProfiles: { roots: ['/'], floor: 'c.yaml' } }, /must not be \//],
    [{ projectProfiles: { roots: ['/srv/'], floor: 'c.yaml' } }, /must not end with \//],
    [{ projectProfiles: { roots: [], floor: 'c.yaml' } }, /roots: must be a list/],
    [{ projectProfiles: { roots: ['/srv'] } }, /floor: is required/],
    [{ projectProfiles: { roots: ['/srv'], floor: 'c', extra: 1 } }, /projectProfiles\.extra: unknown key/],
    [{ other: 1 }, /door\.other: unknown key/],
    ['yes', /door: must be a mapping/],
  ])('refuses %j with file:line', (door, msg) => {
    const text = `extends: restricted\ndoor: ${JSON.stringify(door)}\n`;
    expect(() => validateProfile(parse(text), 'door.yaml', () => ({ line: 2, col: 1 }))).toThrow(msg);
    expect(() => validateProfile(parse(text), 'door.yaml', () => ({ line: 2, col: 1 }))).toThrow(/^door\.yaml:2:1: /);
  });
});

describe('paths', () => {
  test.each([
    ['/srv/p', undefined], ['/', undefined], ['srv/p', 'must be an absolute path'], ['/srv//p', 'must not hold an empty segment (//)'],
    ['/srv/./p', 'must not hold a . segment'], ['/srv/../p', 'must not hold a .. segment'], ['/srv/p/', 'must not end with /'],
    ['/srv/p\n', 'holds a control character'], ['', 'is empty'],
  ])('canonicalPathProblem(%j) = %j', (p, why) => expect(canonicalPathProblem(p)).toBe(why));
  test('roots are compared by segments, not by string prefix', () => {
    expect(underRoot('/srv/projects/a', '/srv/projects')).toBe(true);
    expect(underRoot('/srv/projects', '/srv/projects')).toBe(true);
    expect(underRoot('/srv/projects-evil/a', '/srv/projects')).toBe(false);
    expect(judgeProjectDir('/srv/projects-evil/a', ['/srv/projects'])).toEqual({ why: expect.stringContaining('not under'), outside: true });
    expect(judgeProjectDir('/srv/projects/../../etc', ['/srv/projects'])).toEqual({ why: expect.stringContaining('..'), outside: false });
    expect(judgeProjectDir('/srv/projects/a', ['/home', '/srv/projects'])).toBeUndefined();
  });
});

describe('which project a create names', () => {
  test("sdocker's label before compose's; an empty compose label names nothing", () => {
    expect(namedProject({ [LABEL_COMPOSE_WORKDIR]: '/a', [LABEL_PROJECT]: '/b' })).toEqual({ dir: '/b', how: 'label' });
    expect(namedProject({ [LABEL_COMPOSE_WORKDIR]: '/a' })).toEqual({ dir: '/a', how: 'compose' });
    expect(namedProject({ [LABEL_COMPOSE_WORKDIR]: '' })).toBeUndefined();
    expect(namedProject(null)).toBeUndefined();
  });
  test('the request label is taken off the body (SD-LABEL-001 would refuse it), the rest kept', () => {
    const b = { Image: 'x', HostConfig: {}, Labels: { [LABEL_PROJECT]: '/p', keep: '1' } };
    expect(withoutRequestLabel(b).Labels).toEqual({ keep: '1' });
    expect(b.Labels[LABEL_PROJECT]).toBe('/p');
  });
});

describe('componentProblem', () => {
  const st = (uid: number, gid: number, mode: number, kind: 'dir' | 'file' = 'dir', nlink = 1, size = 10) => ({
    uid, gid, mode, nlink, size, isDirectory: () => kind === 'dir', isFile: () => kind === 'file',
  });
  test.each([
    [st(0, 0, 0o755), 'above', undefined],
    [st(0, 0, 0o1777), 'above', undefined],
    [st(0, 0, 0o1777), 'project', /writable by every user/],
    [st(1000, 1000, 0o1777), 'above', /writable by every user/],
    [st(1001, 1001, 0o755), 'above', /belongs to uid 1001/],
    [st(1000, 1000, 0o775), 'project', /writable by group 1000/],
    [st(0, 0, 0o700), 'above', /cannot be searched by the client/],
    [st(1000, 1000, 0o700), 'project', undefined],
    [st(0, 1000, 0o750), 'project', undefined],
    [st(1000, 1000, 0o644, 'file'), 'file', undefined],
    [st(0, 0, 0o600, 'file'), 'file', /not readable by the client/],
    [st(0, 0, 0o644, 'file', 2), 'file', /2 hard links/],
    [st(1000, 1000, 0o644, 'file', 1, 2 * 1024 * 1024), 'file', /larger than/],
    [st(1000, 1000, 0o644, 'dir'), 'file', /not a regular file/],
  ] as const)('%j as %s', (s, role, why) => {
    const got = componentProblem(s, peer, role);
    if (why === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(why);
  });
});

describe('readProjectFile walks real directories', () => {
  const root = mkdtempSync(join(tmpdir(), 'sdocker-projprof-'));
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const dir = (p: string, uid = 1000, mode = 0o755) => {
    mkdirSync(join(root, p), { recursive: true });
    chownSync(join(root, p), uid, uid);
    chmodSync(join(root, p), mode);
    return join(root, p);
  };
  const file = (p: string, text: string, uid = 1000, mode = 0o644) => {
    writeFileSync(join(root, p), text);
    chownSync(join(root, p), uid, uid);
    chmodSync(join(root, p), mode);
  };
  test('reads the client\'s own file; none is undefined', () => {
    file(`${dir('ok').slice(root.length + 1)}/sdocker.yaml`, 'extends: restricted\n');
    expect(readProjectFile(join(root, 'ok'), peer)).toEqual({ path: join(root, 'ok', 'sdocker.yaml'), text: 'extends: restricted\n' });
    dir('empty');
    expect(readProjectFile(join(root, 'empty'), peer)).toBeUndefined();
  });
  test('refuses links, other owners, FIFOs, unreadable files; a missing directory is quiet', () => {
    dir('lnk');
    symlinkSync(join(root, 'ok', 'sdocker.yaml'), join(root, 'lnk', 'sdocker.yaml'));
    expect(() => readProjectFile(join(root, 'lnk'), peer)).toThrow(/is a symbolic link/);
    symlinkSync(join(root, 'ok'), join(root, 'dirlink'));
    expect(() => readProjectFile(join(root, 'dirlink'), peer)).toThrow(/symbolic link or not a directory/);
    file(`${dir('theirs', 1001).slice(root.length + 1)}/sdocker.yaml`, 'extends: restricted\n', 1001);
    expect(() => readProjectFile(join(root, 'theirs'), peer)).toThrow(/belongs to uid 1001/);
    dir('fifo');
    execFileSync('mkfifo', [join(root, 'fifo', 'sdocker.yaml')]);
    chownSync(join(root, 'fifo', 'sdocker.yaml'), 1000, 1000);
    expect(() => readProjectFile(join(root, 'fifo'), peer)).toThrow(/not a regular file/);
    dir('secret');
    file('secret/sdocker.yaml', 'SECRET_LINE_4711: x\n', 0, 0o600);
    let msg = '';
    try {
      readProjectFile(join(root, 'secret'), peer);
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/not readable by the client/);
    expect(msg).not.toContain('SECRET_LINE');
    // An ACL that hides a world-readable root file from uid 1000: the mode bits would say readable.
    dir('acl');
    file('acl/sdocker.yaml', 'SECRET_LINE_4712: x\n', 0, 0o644);
    execFileSync('setfacl', ['-m', 'u:1000:---', join(root, 'acl', 'sdocker.yaml')]);
    expect(() => readProjectFile(join(root, 'acl'), peer)).toThrow(/acl\/sdocker\.yaml has an ACL/);
    execFileSync('setfacl', ['-b', join(root, 'acl', 'sdocker.yaml')]);
    expect(readProjectFile(join(root, 'acl'), peer)?.text).toContain('SECRET_LINE_4712');
    execFileSync('setfacl', ['-m', 'u:1001:rx', join(root, 'acl')]);
    expect(() => readProjectFile(join(root, 'acl'), peer)).toThrow(/acl has an ACL/);
    const gone = (() => {
      try {
        readProjectFile(join(root, 'nope', 'deeper'), peer);
      } catch (err) {
        return err as { quiet?: boolean; message: string };
      }
      return undefined;
    })();
    expect(gone?.quiet).toBe(true);
  });
  test('a directory others could change: nothing to distrust without a profile in it, refused with one', () => {
    const shared = dir('shared', 0, 0o775);
    const quiet = (() => {
      try {
        readProjectFile(shared, peer);
      } catch (err) {
        return err as { quiet?: boolean; message: string };
      }
      return undefined;
    })();
    expect(quiet?.quiet).toBe(true);
    expect(quiet?.message).toMatch(/shared is writable by group 0:.*nothing to apply/);
    writeFileSync(join(shared, 'sdocker.yml'), 'extends: restricted\n');
    chownSync(join(shared, 'sdocker.yml'), 1000, 1000);
    let loud: { quiet?: boolean; message: string } | undefined;
    try {
      readProjectFile(shared, peer);
    } catch (err) {
      loud = err as { quiet?: boolean; message: string };
    }
    expect(loud?.quiet).toBe(false);
    expect(loud?.message).toMatch(/shared is writable by group 0/);
    // Not searchable by the client: nothing below it is looked at.
    dir('closed', 0, 0o700);
    dir('closed/inner');
    expect(() => readProjectFile(join(root, 'closed', 'inner'), peer)).toThrow(/closed cannot be searched by the client/);
  });
});

describe('projectProfile: what a project file may say at the door', () => {
  const ceiling = validateProfile(parse('extends: restricted\nallow:\n  capabilities:\n    - { name: CHOWN, reason: r }\nlimits:\n  memory: 2g\n'), '/door/ceiling.yaml');
  const pp: ProjectProfiles = {
    roots: ['/srv'], floors: [{ chain: [ceiling], level: 'restricted', path: '/door/ceiling.yaml' }],
    floorSources: [{ path: '/door/ceiling.yaml', role: 'floor' }], minMode: 'enforce', seccompDefault: defaultSeccompPath(),
  };
  const load = (text: string) => projectProfile({ path: '/srv/p/sdocker.yaml', text }, pp);
  test('the project replaces the socket profile under the ceiling, never below the socket mode', async () => {
    const eff = await load('extends: restricted\nmode: audit\ndefaults:\n  memory: 3g\nallow:\n  capabilities:\n    - { name: CHOWN, reason: a }\n    - { name: SYS_ADMIN, reason: b }\n');
    expect(eff.allow.capabilities?.map((c) => c.name)).toEqual(['NET_BIND_SERVICE', 'CHOWN']);
    expect(eff.floorDenied).toContainEqual(expect.objectContaining({ key: 'capabilities', value: 'SYS_ADMIN', floor: '/door/ceiling.yaml' }));
    expect(eff.defaults.memory).toBe(2 * 1024 ** 3);
    expect(eff.mode).toBe('enforce');
    expect(eff.sources).toContainEqual({ path: '/srv/p/sdocker.yaml', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), role: 'project' });
  });
  test.each([
    ['door:\n  projectProfiles: {roots: [/], floor: x}\n', /door/],
    ['door:\n  projectProfiles: {roots: [/srv], floor: x}\n', /sdocker\.yaml:1:1: door: only the socket's profile/],
    ['audit:\n  log: /tmp/x\n', /audit\.log: only the machine floor/],
    ['extends: ../other.yaml\n', /extends a level only/],
    ['defaults:\n  seccomp: ./s.json\n', /names default or engine, not a file/],
    ['images:\n  lock: true\n', /does not write sdocker\.lock/],
    ['extends: privileged\n', /level privileged is not allowed/],
    ['SECRET_KEY_1: 1\n', /unknown key/],
  ])('refuses %j', async (text, why) => {
    await expect(load(text)).rejects.toThrow(why);
  });
});

describe('owned containers and TLS clients', () => {
  test('a TLS client acts only in what was made for its certificate', () => {
    const made: JoinedContainer = {
      Name: '/web', Privileged: false, User: '65534:65534', CapAdd: null, CapDrop: ['ALL'], ImageSdockerLabels: false,
      Labels: { 'io.sdocker.level': 'restricted', 'io.sdocker.mode': 'enforce', 'io.sdocker.owner': '0', 'io.sdocker.client.sha256': 'a'.repeat(64) },
    };
    const o = { profile: mergeProfiles({ chain: [], level: 'restricted', sources: [] }) };
    expect(distrustFor(made, o, undefined, false, { subject: 'CN=alice', sha256: 'a'.repeat(64) })).toBeUndefined();
    expect(distrustFor(made, o, undefined, false, { subject: 'CN=alice', sha256: 'b'.repeat(64) })).toMatch(/not made through the door for this client certificate \(CN=alice\)/);
    const { 'io.sdocker.client.sha256': _, ...unix } = made.Labels!;
    expect(distrustFor({ ...made, Labels: unix }, o, undefined, false, { subject: 'CN=alice', sha256: 'a'.repeat(64) })).toMatch(/not made through the door/);
  });
});
