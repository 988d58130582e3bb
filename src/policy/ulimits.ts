/**
 * SD-RES-008 (CIS Docker Benchmark 5.19): the profile's `defaults.ulimits` (restricted:
 * nofile=8192:8192) are set for each resource the command line does not name; a typed
 * `--ulimit` stays as typed. Pure.
 */
import type { Ulimit } from '../api/types.js';
import { parseUlimit } from '../flags/values/resources.js';
import type { Checked } from './healthcheck.js';
import type { Ctx } from './context.js';

export function ulimits(c: Ctx): void {
  const defaults = c.profile.defaults.ulimits.map(parseUlimit);
  const typed = c.hc.Ulimits ?? [];
  const add = defaults.filter((d) => !typed.some((u) => u.Name === d.Name));
  if (add.length === 0) return;
  const to: Ulimit[] = [...typed, ...add].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  c.change('HostConfig.Ulimits', c.hc.Ulimits ?? null, to, 'SD-RES-008', `the profile's defaults.ulimits: ${add.map((u) => `${u.Name}=${u.Soft}:${u.Hard}`).join(', ')}`);
  c.hc.Ulimits = to;
}

/** `defaults.ulimits` as written in a profile: docker's `--ulimit` syntax, soft and hard above 0. */
export function validateUlimits(v: unknown): Checked<string[]> {
  if (!Array.isArray(v)) return { ok: false, at: [], why: 'must be a list of ulimits as --ulimit takes them (e.g. nofile=8192:8192)' };
  const seen = new Set<string>();
  for (const [i, x] of v.entries()) {
    if (typeof x !== 'string') return { ok: false, at: [i], why: 'must be a string (e.g. nofile=8192:8192)' };
    let u: Ulimit;
    try {
      u = parseUlimit(x);
    } catch (err) {
      return { ok: false, at: [i], why: (err as Error).message };
    }
    // -1 is unlimited: a default is a limit.
    if (u.Soft < 1 || u.Hard < 1) return { ok: false, at: [i], why: 'soft and hard limits must be above 0 (a default is a limit; -1 is none)' };
    if (seen.has(u.Name)) return { ok: false, at: [i], why: `${u.Name} is named twice` };
    seen.add(u.Name);
  }
  return { ok: true, value: v as string[] };
}
