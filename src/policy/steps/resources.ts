/**
 * Memory, pids and CPU: the defaults set, unlimited values refused, maxima enforced (SD-RES-*).
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { RULES, type RuleId } from '../rules.js';
import { MIN_CFS_QUOTA, effectiveCpu, formatBytes } from '../limits.js';
import type { LimitKey, Reasoned } from '../types.js';
import type { Ctx } from '../context.js';

const MEM_FLAGS = ['memory'];
const PIDS_FLAGS = ['pids-limit'];

function unlimitedAllowance(c: Ctx, r: string): Reasoned | undefined {
  return (c.allow.unlimited ?? []).find((a) => a.resource === r);
}

export function resources(c: Ctx): void {
  const hc = c.hc;
  const d = c.profile.defaults;
  const l = c.profile.limits;
  // Above a maximum (limits:): allowed by an unlimited allowance; the floor's maximum binds a project.
  const over = (key: LimitKey, field: string, value: number, flag: string, line: string, allowedBy?: Reasoned): boolean =>
    c.check('SD-RES-007', field, value, `${flag} ${value}`, allowedBy, {
      flag, why: `${key} maximum ${key === 'memory' ? formatBytes(l.memory) : l[key]}`, allowSubject: line, floor: l.floor?.[key],
    });
  // memory: the reservation first (the default limit is raised to it), then the limit, then swap
  const res = hc.MemoryReservation ?? 0;
  if (res > l.memory && !over('memory', 'HostConfig.MemoryReservation', res, '--memory-reservation', `memory: ${formatBytes(res)}`, unlimitedAllowance(c, 'memory'))) {
    c.change('HostConfig.MemoryReservation', res, 0, 'SD-RES-007');
    hc.MemoryReservation = 0;
  }
  const mem = hc.Memory ?? 0;
  if (mem < 0 || (mem === 0 && c.explicit(MEM_FLAGS))) {
    if (!c.check('SD-RES-001', 'HostConfig.Memory', mem, `--memory ${mem}`, unlimitedAllowance(c, 'memory'), { denialKey: 'unlimited', denialValue: 'memory', allowSubject: 'memory' })) setMemory(c, d.memory);
  } else if (mem > l.memory) {
    if (!over('memory', 'HostConfig.Memory', mem, '--memory', `memory: ${formatBytes(mem)}`, unlimitedAllowance(c, 'memory'))) setMemory(c, d.memory);
  } else if (mem === 0) setMemory(c, d.memory);
  const swap = hc.MemorySwap ?? 0;
  if (swap < 0) {
    if (!c.check('SD-RES-001', 'HostConfig.MemorySwap', swap, `--memory-swap ${swap}`, unlimitedAllowance(c, 'memory'), { flag: '--memory-swap', why: 'unlimited swap', denialKey: 'unlimited', denialValue: 'memory', allowSubject: 'memory' })) {
      c.change('HostConfig.MemorySwap', swap, 0, 'SD-RES-001', 'the engine\'s default: swap up to the memory limit');
      hc.MemorySwap = 0;
    }
  } else if (swap > 2 * l.memory && !over('memory', 'HostConfig.MemorySwap', swap, '--memory-swap', `memory: ${formatBytes(Math.ceil(swap / 2))}`, unlimitedAllowance(c, 'memory'))) {
    c.change('HostConfig.MemorySwap', swap, 0, 'SD-RES-007');
    hc.MemorySwap = 0;
  }
  // OOM killer
  if (hc.OomKillDisable) {
    if (!c.check('SD-RES-003', 'HostConfig.OomKillDisable', true, '--oom-kill-disable', unlimitedAllowance(c, 'oom-kill-disable'), { denialKey: 'unlimited', denialValue: 'oom-kill-disable' })) {
      c.change('HostConfig.OomKillDisable', true, false, 'SD-RES-003');
      hc.OomKillDisable = false;
    }
  }
  // pids
  const pids = hc.PidsLimit;
  const explicitPids = c.explicit(PIDS_FLAGS);
  if (typeof pids === 'number' && (pids < 0 || (pids === 0 && explicitPids))) {
    if (!c.check('SD-RES-002', 'HostConfig.PidsLimit', pids, `--pids-limit ${pids}`, unlimitedAllowance(c, 'pids'), { denialKey: 'unlimited', denialValue: 'pids', allowSubject: 'pids' })) setPids(c, d.pids);
  } else if (typeof pids === 'number' && pids > l.pids) {
    if (!over('pids', 'HostConfig.PidsLimit', pids, '--pids-limit', `pids: ${pids}`, unlimitedAllowance(c, 'pids'))) setPids(c, d.pids);
  } else if (!pids) setPids(c, d.pids);
  cpu(c);
  // cgroup parent
  if (hc.CgroupParent) {
    if (!c.check('SD-RES-004', 'HostConfig.CgroupParent', hc.CgroupParent, hc.CgroupParent, c.allow.cgroupParent, { denialKey: 'cgroupParent' })) {
      c.change('HostConfig.CgroupParent', hc.CgroupParent, '', 'SD-RES-004');
      hc.CgroupParent = '';
    }
  }
}

/**
 * The CPU limit as the engine applies it (effectiveCpu: NanoCpus, then CpuPeriod and CpuQuota
 * override): a quota of 0 or below is no limit, one under 1ms fails in the kernel, and quota/period
 * is the number of CPUs, judged against the maximum. No quota at all: the default.
 */
function cpu(c: Ctx): void {
  const hc = c.hc;
  const d = c.profile.defaults;
  const l = c.profile.limits;
  const ncpu = c.input.engine.ncpu;
  const def = ncpu && ncpu > 0 ? Math.min(d.nanoCpus, ncpu * 1e9) : d.nanoCpus;
  const { quota, period, set } = effectiveCpu(hc);
  const fromQuota = !!hc.CpuQuota;
  const field = fromQuota ? 'HostConfig.CpuQuota' : 'HostConfig.NanoCpus';
  const flag = fromQuota ? '--cpu-quota' : '--cpus';
  const typed = fromQuota ? String(hc.CpuQuota) : ((hc.NanoCpus ?? 0) / 1e9).toFixed(9).replace(/\.?0+$/, '');
  const reset = (rule: RuleId) => {
    c.change(field, fromQuota ? hc.CpuQuota : hc.NanoCpus, def, rule, `${RULES['SD-RES-005'].why}: ${def / 1e9} CPUs`);
    hc.CpuQuota = 0;
    hc.CpuPeriod = 0;
    hc.NanoCpus = def;
  };
  if (!set || (!hc.NanoCpus && !hc.CpuQuota)) {
    if (d.nanoCpus <= 0) return;
    if (hc.CpuPeriod) {
      // the engine refuses NanoCpus with a period: the default as a quota over the period typed
      const q = Math.max(MIN_CFS_QUOTA, Math.round((def / 1e9) * hc.CpuPeriod));
      c.change('HostConfig.CpuQuota', 0, q, 'SD-RES-005', `${RULES['SD-RES-005'].why}: ${def / 1e9} CPUs over --cpu-period ${hc.CpuPeriod}`);
      hc.CpuQuota = q;
    } else {
      c.change('HostConfig.NanoCpus', hc.NanoCpus ?? 0, def, 'SD-RES-005', `${RULES['SD-RES-005'].why}: ${def / 1e9} CPUs`);
      hc.NanoCpus = def;
    }
    return;
  }
  if (quota < MIN_CFS_QUOTA) {
    const why = quota <= 0
      ? (fromQuota ? `a quota of ${quota} is no limit` : `the engine turns --cpus ${typed} into a quota of ${quota}: no limit`)
      : `a quota of ${quota}µs is under the kernel's 1ms minimum`;
    if (!c.check('SD-RES-006', field, fromQuota ? hc.CpuQuota : hc.NanoCpus, `${flag} ${typed}`, unlimitedAllowance(c, 'cpu'), { flag, why, denialKey: 'unlimited', denialValue: 'cpu', allowSubject: 'cpu' })) reset('SD-RES-006');
  } else if (quota / period > l.cpus) {
    const cpus = quota / period;
    if (!c.check('SD-RES-007', field, cpus, `${flag} ${typed}`, unlimitedAllowance(c, 'cpu'), {
      flag, why: `${cpus} CPUs (quota ${quota} / period ${period}), cpus maximum ${l.cpus}`, allowSubject: `cpus: ${Math.ceil(cpus)}`, floor: l.floor?.cpus,
    })) reset('SD-RES-007');
  }
}

function setMemory(c: Ctx, def: number): void {
  const hc = c.hc;
  let m = Math.max(def, hc.MemoryReservation ?? 0);
  if ((hc.MemorySwap ?? 0) > 0) m = Math.min(m, hc.MemorySwap!);
  c.change('HostConfig.Memory', hc.Memory ?? 0, m, 'SD-RES-001', `${RULES['SD-RES-001'].why}: default ${m} bytes`);
  hc.Memory = m;
}

function setPids(c: Ctx, def: number): void {
  c.change('HostConfig.PidsLimit', c.hc.PidsLimit ?? null, def, 'SD-RES-002', `${RULES['SD-RES-002'].why}: default ${def}`);
  c.hc.PidsLimit = def;
}

// ---------------------------------------------------------------------------------------------
// sysctls, ports, logging, runtime
