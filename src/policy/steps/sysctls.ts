/**
 * --sysctl: only those the profile allows.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import type { Reasoned } from '../types.js';
import type { Ctx } from '../context.js';

export function sysctlAllowed(name: string, patterns: { name: string }[]): { name: string } | undefined {
  return patterns.find((p) => (p.name.endsWith('*') ? name.startsWith(p.name.slice(0, -1)) : name === p.name));
}

export function sysctls(c: Ctx): void {
  const s = c.hc.Sysctls;
  if (!s) return;
  for (const name of Object.keys(s)) {
    const a = sysctlAllowed(name, c.allow.sysctls ?? []) as Reasoned | undefined;
    if (!c.check('SD-SYSCTL-001', 'HostConfig.Sysctls', `${name}=${s[name]}`, name, a, { denialKey: 'sysctls', denialValue: name })) {
      c.change(`HostConfig.Sysctls["${name}"]`, s[name], null, 'SD-SYSCTL-001');
      delete s[name];
    }
  }
}
