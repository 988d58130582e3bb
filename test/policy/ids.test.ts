import { describe, expect, it } from 'vitest';
import { canonicalId, goAtoi, isZeroId, parseUserSpec } from '../../src/policy/ids.js';

describe('ids as runc reads them', () => {
  it('reads every spelling of zero as 0', () => {
    for (const s of ['0', '00', '000', '+0', '-0', '+00']) expect(isZeroId(s), s).toBe(true);
  });
  it('does not read names or odd forms as numbers', () => {
    for (const s of ['root', '0x0', ' 0', '0 ', '1_000', '', '+', '-', '٠']) expect(goAtoi(s), s).toBeUndefined();
  });
  it('canonicalises numeric parts and leaves names alone', () => {
    expect(canonicalId('+0100')).toBe('100');
    expect(canonicalId('-5')).toBe('-5');
    expect(canonicalId('toor')).toBeUndefined();
  });
  it('splits USER[:GROUP] and ignores parts after the second', () => {
    expect(parseUserSpec('1000:00:1')).toEqual({ user: { id: 1000 }, group: { id: 0 } });
    expect(parseUserSpec('toor')).toEqual({ user: { name: 'toor' }, group: undefined });
    expect(parseUserSpec(':wheel')).toEqual({ user: undefined, group: { name: 'wheel' } });
  });
});
