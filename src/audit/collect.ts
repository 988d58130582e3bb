/**
 * The audit's I/O, all of it: the Engine API (info, version, the default bridge, containers and
 * their processes), and for a local daemon its process's command line (/proc), its daemon.json
 * and the host's /etc/group and /etc/passwd. Everything here only gathers facts; checks judge.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import type { EngineClient } from '../engine/client.js';
import type { Endpoint } from '../engine/endpoint.js';
import { readBounded } from '../fs/read-bounded.js';
import { isBindVolume } from '../policy/paths.js';
import { configFileOf, daemonSettings, parseDockerdArgs, tcpHosts, unixSockets } from './dockerd-args.js';
import type { AuditInfo, AuditVersion, ContainerFacts, DaemonFacts, LocalDaemonFacts } from './types.js';

export interface HostReader {
  /** Directory entries of /proc. */
  procEntries(): string[];
  /** A file's text, or undefined when it does not exist or cannot be read. */
  read(path: string): string | undefined;
  realpath(path: string): string;
}

export const hostReader: HostReader = {
  procEntries: () => readdirSync('/proc'),
  read(path) {
    try {
      // /proc files report size 0: read them directly; others through the bounded reader.
      return path.startsWith('/proc/') ? readFileSync(path, 'utf8') : readBounded(path, 'docker-config').toString('utf8');
    } catch {
      return undefined;
    }
  },
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  },
};

export async function collectDaemon(client: EngineClient, endpoint: Endpoint, host: HostReader = hostReader): Promise<DaemonFacts> {
  const [info, version, bridge] = await Promise.all([
    client.json<AuditInfo>('GET', '/info'),
    client.json<AuditVersion>('GET', '/version'),
    client.json<{ Options?: Record<string, string> }>('GET', '/networks/bridge').catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) return undefined;
      throw err;
    }),
  ]);
  const facts: DaemonFacts = { endpoint: endpoint.host, info, version };
  if (endpoint.kind === 'tcp' && !endpoint.tls) facts.endpointPlainTcp = true;
  const icc = bridge?.Options?.['com.docker.network.bridge.enable_icc'];
  if (icc !== undefined) facts.bridgeIcc = icc === 'true';
  const local = findLocalDaemon(endpoint, info, host);
  if (typeof local === 'string') {
    facts.localMissing = local;
  } else {
    facts.local = local;
    const settings = daemonSettings(parseDockerdArgs(local.cmdline), local.config);
    facts.socketGroup = groupMembers(settings.group ?? 'docker', host);
  }
  return facts;
}

/** dockerd processes on this machine, with their argv. */
function dockerdProcesses(host: HostReader): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const e of host.procEntries()) {
    if (!/^\d+$/.test(e)) continue;
    const raw = host.read(`/proc/${e}/cmdline`);
    if (!raw) continue;
    const argv = raw.split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    if (argv[0] !== undefined && basename(argv[0]) === 'dockerd') out.push({ pid: Number(e), argv });
  }
  return out;
}

/** The local dockerd behind `endpoint`, or why it was not found. */
export function findLocalDaemon(endpoint: Endpoint, info: AuditInfo, host: HostReader): LocalDaemonFacts | string {
  if (endpoint.kind === 'ssh') return `the daemon is reached over ssh (${endpoint.host})`;
  const local = endpoint.kind === 'unix' || ['127.0.0.1', 'localhost', '::1'].includes(endpoint.hostname);
  if (!local) return `the daemon is remote (${endpoint.host})`;
  const procs = dockerdProcesses(host);
  if (procs.length === 0) return 'no dockerd process is visible in /proc (another PID namespace, or a rootless/remote daemon)';
  const matches = procs.filter((p) => {
    const flags = parseDockerdArgs(p.argv);
    const cfg = readConfig(configFileOf(flags), host).config;
    const hosts = daemonSettings(flags, cfg).hosts;
    if (endpoint.kind === 'unix') {
      const want = host.realpath(endpoint.socketPath);
      return unixSockets(hosts).some((s) => host.realpath(s) === want);
    }
    return tcpHosts(hosts).some((h) => new RegExp(`:${endpoint.port}$`).test(h));
  });
  const root = info.DockerRootDir;
  const chosen = matches.length === 1 ? matches[0] : matches.find((p) => {
    const flags = parseDockerdArgs(p.argv);
    const dataRoot = flags.get('data-root')?.at(-1) ?? flags.get('graph')?.at(-1) ?? '/var/lib/docker';
    return !!root && (root === dataRoot || root.startsWith(`${dataRoot}/`));
  });
  if (!chosen) return `no dockerd process listens on ${endpoint.host} (${procs.length} dockerd seen)`;
  const flags = parseDockerdArgs(chosen.argv);
  const configPath = configFileOf(flags);
  const { config, error } = readConfig(configPath, host);
  return { pid: chosen.pid, cmdline: chosen.argv, configPath, ...(config ? { config } : {}), ...(error ? { configError: error } : {}) };
}

function readConfig(path: string, host: HostReader): { config?: Record<string, unknown>; error?: string } {
  const text = host.read(path);
  if (text === undefined) return {};
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? { config: v as Record<string, unknown> } : { error: `${path}: not a JSON object` };
  } catch (err) {
    return { error: `${path}: ${(err as Error).message}` };
  }
}

/** Members of `group`: listed in /etc/group, or with it as their primary group in /etc/passwd. */
export function groupMembers(group: string, host: HostReader): { name: string; members: string[] } | undefined {
  const groups = host.read('/etc/group');
  if (groups === undefined) return undefined;
  let gid: string | undefined;
  const members = new Set<string>();
  for (const line of groups.split('\n')) {
    const f = line.split(':');
    if (f[0] !== group || f.length < 4) continue;
    gid = f[2];
    for (const m of (f[3] ?? '').split(',')) if (m.trim()) members.add(m.trim());
  }
  if (gid === undefined) return { name: group, members: [] };
  for (const line of (host.read('/etc/passwd') ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[3] === gid && f[0]) members.add(f[0]);
  }
  return { name: group, members: [...members].sort() };
}

type Top = { Titles?: string[]; Processes?: string[][] };

/**
 * The processes of a running container's cgroup, with their uid as the host sees it (`ps -o
 * pid,uid,args` run by the engine on the host: under userns-remap, root in the container shows
 * its host uid). Falls back to the default listing (no uid) when ps takes no -o.
 */
async function containerProcesses(client: EngineClient, id: string): Promise<ContainerFacts['processes']> {
  const get = (query?: Record<string, string>) => client.json<Top>('GET', `/containers/${id}/top`, query ? { query } : {}).catch(() => undefined);
  const top = (await get({ ps_args: '-o pid,uid,args' })) ?? (await get());
  if (!top?.Processes || !top.Titles) return undefined;
  const cmd = top.Titles.findIndex((t) => t === 'COMMAND' || t === 'CMD');
  const uid = top.Titles.indexOf('UID');
  if (cmd < 0) return undefined;
  return top.Processes.map((p) => {
    const u = uid >= 0 ? Number(p[uid]) : NaN;
    return { command: p.slice(cmd).join(' '), ...(Number.isInteger(u) ? { uid: u } : {}) };
  });
}

/** Containers to audit: the named ones, else the running ones (every one with `all`). */
export async function collectContainers(
  client: EngineClient,
  names: readonly string[],
  all: boolean,
  /** The daemon runs on this host: bind sources are resolved here (symlinks) to be judged as the real path too. */
  localHost?: HostReader,
): Promise<ContainerFacts[]> {
  const ids = names.length > 0
    ? [...names]
    : (await client.json<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: all ? 1 : 0 } })).map((c) => c.Id);
  const out: ContainerFacts[] = [];
  for (const id of ids) {
    let c: ContainerFacts;
    try {
      c = await client.json<ContainerFacts>('GET', `/containers/${encodeURIComponent(id)}/json`);
    } catch (err) {
      // Removed between the list and the inspect: nothing left to audit. A named one must exist.
      if ((err as { statusCode?: number }).statusCode === 404 && names.length === 0) continue;
      throw err;
    }
    for (const m of c.Mounts ?? []) {
      // A local volume that binds a host directory is that directory (the policy's isBindVolume).
      if (m.Type === 'volume' && m.Name && (m.Driver ?? 'local') === 'local') {
        const v = await client.json<{ Options?: Record<string, string> | null }>('GET', `/volumes/${encodeURIComponent(m.Name)}`).catch(() => undefined);
        const dev = v?.Options?.device;
        if (isBindVolume(v?.Options) && dev) m.BindDevice = dev;
      }
      const hostPath = m.Type === 'bind' ? m.Source : m.BindDevice;
      if (localHost && hostPath?.startsWith('/')) m.RealSource = localHost.realpath(hostPath);
    }
    if (c.State?.Running) {
      const processes = await containerProcesses(client, c.Id);
      if (processes) c.processes = processes;
    }
    out.push(c);
  }
  return out;
}
