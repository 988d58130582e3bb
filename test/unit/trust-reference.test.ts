/**
 * Image references as docker reads them: cases from distribution/reference's own tests
 * (normalize_test.go TestValidateReferenceName, TestParseRepositoryInfo, TestParseAnyReference,
 * reference_test.go TestReferenceParse), plus the run-by-id spellings docker's content trust
 * treats apart.
 */
import { describe, expect, test } from 'vitest';
import { canonical, familiar, parseAnyReference, parseNormalizedNamed, tagNameOnly } from '../../src/trust/reference.js';

const HEX = 'e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';

describe('ParseNormalizedNamed: valid names and their normal form', () => {
  const cases: [string, string][] = [
    ['docker/docker', 'docker.io/docker/docker'],
    ['library/debian', 'docker.io/library/debian'],
    ['debian', 'docker.io/library/debian'],
    ['docker.io/docker/docker', 'docker.io/docker/docker'],
    ['docker.io/library/debian', 'docker.io/library/debian'],
    ['docker.io/debian', 'docker.io/library/debian'],
    ['index.docker.io/docker/docker', 'docker.io/docker/docker'],
    ['index.docker.io/library/debian', 'docker.io/library/debian'],
    ['index.docker.io/debian', 'docker.io/library/debian'],
    ['127.0.0.1:5000/docker/docker', '127.0.0.1:5000/docker/docker'],
    ['127.0.0.1:5000/library/debian', '127.0.0.1:5000/library/debian'],
    ['127.0.0.1:5000/debian', '127.0.0.1:5000/debian'],
    ['192.168.0.1', 'docker.io/library/192.168.0.1'],
    ['192.168.0.1:80', 'docker.io/library/192.168.0.1:80'],
    ['192.168.0.1:8/debian', '192.168.0.1:8/debian'],
    ['192.168.0.2:25000/debian', '192.168.0.2:25000/debian'],
    ['thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev'],
    ['docker-rules/docker', 'docker.io/docker-rules/docker'],
    ['localhost/library/debian', 'localhost/library/debian'],
    ['localhost/debian', 'localhost/debian'],
    ['localhost:5000/debian', 'localhost:5000/debian'],
    ['foo.com/bar', 'foo.com/bar'],
    ['foo.com:8080/bar', 'foo.com:8080/bar'],
    ['Foo/bar', 'Foo/bar'],
    ['[fc00::1]:5000/foo', '[fc00::1]:5000/foo'],
    ['a__b/c.d-e', 'docker.io/a__b/c.d-e'],
    ['busybox:Latest', 'docker.io/library/busybox:Latest'],
    [`busybox@sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`],
    [`busybox:1.36@sha256:${HEX}`, `docker.io/library/busybox:1.36@sha256:${HEX}`],
    ['sha256:abc', 'docker.io/library/sha256:abc'],
  ];
  test.each(cases)('%s → %s', (input, want) => {
    expect(canonical(parseNormalizedNamed(input))).toBe(want);
  });
  test('familiar form drops docker.io/ and library/', () => {
    expect(familiar(parseNormalizedNamed('debian'))).toBe('debian');
    expect(familiar(parseNormalizedNamed('docker/docker:1'))).toBe('docker/docker:1');
    expect(familiar(parseNormalizedNamed('127.0.0.1:5000/library/debian'))).toBe('127.0.0.1:5000/library/debian');
  });
  test('TagNameOnly adds latest only to a bare name', () => {
    expect(canonical(tagNameOnly(parseNormalizedNamed('alpine')))).toBe('docker.io/library/alpine:latest');
    expect(canonical(tagNameOnly(parseNormalizedNamed(`alpine@sha256:${HEX}`)))).toBe(`docker.io/library/alpine@sha256:${HEX}`);
  });
  test('domain and path are told apart', () => {
    expect(parseNormalizedNamed('127.0.0.1:5000/team/app:v1')).toEqual({ kind: 'named', domain: '127.0.0.1:5000', path: 'team/app', name: '127.0.0.1:5000/team/app', tag: 'v1' });
  });
});

describe('ParseNormalizedNamed: refused as docker refuses', () => {
  const cases: [string, RegExp][] = [
    ['https://github.com/docker/docker', /invalid reference format/],
    ['docker/Docker', /must be lowercase/],
    ['-docker', /invalid reference format/],
    ['-docker/docker', /invalid reference format/],
    ['-docker.io/docker/docker', /invalid reference format/],
    ['docker///docker', /invalid reference format/],
    ['docker.io/docker/Docker', /must be lowercase/],
    ['docker.io/docker///docker', /invalid reference format/],
    ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', /cannot specify 64-byte hexadecimal strings/],
    ['', /invalid reference format/],
    [':justtag', /invalid reference format/],
    ['@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', /invalid reference format/],
    ['validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', /unsupported digest algorithm/],
    ['validname@sha256:fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', /invalid checksum digest length/],
    ['a:b:c', /invalid reference format/],
    // The limit is on the normalised name: docker.io/a/ and 244 more is 256.
    [`a/${'a'.repeat(244)}`, /not be more than 255 characters/],
    ['foo_bar.com:8080/x', /invalid reference format/],
    ['foo/bar:t@g', /invalid reference format/],
    ['a.b/c\nd', /invalid reference format/],
  ];
  test.each(cases)('%j', (input, msg) => {
    expect(() => parseNormalizedNamed(input)).toThrow(msg);
  });
  test('a normalised name of 255 characters is fine', () => {
    expect(parseNormalizedNamed(`a/${'a'.repeat(243)}`).name).toHaveLength(255);
  });
});

describe('ParseAnyReference: an image id is not a name', () => {
  test('64 hex and sha256:<64 hex> are ids', () => {
    expect(parseAnyReference(HEX)).toEqual({ kind: 'id', id: `sha256:${HEX}` });
    expect(parseAnyReference(`sha256:${HEX}`)).toEqual({ kind: 'id', id: `sha256:${HEX}` });
  });
  test('a short id prefix is a name (the engine then finds it by prefix)', () => {
    expect(parseAnyReference('e6693c20186f')).toMatchObject({ kind: 'named', name: 'docker.io/library/e6693c20186f' });
  });
});
