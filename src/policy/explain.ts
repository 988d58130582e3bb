/**
 * Explanations: refusals for humans (formatViolations), the --dry-run report (renderDryRun, text
 * or JSON) and the `docker run` command line that reproduces the hardened container
 * (bodyToDockerArgs). Pure.
 */
import type { CreateBody, HostConfig, MountSpec } from '../api/types.js';
import { GUIDELINES } from './rules.js';
import type { PolicyOutcome, Provenance, Violation } from './types.js';

function typedTokens(prov: Provenance | undefined, flag: string): readonly string[] {
  if (!prov) return [];
  return prov.get(flag.replace(/^-+/, '')) ?? [];
}

/** The flag as the user typed it, when the parser told us; else a reconstruction. */
export function asTyped(v: Violation, prov?: Provenance): string {
  const tokens = typedTokens(prov, v.flag);
  const subj = v.subject.toLowerCase().replace(/^cap_/, '');
  const hit = tokens.find((t) => t.toLowerCase().replace(/cap_/g, '').includes(subj)) ?? (tokens.length === 1 ? tokens[0] : undefined);
  if (hit) return hit;
  if (v.subject.startsWith('-')) return v.subject;
  return `${v.flag} ${v.subject}`;
}

/** Every violation: the flag as typed, rule id, guideline, why, and the profile lines that would allow it. */
export function formatViolations(violations: Violation[], provenance?: Provenance, opts: { level?: string; mode?: string } = {}): string {
  if (violations.length === 0) return '';
  const out: string[] = [];
  const n = violations.length;
  const verb = opts.mode === 'warn' ? 'would refuse' : opts.mode === 'audit' ? 'would refuse (audit mode)' : 'refused';
  out.push(`policy${opts.level ? ` ${opts.level}` : ''} ${verb} this container: ${n} violation${n === 1 ? '' : 's'}`);
  for (const v of violations) {
    out.push('');
    out.push(`  ${asTyped(v, provenance)}`);
    out.push(`    ${v.rule} (guideline ${v.guideline}: ${GUIDELINES[v.guideline] ?? ''}): ${v.why}`);
    for (const d of v.details ?? []) out.push(`      ${d}`);
    if (v.floorBlocked) {
      out.push(`    the machine floor ${v.floorBlocked} does not allow it; no project profile or flag can.`);
    } else if (v.allowWith.length) {
      out.push('    to allow it, add to the profile (sdocker.yaml):');
      for (const l of v.allowWith) out.push(`      ${l}`);
    } else {
      out.push('    no profile can allow it.');
    }
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// body → docker flags

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function size(n: number): string {
  for (const [u, m] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) if (n % m === 0 && n >= m) return `${n / m}${u}`;
  return String(n);
}

function mountArg(m: MountSpec): string {
  const p = [`type=${m.Type}`];
  if (m.Source) p.push(`src=${m.Source}`);
  p.push(`dst=${m.Target}`);
  if (m.ReadOnly) p.push('readonly');
  if (m.BindOptions?.Propagation) p.push(`bind-propagation=${m.BindOptions.Propagation}`);
  if (m.VolumeOptions?.NoCopy) p.push('volume-nocopy');
  if (m.VolumeOptions?.Subpath) p.push(`volume-subpath=${m.VolumeOptions.Subpath}`);
  const dc = m.VolumeOptions?.DriverConfig;
  if (dc?.Name) p.push(`volume-driver=${dc.Name}`);
  for (const [k, v] of Object.entries(dc?.Options ?? {})) p.push(v.includes(',') ? `"volume-opt=${k}=${v}"` : `volume-opt=${k}=${v}`);
  for (const [k, v] of Object.entries(m.VolumeOptions?.Labels ?? {})) p.push(`volume-label=${k}=${v}`);
  if (m.TmpfsOptions?.SizeBytes) p.push(`tmpfs-size=${m.TmpfsOptions.SizeBytes}`);
  if (m.TmpfsOptions?.Mode) p.push(`tmpfs-mode=${m.TmpfsOptions.Mode.toString(8)}`);
  return p.join(',');
}

export interface DockerArgsOptions {
  /** Where the seccomp profile carried inline in the body can be found as a file. */
  seccompProfilePath?: string;
}

/** The `docker run` arguments (after `run`) that make the same create body. */
export function bodyToDockerArgs(body: CreateBody, opts: DockerArgsOptions = {}): string[] {
  const a: string[] = [];
  const hc: HostConfig = body.HostConfig ?? {};
  const add = (flag: string, v: string | number | undefined | null | false) => {
    if (v !== undefined && v !== null && v !== false && v !== '') a.push(flag, String(v));
  };
  const each = (flag: string, vs: readonly string[] | null | undefined) => {
    for (const v of vs ?? []) a.push(flag, v);
  };
  if (body.OpenStdin) a.push('-i');
  if (body.Tty) a.push('-t');
  if (body.AttachStdout === false && body.AttachStderr === false && !body.OpenStdin) a.push('-d');
  if (hc.AutoRemove) a.push('--rm');
  add('--hostname', body.Hostname);
  add('--domainname', body.Domainname);
  add('--user', body.User);
  add('--workdir', body.WorkingDir);
  each('--env', body.Env);
  for (const [k, v] of Object.entries(body.Labels ?? {})) a.push('--label', `${k}=${v}`);
  add('--stop-signal', body.StopSignal);
  if (body.StopTimeout !== undefined && body.StopTimeout !== null) add('--stop-timeout', body.StopTimeout);
  add('--mac-address', body.MacAddress);
  const hcTest = body.Healthcheck?.Test;
  if (hcTest?.[0] === 'NONE') a.push('--no-healthcheck');
  else if (hcTest?.[0] === 'CMD-SHELL') add('--health-cmd', hcTest[1]);
  if (hc.Privileged) a.push('--privileged');
  if (hc.Init) a.push('--init');
  if (hc.ReadonlyRootfs) a.push('--read-only');
  each('--cap-drop', hc.CapDrop);
  each('--cap-add', hc.CapAdd);
  for (const s of hc.SecurityOpt ?? []) {
    if (s.startsWith('seccomp=') && s.slice(8).trimStart().startsWith('{')) a.push('--security-opt', `seccomp=${opts.seccompProfilePath ?? '<seccomp-profile.json>'}`);
    else a.push('--security-opt', s);
  }
  if (Array.isArray(hc.MaskedPaths) && hc.MaskedPaths.length === 0) a.push('--security-opt', 'systempaths=unconfined');
  each('--group-add', hc.GroupAdd);
  if (hc.NetworkMode && hc.NetworkMode !== 'default') add('--network', hc.NetworkMode);
  for (const [k, v] of [['--pid', hc.PidMode], ['--ipc', hc.IpcMode], ['--uts', hc.UTSMode], ['--userns', hc.UsernsMode], ['--cgroupns', hc.CgroupnsMode]] as const) add(k, v);
  add('--runtime', hc.Runtime);
  add('--cgroup-parent', hc.CgroupParent);
  add('--memory', hc.Memory ? size(hc.Memory) : undefined);
  add('--memory-reservation', hc.MemoryReservation ? size(hc.MemoryReservation) : undefined);
  if (hc.MemorySwap) add('--memory-swap', hc.MemorySwap === -1 ? -1 : size(hc.MemorySwap));
  if (typeof hc.MemorySwappiness === 'number' && hc.MemorySwappiness >= 0) add('--memory-swappiness', hc.MemorySwappiness);
  if (hc.OomKillDisable) a.push('--oom-kill-disable');
  if (hc.OomScoreAdj) add('--oom-score-adj', hc.OomScoreAdj);
  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit !== 0) add('--pids-limit', hc.PidsLimit);
  if (hc.NanoCpus) add('--cpus', hc.NanoCpus / 1e9);
  if (hc.CpuShares) add('--cpu-shares', hc.CpuShares);
  if (hc.CpuPeriod) add('--cpu-period', hc.CpuPeriod);
  if (hc.CpuQuota) add('--cpu-quota', hc.CpuQuota);
  add('--cpuset-cpus', hc.CpusetCpus);
  add('--cpuset-mems', hc.CpusetMems);
  if (hc.BlkioWeight) add('--blkio-weight', hc.BlkioWeight);
  for (const [flag, list] of [['--device-read-bps', hc.BlkioDeviceReadBps], ['--device-write-bps', hc.BlkioDeviceWriteBps], ['--device-read-iops', hc.BlkioDeviceReadIOps], ['--device-write-iops', hc.BlkioDeviceWriteIOps]] as const) {
    for (const t of list ?? []) a.push(flag, `${t.Path}:${t.Rate}`);
  }
  if (hc.ShmSize) add('--shm-size', size(hc.ShmSize));
  for (const u of hc.Ulimits ?? []) a.push('--ulimit', `${u.Name}=${u.Soft}:${u.Hard}`);
  for (const [k, v] of Object.entries(hc.Sysctls ?? {})) a.push('--sysctl', `${k}=${v}`);
  for (const [k, v] of Object.entries(hc.StorageOpt ?? {})) a.push('--storage-opt', `${k}=${v}`);
  for (const d of hc.Devices ?? []) a.push('--device', `${d.PathOnHost}:${d.PathInContainer}:${d.CgroupPermissions}`);
  each('--device-cgroup-rule', hc.DeviceCgroupRules);
  for (const d of hc.DeviceRequests ?? []) a.push('--gpus', d.Count === -1 ? 'all' : d.DeviceIDs?.length ? `"device=${d.DeviceIDs.join(',')}"` : String(d.Count ?? 'all'));
  each('--volume', hc.Binds);
  for (const m of hc.Mounts ?? []) a.push('--mount', mountArg(m));
  for (const [p, o] of Object.entries(hc.Tmpfs ?? {})) a.push('--tmpfs', o ? `${p}:${o}` : p);
  add('--volume-driver', hc.VolumeDriver);
  each('--volumes-from', hc.VolumesFrom);
  const published = new Set<string>();
  for (const [port, binds] of Object.entries(hc.PortBindings ?? {})) {
    published.add(port);
    const [num, proto] = port.split('/');
    for (const b of binds ?? []) {
      const ip = b.HostIp ? (b.HostIp.includes(':') ? `[${b.HostIp}]:` : `${b.HostIp}:`) : '';
      a.push('--publish', `${ip}${b.HostPort ?? ''}${ip || b.HostPort ? ':' : ''}${num}${proto && proto !== 'tcp' ? `/${proto}` : ''}`);
    }
  }
  if (hc.PublishAllPorts) a.push('--publish-all');
  for (const p of Object.keys(body.ExposedPorts ?? {})) if (!published.has(p)) a.push('--expose', p.endsWith('/tcp') ? p.slice(0, -4) : p);
  each('--dns', hc.Dns);
  each('--dns-option', hc.DnsOptions);
  each('--dns-search', hc.DnsSearch);
  each('--add-host', hc.ExtraHosts);
  each('--link', hc.Links);
  if (hc.RestartPolicy?.Name && hc.RestartPolicy.Name !== 'no') {
    a.push('--restart', hc.RestartPolicy.Name === 'on-failure' && hc.RestartPolicy.MaximumRetryCount ? `on-failure:${hc.RestartPolicy.MaximumRetryCount}` : hc.RestartPolicy.Name);
  }
  if (hc.LogConfig?.Type) add('--log-driver', hc.LogConfig.Type);
  for (const [k, v] of Object.entries(hc.LogConfig?.Config ?? {})) a.push('--log-opt', `${k}=${v}`);
  for (const [net, ep] of Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {})) {
    if (net !== hc.NetworkMode && net !== 'default') continue;
    each('--network-alias', ep.Aliases);
    add('--ip', ep.IPAMConfig?.IPv4Address);
    add('--ip6', ep.IPAMConfig?.IPv6Address);
  }
  const ep = body.Entrypoint ?? null;
  if (ep && ep.length > 0) a.push('--entrypoint', ep[0]!);
  else if (Array.isArray(body.Entrypoint) && body.Entrypoint.length === 0) a.push('--entrypoint', '');
  a.push(body.Image ?? '<image>');
  if (ep && ep.length > 1) a.push(...ep.slice(1));
  a.push(...(body.Cmd ?? []));
  return a;
}

/** The commands that reproduce the hardened container with plain docker. */
export function equivalentCommands(outcome: PolicyOutcome, opts: DockerArgsOptions & { mode?: 'run' | 'create' } = {}): string[] {
  const cmds = outcome.createDirs.map((d) => ['mkdir', '-p', d].map(shellQuote).join(' '));
  cmds.push(['docker', opts.mode ?? 'run', ...bodyToDockerArgs(outcome.body, opts)].map((s) => (s.startsWith('"') ? s : shellQuote(s))).join(' '));
  return cmds;
}

/** Which seccomp profile the container gets, and its size (from the shell: libseccomp loads only for --dry-run). */
export interface SeccompSummary {
  /** The profile's file, "engine default", "unconfined" or "inline profile". */
  profile: string;
  /** The file the profile was read from, when there is one. */
  file?: string;
  /** The arch the counts are for: the host's (x86_64). */
  arch?: string;
  /** Names allowed on that arch, with or without argument conditions. */
  allowed?: number;
  /** Of those, allowed only for some argument values. */
  conditional?: number;
  /** Instructions of libseccomp's BPF program for this host; absent without libseccomp. */
  instructions?: number;
  /** E.g. why a count is missing or approximate. */
  note?: string;
}

export function formatSeccompSummary(s: SeccompSummary): string {
  const parts: string[] = [];
  if (s.allowed !== undefined) parts.push(`${s.allowed} names allowed on ${s.arch ?? 'this arch'}${s.conditional ? ` (${s.conditional} conditional)` : ''}`);
  if (s.instructions !== undefined) parts.push(`${s.instructions} BPF instructions`);
  return `${s.profile}${parts.length ? `: ${parts.join(', ')}` : ''}${s.note ? ` (${s.note})` : ''}`;
}

export interface DryRunOptions extends DockerArgsOptions {
  format: 'text' | 'json';
  mode?: 'run' | 'create';
  provenance?: Provenance;
  level?: string;
  profiles?: { path: string; sha256?: string; role: string }[];
  seccomp?: SeccompSummary;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '(unset)';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}

/** What --dry-run prints: the effective container, each change and why, violations, and the docker command line. */
export function renderDryRun(outcome: PolicyOutcome, opts: DryRunOptions): string {
  const commands = equivalentCommands(outcome, opts);
  if (opts.format === 'json') {
    return `${JSON.stringify({
      level: opts.level, mode: outcome.mode, refused: outcome.refused, applied: outcome.applied, profiles: opts.profiles ?? [],
      ...(opts.seccomp ? { seccomp: opts.seccomp } : {}),
      body: outcome.body, changes: outcome.changes, violations: outcome.violations, allowances: outcome.allowances,
      createDirs: outcome.createDirs, ...(outcome.notes ? { notes: outcome.notes } : {}), commands,
    }, null, 2)}\n`;
  }
  const b = outcome.body;
  const hc = b.HostConfig ?? {};
  const out: string[] = [];
  out.push(`sdocker dry run: policy ${opts.level ?? ''} (${outcome.mode} mode)${outcome.refused ? ': REFUSED' : ''}`);
  if (opts.profiles?.length) out.push(`profiles: ${opts.profiles.map((p) => p.path).join(' → ')}`);
  out.push('', 'effective container:');
  const rows: [string, string][] = [
    ['image', b.Image ?? ''],
    ['user', b.User || '(image default)'],
    ['capabilities', `drop ${show(hc.CapDrop ?? [])}, add ${show(hc.CapAdd ?? [])}${hc.Privileged ? ', PRIVILEGED' : ''}`],
    ['security', (hc.SecurityOpt ?? []).map((s) => (s.startsWith('seccomp=') && s.length > 60 ? `seccomp=<${opts.seccompProfilePath ?? 'profile'}>` : s)).join(', ') || '(engine defaults)'],
    ['root filesystem', hc.ReadonlyRootfs ? 'read-only' : 'writable'],
    ['tmpfs', Object.entries(hc.Tmpfs ?? {}).map(([p, o]) => `${p} (${o})`).join(', ') || '-'],
    ['mounts', [...(hc.Binds ?? []), ...(hc.Mounts ?? []).map(mountArg)].join('; ') || '-'],
    ['limits', `memory ${hc.Memory ? size(hc.Memory) : 'unlimited'}, cpus ${hc.NanoCpus ? hc.NanoCpus / 1e9 : 'unlimited'}, pids ${hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : 'unlimited'}`],
    ['namespaces', `network ${hc.NetworkMode || 'default'}, pid ${hc.PidMode || 'private'}, ipc ${hc.IpcMode || 'private'}, uts ${hc.UTSMode || 'private'}, cgroup ${hc.CgroupnsMode || 'engine default'}`],
    ['ports', Object.entries(hc.PortBindings ?? {}).flatMap(([p, bs]) => (bs ?? []).map((x) => `${x.HostIp || '0.0.0.0'}:${x.HostPort || '(random)'}->${p}`)).join(', ') || '-'],
    ['logging', `${hc.LogConfig?.Type || '(engine default)'} ${Object.entries(hc.LogConfig?.Config ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}`.trim()],
  ];
  if (opts.seccomp) rows.splice(4, 0, ['seccomp', formatSeccompSummary(opts.seccomp)]);
  if (hc.Runtime) rows.push(['runtime', hc.Runtime]);
  for (const [k, v] of rows) out.push(`  ${k.padEnd(16)} ${v}`);
  out.push('', outcome.applied ? `changes (${outcome.changes.length}):` : `changes that enforce mode would make (${outcome.changes.length}):`);
  for (const c of outcome.changes) {
    out.push(`  ${c.field}: ${show(c.from)} → ${show(c.to)}  [${c.rule}]`);
    out.push(`      ${c.why}`);
  }
  if (outcome.allowances.length) {
    out.push('', 'allowed by the profile:');
    for (const a of outcome.allowances) out.push(`  ${a.subject} [${a.rule}]: ${a.reason} (${a.source})`);
  }
  if (outcome.notes?.length) {
    out.push('', 'notes:');
    for (const n of outcome.notes) out.push(`  ${n.why} [${n.rule}]`);
  }
  if (outcome.violations.length) {
    out.push('', formatViolations(outcome.violations, opts.provenance, { ...(opts.level ? { level: opts.level } : {}), mode: outcome.mode }).trimEnd());
  }
  out.push('', 'equivalent docker commands:');
  for (const c of commands) out.push(`  ${c}`);
  return `${out.join('\n')}\n`;
}
