/**
 * SD-HEALTH-001 (CIS Docker Benchmark 5.27): a container should say how its health is checked.
 * The command line's --health-cmd, else the image's HEALTHCHECK, else the profile's
 * `defaults.healthcheck`; with none of them the run goes on with a note. `--no-healthcheck`
 * (Test ["NONE"]) is the user's choice: kept, with the note. Pure.
 */
import type { HealthConfig } from '../api/types.js';
import { parseGoDuration } from '../flags/values/go-numbers.js';
import type { Ctx } from './context.js';
import type { HealthcheckDefault } from './types.js';

const defines = (test: string[] | undefined | null): boolean => !!test && test.length > 0 && test[0] !== 'NONE';
const disables = (test: string[] | undefined | null): boolean => test?.[0] === 'NONE';

/** The engine takes 0 (its default) or at least 1ms for each duration (API 1.41). */
const MIN_NS = 1_000_000;

export function healthcheck(c: Ctx): void {
  const typed = c.body.Healthcheck;
  if (defines(typed?.Test)) return;
  const image = c.input.image;
  // The image is not known yet (a dry run before a pull): whether it has one cannot be told.
  if (!image) return;
  if (disables(typed?.Test)) {
    c.note('SD-HEALTH-001', '--no-healthcheck: the engine will not check this container\'s health');
    return;
  }
  if (defines(image.Healthcheck?.Test)) return;
  const d = c.profile.defaults.healthcheck;
  if (!d) {
    c.note('SD-HEALTH-001', 'neither the image nor the command line defines a health check (--health-cmd, or defaults.healthcheck in sdocker.yaml)');
    return;
  }
  // Durations typed on the command line (--health-interval ...) stay; the profile fills the rest.
  const hc: HealthConfig = { ...healthConfigOf(d), ...definedOnly(typed) };
  c.change('Healthcheck', typed ?? null, hc, 'SD-HEALTH-001', 'the profile\'s defaults.healthcheck');
  c.body.Healthcheck = hc;
}

function definedOnly(h: HealthConfig | undefined): HealthConfig {
  const out: HealthConfig = {};
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) if (h?.[k]) out[k] = h[k];
  return out;
}

export function healthConfigOf(d: HealthcheckDefault): HealthConfig {
  const out: HealthConfig = { Test: typeof d.cmd === 'string' ? ['CMD-SHELL', d.cmd] : ['CMD', ...d.cmd] };
  if (d.interval) out.Interval = parseGoDuration(d.interval);
  if (d.timeout) out.Timeout = parseGoDuration(d.timeout);
  if (d.startPeriod) out.StartPeriod = parseGoDuration(d.startPeriod);
  if (d.retries !== undefined) out.Retries = d.retries;
  return out;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; at: (string | number)[]; why: string };

/** `defaults.healthcheck` as written in a profile. */
export function validateHealthcheck(v: unknown): Checked<HealthcheckDefault> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, at: [], why: 'must be a mapping {cmd, interval, timeout, startPeriod, retries}' };
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['cmd', 'interval', 'timeout', 'startPeriod', 'retries'].includes(k)) return { ok: false, at: [k], why: 'unknown key (expected cmd, interval, timeout, startPeriod, retries)' };
  }
  const cmd = o.cmd;
  const cmdOk = (typeof cmd === 'string' && cmd.trim() !== '')
    || (Array.isArray(cmd) && cmd.length > 0 && cmd.every((x) => typeof x === 'string') && (cmd[0] as string) !== '');
  if (!cmdOk) return { ok: false, at: ['cmd'], why: 'must be a command: a string (run by /bin/sh -c) or a list (run directly)' };
  const out: HealthcheckDefault = { cmd: cmd as string | string[] };
  for (const k of ['interval', 'timeout', 'startPeriod'] as const) {
    const x = o[k];
    if (x === undefined) continue;
    let ns: number | undefined;
    try {
      ns = typeof x === 'string' ? parseGoDuration(x) : undefined;
    } catch {
      ns = undefined;
    }
    if (ns === undefined || ns < MIN_NS) return { ok: false, at: [k], why: 'must be a duration of at least 1ms (e.g. 30s, 1m30s)' };
    out[k] = x as string;
  }
  if (o.retries !== undefined) {
    if (typeof o.retries !== 'number' || !Number.isInteger(o.retries) || o.retries < 0) return { ok: false, at: ['retries'], why: 'must be a whole number, 0 or more' };
    out.retries = o.retries;
  }
  return { ok: true, value: out };
}
