/**
 * dockerd's command line and daemon.json, read the way dockerd reads them (pflag rules over
 * dockerd 20.10's flags; a flag and the same key in daemon.json is a conflict dockerd refuses to
 * start with, so either source gives the value). Pure.
 */

/** dockerd 20.10's boolean flags (`dockerd --help`): they take no separate value. */
const BOOL_FLAGS = new Set([
  'cri-containerd', 'debug', 'experimental', 'help', 'icc', 'init', 'ip-forward', 'ip-masq', 'ip6tables', 'iptables', 'ipv6',
  'live-restore', 'no-new-privileges', 'raw-logs', 'rootless', 'selinux-enabled', 'tls', 'tlsverify', 'userland-proxy', 'version', 'validate',
]);
const SHORT: Record<string, string> = { D: 'debug', v: 'version', h: 'help', H: 'host', G: 'group', b: 'bridge', l: 'log-level', p: 'pidfile', s: 'storage-driver', g: 'graph', e: 'exec-driver' };

/** Every flag given, by long name, with all its values in order (bools as "true"/"false"). */
export type DockerdFlags = Map<string, string[]>;

export function parseDockerdArgs(argv: readonly string[]): DockerdFlags {
  const out: DockerdFlags = new Map();
  const add = (name: string, value: string) => out.set(name, [...(out.get(name) ?? []), value]);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (eq >= 0) add(name, a.slice(eq + 1));
      else if (BOOL_FLAGS.has(name)) add(name, 'true');
      else if (i + 1 < argv.length) add(name, argv[++i]!);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = SHORT[a[j]!] ?? a[j]!;
        if (BOOL_FLAGS.has(name)) {
          if (a[j + 1] === '=') {
            add(name, a.slice(j + 2));
            break;
          }
          add(name, 'true');
          continue;
        }
        const rest = a.slice(j + 1);
        if (rest !== '') add(name, rest.startsWith('=') ? rest.slice(1) : rest);
        else if (i + 1 < argv.length) add(name, argv[++i]!);
        break;
      }
    }
  }
  return out;
}

/** strconv.ParseBool, as pflag reads a bool flag's value. */
function goBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** The settings the daemon checks read, merged from the command line and daemon.json. */
export interface DaemonSettings {
  hosts: string[];
  tls: boolean;
  tlsVerify: boolean;
  icc?: boolean;
  iptables: boolean;
  noNewPrivileges: boolean;
  userlandProxy: boolean;
  userns?: string;
  logDriver?: string;
  logOpts: Record<string, string>;
  logLevel?: string;
  defaultUlimits: boolean;
  seccompProfile?: string;
  configFile?: string;
  group?: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/docker/daemon.json';

/** Where dockerd reads its configuration file from (--config-file). */
export function configFileOf(flags: DockerdFlags): string {
  return flags.get('config-file')?.at(-1) ?? DEFAULT_CONFIG_FILE;
}

export function daemonSettings(flags: DockerdFlags, config: Record<string, unknown> | undefined): DaemonSettings {
  const c = config ?? {};
  const last = (name: string): string | undefined => flags.get(name)?.at(-1);
  const bool = (flag: string, key: string, dflt: boolean): boolean => {
    const f = last(flag);
    if (f !== undefined) return goBool(f) ?? dflt;
    const v = c[key];
    return typeof v === 'boolean' ? v : dflt;
  };
  const str = (flag: string, key: string): string | undefined => {
    const f = last(flag);
    if (f !== undefined) return f;
    const v = c[key];
    return typeof v === 'string' ? v : undefined;
  };
  const list = (flag: string, key: string): string[] => {
    const f = flags.get(flag);
    if (f) return f;
    const v = c[key];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const logOpts: Record<string, string> = {};
  const cfgOpts = c['log-opts'];
  if (cfgOpts && typeof cfgOpts === 'object') {
    for (const [k, v] of Object.entries(cfgOpts as Record<string, unknown>)) if (typeof v === 'string') logOpts[k] = v;
  }
  for (const kv of flags.get('log-opt') ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) logOpts[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const ulimits = flags.get('default-ulimit') ?? [];
  const cfgUlimits = c['default-ulimits'];
  const tlsVerify = bool('tlsverify', 'tlsverify', false);
  const s: DaemonSettings = {
    hosts: list('host', 'hosts'),
    // dockerd: --tlsverify implies --tls.
    tls: bool('tls', 'tls', false) || tlsVerify,
    tlsVerify,
    iptables: bool('iptables', 'iptables', true),
    noNewPrivileges: bool('no-new-privileges', 'no-new-privileges', false),
    userlandProxy: bool('userland-proxy', 'userland-proxy', true),
    logOpts,
    defaultUlimits: ulimits.length > 0 || (!!cfgUlimits && typeof cfgUlimits === 'object' && Object.keys(cfgUlimits).length > 0),
  };
  const icc = last('icc') ?? (typeof c.icc === 'boolean' ? String(c.icc) : undefined);
  if (icc !== undefined) s.icc = goBool(icc) ?? true;
  const opt = (k: keyof DaemonSettings, v: string | undefined) => {
    if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
  };
  opt('userns', str('userns-remap', 'userns-remap'));
  opt('logDriver', str('log-driver', 'log-driver'));
  opt('logLevel', str('log-level', 'log-level'));
  opt('seccompProfile', str('seccomp-profile', 'seccomp-profile'));
  opt('group', str('group', 'group'));
  return s;
}

/** The unix socket paths among the daemon's hosts (dockerd's default when it has none). */
export function unixSockets(hosts: readonly string[]): string[] {
  if (hosts.length === 0) return ['/var/run/docker.sock'];
  const out: string[] = [];
  for (const h of hosts) {
    if (h.startsWith('unix://') || h.startsWith('/')) out.push((h.startsWith('unix://') ? h.slice(7) : h) || '/var/run/docker.sock');
    // fd://: systemd's docker.socket, at its usual paths.
    else if (h.startsWith('fd://')) out.push('/var/run/docker.sock', '/run/docker.sock');
  }
  return out;
}

/** The TCP listeners among the daemon's hosts (`tcp://`, or host:port as dockerd reads a bare address). */
export function tcpHosts(hosts: readonly string[]): string[] {
  return hosts.filter((h) => h.startsWith('tcp://') || (!h.includes('://') && !h.startsWith('/') && h !== ''));
}
