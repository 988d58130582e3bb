/**
 * User and group names that are 0 in the image: the pure resolution (passwd/group text + names →
 * ids, as runc's GetExecUser does it) and the judgement (SD-USER-001/002), and the one-file tar
 * reader for GET /containers/{id}/archive.
 */
import { describe, expect, test } from 'vitest';
import tar from 'tar-stream';
import {
  effectiveUser, identityViolations, needsNameResolution, parseGroup, parsePasswd, resolveIdentity, singleFileFromTar,
} from '../../src/policy/user-names.js';
import { profileOf } from './helpers.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'toor:x:0:0::/root:/bin/sh',
  '# a comment',
  'user:x:1000:1000::/home/user:/bin/sh',
  'alice:x:1001:1001::/:/bin/sh',
  'bob:x:1002:0::/:/bin/sh',
  'broken:x:notanumber:1',
  'nobody:x:65534:65534::/:/bin/false',
].join('\n');
const GROUP = ['root:x:0:alice', 'wheel:x:0:', 'user:x:1000:', 'alice:x:1001:', 'staff:x:50:user,alice', 'nogroup:x:65534:'].join('\n');

const judge = (user: string, groupAdd: string[] = [], profile = profileOf(), remap = false, source: 'request' | 'image' = 'request') =>
  identityViolations(user, groupAdd, resolveIdentity(user, groupAdd, PASSWD, GROUP), profile, remap, source);
const rulesOf = (user: string, groupAdd: string[] = []) => judge(user, groupAdd).map((v) => v.rule);

describe('parsing', () => {
  test('passwd and group lines, skipping comments and malformed ids', () => {
    expect(parsePasswd(PASSWD).map((p) => p.name)).toEqual(['root', 'toor', 'user', 'alice', 'bob', 'nobody']);
    expect(parseGroup(GROUP).find((g) => g.name === 'staff')).toEqual({ name: 'staff', gid: 50, members: ['user', 'alice'] });
    expect(parseGroup('wheel:x:0:\r\n').at(0)).toEqual({ name: 'wheel', gid: 0, members: [] });
  });
});

describe('when a name must be resolved (else no API call)', () => {
  test.each([
    ['65534:65534', [], false], ['1000', [], false], ['0', [], false], ['root', [], false], ['', [], false],
    ['1000:root', [], false], ['1000', ['0', 'root'], false],
    ['toor', [], true], ['1000:wheel', [], true], ['1000', ['wheel'], true], ['app', [], true], ['app:app', [], true],
  ] as const)('%s --group-add %j → %s', (user, groups, expected) => {
    expect(needsNameResolution(user, [...groups])).toBe(expected);
  });
  test('the body\'s user wins over the image\'s; neither: root', () => {
    expect(effectiveUser('1000:1000', 'toor')).toBe('1000:1000');
    expect(effectiveUser(undefined, 'toor')).toBe('toor');
    expect(effectiveUser('', undefined)).toBe('');
  });
});

describe('resolution, as the engine does it (measured on 20.10)', () => {
  test('a name without a group: its uid, primary gid and every group listing it', () => {
    expect(resolveIdentity('alice', [], PASSWD, GROUP)).toEqual({
      uid: 1001, gid: 1001, memberOf: [{ name: 'root', gid: 0 }, { name: 'staff', gid: 50 }], added: [],
    });
  });
  test('a numeric uid with an entry and no group also gets the entry\'s groups; without an entry gid 0', () => {
    expect(resolveIdentity('1002', [], PASSWD, GROUP)).toMatchObject({ uid: 1002, gid: 0 });
    expect(resolveIdentity('4242', [], PASSWD, GROUP)).toMatchObject({ uid: 4242, gid: 0, memberOf: [] });
  });
  test('an explicit group: that group only, no membership', () => {
    expect(resolveIdentity('alice:1001', [], PASSWD, GROUP)).toEqual({ uid: 1001, gid: 1001, memberOf: [], added: [] });
    expect(resolveIdentity('1000:wheel', [], PASSWD, GROUP)).toMatchObject({ uid: 1000, gid: 0 });
  });
  test('unknown names stay unresolved (the engine refuses to start them)', () => {
    expect(resolveIdentity('ghost:phantom', ['nope'], PASSWD, GROUP)).toEqual({ memberOf: [], added: [{ name: 'nope' }] });
    expect(resolveIdentity('toor', [], '', '')).toEqual({ memberOf: [], added: [] });
  });
});

describe('judgement', () => {
  test('uid 0 by name is SD-USER-001', () => {
    expect(rulesOf('toor')).toEqual(['SD-USER-001']);
    expect(rulesOf('toor:1000')).toEqual(['SD-USER-001']);
    const [v] = judge('toor');
    expect(v?.why).toContain('toor is uid 0 in the image\'s /etc/passwd');
    expect(v?.allowWith.join('\n')).toContain('root:');
    expect(v?.flag).toBe('--user');
  });
  test('gid 0 by group name, by primary group, by membership, by --group-add is SD-USER-002', () => {
    expect(rulesOf('1000:wheel')).toEqual(['SD-USER-002']);
    expect(rulesOf('bob')).toEqual(['SD-USER-002']);
    expect(rulesOf('alice')).toEqual(['SD-USER-002']);
    expect(judge('alice')[0]?.why).toContain('member of root (gid 0)');
    expect(rulesOf('1000:1000', ['wheel'])).toEqual(['SD-USER-002']);
    expect(judge('1000:1000', ['wheel'])[0]).toMatchObject({ field: 'HostConfig.GroupAdd', flag: '--group-add', subject: 'wheel' });
  });
  test('non-root names pass; literal root and 0 are left to applyPolicy (no double report)', () => {
    expect(rulesOf('user')).toEqual([]);
    expect(rulesOf('alice:alice')).toEqual([]);
    expect(rulesOf('nobody', ['staff'])).toEqual([]);
    expect(rulesOf('root')).toEqual([]);
    expect(rulesOf('1000:root', ['root', '0'])).toEqual([]);
  });
  test('the image\'s USER is named as such', () => {
    const [v] = judge('toor', [], profileOf(), false, 'image');
    expect(v).toMatchObject({ rule: 'SD-USER-001', flag: 'USER' });
    expect(v?.why).toContain('the image\'s USER toor');
  });
  test('allow.root lets names through only with userns-remap or withoutUsernsRemap, as for root', () => {
    const allowRoot = profileOf('restricted', [{ path: '/p.yaml', allow: { root: { reason: 'legacy' } } }]);
    expect(judge('toor', [], allowRoot, true)).toEqual([]);
    const v = judge('toor', [], allowRoot, false);
    expect(v.map((x) => x.rule)).toEqual(['SD-USER-001']);
    expect(v[0]?.why).toContain('userns-remap');
    const without = profileOf('restricted', [{ path: '/p.yaml', allow: { root: { reason: 'legacy', withoutUsernsRemap: true } } }]);
    expect(judge('toor', ['wheel'], without, false)).toEqual([]);
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
