import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/policy/rules.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists every rule id of the policy with its guideline', () => {
    for (const [id, rule] of Object.entries(RULES)) {
      expect(readme, id).toMatch(new RegExp(`\\| ${id} \\| ${rule.guideline} \\|`));
    }
  });
  it('names the two commands to install and to test', () => {
    expect(readme).toContain('npm ci');
    expect(readme).toContain('npm test');
  });
});
