/**
 * The hardened daemon.json merged with the existing one (pure): the user's keys are kept; each
 * hardened key is added, found already in place, kept because the user's value is at least as
 * strict, or changed (the conflict is reported with both values). Checks that sdocker does not
 * change by itself (a TCP socket without TLS, insecure registries) become notes.
 */
import { UsageError } from '../errors.js';
import { HARDENED_KEYS, type HardenedKey } from './hardened.js';
import { JsonSyntaxError, parseJsonLocated } from '../text/json-located.js';

export type KeyStatus = 'added' | 'unchanged' | 'kept' | 'changed';

export interface KeyOutcome extends HardenedKey {
  status: KeyStatus;
  /** The user's value, when there was one. */
  previous?: unknown;
  /** Why a different user value was kept. */
  keptBecause?: string;
}

export interface MergeOutcome {
  config: Record<string, unknown>;
  keys: KeyOutcome[];
  notes: string[];
}

/** Logging drivers the rotation options belong to (others refuse max-size/max-file: dockerd would not start). */
const ROTATING = new Set(['json-file', 'local']);

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** go-units' decimal sizes (as json-file reads max-size), for comparing the user's rotation with ours. */
function sizeBytes(s: unknown): number | undefined {
  const m = typeof s === 'string' ? /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(s.trim()) : null;
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
  return Number(m[1]) * (mult[(m[2] ?? '').toLowerCase()] ?? 1);
}

/**
 * The user's value is kept instead of ours when it is as strict: another remap user, a log driver
 * that ships logs elsewhere (CIS 2.12 prefers remote logging), a lower open-file limit.
 */
function keepUsers(k: HardenedKey, mine: unknown): string | undefined {
  if (k.key === 'userns-remap' && typeof mine === 'string' && mine !== '') return 'already remapped to another user';
  if (k.key === 'log-driver' && typeof mine === 'string' && mine !== '' && mine !== 'none') return `${mine} keeps the logs (the rotation options are json-file's and local's only)`;
  if (k.key === 'log-level' && (mine === 'debug')) return 'debug logs at least as much';
  if (k.key === 'default-ulimits' && typeof mine === 'object' && mine !== null) {
    const n = (mine as Record<string, { Soft?: number; Hard?: number }>).nofile;
    if (n && typeof n.Hard === 'number' && n.Hard > 0 && n.Hard <= 8192 && typeof n.Soft === 'number' && n.Soft > 0) return 'its nofile limit is at least as low';
  }
  return undefined;
}

/** log-opts: ours fill what is missing; a smaller max-size or max-file of the user's stays. */
function mergeLogOpts(mine: unknown, ours: Record<string, string>): { value: Record<string, unknown>; kept: string[] } {
  const base = typeof mine === 'object' && mine !== null && !Array.isArray(mine) ? { ...(mine as Record<string, unknown>) } : {};
  const kept: string[] = [];
  const size = sizeBytes(base['max-size']);
  if (size !== undefined && size > 0 && size <= (sizeBytes(ours['max-size']) ?? 0)) kept.push(`max-size=${String(base['max-size'])}`);
  else base['max-size'] = ours['max-size'];
  const files = typeof base['max-file'] === 'string' && /^\d+$/.test(base['max-file']) ? Number(base['max-file']) : undefined;
  if (files !== undefined && files >= 1 && files <= Number(ours['max-file'])) kept.push(`max-file=${String(base['max-file'])}`);
  else base['max-file'] = ours['max-file'];
  return { value: base, kept };
}

export function mergeHardened(existing: Record<string, unknown>): MergeOutcome {
  const config: Record<string, unknown> = { ...existing };
  const keys: KeyOutcome[] = [];
  const notes: string[] = [];
  const driver = typeof existing['log-driver'] === 'string' && existing['log-driver'] !== 'none' ? existing['log-driver'] : 'json-file';
  for (const k of HARDENED_KEYS) {
    const has = Object.hasOwn(existing, k.key);
    const mine = existing[k.key];
    if (k.key === 'log-opts') {
      if (!ROTATING.has(driver)) {
        notes.push(`log-opts: not changed: the ${driver} driver takes no max-size/max-file (dockerd would refuse to start with them)`);
        continue;
      }
      const { value, kept } = mergeLogOpts(mine, k.value as Record<string, string>);
      config[k.key] = value;
      const status: KeyStatus = !has ? 'added' : same(value, mine) ? (kept.length ? 'kept' : 'unchanged') : 'changed';
      keys.push({ ...k, value, status, ...(has ? { previous: mine } : {}), ...(kept.length ? { keptBecause: `${kept.join(', ')} already rotate at least as often` } : {}) });
      continue;
    }
    if (!has) {
      config[k.key] = k.value;
      keys.push({ ...k, status: 'added' });
    } else if (same(mine, k.value)) {
      keys.push({ ...k, status: 'unchanged' });
    } else {
      const because = keepUsers(k, mine);
      if (because) keys.push({ ...k, value: mine, status: 'kept', previous: mine, keptBecause: because });
      else {
        config[k.key] = k.value;
        keys.push({ ...k, status: 'changed', previous: mine });
      }
    }
  }
  notes.push(...checks(existing));
  return { config, keys, notes };
}

/** What sdocker reports but does not change: it cannot know the certificates or the registries meant. */
function checks(c: Record<string, unknown>): string[] {
  const out: string[] = [];
  const hosts = Array.isArray(c.hosts) ? c.hosts.filter((h): h is string => typeof h === 'string') : [];
  const tcp = hosts.filter((h) => /^tcp:\/\//i.test(h) || /^[0-9.:[\]]+:\d+$/.test(h));
  if (tcp.length && c.tlsverify !== true) {
    out.push(`hosts: ${tcp.join(', ')} listen on TCP without "tlsverify": true (CIS 2.6): anyone who reaches the port is root on this host; add "tlsverify": true with "tlscacert", "tlscert" and "tlskey"`);
  }
  const insecure = Array.isArray(c['insecure-registries']) ? c['insecure-registries'] : [];
  if (insecure.length) out.push(`insecure-registries: ${insecure.join(', ')} are pulled from without TLS checks (CIS 2.4): remove them, or give the registries certificates`);
  if (c['authorization-plugins'] === undefined) out.push('authorization-plugins: none (CIS 2.11): every user of the socket may do everything; not set by sdocker, which has no plugin to name');
  return out;
}

/**
 * The existing file's text as dockerd reads it: a JSON object. A parse error names the file and
 * the line and column; anything else than an object is refused too.
 */
export function parseDaemonJson(text: string, file: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  // The one strict JSON reader that knows where it stopped (src/text/json-located.ts).
  try {
    parseJsonLocated(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new UsageError(`${file}:${err.position.line}:${err.position.column}: not valid JSON: ${err.message}`);
  }
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${file}: must hold a JSON object ({...}), as dockerd reads it`);
  return v as Record<string, unknown>;
}
