/**
 * Users and groups as the engine resolves them (runc 1.1's libcontainer/user, Docker 20.10's
 * getUser; every case below was measured with plain docker on this engine), and the policy's
 * canonical, numeric identity (identity.ts): what it sends and what it refuses.
 */
import { describe, expect, test } from 'vitest';
import tar from 'tar-stream';
import {
  additionalGroups, engineIdentity, execUser, parseGroup, parsePasswd, singleFileFromTar, type IdentityFiles,
} from '../../src/policy/user-names.js';
import { atoiField, goAtoi } from '../../src/policy/ids.js';
import { groupFileMayChange, runtimeGroupViolations } from '../../src/policy/identity.js';
import { bodyOf, profileOf, rules, run } from './helpers.js';

/** The image of the engine tests: every line a trap runc falls into (measured). */
const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'user:x:1000:1000:user:/home/user:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'evil:x:abc:abc::/:/bin/sh',
  '#x:x:0:0::/:/bin/sh',
  'big:x:4294967296:4294967296::/:/bin/sh',
  'only',
  '  app:x:1001:1001::/:/bin/sh:extra:fields  ',
  'bob:x:1002:0::/:/bin/sh',
  'toor:x:0:0::/root:/bin/sh',
].join('\n');
const GROUP = [
  'root:x:0:alice',
  'user:x:1000:',
  'nogroup:x:65534:',
  '#g:x:0:',
  'bad:x:xyz:',
  'app:x:1001:',
  'extra:x:2000:app',
  'staff:x:50:user, app',
  'wheel:x:0:',
  '4242:x:0:',
  '3000:x:3001:',
].join('\r\n');
const FILES: IdentityFiles = { passwd: PASSWD, group: GROUP, groupPaths: ['/etc/group'] };

const passwd = () => {
  const p = parsePasswd(PASSWD);
  if ('error' in p) throw new Error(p.error);
  return p;
};

describe('runc\'s parsing of /etc/passwd and /etc/group', () => {
  test('numeric fields are Atoi with the error ignored: abc, empty and missing are 0; huge values stay huge', () => {
    const p = passwd();
    expect(p.find((u) => u.name === 'evil')).toMatchObject({ uid: 0, gid: 0 });
    expect(p.find((u) => u.name === 'only')).toMatchObject({ uid: 0, gid: 0 });
    expect(p.find((u) => u.name === 'big')).toMatchObject({ uid: 4294967296, gid: 4294967296 });
    expect(parseGroup(GROUP).find((g) => g.name === 'bad')).toMatchObject({ gid: 0, gidText: '0' });
    expect(atoiField('99999999999999999999')).toEqual({ n: 9223372036854775807, text: '9223372036854775807' });
    expect(atoiField('+0100')).toEqual({ n: 100, text: '100' });
  });
  test('a passwd line starting with # is a user (#x is uid 0); a group line starting with # is a comment', () => {
    expect(passwd().find((u) => u.name === '#x')).toMatchObject({ uid: 0, line: 5 });
    expect(parseGroup(GROUP).map((g) => g.name)).not.toContain('#g');
  });
  test('lines are trimmed, CRLF is read, fields past the last are ignored, members are not trimmed', () => {
    expect(passwd().find((u) => u.name === 'app')).toMatchObject({ uid: 1001, gid: 1001 });
    expect(parseGroup(GROUP).find((g) => g.name === 'staff')?.members).toEqual(['user', ' app']);
    expect(parseGroup('wheel:x:0:\r\n')).toMatchObject([{ name: 'wheel', gid: 0, members: [] }]);
  });
  test('a passwd line of 64 KiB or more fails the engine\'s parse: so does ours', () => {
    expect(parsePasswd(`a:x:1:1:${'g'.repeat(70000)}`)).toMatchObject({ error: expect.stringContaining('64 KiB') });
  });
  test('Go\'s Atoi on a spec part: signs and leading zeros are numbers, spaces and 2^63 are not', () => {
    for (const s of ['00', '+0', '-0', '000']) expect(goAtoi(s)).toBe(0);
    expect(goAtoi('9223372036854775807')).toBe(9223372036854775807);
    expect(goAtoi('9223372036854775808')).toBeUndefined();
    expect(goAtoi(' 1')).toBeUndefined();
  });
});

describe('GetExecUser and GetAdditionalGroups, as the daemon runs them', () => {
  const group = parseGroup(GROUP);
  test('spellings of 0', () => {
    for (const s of ['00', '+0', '-0', '000:000']) expect(execUser(s, passwd(), group)).toMatchObject({ uid: 0, gid: 0 });
    expect(execUser('1000:00', passwd(), group)).toMatchObject({ uid: 1000, gid: 0 });
    expect(execUser(':1000', passwd(), group)).toMatchObject({ uid: 0, gid: 1000 });
  });
  test('names: first match wins, non-numeric uid fields are 0', () => {
    expect(execUser('evil', passwd(), group)).toMatchObject({ uid: 0, gid: 0 });
    expect(execUser('#x', passwd(), group)).toMatchObject({ uid: 0 });
    expect(execUser('only', passwd(), group)).toMatchObject({ uid: 0 });
  });
  test('without a group: the entry\'s gid and every group listing the name; with one: that group only', () => {
    const app = execUser('app', passwd(), group);
    expect(app).toMatchObject({ uid: 1001, gid: 1001 });
    expect('sgids' in app && app.sgids.map((g) => g.gid)).toEqual([2000]);
    expect(execUser('app:50', passwd(), group)).toMatchObject({ uid: 1001, gid: 50, sgids: [] });
    expect(execUser('4242', passwd(), group)).toMatchObject({ uid: 4242, gid: 0, sgids: [] });
  });
  test('unknown names and out-of-range numbers fail as the engine fails', () => {
    expect(execUser('ghost', passwd(), group)).toEqual({ error: 'unable to find user ghost: no matching entries in passwd file' });
    expect(execUser('1000:ghosts', passwd(), group)).toMatchObject({ error: expect.stringContaining('unable to find group ghosts') });
    expect(execUser('2147483648', passwd(), group)).toMatchObject({ error: expect.stringContaining('range') });
    expect(execUser('5', null, null)).toMatchObject({ uid: 5, gid: 0 });
  });
  test('--group-add: name or gid text first, then a number; 00 and +0 are 0; a numeric NAME wins over the number', () => {
    expect(additionalGroups(['00', '+0'], group)).toMatchObject([{ gid: 0 }]);
    expect(additionalGroups(['bad'], group)).toMatchObject([{ gid: 0 }]);
    expect(additionalGroups(['4242'], group)).toMatchObject([{ gid: 0, via: { name: '4242' } }]);
    expect(additionalGroups(['3000'], group)).toMatchObject([{ gid: 3001 }]);
    expect(additionalGroups(['#g'], group)).toMatchObject({ error: expect.stringContaining('Unable to find group #g') });
  });
  test('the engine end to end: runc looks every supplementary gid (the primary one too) up again by name', () => {
    expect(engineIdentity('4242:4242', [], FILES)).toMatchObject({ uid: 4242, gid: 4242, groups: [{ gid: 0 }] });
    expect(engineIdentity('1001:1001', ['2000'], FILES)).toMatchObject({ uid: 1001, gid: 1001, groups: [{ gid: 1001 }, { gid: 2000 }] });
    // A volume over /etc brings its own /etc/group: 4242 → 0 at start, whatever the image says.
    expect(engineIdentity('65534:65534', ['4242'], { passwd: null, group: null }, '4242:x:0:\n')).toMatchObject({ groups: [{ gid: 65534 }, { gid: 0 }] });
  });
});

const withImage = (args: string[], user: string) => run(args, { image: { User: user }, files: FILES });

describe('the policy: judged on the ids, sent as numbers', () => {
  test.each([
    ['00'], ['+0'], ['-0'], ['000:000'], ['evil'], ['#x'], ['only'], ['toor'], [':1000'], ['big'], ['ghost'],
  ])('-u %s is refused (SD-USER-001)', (u) => {
    expect(rules(run(['-u', u], { files: FILES }))).toEqual(['SD-USER-001']);
  });
  test.each([['1000:00'], ['1000:+0'], ['1000:wheel'], ['1000:bad'], ['bob']])('-u %s is refused (SD-USER-002)', (u) => {
    expect(rules(run(['-u', u], { files: FILES }))).toEqual(['SD-USER-002']);
  });
  test.each([['00'], ['+0'], ['-0'], ['wheel'], ['bad'], ['4242'], ['#g']])('--group-add %s is refused (SD-USER-002)', (g) => {
    const o = run(['-u', '1000:1000', '--group-add', g], { files: FILES });
    expect(rules(o)).toEqual(['SD-USER-002']);
    expect(o.violations[0]).toMatchObject({ flag: '--group-add' });
  });
  test('the messages say why, with the image\'s file and line', () => {
    expect(run(['-u', 'evil'], { files: FILES }).violations[0]?.why).toContain('evil is uid 0 in the image\'s /etc/passwd (line 4)');
    expect(run(['-u', '00'], { files: FILES }).violations[0]?.why).toContain('00 is uid 0 as runc reads it');
    expect(run(['-u', 'big'], { files: FILES }).violations[0]?.why).toContain('outside 0..2147483647');
    expect(run(['-u', '1000:1000', '--group-add', '4242'], { files: FILES }).violations[0]?.why).toContain('line 10');
  });
  test('the image\'s USER in any spelling of 0 is refused and named as such; literal root is replaced', () => {
    for (const u of ['00', 'toor', 'evil', '+0:1000']) {
      const o = withImage([], u);
      expect(rules(o)).toEqual(['SD-USER-001']);
      expect(o.violations[0]).toMatchObject({ flag: 'USER' });
      expect(o.violations[0]?.why).toContain(`the image's USER ${u}`);
    }
    for (const u of ['', 'root', '0', '0:0', '1000:0']) expect(withImage([], u)).toMatchObject({ violations: [], body: { User: '65534:65534' } });
  });
  test('legit users are sent as uid:gid with docker\'s supplementary groups', () => {
    expect(run(['-u', 'app'], { files: FILES }).body).toMatchObject({ User: '1001:1001', HostConfig: { GroupAdd: ['2000'] } });
    expect(withImage([], 'app').body).toMatchObject({ User: '1001:1001', HostConfig: { GroupAdd: ['2000'] } });
    expect(run(['-u', 'nobody'], { files: FILES }).body.User).toBe('65534:65534');
    expect(run(['-u', '+1000'], { files: FILES }).body.User).toBe('1000:1000');
    expect(run(['-u', '1000:nogroup', '--group-add', 'extra', '--group-add', '+050'], { files: FILES }).body)
      .toMatchObject({ User: '1000:65534', HostConfig: { GroupAdd: ['2000', '50'] } });
  });
  test('a bare uid gets the gid of its passwd entry, else its own number, never 0', () => {
    expect(run(['-u', '1000'], { files: FILES }).body.User).toBe('1000:1000');
    expect(run(['-u', '4243'], { files: FILES }).body.User).toBe('4243:4243');
    expect(run(['-u', '1002'], { files: FILES })).toMatchObject({ violations: [], body: { User: '1002:1002' } });
    expect(withImage([], '1000').body.User).toBe('1000:1000');
  });
  test('a uid whose number is a group NAME with gid 0 is refused: runc would look it up by name', () => {
    expect(rules(run(['-u', '4242:4242'], { files: FILES }))).toEqual(['SD-USER-002']);
    expect(rules(run(['-u', '4242'], { files: FILES }))).toEqual(['SD-USER-002']);
  });
  test('a mount that can replace /etc/group is refused (runc reads it at start); tmpfs and other paths are fine', () => {
    for (const v of [['-v', '/tmp/fakeetc:/etc'], ['-v', '/tmp/g:/etc/group:ro'], ['-v', 'vol:/etc/'], ['--mount', 'type=bind,src=/tmp/x,dst=/etc']]) {
      expect(rules(run(['-u', '1000:1000', ...v], { files: FILES })), v.join(' ')).toContain('SD-USER-002');
    }
    expect(rules(run(['-v', '/tmp/x:/usr/lib'], { files: { ...FILES, groupPaths: ['/etc/group', '/usr/lib/group'] } }))).toContain('SD-USER-002');
    expect(rules(run(['--tmpfs', '/etc', '-v', '/tmp/x:/etc2'], { files: FILES }))).toEqual([]);
  });
  test('without the image\'s files: numbers are canonicalised, names cannot be resolved and are refused', () => {
    expect(run(['-u', '+1000:0100'], { files: undefined }).body.User).toBe('1000:100');
    expect(rules(run(['-u', 'app'], { files: undefined }))).toEqual(['SD-USER-001']);
    expect(run(['-u', 'app'], { files: undefined }).violations[0]?.why).toContain('could not be read');
    expect(rules(run(['-u', '00'], { files: undefined }))).toEqual(['SD-USER-001']);
  });
  test('root allowed (with userns-remap): nothing is resolved or rewritten', () => {
    const p = profileOf('restricted', [{ path: '/p.yaml', allow: { root: { reason: 'legacy' } } }]);
    const o = run(['-u', 'toor', '--group-add', 'wheel'], { profile: p, engine: { usernsRemap: true }, files: FILES });
    expect(o.violations).toEqual([]);
    expect(o.body.User).toBe('toor');
    expect(o.body.HostConfig.GroupAdd).toEqual(['wheel']);
    expect(rules(run(['-u', 'toor'], { profile: p, files: FILES }))).toEqual(['SD-USER-001']);
  });
  test('level privileged: the body is docker\'s', () => {
    const o = run(['-u', 'evil', '--group-add', '00'], { profile: profileOf('privileged'), files: FILES });
    expect(o.body.User).toBe('evil');
    expect(o.body.HostConfig.GroupAdd).toEqual(['00']);
  });
  test('warn mode lets a violation through as typed', () => {
    const o = run(['-u', '00'], { files: FILES, mode: 'warn' });
    expect(rules(o)).toEqual(['SD-USER-001']);
    expect(o.body.User).toBe('00');
    const both = run(['-u', 'toor', '--group-add', 'wheel', '-v', '/tmp/e:/etc'], { files: FILES, mode: 'warn' });
    expect(rules(both)).toEqual(['SD-USER-001', 'SD-USER-002', 'SD-USER-002']);
    expect(both.body.User).toBe('toor');
    expect(both.body.HostConfig.GroupAdd).toEqual(['wheel']);
  });
});

describe('the container\'s /etc/group as mounted (read after create)', () => {
  test('only binds, volumes and --volumes-from can change it; a tmpfs cannot', () => {
    expect(groupFileMayChange(bodyOf(['-v', '/x:/d', 'IMG']).body)).toBe(true);
    expect(groupFileMayChange(bodyOf(['--mount', 'type=volume,src=v,dst=/d', 'IMG']).body)).toBe(true);
    expect(groupFileMayChange(bodyOf(['--volumes-from', 'other', 'IMG']).body)).toBe(true);
    expect(groupFileMayChange(bodyOf(['--tmpfs', '/etc', '-v', '/anon', 'IMG']).body)).toBe(false);
  });
  test('runc\'s look-up of the sent groups in it: a group named like a gid, with gid 0, is SD-USER-002', () => {
    const { body } = bodyOf(['-u', '1001:1001', '--group-add', '2000', 'IMG']);
    expect(runtimeGroupViolations(body, FILES, GROUP)).toEqual([]);
    expect(runtimeGroupViolations(body, FILES, null)).toEqual([]);
    const v = runtimeGroupViolations(body, FILES, 'x:x:5:\n2000:x:0:\n');
    expect(v.map((x) => x.rule)).toEqual(['SD-USER-002']);
    expect(v[0]?.why).toContain('gid 2000 into gid 0 (line 2');
  });
});

async function tarOf(entries: { name: string; text?: string; link?: string; pax?: Record<string, string> }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.link !== undefined) pack.entry({ name: e.name, type: 'symlink', linkname: e.link });
    else pack.entry({ name: e.name, ...(e.pax ? { pax: e.pax } : {}) }, e.text ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('the one-file archive', () => {
  test('a regular file, a symbolic link, a pax header before the file, an empty archive', async () => {
    expect(singleFileFromTar(await tarOf([{ name: 'passwd', text: PASSWD }]))).toEqual({ text: PASSWD });
    expect(singleFileFromTar(await tarOf([{ name: 'passwd', link: '../data/passwd' }]))).toEqual({ link: '../data/passwd' });
    const long = 'x'.repeat(150);
    expect(singleFileFromTar(await tarOf([{ name: long, text: 'a:x:0:0::/:/bin/sh\n', pax: { comment: 'y'.repeat(700) } }]))).toEqual({ text: 'a:x:0:0::/:/bin/sh\n' });
    expect(singleFileFromTar(Buffer.alloc(1024))).toBeUndefined();
  });
});
