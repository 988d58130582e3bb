/**
 * --since / --until as `docker logs` reads them (pure): a Unix timestamp (`1700000000`,
 * `1700000000.5`), an RFC 3339 date (`2026-12-01T10:00:00Z`, or a date alone), or a Go duration
 * before now (`10m`, `1h30m`). Returned as the API's `seconds[.nanoseconds]` string.
 */
import { UsageError } from '../errors.js';
import { parseGoDuration } from '../flags/values/go-numbers.js';

export function apiTime(value: string, flag: string, nowMs: number): { api: string; ms: number } {
  const v = value.trim();
  if (/^\d+(\.\d{1,9})?$/.test(v)) {
    const [s, frac = ''] = v.split('.');
    return { api: frac ? `${s}.${frac.padEnd(9, '0')}` : s!, ms: Number(v) * 1000 };
  }
  let ms: number | undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) ms = t;
  } else {
    try {
      const ns = parseGoDuration(v);
      if (ns >= 0) ms = nowMs - ns / 1e6;
    } catch {
      ms = undefined;
    }
  }
  if (ms === undefined) throw new UsageError(`logs export: ${flag} ${value}: expected a Unix timestamp, an RFC 3339 date or a duration (10m)`);
  return { api: (ms / 1000).toFixed(3), ms };
}
