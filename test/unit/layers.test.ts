// The layering rule (lint/layers.js) stays alive: an upward import is an ESLint error, in every
// spelling (type-only, re-export, import(), import('..').T), every src/ folder has its place in
// the table, and the table itself has no cycle.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { allowedImports, LAYERS } from '../../lint/layers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function layerErrors(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/no-upward-import').map((m) => m.message);
}

describe('layers', () => {
  it('the table places every folder of src/ and has no cycle', () => {
    const folders = readdirSync(`${root}src`, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.length).toBeGreaterThan(5);
    for (const f of folders) expect(Object.keys(LAYERS), `src/${f}/ is not in lint/layers.js`).toContain(f);
    const allowed = allowedImports();
    for (const [f, below] of allowed) for (const b of below) if (b !== f) expect(allowed.get(b)?.has(f), `${f} <-> ${b}`).toBe(false);
    expect(() => allowedImports({ a: ['b'], b: ['c'], c: ['a'] })).toThrow(/cycle/);
  });

  it('an upward import is an error, type-only included (the cycle of issue 9: flags -> session)', async () => {
    const errors = await layerErrors("import type { SessionRequest } from '../session/types.js';\nexport type S = SessionRequest;\n", 'src/flags/x.ts');
    expect(errors).toEqual(["src/flags/ may not import src/session/ ('../session/types.js'): session is not below flags in lint/layers.js"]);
  });

  it('re-exports, import() and import(..).T types are edges too, from nested files as well', async () => {
    const code = [
      "export { x } from '../../cli/run.js';",
      "export * from '../../engine/client.js';",
      "export const f = () => import('../../session/run.js');",
      "export type T = import('../../pipeline/run.js').T;",
      '',
    ].join('\n');
    const errors = await layerErrors(code, 'src/policy/commands/x.ts');
    expect(errors.map((e) => e.split(' (')[0])).toEqual([
      'src/policy/ may not import src/cli/',
      'src/policy/ may not import src/engine/',
      'src/policy/ may not import src/session/',
      'src/policy/ may not import src/pipeline/',
    ]);
  });

  it('downward and same-folder imports pass; the floor (src/*.ts) imports no folder', async () => {
    const down = "import type { CreateBody } from '../api/types.js';\nimport { parseArgs } from '../flags/parse.js';\nimport { x } from './y.js';\nexport const z = [x, parseArgs] as unknown as CreateBody;\n";
    expect(await layerErrors(down, 'src/session/x.ts')).toEqual([]);
    expect(await layerErrors("import { x } from '../errors.js';\nexport const y = x;\n", 'src/policy/x.ts')).toEqual([]);
    expect(await layerErrors("import { x } from './api/types.js';\nexport const y = x;\n", 'src/errors2.ts')).toHaveLength(1);
  });

  it('a folder missing from the table is an error, not a free pass', async () => {
    expect(await layerErrors("import { x } from '../policy/types.js';\nexport const y = x;\n", 'src/newfolder/x.ts')).toEqual([
      "src/newfolder/ is not in the layer table of lint/layers.js: place it (what it sits on) before importing across folders",
    ]);
  });
});
