/**
 * The scan result kept per image id, for the run-time policy: `$XDG_CACHE_HOME/sdocker/scan/<id>.json`
 * (else `~/.cache/...`). An image id is the hash of its config, which names its layers' hashes: a
 * result never goes stale. Written atomically (temporary file, rename), read through
 * readBoundedText and validated: anything malformed, or about another id, is ignored (scanned again).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readBoundedText } from '../fs/read-bounded.js';
import { SEVERITIES } from '../report/severity.js';
import type { Finding } from './findings.js';
import { SCAN_RULES } from './rules.js';

export interface CachedScan {
  version: 1;
  id: string;
  diffIds: string[];
  findings: Finding[];
}

const ID = /^sha256:([0-9a-f]{64})$/;

export function scanCacheDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'sdocker', 'scan');
}

export function scanCachePath(env: Record<string, string | undefined>, id: string): string | undefined {
  const m = ID.exec(id);
  return m ? join(scanCacheDir(env), `${m[1]}.json`) : undefined;
}

function validFinding(f: unknown): f is Finding {
  if (typeof f !== 'object' || f === null) return false;
  const x = f as Record<string, unknown>;
  if (typeof x.rule !== 'string' || !(x.rule in SCAN_RULES)) return false;
  if (typeof x.severity !== 'string' || !(SEVERITIES as readonly string[]).includes(x.severity)) return false;
  if (typeof x.message !== 'string') return false;
  if (x.path !== undefined && (typeof x.path !== 'string' || !x.path.startsWith('/'))) return false;
  if (x.uid !== undefined && !Number.isInteger(x.uid)) return false;
  if (x.gid !== undefined && !Number.isInteger(x.gid)) return false;
  if (x.mode !== undefined && (typeof x.mode !== 'string' || !/^[0-7]{4}$/.test(x.mode))) return false;
  return true;
}

/** Validate a cached result (pure): undefined unless it is a well-formed result for `id`. */
export function parseCachedScan(text: string, id: string): CachedScan | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Record<string, unknown>;
  if (c.version !== 1 || c.id !== id) return undefined;
  if (!Array.isArray(c.diffIds) || !c.diffIds.every((d) => typeof d === 'string')) return undefined;
  if (!Array.isArray(c.findings) || !c.findings.every(validFinding)) return undefined;
  return { version: 1, id, diffIds: c.diffIds as string[], findings: c.findings as Finding[] };
}

export function readScanCache(env: Record<string, string | undefined>, id: string): CachedScan | undefined {
  const path = scanCachePath(env, id);
  if (!path) return undefined;
  try {
    return parseCachedScan(readBoundedText(path, 'state'), id);
  } catch {
    return undefined;
  }
}

/** Best effort: a cache that cannot be written only costs a scan next time. */
export function writeScanCache(env: Record<string, string | undefined>, r: { id: string; diffIds: string[]; findings: Finding[] }): boolean {
  const path = scanCachePath(env, r.id);
  if (!path) return false;
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(scanCacheDir(env), { recursive: true, mode: 0o700 });
    const body: CachedScan = { version: 1, id: r.id, diffIds: r.diffIds, findings: r.findings };
    writeFileSync(tmp, JSON.stringify(body), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}
