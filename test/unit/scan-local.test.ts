import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainIds, layerDirsOf } from '../../src/scan/local.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('local scan layout (pure)', () => {
  it('pairs UpperDir and LowerDir (top first) into directories bottom first', () => {
    expect(layerDirsOf({ UpperDir: '/r/overlay2/c/diff', LowerDir: '/r/overlay2/b/diff:/r/overlay2/a/diff' })).toEqual(['/r/overlay2/a/diff', '/r/overlay2/b/diff', '/r/overlay2/c/diff']);
    expect(layerDirsOf({ UpperDir: '/r/overlay2/a/diff' })).toEqual(['/r/overlay2/a/diff']);
    expect(layerDirsOf({})).toEqual([]);
    expect(layerDirsOf(null)).toEqual([]);
  });

  it('computes chain ids as the layer store keys them', () => {
    const c1 = `sha256:${createHash('sha256').update(`${d('a')} ${d('b')}`).digest('hex')}`;
    const c2 = `sha256:${createHash('sha256').update(`${c1} ${d('c')}`).digest('hex')}`;
    expect(chainIds([d('a'), d('b'), d('c')])).toEqual([d('a'), c1, c2]);
    expect(chainIds([])).toEqual([]);
  });
});
