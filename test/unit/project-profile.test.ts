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
  componentProblem, judgeProjectDir, LABEL_COMPOSE_WORKDIR, LABEL_PROJECT, namedProject, readProjectFile, withoutRequestLabel,
} from '../../src/door/project-profile.js';

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
});
