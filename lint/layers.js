// The layering of src/: each folder may import only the folders it sits on (and what those sit on),
// never one above it. One table, checked by the local ESLint rule `layers/no-upward-import` below.
//
// Why a local rule rather than core `no-restricted-imports`: it resolves each specifier against
// the importing file (no pattern guessing on `../` chains), and it also sees `import('..')`
// expressions and `import('..').T` type references, which `no-restricted-imports` does not check.
// Type-only imports are edges too: a type import upward is how the old cycle was made.
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * folder → the folders it sits on directly (the closure is computed). Files at the top of src/
 * (errors.ts, load-module.ts) are the floor: every folder may import them and they import no
 * folder. Bottom to top.
 */
export const LAYERS = {
  // Leaves: the Engine API's wire types and pure wire helpers, a located JSON parser, bounded
  // file reads, the calling process's streams, the report formats (severity, SARIF).
  api: [],
  text: [],
  fs: [],
  io: [],
  report: [],
  // Image reference normalisation, allowlist patterns, the lock file (issue 10): under the policy.
  trust: ['api', 'fs', 'text', 'report'],
  // argv → request and create body (pure).
  flags: ['api', 'text'],
  // The policy (pure, but for the profile loader's bounded reads).
  policy: ['flags', 'trust', 'fs'],
  // The run record.
  record: ['policy'],
  seccomp: ['record', 'text'],
  // The Engine API client (I/O).
  engine: ['api', 'fs'],
  session: ['engine', 'io', 'flags'],
  diagnose: ['engine', 'policy'],
  learn: ['diagnose', 'flags'],
  scan: ['engine', 'policy', 'report'],
  daemon: ['policy', 'report'],
  export: ['engine', 'record'],
  audit: ['engine', 'record', 'seccomp', 'scan', 'daemon'],
  // facts → decide → explain → record → verify → session, for every door.
  pipeline: ['session', 'seccomp', 'diagnose', 'record', 'trust', 'scan'],
  // The Engine API door (issue 12) and the command line: the two front doors, on top.
  door: ['pipeline'],
  cli: ['door', 'pipeline', 'learn', 'audit', 'export'],
};

/** folder → every folder it may import (its own included). Throws on a cycle in the table. */
export function allowedImports(layers = LAYERS) {
  const out = new Map();
  const visiting = new Set();
  const visit = (f) => {
    if (out.has(f)) return out.get(f);
    if (!(f in layers)) throw new Error(`layers: unknown folder '${f}'`);
    if (visiting.has(f)) throw new Error(`layers: the table has a cycle through '${f}'`);
    visiting.add(f);
    const all = new Set([f]);
    for (const d of layers[f]) for (const x of visit(d)) all.add(x);
    visiting.delete(f);
    out.set(f, all);
    return all;
  };
  for (const f of Object.keys(layers)) visit(f);
  return out;
}

/** The top folder of src/ a path is in: 'policy', '' for a file directly in src/, undefined outside src/. */
function topFolder(srcDir, file) {
  const rel = relative(srcDir, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : '';
}

function makeRule(srcDir) {
  const allowed = allowedImports();
  return {
    meta: {
      type: 'problem',
      docs: { description: 'forbid imports from a src/ folder to one above it (lint/layers.js)' },
      schema: [],
      messages: {
        upward: "src/{{from}}/ may not import src/{{to}}/ ('{{spec}}'): {{to}} is not below {{from}} in lint/layers.js",
        unknown: "src/{{folder}}/ is not in the layer table of lint/layers.js: place it (what it sits on) before importing across folders",
        floor: "src/{{file}} is the floor of the layers: it may not import src/{{to}}/ ('{{spec}}')",
      },
    },
    create(context) {
      const file = context.filename;
      const from = topFolder(srcDir, file);
      if (from === undefined) return {};
      const check = (node, spec) => {
        if (typeof spec !== 'string' || !spec.startsWith('.')) return;
        const to = topFolder(srcDir, resolve(dirname(file), spec));
        if (to === undefined || to === '' || to === from) return;
        if (from === '') {
          context.report({ node, messageId: 'floor', data: { file: relative(srcDir, file), to, spec } });
          return;
        }
        const mine = allowed.get(from);
        if (!mine) {
          context.report({ node, messageId: 'unknown', data: { folder: from } });
          return;
        }
        if (!allowed.has(to)) {
          context.report({ node, messageId: 'unknown', data: { folder: to } });
          return;
        }
        if (!mine.has(to)) context.report({ node, messageId: 'upward', data: { from, to, spec } });
      };
      const literal = (n) => (n && n.type === 'Literal' ? n.value : undefined);
      return {
        ImportDeclaration: (n) => check(n, literal(n.source)),
        ExportNamedDeclaration: (n) => check(n, literal(n.source)),
        ExportAllDeclaration: (n) => check(n, literal(n.source)),
        ImportExpression: (n) => check(n, literal(n.source)),
        TSImportType: (n) => check(n, n.source ? literal(n.source) : literal((n.argument ?? n.parameter)?.literal)),
      };
    },
  };
}

/** The plugin for eslint.config.js; srcDir is the absolute path of src/. */
export function layersPlugin(srcDir) {
  return { rules: { 'no-upward-import': makeRule(srcDir) } };
}
