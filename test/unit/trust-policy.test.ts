/**
 * The image trust policy, pure parts: allowlist patterns, the `images:` key of a profile and its
 * floor merge, the decisions before the pull (content trust, allowlist, requireDigest) and after
 * it (a name resolved as an id prefix), and sdocker.lock's text.
 */
import { describe, expect, test } from 'vitest';
import { patternError, patternMatches } from '../../src/trust/patterns.js';
import { mergeImages, validateImages } from '../../src/trust/profile-images.js';
import { judgeBeforePull, judgeResolved } from '../../src/policy/image-trust.js';
import { carriesName, contentTrustEnabled } from '../../src/trust/image.js';
import { parseLock, pinMatches, pinnedImage, pinOf, serializeLock } from '../../src/trust/lock.js';
import { parseNormalizedNamed } from '../../src/trust/reference.js';
import { validateProfile } from '../../src/policy/profile.js';
import { mergeProfiles } from '../../src/policy/profile-effective.js';
import { imageCreateReference, judgeImageCreate } from '../../src/policy/image-create.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const ID1 = `sha256:${'a'.repeat(64)}`;
const ID2 = `sha256:${'b'.repeat(64)}`;

describe('patterns', () => {
  test.each([
    ['docker.io/library/*', 'docker.io/library/alpine', true],
    ['docker.io/library/*', 'docker.io/library/a/b', false],
    ['docker.io/library/*', 'docker.io/evil/alpine', false],
    ['127.0.0.1:5000/team/**', '127.0.0.1:5000/team/a/b/c', true],
    ['127.0.0.1:5000/team/**', '127.0.0.1:5000/teamevil/x', false],
    ['127.0.0.1:5000/team/**', '127.0.0.1:5001/team/x', false],
    ['docker.io/library/alpine', 'docker.io/library/alpine', true],
    ['docker.io/library/alpine', 'docker.io/library/alpine2', false],
    ['*.example.com/**', 'reg.example.com/x/y', true],
    ['*.example.com/**', 'reg.example.com.evil.io/x', false],
    ['GOOD.example/**', 'good.example/x', true],
    ['good.example/**', 'Good.Example/x', true],
    ['docker.io/library/a.b', 'docker.io/library/aXb', false],
  ])('%s matches %s: %s', (p, name, want) => {
    expect(patternError(p)).toBeUndefined();
    expect(patternMatches(p, name)).toBe(want);
  });
  test.each([
    ['alpine', /must name the registry/],
    ['library/alpine', /must start with the registry.*docker.io\/library\/alpine/],
    ['docker.io/library/alpine:3', /no tag or digest/],
    ['docker.io/library/alpine@sha256:x', /may hold only/],
    ['docker.io/a b', /may hold only/],
    ['', /empty/],
    ['docker.io/***', /two \*/],
  ])('refuses %j', (p, msg) => {
    expect(patternError(p)).toMatch(msg);
  });
});

describe('images: in a profile', () => {
  const fail = (path: (string | number)[], msg: string): never => {
    throw new Error(`${path.join('.')}: ${msg}`);
  };
  test('validates its keys and patterns', () => {
    expect(validateImages({ allow: ['docker.io/library/*'], requireDigest: true, lock: true }, fail)).toEqual({ allow: ['docker.io/library/*'], requireDigest: true, lock: true });
    expect(() => validateImages({ allow: ['alpine'] }, fail)).toThrow(/images.allow.0: must name the registry/);
    expect(() => validateImages({ requireDigest: 'yes' }, fail)).toThrow(/images.requireDigest: must be true or false/);
    expect(() => validateImages({ pin: true }, fail)).toThrow(/images.pin: unknown key/);
    expect(() => validateImages(['x'], fail)).toThrow(/images: must be a mapping/);
  });
  test('through validateProfile, errors name file:line:col', () => {
    const locate = () => ({ line: 3, col: 7 });
    expect(() => validateProfile({ images: { allow: ['busybox'] } }, 'sdocker.yaml', locate)).toThrow(/^sdocker.yaml:3:7: images.allow.0: must name the registry/);
  });
  test('the floor caps the project: both lists must match; a floor requirement cannot be turned off', () => {
    const t = mergeImages(
      [{ path: 'p.yaml', images: { allow: ['docker.io/**'], requireDigest: false, lock: false } }],
      [{ path: '/etc/sdocker/policy.yaml', chain: [{ path: '/etc/sdocker/policy.yaml', images: { allow: ['docker.io/library/*'], requireDigest: true, lock: true } }] }],
    )!;
    expect(t.allow?.patterns).toEqual(['docker.io/**']);
    expect(t.floors).toEqual([{ patterns: ['docker.io/library/*'], source: '/etc/sdocker/policy.yaml' }]);
    expect(t.requireDigest).toBe('/etc/sdocker/policy.yaml');
    expect(t.lock).toBe('/etc/sdocker/policy.yaml');
    // docker.io/evil/x matches the project's list but not the floor's: refused, naming the floor.
    const { violations } = judgeBeforePull(`docker.io/evil/x@${D1}`, t, false);
    expect(violations.map((v) => v.rule)).toEqual(['SD-IMG-001']);
    expect(violations[0]!.floorBlocked).toBe('/etc/sdocker/policy.yaml');
  });
  test('in the project chain the later file wins; nothing set means no image policy', () => {
    const t = mergeImages([{ path: 'a', images: { allow: ['x.io/**'], lock: true } }, { path: 'b', images: { allow: ['y.io/**'], lock: false } }], [])!;
    expect(t.allow).toEqual({ patterns: ['y.io/**'], source: 'b' });
    expect(t.lock).toBeUndefined();
    expect(mergeImages([{ path: 'a' }], [])).toBeUndefined();
  });
  test('mergeProfiles carries it into the effective profile', () => {
    const eff = mergeProfiles({ chain: [{ path: 'p', images: { allow: ['docker.io/library/*'] } }], level: 'restricted', sources: [] });
    expect(eff.images?.allow?.patterns).toEqual(['docker.io/library/*']);
    expect(mergeProfiles({ chain: [], level: 'restricted', sources: [] }).images).toBeUndefined();
  });
});

describe('content trust switch (docker/cli GetContentTrust, --disable-content-trust)', () => {
  test.each([
    [undefined, undefined, false], ['', undefined, false], ['1', undefined, true], ['true', undefined, true], ['yes', undefined, true],
    ['anything', undefined, true], ['0', undefined, false], ['false', undefined, false], ['FALSE', undefined, false], ['f', undefined, false],
    ['1', true, false], [undefined, false, true], ['0', false, true],
  ] as const)('DOCKER_CONTENT_TRUST=%j --disable-content-trust=%j → %j', (env, flag, want) => {
    expect(contentTrustEnabled({ DOCKER_CONTENT_TRUST: env }, flag)).toBe(want);
  });
  test('a tag needs a signature; an id or NAME@digest does not; NAME:tag@digest does (docker checks any tagged reference)', () => {
    const rules = (img: string) => judgeBeforePull(img, undefined, true).violations.map((v) => v.rule);
    expect(rules('busybox')).toEqual(['SD-IMG-004']);
    expect(rules('busybox:1')).toEqual(['SD-IMG-004']);
    expect(rules('e6693c20186f')).toEqual(['SD-IMG-004']);
    expect(rules(`busybox:1@${D1}`)).toEqual(['SD-IMG-004']);
    expect(rules(`busybox@${D1}`)).toEqual([]);
    expect(rules(ID1)).toEqual([]);
    expect(rules('a'.repeat(64))).toEqual([]);
  });
});

describe('before the pull', () => {
  const trust = { floors: [], allow: { patterns: ['docker.io/library/*'], source: 'sdocker.yaml' } };
  test('the allowlist is judged on the normalised name', () => {
    expect(judgeBeforePull('busybox', trust, false).violations).toEqual([]);
    expect(judgeBeforePull('index.docker.io/library/busybox:1', trust, false).violations).toEqual([]);
    const v = judgeBeforePull('127.0.0.1:5000/library/busybox', trust, false).violations;
    expect(v.map((x) => x.rule)).toEqual(['SD-IMG-001']);
    expect(v[0]!.allowWith).toEqual(['images:', '  allow:', '    - 127.0.0.1:5000/library/busybox']);
    expect(v[0]!.details?.[0]).toMatch(/normalised: 127.0.0.1:5000\/library\/busybox:latest; not matched by the allowlist of sdocker.yaml/);
  });
  test('requireDigest wants NAME@digest', () => {
    const t = { ...trust, requireDigest: 'sdocker.yaml' };
    expect(judgeBeforePull('busybox:1', t, false).violations.map((v) => v.rule)).toEqual(['SD-IMG-002']);
    expect(judgeBeforePull(`busybox@${D1}`, t, false).violations).toEqual([]);
  });
  test('what docker cannot read is refused, exit 125', () => {
    expect(() => judgeBeforePull('Busybox', trust, false)).toThrow(expect.objectContaining({ exitCode: 125, message: expect.stringMatching(/must be lowercase/) }));
  });
});

describe('after the pull: what the engine resolved', () => {
  const trust = { floors: [], allow: { patterns: ['127.0.0.1:5000/**'], source: 'sdocker.yaml' } };
  const ref = parseNormalizedNamed('127.0.0.1:5000/team/app:v1');
  test('an image that carries the tag is the name', () => {
    expect(carriesName(ref, { Id: ID1, RepoTags: ['127.0.0.1:5000/team/app:v1'] })).toBe(true);
    expect(carriesName(parseNormalizedNamed('busybox'), { Id: ID1, RepoTags: ['busybox:latest'] })).toBe(true);
    expect(judgeResolved('127.0.0.1:5000/team/app:v1', ref, { Id: ID1, RepoTags: ['127.0.0.1:5000/team/app:v1'] }, trust)).toEqual([]);
  });
  test('a name the engine resolved as an id prefix is judged by where the image came from', () => {
    const short = parseNormalizedNamed('aaaaaaaaaaaa');
    const local = judgeResolved('aaaaaaaaaaaa', short, { Id: ID1, RepoTags: ['evil/x:1'] }, trust);
    expect(local.map((v) => v.rule)).toEqual(['SD-IMG-001']);
    expect(local[0]!.details?.[0]).toMatch(/no tag of this image.*a local image/);
    expect(local[0]!.allowWith).toEqual([]);
    const pulled = judgeResolved('aaaaaaaaaaaa', short, { Id: ID1, RepoDigests: [`127.0.0.1:5000/team/app@${D1}`] }, trust);
    expect(pulled).toEqual([]);
  });
  test('an id reference likewise', () => {
    expect(judgeResolved(ID1, { kind: 'id', id: ID1 }, { Id: ID1, RepoDigests: [`docker.io/evil/x@${D1}`] }, trust).map((v) => v.rule)).toEqual(['SD-IMG-001']);
  });
});

describe('sdocker.lock', () => {
  const text = [
    '# comment',
    '',
    `127.0.0.1:5000/team/app:v1 digest ${D1}`,
    `  docker.io/library/local:dev   id ${ID1}  `,
  ].join('\n');
  test('parses, and writes back sorted with its header', () => {
    const e = parseLock(text, 'sdocker.lock');
    expect([...e.entries()]).toEqual([
      ['127.0.0.1:5000/team/app:v1', { kind: 'digest', value: D1 }],
      ['docker.io/library/local:dev', { kind: 'id', value: ID1 }],
    ]);
    const out = serializeLock(e);
    expect(out.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([`127.0.0.1:5000/team/app:v1 digest ${D1}`, `docker.io/library/local:dev id ${ID1}`]);
    expect(parseLock(out, 'x')).toEqual(e);
  });
  test.each([
    [`alpine digest ${D1}`, /sdocker.lock:1: the reference must be normalised/],
    [`docker.io/library/alpine digest ${D1}`, /:1: the reference must be normalised with its tag/],
    [`docker.io/library/alpine:1@${D1} digest ${D1}`, /:1: the reference must be normalised/],
    [`docker.io/library/alpine:1 sha ${D1}`, /:1: the second field must be digest or id/],
    ['docker.io/library/alpine:1 digest sha256:abc', /:1: the third field is not a digest: invalid checksum digest length/],
    [`docker.io/library/alpine:1 digest`, /:1: expected three fields/],
    [`# x\ndocker.io/library/Alpine:1 id ${ID1}`, /sdocker.lock:2: the reference is not valid/],
    [`docker.io/library/a:1 id ${ID1}\n\ndocker.io/library/a:1 id ${ID2}`, /sdocker.lock:3: a second entry/],
  ])('refuses %j naming file:line', (t, msg) => {
    expect(() => parseLock(t, 'sdocker.lock')).toThrow(expect.objectContaining({ exitCode: 125, message: expect.stringMatching(msg) }));
  });
  test('an error never quotes the file', () => {
    expect(() => parseLock('root:$6$secret:19000:0:99999:7:::', '/etc/shadow')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') }));
    expect(() => parseLock('SeCrEt/Value:x id sha256:1', 'f')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('SeCrEt') }));
  });
  test('pins: the manifest digest of that repository, else the image id; the create is pinned to it', () => {
    const ref = parseNormalizedNamed('127.0.0.1:5000/team/app:v1');
    const pulled = { Id: ID1, RepoDigests: [`127.0.0.1:5000/other@${D2}`, `127.0.0.1:5000/team/app@${D1}`] };
    expect(pinOf(ref, pulled)).toEqual({ kind: 'digest', value: D1 });
    expect(pinnedImage(ref, { kind: 'digest', value: D1 }, pulled)).toBe(`127.0.0.1:5000/team/app@${D1}`);
    expect(pinOf(ref, { Id: ID1, RepoDigests: [] })).toEqual({ kind: 'id', value: ID1 });
    expect(pinnedImage(ref, { kind: 'id', value: ID1 }, { Id: ID1 })).toBe(ID1);
    expect(pinMatches({ kind: 'digest', value: D1 }, ref, pulled)).toBe(true);
    expect(pinMatches({ kind: 'digest', value: D2 }, ref, pulled)).toBe(false);
    expect(pinMatches({ kind: 'digest', value: D1 }, ref, { Id: ID1 })).toBe(false);
    expect(pinMatches({ kind: 'id', value: ID1 }, ref, pulled)).toBe(true);
    expect(pinMatches({ kind: 'id', value: ID1 }, ref, { Id: ID2 })).toBe(false);
  });
});

describe('POST /images/create (for the API door)', () => {
  const q = (s: string) => new URLSearchParams(s);
  test('fromImage and tag read as the engine reads them (tag may be a digest)', () => {
    expect(imageCreateReference(q('fromImage=alpine&tag=3'))).toBe('docker.io/library/alpine:3');
    expect(imageCreateReference(q('fromImage=alpine'))).toBe('docker.io/library/alpine');
    expect(imageCreateReference(q(`fromImage=127.0.0.1:5000/a/b&tag=${D1}`))).toBe(`127.0.0.1:5000/a/b@${D1}`);
    expect(() => imageCreateReference(q('fromImage=Alpine'))).toThrow(/must be lowercase/);
  });
  test('a pull from a registry outside the allowlist, and any import, are refused', () => {
    const trust = { floors: [], allow: { patterns: ['docker.io/library/*'], source: 'sdocker.yaml' } };
    expect(judgeImageCreate(q('fromImage=alpine&tag=3'), trust, false)).toEqual([]);
    expect(judgeImageCreate(q('fromImage=evil.example/x&tag=1'), trust, false).map((v) => v.rule)).toEqual(['SD-IMG-001']);
    expect(judgeImageCreate(q('fromSrc=-&repo=x'), trust, false).map((v) => v.rule)).toEqual(['SD-IMG-001']);
    expect(judgeImageCreate(q('fromSrc=-&repo=x'), undefined, false)).toEqual([]);
    expect(judgeImageCreate(q('fromImage=alpine&tag=3'), undefined, true).map((v) => v.rule)).toEqual(['SD-IMG-004']);
  });
});
