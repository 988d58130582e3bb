/**
 * The shell's half of seccomp in the policy: it checks the seccomp profiles a run would use with
 * checkProfile / isWhitelist and hands the verdicts to the pure core (applyPolicy), which refuses
 * what is not a whitelist (SD-SECCOMP-002) or has errors (SD-SECCOMP-003). The core itself never
 * loads libseccomp.
 *
 * Loaded lazily by run-policy.ts, only when a profile other than the shipped default is in play:
 * `defaults.seccomp: ./app.json` in sdocker.yaml, or `--security-opt seccomp=FILE`. The shipped
 * default is trusted (its tests check it), so a plain run loads neither this module nor koffi.
 *
 * Name checks need libseccomp (koffi: about 16 ms to load here). Their findings are cached by the
 * sha256 of the profile text in the state directory, so koffi loads once per version of a profile.
 * The cache holds name findings only: the default action, the actions, conflicts and the JSON
 * itself are checked on every run without libseccomp, so a forged cache entry (the state directory
 * follows $SDOCKER_STATE_DIR, which a CI job can set) can hide at most an unknown syscall name,
 * and runc skips unknown names: that only ever narrows a whitelist.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readBoundedText } from '../fs/read-bounded.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateDir } from '../record/run-record.js';
import type { CreateBody } from '../api/types.js';
import { SdockerError } from '../errors.js';
import type { EffectiveProfile, SeccompChecks, SeccompDangerousCall, SeccompFinding, SeccompVerdict } from '../policy/types.js';
import { dangerousAllowed, dangerousTable, type DangerousTable } from './dangerous.js';
import { libseccomp, type Libseccomp } from './libseccomp.js';
import { parseProfile, type LoadedProfile } from './profile.js';
import { checkProfile, isWhitelist, type Finding } from './validate.js';

/** Findings that depend on libseccomp's syscall tables (the only ones cached). */
const NAME_CODES = new Set(['unknown-syscall', 'not-on-arches']);

export interface VerdictOptions {
  /** A facade, null for the lib-free checks only, or undefined to load libseccomp (a warning if it cannot). */
  lib?: Libseccomp | null;
  /** Where name findings are cached by the text's sha256; undefined: no cache. */
  cacheDir?: string;
}

function toFinding(f: Finding): SeccompFinding {
  const out: SeccompFinding = { severity: f.severity, code: f.code, message: f.message };
  if (f.line !== undefined) out.line = f.line;
  if (f.column !== undefined) out.column = f.column;
  return out;
}

function readCache(file: string | undefined): SeccompFinding[] | undefined {
  if (!file) return undefined;
  try {
    const c = JSON.parse(readBoundedText(file, 'state')) as { findings?: unknown };
    if (!Array.isArray(c.findings)) return undefined;
    // Only name findings are taken from the cache, whatever it holds.
    return (c.findings as SeccompFinding[]).filter((f) => f && NAME_CODES.has(f.code) && typeof f.message === 'string');
  } catch {
    return undefined;
  }
}

function writeCache(file: string | undefined, findings: SeccompFinding[], version: string | undefined): void {
  if (!file) return;
  try {
    mkdirSync(resolve(file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ libseccomp: version, findings }), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a cache that cannot be written costs time, not correctness
  }
}

const SHIPPED = fileURLToPath(new URL('../../profiles/seccomp/default.json', import.meta.url));
let table: DangerousTable | undefined;

/** The calls the shipped default denies for safety, read from the shipped profile once. */
function shippedTable(): DangerousTable {
  table ??= dangerousTable(parseProfile(readFileSync(SHIPPED, 'utf8'), SHIPPED).profile);
  return table;
}

/** The calls of the shipped default's safety list that `loaded` lets through, with their place. */
export function dangerousCalls(loaded: LoadedProfile, tbl: DangerousTable = shippedTable()): SeccompDangerousCall[] {
  return dangerousAllowed(loaded.profile, tbl).map((d) => {
    const out: SeccompDangerousCall = { name: d.name };
    const pos = loaded.locate(d.path);
    if (pos) {
      out.line = pos.line;
      out.column = pos.column;
    }
    if (d.caps) out.caps = d.caps;
    if (d.why) out.why = d.why;
    return out;
  });
}

/**
 * The verdict on one profile text. A text that is not a valid profile (JSON syntax, shape) gives
 * one error finding `invalid-profile` whose message names file:line:column.
 */
export function verdictOf(text: string, source: string, opts: VerdictOptions = {}): SeccompVerdict {
  let loaded;
  try {
    loaded = parseProfile(text, source);
  } catch (err) {
    if (!(err instanceof SdockerError)) throw err;
    const m = /^.*?:(\d+):(\d+): (.*)$/s.exec(err.message);
    const f: SeccompFinding = { severity: 'error', code: 'invalid-profile', message: m ? m[3]! : err.message };
    if (m) {
      f.line = Number(m[1]);
      f.column = Number(m[2]);
    }
    return { source, whitelist: true, findings: [f] };
  }
  const opts2 = { locate: loaded.locate };
  const cacheFile = opts.cacheDir && opts.lib !== null ? join(opts.cacheDir, `${createHash('sha256').update(text).digest('hex')}.json`) : undefined;
  const cached = readCache(cacheFile);
  let findings: SeccompFinding[];
  if (cached) {
    findings = [...checkProfile(loaded.profile, { ...opts2, lib: null }).map(toFinding), ...cached];
  } else if (opts.lib === null) {
    findings = checkProfile(loaded.profile, { ...opts2, lib: null }).map(toFinding);
  } else {
    findings = checkProfile(loaded.profile, opts.lib ? { ...opts2, lib: opts.lib } : opts2).map(toFinding);
    // Loaded (and kept) by checkProfile unless it said it could not: libseccomp() is cached then.
    if (!findings.some((f) => f.code === 'names-unchecked')) {
      writeCache(cacheFile, findings.filter((f) => NAME_CODES.has(f.code)), (opts.lib ?? libseccomp()).version);
    }
  }
  const verdict: SeccompVerdict = { source, whitelist: isWhitelist(loaded.profile), findings };
  const dangerous = dangerousCalls(loaded);
  if (dangerous.length) verdict.dangerous = dangerous;
  return verdict;
}

export interface SeccompRequest {
  body: CreateBody;
  /** The parser's argv tokens per flag: `--security-opt seccomp=FILE` names the file. */
  typed: ReadonlyMap<string, string[]>;
}

/** The files `--security-opt seccomp=FILE` named, as typed. */
function typedSeccompFiles(typed: ReadonlyMap<string, string[]>): string[] {
  const out: string[] = [];
  for (const t of typed.get('security-opt') ?? []) {
    const m = /^seccomp[=:](.*)$/s.exec(t.replace(/^--security-opt[= ]/, ''));
    if (m && m[1] !== 'unconfined' && m[1] !== 'builtin') out.push(m[1]!);
  }
  return out;
}

/**
 * Verdicts on every seccomp profile the run could use: the profile's (`defaults.seccomp`) and each
 * `seccomp=<json>` of the request. The request carries the JSON compacted (as docker sends it); the
 * file it came from is found among the typed flags and read again, so findings name its lines.
 */
export function gatherSeccompChecks(
  req: SeccompRequest,
  profile: EffectiveProfile,
  ctx: { cwd: string; env: Record<string, string | undefined>; lib?: Libseccomp | null },
): SeccompChecks {
  const checks: SeccompChecks = { ...(profile.seccompChecks ?? {}) };
  const opts: VerdictOptions = { cacheDir: join(stateDir(ctx.env), 'seccomp-checks') };
  if (ctx.lib !== undefined) opts.lib = ctx.lib;
  const text = profile.seccompProfile;
  if (text !== undefined && !checks[text]) checks[text] = verdictOf(text, profile.seccompProfilePath ?? 'defaults.seccomp', opts);
  const files = typedSeccompFiles(req.typed);
  for (const opt of req.body.HostConfig?.SecurityOpt ?? []) {
    const m = /^seccomp[=:](.*)$/s.exec(opt);
    const v = m?.[1];
    if (v === undefined || !v.trimStart().startsWith('{') || checks[v]) continue;
    let source = '--security-opt seccomp';
    let original = v;
    for (const f of files) {
      try {
        const t = readBoundedText(resolve(ctx.cwd, f), 'seccomp');
        if (JSON.stringify(JSON.parse(t)) === v) {
          source = f;
          original = t;
          break;
        }
      } catch {
        // not this one
      }
    }
    checks[v] = verdictOf(original, source, opts);
  }
  return checks;
}
