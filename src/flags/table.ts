/**
 * The one table of `docker run` / `docker create` flags (docker CLI 28.2, API 1.41), plus
 * sdocker's own. It drives the parser (src/flags/parse.ts), `--help` and the tests: a flag that
 * is not here is refused as unknown, exactly as docker refuses it.
 */
export type FlagKind =
  | 'bool'
  | 'string'
  | 'list'
  | 'int'
  | 'uint16'
  | 'uint64'
  | 'bytes'
  | 'memswap'
  | 'duration'
  | 'decimal';

export type FlagGroup =
  | 'general'
  | 'security'
  | 'network'
  | 'storage'
  | 'health'
  | 'resources'
  | 'runtime'
  | 'client'
  | 'sdocker';

export interface FlagSpec {
  /** Long name without dashes; values are stored under the canonical name. */
  name: string;
  short?: string;
  kind: FlagKind;
  group: FlagGroup;
  help: string;
  /** Hidden aliases docker keeps (`--net` for `--network`): parsed into the canonical flag. */
  aliases?: string[];
  /** Only for `run`, not `create`. */
  runOnly?: boolean;
  /** Default docker uses when the flag is absent (for help and for flags whose default is not zero). */
  defaultValue?: string | boolean | number;
  /** Minimum Engine API version; docker refuses the flag on an older engine. */
  minApi?: string;
  /** The flag only applies to Windows daemons; docker refuses it on Linux. */
  windowsOnly?: boolean;
  /** Docker prints this deprecation notice on stderr when the flag is used. */
  deprecated?: string;
  /** sdocker refuses the flag (with this reason) rather than silently drop it. */
  refused?: string;
  /** Value placeholder for help. */
  valueName?: string;
}

export const FLAGS: readonly FlagSpec[] = [
  // General
  { name: 'attach', short: 'a', kind: 'list', group: 'general', help: 'Attach to STDIN, STDOUT or STDERR' },
  { name: 'detach', short: 'd', kind: 'bool', group: 'general', help: 'Run container in background and print container ID', runOnly: true },
  { name: 'detach-keys', kind: 'string', group: 'general', help: 'Override the key sequence for detaching a container', runOnly: true },
  { name: 'sig-proxy', kind: 'bool', group: 'general', help: 'Proxy received signals to the process', runOnly: true, defaultValue: true },
  { name: 'name', kind: 'string', group: 'general', help: 'Assign a name to the container' },
  { name: 'device-cgroup-rule', kind: 'list', group: 'security', help: 'Add a rule to the cgroup allowed devices list' },
  { name: 'device', kind: 'list', group: 'security', help: 'Add a host device to the container' },
  { name: 'gpus', kind: 'list', group: 'resources', help: "GPU devices to add to the container ('all' to pass all GPUs)", minApi: '1.40', valueName: 'gpu-request' },
  { name: 'env', short: 'e', kind: 'list', group: 'general', help: 'Set environment variables' },
  { name: 'env-file', kind: 'list', group: 'general', help: 'Read in a file of environment variables' },
  { name: 'entrypoint', kind: 'string', group: 'general', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'group-add', kind: 'list', group: 'security', help: 'Add additional groups to join' },
  { name: 'hostname', short: 'h', kind: 'string', group: 'general', help: 'Container host name' },
  { name: 'domainname', kind: 'string', group: 'general', help: 'Container NIS domain name' },
  { name: 'interactive', short: 'i', kind: 'bool', group: 'general', help: 'Keep STDIN open even if not attached' },
  { name: 'label', short: 'l', kind: 'list', group: 'general', help: 'Set meta data on a container' },
  { name: 'label-file', kind: 'list', group: 'general', help: 'Read in a line delimited file of labels' },
  { name: 'read-only', kind: 'bool', group: 'security', help: "Mount the container's root filesystem as read only" },
  { name: 'restart', kind: 'string', group: 'general', help: 'Restart policy to apply when a container exits', defaultValue: 'no' },
  { name: 'stop-signal', kind: 'string', group: 'general', help: 'Signal to stop the container' },
  { name: 'stop-timeout', kind: 'int', group: 'general', help: 'Timeout (in seconds) to stop a container', minApi: '1.25' },
  { name: 'sysctl', kind: 'list', group: 'security', help: 'Sysctl options', valueName: 'map' },
  { name: 'tty', short: 't', kind: 'bool', group: 'general', help: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', kind: 'list', group: 'resources', help: 'Ulimit options', valueName: 'ulimit' },
  { name: 'user', short: 'u', kind: 'string', group: 'security', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'workdir', short: 'w', kind: 'string', group: 'general', help: 'Working directory inside the container' },
  { name: 'rm', kind: 'bool', group: 'general', help: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'pull', kind: 'string', group: 'client', help: 'Pull image before creating ("always", "missing", "never")', defaultValue: 'missing' },
  { name: 'quiet', short: 'q', kind: 'bool', group: 'client', help: 'Suppress the pull output' },
  { name: 'platform', kind: 'string', group: 'client', help: 'Set platform if server is multi-platform capable', minApi: '1.32' },
  { name: 'disable-content-trust', kind: 'bool', group: 'client', help: 'Skip image verification', defaultValue: true },
  {
    name: 'use-api-socket',
    kind: 'bool',
    group: 'client',
    help: 'Bind mount Docker API socket and required auth',
    refused: 'it bind-mounts the engine socket into the container, which gives the container root on the host (guideline 10); sdocker does not offer it at any policy level',
  },
  // Security
  { name: 'cap-add', kind: 'list', group: 'security', help: 'Add Linux capabilities' },
  { name: 'cap-drop', kind: 'list', group: 'security', help: 'Drop Linux capabilities' },
  { name: 'privileged', kind: 'bool', group: 'security', help: 'Give extended privileges to this container' },
  { name: 'security-opt', kind: 'list', group: 'security', help: 'Security Options' },
  { name: 'userns', kind: 'string', group: 'security', help: 'User namespace to use' },
  { name: 'cgroupns', kind: 'string', group: 'security', help: 'Cgroup namespace to use (host|private)', minApi: '1.41' },
  // Network
  { name: 'add-host', kind: 'list', group: 'network', help: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'dns', kind: 'list', group: 'network', help: 'Set custom DNS servers' },
  { name: 'dns-option', kind: 'list', group: 'network', help: 'Set DNS options', aliases: ['dns-opt'] },
  { name: 'dns-search', kind: 'list', group: 'network', help: 'Set custom DNS search domains' },
  { name: 'expose', kind: 'list', group: 'network', help: 'Expose a port or a range of ports' },
  { name: 'ip', kind: 'string', group: 'network', help: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', kind: 'string', group: 'network', help: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'link', kind: 'list', group: 'network', help: 'Add link to another container' },
  { name: 'link-local-ip', kind: 'list', group: 'network', help: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'mac-address', kind: 'string', group: 'network', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'publish', short: 'p', kind: 'list', group: 'network', help: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', kind: 'bool', group: 'network', help: 'Publish all exposed ports to random ports' },
  { name: 'network', kind: 'list', group: 'network', help: 'Connect a container to a network', aliases: ['net'], valueName: 'network' },
  { name: 'network-alias', kind: 'list', group: 'network', help: 'Add network-scoped alias for the container', aliases: ['net-alias'] },
  // Logging and storage
  { name: 'log-driver', kind: 'string', group: 'storage', help: 'Logging driver for the container' },
  { name: 'volume-driver', kind: 'string', group: 'storage', help: 'Optional volume driver for the container' },
  { name: 'log-opt', kind: 'list', group: 'storage', help: 'Log driver options' },
  { name: 'storage-opt', kind: 'list', group: 'storage', help: 'Storage driver options for the container' },
  { name: 'tmpfs', kind: 'list', group: 'storage', help: 'Mount a tmpfs directory' },
  { name: 'volumes-from', kind: 'list', group: 'storage', help: 'Mount volumes from the specified container(s)' },
  { name: 'volume', short: 'v', kind: 'list', group: 'storage', help: 'Bind mount a volume' },
  { name: 'mount', kind: 'list', group: 'storage', help: 'Attach a filesystem mount to the container', valueName: 'mount' },
  // Health-checking
  { name: 'health-cmd', kind: 'string', group: 'health', help: 'Command to run to check health' },
  { name: 'health-interval', kind: 'duration', group: 'health', help: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', kind: 'int', group: 'health', help: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-timeout', kind: 'duration', group: 'health', help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'health-start-period', kind: 'duration', group: 'health', help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)', minApi: '1.29' },
  { name: 'health-start-interval', kind: 'duration', group: 'health', help: 'Time between running the check during the start period (ms|s|m|h) (default 0s)', minApi: '1.44' },
  { name: 'no-healthcheck', kind: 'bool', group: 'health', help: 'Disable any container-specified HEALTHCHECK' },
  // Resources
  { name: 'blkio-weight', kind: 'uint16', group: 'resources', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'blkio-weight-device', kind: 'list', group: 'resources', help: 'Block IO weight (relative device weight)' },
  { name: 'cidfile', kind: 'string', group: 'general', help: 'Write the container ID to the file' },
  { name: 'cpuset-cpus', kind: 'string', group: 'resources', help: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', kind: 'string', group: 'resources', help: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'cpu-count', kind: 'int', group: 'resources', help: 'CPU count (Windows only)', windowsOnly: true },
  { name: 'cpu-percent', kind: 'int', group: 'resources', help: 'CPU percent (Windows only)', windowsOnly: true },
  { name: 'cpu-period', kind: 'int', group: 'resources', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', kind: 'int', group: 'resources', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', kind: 'int', group: 'resources', help: 'Limit CPU real-time period in microseconds', minApi: '1.25' },
  { name: 'cpu-rt-runtime', kind: 'int', group: 'resources', help: 'Limit CPU real-time runtime in microseconds', minApi: '1.25' },
  { name: 'cpu-shares', short: 'c', kind: 'int', group: 'resources', help: 'CPU shares (relative weight)' },
  { name: 'cpus', kind: 'decimal', group: 'resources', help: 'Number of CPUs', minApi: '1.25' },
  { name: 'device-read-bps', kind: 'list', group: 'resources', help: 'Limit read rate (bytes per second) from a device' },
  { name: 'device-read-iops', kind: 'list', group: 'resources', help: 'Limit read rate (IO per second) from a device' },
  { name: 'device-write-bps', kind: 'list', group: 'resources', help: 'Limit write rate (bytes per second) to a device' },
  { name: 'device-write-iops', kind: 'list', group: 'resources', help: 'Limit write rate (IO per second) to a device' },
  { name: 'io-maxbandwidth', kind: 'bytes', group: 'resources', help: 'Maximum IO bandwidth limit for the system drive (Windows only)', windowsOnly: true },
  { name: 'io-maxiops', kind: 'uint64', group: 'resources', help: 'Maximum IOps limit for the system drive (Windows only)', windowsOnly: true },
  { name: 'kernel-memory', kind: 'bytes', group: 'resources', help: 'Kernel memory limit' },
  { name: 'memory', short: 'm', kind: 'bytes', group: 'resources', help: 'Memory limit' },
  { name: 'memory-reservation', kind: 'bytes', group: 'resources', help: 'Memory soft limit' },
  { name: 'memory-swap', kind: 'memswap', group: 'resources', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'memory-swappiness', kind: 'int', group: 'resources', help: 'Tune container memory swappiness (0 to 100)', defaultValue: -1 },
  { name: 'oom-kill-disable', kind: 'bool', group: 'resources', help: 'Disable OOM Killer' },
  { name: 'oom-score-adj', kind: 'int', group: 'resources', help: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'pids-limit', kind: 'int', group: 'resources', help: 'Tune container pids limit (set -1 for unlimited)' },
  // Low-level execution
  { name: 'cgroup-parent', kind: 'string', group: 'runtime', help: 'Optional parent cgroup for the container' },
  { name: 'ipc', kind: 'string', group: 'runtime', help: 'IPC mode to use' },
  { name: 'isolation', kind: 'string', group: 'runtime', help: 'Container isolation technology' },
  { name: 'pid', kind: 'string', group: 'runtime', help: 'PID namespace to use' },
  { name: 'shm-size', kind: 'bytes', group: 'runtime', help: 'Size of /dev/shm' },
  { name: 'uts', kind: 'string', group: 'runtime', help: 'UTS namespace to use' },
  { name: 'runtime', kind: 'string', group: 'runtime', help: 'Runtime to use for this container' },
  { name: 'init', kind: 'bool', group: 'runtime', help: 'Run an init inside the container that forwards signals and reaps processes', minApi: '1.25' },
  { name: 'annotation', kind: 'list', group: 'runtime', help: 'Add an annotation to the container (passed through to the OCI runtime)', minApi: '1.43', valueName: 'map' },
  { name: 'help', kind: 'bool', group: 'client', help: 'Print usage' },
  // sdocker's own
  { name: 'policy', kind: 'string', group: 'sdocker', help: 'Policy level (restricted, baseline, privileged) or a profile file', valueName: 'name|file' },
  { name: 'profile', kind: 'string', group: 'sdocker', help: 'Project profile file (default: sdocker.yaml found from the working directory up, or $SDOCKER_PROFILE)' },
  { name: 'policy-mode', kind: 'string', group: 'sdocker', help: 'enforce (refuse), warn (allow and warn) or audit (allow and record)', defaultValue: 'enforce' },
  { name: 'dry-run', kind: 'bool', group: 'sdocker', help: 'Print the hardened container, each change and the equivalent docker command; create nothing' },
  { name: 'watch', kind: 'duration', group: 'sdocker', help: 'With -d: watch the container this long after start and explain why it died (default 3s; 0 or --no-watch: return at once, as docker)', valueName: 'duration' },
  { name: 'no-watch', kind: 'bool', group: 'sdocker', help: 'With -d: return at once after start, as docker does (no watch, no diagnosis)' },
  { name: 'update-lock', kind: 'bool', group: 'sdocker', help: 'Accept an image other than the one sdocker.lock pins for its reference, and pin it' },
  { name: 'output', kind: 'string', group: 'sdocker', help: 'Output format for sdocker\'s own reports: text or json', defaultValue: 'text' },
];

const byLong = new Map<string, FlagSpec>();
const byShort = new Map<string, FlagSpec>();
for (const f of FLAGS) {
  byLong.set(f.name, f);
  for (const a of f.aliases ?? []) byLong.set(a, f);
  if (f.short) byShort.set(f.short, f);
}

export function flagByLong(name: string): FlagSpec | undefined {
  return byLong.get(name);
}

export function flagByShort(letter: string): FlagSpec | undefined {
  return byShort.get(letter);
}

/** `-c, --cpu-shares` or `--rm`: how docker names a flag in its messages. */
export function flagLabel(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
}
