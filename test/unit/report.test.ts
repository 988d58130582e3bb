import { describe, expect, it } from 'vitest';
import { atLeast, failsOn, parseFailOn, rank } from '../../src/report/severity.js';
import { toSarif } from '../../src/report/sarif.js';
import { UsageError } from '../../src/errors.js';

describe('severity', () => {
  it('orders critical above info and parses --fail-on', () => {
    expect(rank('critical')).toBeGreaterThan(rank('high'));
    expect(atLeast('medium', 'low')).toBe(true);
    expect(atLeast('low', 'medium')).toBe(false);
    expect(parseFailOn('HIGH')).toBe('high');
    expect(parseFailOn('none')).toBe('none');
    expect(() => parseFailOn('severe')).toThrow(UsageError);
    expect(failsOn(['low', 'medium'], 'high')).toBe(false);
    expect(failsOn(['low', 'critical'], 'high')).toBe(true);
    expect(failsOn(['critical'], 'none')).toBe(false);
  });
});

describe('sarif', () => {
  it('indexes results against the rules and maps levels', () => {
    const log = toSarif({ name: 'sdocker', version: '0.1.0' },
      [{ id: 'A1', title: 'a', severity: 'high' }, { id: 'B2', title: 'b', severity: 'low', tags: ['guideline-7'] }],
      [{ ruleId: 'B2', severity: 'low', message: 'found', uri: 'usr/bin/su' }]) as { runs: { results: { ruleIndex: number; level: string }[]; tool: { driver: { rules: { properties: { tags: string[] } }[] } } }[] };
    expect(log.runs[0]?.results[0]).toMatchObject({ ruleIndex: 1, level: 'note' });
    expect(log.runs[0]?.tool.driver.rules[1]?.properties.tags).toContain('guideline-7');
    expect(() => toSarif({ name: 's', version: '1' }, [], [{ ruleId: 'X', severity: 'low', message: 'm' }])).toThrow(/not in the rule list/);
  });
});
