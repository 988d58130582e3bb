import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/audit/catalog.js';

const doc = readFileSync(new URL('../../docs/audit.md', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('docs/audit.md', () => {
  it('lists every finding id with its severity, guideline and CIS number', () => {
    for (const d of CATALOG.values()) {
      expect(doc, d.id).toContain(`| ${d.id} | ${d.severity} | ${d.guideline} | ${d.cis ?? '-'} | ${d.title} |`);
    }
  });
  it('names only ids that exist', () => {
    for (const m of doc.matchAll(/SDA-[A-Z]+(?:-[A-Z0-9]+)*/g)) {
      const id = m[0].replace(/-$/, '');
      // SDA-DMN-MIRROR(-HTTP) is written once for both
      expect(CATALOG.has(id), id).toBe(true);
    }
  });
  it('the README maps every docker-bench-security check of sections 2 (2.1-2.18) and 5 (5.1-5.32) to an id or a reason', () => {
    const rows = (n: number, count: number) => Array.from({ length: count }, (_, i) => `${n}.${i + 1}`);
    for (const c of [...rows(2, 18), ...rows(5, 32)]) {
      const row = readme.split('\n').find((l) => l.startsWith(`| ${c} |`));
      expect(row, c).toBeDefined();
      expect(/SDA-[A-Z]|not automated/.test(row!), `${c}: ${row}`).toBe(true);
    }
  });
  it('the README names only audit ids that exist', () => {
    for (const m of readme.matchAll(/SDA-[A-Z]+(?:-[A-Z0-9]+)*/g)) {
      // `SDA-DMN-*` names the family, not an id
      if (/^SDA-(DMN|HOST|CTR)$/.test(m[0])) continue;
      expect(CATALOG.has(m[0].replace(/-$/, '')), m[0]).toBe(true);
    }
  });
  it('is linked from the README', () => {
    expect(readme).toContain('docs/audit.md');
  });
});
