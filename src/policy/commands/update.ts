/**
 * `docker update` / `docker container update` judged before docker runs it (pure): no lifting of
 * a limit the policy set (SD-UPDATE-001). docker CLI 28.2's flags (cli/command/container/update.go,
 * interspersed: flags may follow the container names), values read as docker reads them (Go
 * ParseInt base 0, go-units sizes, `--memory-swap -1`, opts.ParseCPUs), the last occurrence winning.
 * What the engine does with each (API 1.41): 0 means "unchanged" for memory, swap, CPUs, quota and
 * (in the CLI) pids; a negative pids limit, `--memory-swap -1`, `--cpu-quota -1` mean unlimited.
 * Refused: anything unlimited (unless allow.unlimited names the resource), a memory, pids or CPU
 * value above the profile's defaults, `--cpu-period` without `--cpu-quota` (it changes the share a
 * quota gives), and real-time CPU time. A restart policy other than `no` is refused unless
 * allow.restartWithBinds (SD-MNT-008): the engine restarting a container by itself resolves its
 * binds again, without sdocker's recheck; an unbounded one (always, unless-stopped, on-failure
 * without a count or above 5) also needs allow.unboundedRestart (SD-RESTART-001). Blkio weight, CPU shares, cpusets, reservations and the
 * (ignored) kernel memory cannot lift a limit and pass.
 */
import { UsageError } from '../../errors.js';
import { flagLabel, type PflagHit, parsePflag, type PflagSpec } from '../../flags/pflag.js';
import { parseGoInt, parseNanoCpus, parseRamBytes } from '../../flags/values/go-numbers.js';
import type { EffectiveProfile, UnlimitedResource } from '../types.js';
import { Judge, type Judgement, last, type RefuseOptions } from './common.js';
import { boundedRestartValue, MAX_RESTARTS } from '../restart.js';

export const UPDATE_FLAGS: readonly PflagSpec[] = [
  { name: 'blkio-weight', kind: 'value' },
  { name: 'cpu-period', kind: 'value' },
  { name: 'cpu-quota', kind: 'value' },
  { name: 'cpu-rt-period', kind: 'value' },
  { name: 'cpu-rt-runtime', kind: 'value' },
  { name: 'cpuset-cpus', kind: 'value' },
  { name: 'cpuset-mems', kind: 'value' },
  { name: 'cpu-shares', short: 'c', kind: 'value' },
  { name: 'memory', short: 'm', kind: 'value' },
  { name: 'memory-reservation', kind: 'value' },
  { name: 'memory-swap', kind: 'value' },
  { name: 'kernel-memory', kind: 'value' },
  { name: 'restart', kind: 'value' },
  { name: 'pids-limit', kind: 'value' },
  { name: 'cpus', kind: 'value' },
  { name: 'help', short: 'h', kind: 'bool' },
];

type Kind = 'int64' | 'uint16' | 'bytes' | 'memswap' | 'cpus';
const KINDS: Record<string, Kind> = {
  'blkio-weight': 'uint16', 'cpu-period': 'int64', 'cpu-quota': 'int64', 'cpu-rt-period': 'int64', 'cpu-rt-runtime': 'int64',
  'cpu-shares': 'int64', memory: 'bytes', 'memory-reservation': 'bytes', 'memory-swap': 'memswap', 'kernel-memory': 'bytes',
  'pids-limit': 'int64', cpus: 'cpus',
};

/** The value docker's flag.Value would store, or the error text docker prints. */
function numeric(hit: PflagHit): number {
  const kind = KINDS[hit.spec.name];
  try {
    switch (kind) {
      case 'int64': return parseGoInt(hit.value, 64, false);
      case 'uint16': return parseGoInt(hit.value, 16, true);
      case 'bytes': return parseRamBytes(hit.value);
      case 'memswap': return hit.value === '-1' ? -1 : parseRamBytes(hit.value);
      case 'cpus': return parseNanoCpus(hit.value);
      default: return 0;
    }
  } catch (err) {
    throw new UsageError(`invalid argument ${JSON.stringify(hit.value)} for "${flagLabel(hit.spec)}" flag: ${(err as Error).message}`);
  }
}

function bytes(n: number): string {
  for (const [u, m] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) if (n % m === 0 && n >= m) return `${n / m}${u}`;
  return `${n}`;
}

export function judgeUpdate(args: readonly string[], profile: EffectiveProfile): Judgement {
  const parsed = parsePflag(args, UPDATE_FLAGS, { interspersed: true });
  const values = new Map<string, { hit: PflagHit; n: number }>();
  for (const name of Object.keys(KINDS)) {
    const hit = last(parsed.hits, name);
    if (hit) values.set(name, { hit, n: numeric(hit) });
  }
  const judge = new Judge(profile);
  const d = profile.defaults;
  const unlimited = (r: UnlimitedResource) => (profile.allow.unlimited ?? []).find((a) => a.resource === r);
  const refuse = (name: string, why: string, resource?: UnlimitedResource, allowWith?: string[]) => {
    const v = values.get(name);
    if (!v) return;
    const o: RefuseOptions = { flag: `--${name}`, subject: v.hit.value, field: `Resources.${name}`, why, allowWith: allowWith ?? [] };
    if (resource) {
      Object.assign(o, { allowSubject: resource, denialKey: 'unlimited', denialValue: resource });
      if (!allowWith) delete o.allowWith;
    }
    judge.check('SD-UPDATE-001', resource ? unlimited(resource) : undefined, o);
  };
  const raise = (key: string, value: string) => ['defaults:', `  ${key}: ${value}`, '# (the profile\'s default is the most docker update may set)'];

  const pids = values.get('pids-limit')?.n;
  if (pids !== undefined && pids < 0) refuse('pids-limit', 'a negative pids limit is unlimited', 'pids');
  else if (pids === 0) refuse('pids-limit', '0 sets no pids limit', 'pids');
  else if (pids !== undefined && pids > d.pids) refuse('pids-limit', `above the profile's ${d.pids}`, 'pids', raise('pids', String(pids)));

  const mem = values.get('memory')?.n;
  if (mem !== undefined && mem > d.memory) refuse('memory', `above the profile's ${bytes(d.memory)}`, 'memory', raise('memory', values.get('memory')?.hit.value ?? ''));
  if (values.get('memory-swap')?.n === -1) refuse('memory-swap', '-1 is unlimited swap', 'memory');

  const cpus = values.get('cpus')?.n;
  if (cpus !== undefined && cpus <= 0) refuse('cpus', '0 sets no CPU limit');
  else if (cpus !== undefined && d.nanoCpus > 0 && cpus > d.nanoCpus) refuse('cpus', `above the profile's ${d.nanoCpus / 1e9} CPUs`, undefined, raise('cpus', values.get('cpus')?.hit.value ?? ''));

  const quota = values.get('cpu-quota')?.n;
  const period = values.get('cpu-period')?.n;
  if (quota !== undefined && quota < 0) refuse('cpu-quota', 'a negative CPU quota is unlimited');
  else if (quota !== undefined && quota > 0 && d.nanoCpus > 0) {
    const p = period && period > 0 ? period : 100000;
    if ((quota / p) * 1e9 > d.nanoCpus) refuse('cpu-quota', `${quota}/${p} is more than the profile's ${d.nanoCpus / 1e9} CPUs`);
  }
  if (period !== undefined && period !== 0 && !quota) refuse('cpu-period', 'a shorter period raises the CPU share an existing quota gives; give --cpus, or --cpu-quota with it');
  if (period !== undefined && period < 0) refuse('cpu-period', 'a negative period');
  for (const rt of ['cpu-rt-runtime', 'cpu-rt-period']) {
    const v = values.get(rt)?.n;
    if (v !== undefined && v !== 0) refuse(rt, 'real-time CPU time is not given to confined containers');
  }
  const restart = last(parsed.hits, 'restart');
  if (restart && restart.value !== '' && restart.value !== 'no') {
    judge.check('SD-MNT-008', profile.allow.restartWithBinds, {
      flag: '--restart', subject: restart.value, field: 'RestartPolicy',
      why: 'a container the engine restarts by itself mounts its binds again without sdocker\'s recheck (sdocker run refuses it only where there are binds; update cannot tell)',
      denialKey: 'restartWithBinds',
    });
    if (!boundedRestartValue(restart.value)) {
      judge.check('SD-RESTART-001', profile.allow.unboundedRestart, {
        flag: '--restart', subject: restart.value, field: 'RestartPolicy',
        why: `a policy of ${restart.value} restarts the container without bound; on-failure:${MAX_RESTARTS} at most`,
        denialKey: 'unboundedRestart',
      });
    }
  }
  return judge.result(parsed.hits);
}
