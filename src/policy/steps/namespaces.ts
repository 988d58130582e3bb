/**
 * Host and joined namespaces (SD-NS-*): --pid, --ipc, --uts, --network, --userns, --cgroupns.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import type { HostConfig } from '../../api/types.js';
import type { RuleId } from '../rules.js';
import { joinRef, resolveJoin, type JoinField } from '../joins.js';
import type { HostNamespace } from '../types.js';
import type { Ctx } from '../context.js';
import { joinTrust } from './joins.js';

const NS_FIELDS: { ns: HostNamespace; field: keyof HostConfig; rule: RuleId; flag: string }[] = [
  { ns: 'pid', field: 'PidMode', rule: 'SD-NS-001', flag: '--pid' },
  { ns: 'ipc', field: 'IpcMode', rule: 'SD-NS-002', flag: '--ipc' },
  { ns: 'uts', field: 'UTSMode', rule: 'SD-NS-003', flag: '--uts' },
  { ns: 'network', field: 'NetworkMode', rule: 'SD-NS-004', flag: '--network' },
  { ns: 'userns', field: 'UsernsMode', rule: 'SD-NS-005', flag: '--userns' },
  { ns: 'cgroupns', field: 'CgroupnsMode', rule: 'SD-NS-006', flag: '--cgroupns' },
];

export function namespaces(c: Ctx): void {
  const allowed = new Map((c.allow.hostNamespaces ?? []).map((a) => [a.name, a] as const));
  for (const { ns, field, rule, flag } of NS_FIELDS) {
    const v = c.hc[field];
    if (v === 'host') {
      if (!c.check(rule, `HostConfig.${field}`, v, `${flag}=host`, allowed.get(ns), { flag, denialKey: 'hostNamespaces', denialValue: ns, allowSubject: ns })) {
        const to = ns === 'cgroupns' ? 'private' : '';
        c.change(`HostConfig.${field}`, v, to, rule);
        (c.hc as Record<string, unknown>)[field] = to;
      }
      continue;
    }
    // container:<ref>: the other container's namespace, which may be the host's (directly or
    // through a chain of joins), or a privileged container's (judged as the host's: see docs/policy.md).
    const ref = typeof v === 'string' ? joinRef(v) : undefined;
    const joined = ref !== undefined && field !== 'UsernsMode' && field !== 'CgroupnsMode'
      ? resolveJoin(ref, field as JoinField, c.input.containers) : undefined;
    if (ref !== undefined && joined) {
      const chain = joined.via.join(' → ');
      const why = joined.kind === 'host'
        ? `joined through container ${chain}, which is in the host's ${ns} namespace`
        : joined.kind === 'privileged'
          ? `joined through container ${chain}, which is privileged: a process sharing its ${ns} namespace can reach (signal, ptrace, connect to, share memory with) a process that has every capability`
          : `joined through container ${chain}: a chain of more joins than sdocker follows`;
      if (!c.check(rule, `HostConfig.${field}`, v, `${flag}=container:${ref}`, allowed.get(ns), { flag, why, denialKey: 'hostNamespaces', denialValue: ns, allowSubject: ns })) {
        c.change(`HostConfig.${field}`, v, '', rule, `the join of container ${joined.via[0]} is dropped: ${why}`);
        (c.hc as Record<string, unknown>)[field] = '';
      }
    }
  }
  for (const { field, flag } of NS_FIELDS) {
    const ref = joinRef(c.hc[field] as string | undefined);
    if (ref !== undefined && field !== 'UsernsMode' && field !== 'CgroupnsMode') joinTrust(c, ref, field as JoinField, flag);
  }
  if (!c.hc.CgroupnsMode && !allowed.has('cgroupns')) {
    c.change('HostConfig.CgroupnsMode', c.hc.CgroupnsMode ?? null, 'private', 'SD-NS-006');
    c.hc.CgroupnsMode = 'private';
  }
}
