/**
 * SD-RESTART-001 (CIS Docker Benchmark 5.15): a container that keeps failing is restarted a
 * bounded number of times. `always` and `unless-stopped` restart it forever (and at every daemon
 * start), `on-failure` without a count or above the bound too many times: each becomes
 * `on-failure:5` unless the profile allows `unboundedRestart`. Pure.
 */
import type { Ctx } from './context.js';

export const MAX_RESTARTS = 5;

export function restartPolicy(c: Ctx): void {
  const p = c.hc.RestartPolicy;
  const name = p?.Name ?? '';
  if (name === '' || name === 'no') return;
  const count = p?.MaximumRetryCount ?? 0;
  const bounded = name === 'on-failure' && count > 0 && count <= MAX_RESTARTS;
  if (bounded) return;
  const typed = name === 'on-failure' && count > 0 ? `on-failure:${count}` : name;
  const why = name === 'on-failure'
    ? (count > 0 ? `${count} restarts is above the bound of ${MAX_RESTARTS}` : 'on-failure without a count restarts forever')
    : `${name} restarts the container forever, and again at every start of the daemon`;
  if (c.allow.unboundedRestart) {
    c.check('SD-RESTART-001', 'HostConfig.RestartPolicy', typed, `--restart ${typed}`, c.allow.unboundedRestart);
    return;
  }
  const to = { Name: 'on-failure', MaximumRetryCount: MAX_RESTARTS };
  c.change('HostConfig.RestartPolicy', p, to, 'SD-RESTART-001', `--restart ${typed} becomes on-failure:${MAX_RESTARTS}: ${why}`);
  c.hc.RestartPolicy = to;
}

/** A `--restart` value as typed (docker's opts: `no`, `always`, `unless-stopped`, `on-failure[:N]`): bounded by MAX_RESTARTS? */
export function boundedRestartValue(value: string): boolean {
  if (value === '' || value === 'no') return true;
  const m = /^on-failure:(\d+)$/.exec(value);
  return !!m && Number(m[1]) > 0 && Number(m[1]) <= MAX_RESTARTS;
}
