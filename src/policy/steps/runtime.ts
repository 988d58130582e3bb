/**
 * --runtime: the profile's runtime, others refused.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import type { Ctx } from '../context.js';

export function runtime(c: Ctx): void {
  const want = c.profile.defaults.runtime;
  if (!want || c.hc.Runtime) return;
  if (c.input.engine.runtimes.includes(want)) {
    c.change('HostConfig.Runtime', null, want, 'SD-RUNTIME-001');
    c.hc.Runtime = want;
  }
}
