/**
 * Merging two profile files: defaults key by key, allowances by id (the later wins), each entry
 * tagged with the file it came from; and the chain of a built-in level. Pure.
 */
import { LEVEL_FILES } from './levels.js';
import { LIST_ALLOW } from './profile.js';
import { LEVELS } from './types.js';
import type { AllowSpec, LevelName, ProfileDefaults, ProfileFile, Reasoned } from './types.js';

export function mergeDefaults(a: ProfileDefaults, b: ProfileDefaults | undefined): ProfileDefaults {
  if (!b) return a;
  return { ...a, ...b, log: { ...(a.log ?? {}), ...(b.log ?? {}) } };
}

/** Union of two allow specs; for list entries with the same id the later one wins. */
export function mergeAllow(a: AllowSpec, b: AllowSpec | undefined): AllowSpec {
  if (!b) return a;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const spec = LIST_ALLOW[k];
    if (spec && Array.isArray(v)) {
      const prev = ((a as Record<string, unknown>)[k] as Record<string, unknown>[] | undefined) ?? [];
      const ids = new Set(v.map((e: Record<string, unknown>) => e[spec.field]));
      out[k] = [...prev.filter((e) => !ids.has(e[spec.field])), ...v];
    } else out[k] = v;
  }
  return out as AllowSpec;
}

/** The level chain of a built-in level (baseline extends restricted). */
export function levelChain(level: LevelName): ProfileFile[] {
  const out: ProfileFile[] = [];
  let cur: ProfileFile | undefined = LEVEL_FILES[level];
  while (cur) {
    out.unshift(cur);
    cur = cur.extends && (LEVELS as readonly string[]).includes(cur.extends) ? LEVEL_FILES[cur.extends as LevelName] : undefined;
  }
  return out;
}

export function withSource<T extends ProfileFile>(f: T): T {
  if (!f.allow) return f;
  const allow: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f.allow)) {
    allow[k] = Array.isArray(v) ? v.map((e: Reasoned) => ({ ...e, source: e.source ?? f.path })) : { ...(v as Reasoned), source: (v as Reasoned).source ?? f.path };
  }
  return { ...f, allow: allow as AllowSpec };
}

/** A floor: its file chain over its level, and its path for messages. */
export interface FloorInput {
  chain: ProfileFile[];
  level: LevelName;
  path: string;
}
