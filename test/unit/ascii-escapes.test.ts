/**
 * The bundles are ASCII (scripts/bundle.mjs checks; bin/sdocker.cjs reads them as latin1), so
 * the two regular expressions that matched non-ASCII characters spell them as \u escapes: they
 * still match the same characters.
 */
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../src/flags/values/go-numbers.js';
import { pathsToOwn } from '../../src/diagnose/diagnose.js';

describe('non-ASCII characters written as escapes', () => {
  it('Go durations take both micro signs, µ (U+00B5) and μ (U+03BC)', () => {
    expect(parseGoDuration('5\u00b5s')).toBe(parseGoDuration('5us'));
    expect(parseGoDuration('5\u03bcs')).toBe(parseGoDuration('5us'));
    expect(() => parseGoDuration('5\u00b6s')).toThrow();
  });

  it('a path quoted with typographic quotes in a log line is found', () => {
    expect(pathsToOwn(['open \u2018/var/run/app.pid\u2019: permission denied'])).toEqual(['/var/run/app.pid']);
    expect(pathsToOwn(['cannot create \u201c/data/db\u201d: Permission denied'])).toEqual(['/data/db']);
  });
});
