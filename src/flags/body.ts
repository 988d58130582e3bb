import { UsageError } from '../errors.js';
import type { Flags } from './parse.js';
import { isCdiName, parseDevice, validateDeviceCgroupRule } from './values/devices.js';
import {
  kvToMap, parseKvFile, validateDnsSearch, validateEnv, validateExtraHost, validateIpAddress,
  validateLabel, validateLink, validateSysctl,
} from './values/kv.js';
import { parseMount } from './values/mount.js';
import { isValidMac, networkEndpoints, parseNetworkOpt } from './values/network.js';
import { parseExpose, parsePublish } from './values/ports.js';
import {
  parseGpus, parseThrottleBps, parseThrottleIops, parseUlimits, parseWeightDevice,
} from './values/resources.js';
import { splitVolumes } from './values/volumes.js';
import { JsonSyntaxError, parseJsonLocated } from '../text/json-located.js';
import type { CreateBody, DeviceMapping, DeviceRequest, HealthConfig, HostConfig } from '../api/types.js';

/** What building the body may read: handed in, so the builder itself does no I/O. */
export interface BodyContext {
  cwd: string;
  env: Record<string, string | undefined>;
  /**
   * Reads a file named on the command line (--env-file, --label-file, a seccomp profile) as UTF-8
   * text; the shell's reader (src/fs/read-bounded.ts) refuses what is not a regular file under the
   * kind's size limit. Its errors carry `code` (ENOENT, EILSEQ with `line`...) and never the bytes.
   */
  readFile(path: string, kind: 'seccomp' | 'env-file' | 'label-file'): string;
  /**
   * The proxies of the docker config (`proxies` in config.json) for this daemon host. docker run
   * and create pass them as HTTP_PROXY/http_proxy... unless -e sets them.
   */
  proxies?: ProxyConfig;
}

export interface ProxyConfig {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  ftpProxy?: string;
  allProxy?: string;
}

/**
 * docker's ParseProxyConfig (run and create): the -e values always go through a map keyed by name
 * (so a repeated name keeps its last value; docker's order is then random), and each configured
 * proxy is added, upper and lower case, unless -e named it.
 */
function withProxies(env: string[], proxies: ProxyConfig): string[] {
  const m = new Map<string, string | undefined>();
  for (const e of env) {
    const eq = e.indexOf('=');
    m.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? undefined : e.slice(eq + 1));
  }
  const permitted: [string, string | undefined][] = [
    ['HTTP_PROXY', proxies.httpProxy],
    ['HTTPS_PROXY', proxies.httpsProxy],
    ['NO_PROXY', proxies.noProxy],
    ['FTP_PROXY', proxies.ftpProxy],
    ['ALL_PROXY', proxies.allProxy],
  ];
  for (const [k, v] of permitted) {
    if (!v) continue;
    if (!m.has(k)) m.set(k, v);
    if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), v);
  }
  return [...m].map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
}

function fail(flag: string | undefined, err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  throw new UsageError(flag ? `${flag}: ${msg}` : msg);
}

/** Run a validator over every value of a list flag; errors name the flag. */
function each<T>(flags: Flags, name: string, fn: (v: string) => T): T[] {
  return flags.list(name).map((v) => {
    try {
      return fn(v);
    } catch (err) {
      return fail(`--${name}`, err);
    }
  });
}

/** The Go client's normalizeCapabilities: upper case, CAP_ prefix (ALL aside), unique, sorted. */
export function normalizeCapabilities(caps: readonly string[]): string[] | null {
  const out = new Set<string>();
  for (const c of caps) {
    const up = c.toUpperCase();
    out.add(up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`);
  }
  return out.size > 0 ? [...out].sort() : null;
}

function emptyToNull(v: string[]): string[] | null {
  return v.length > 0 ? v : null;
}

function parseSecurityOpts(values: string[], ctx: BodyContext): { opts: string[]; unconfinedPaths: boolean } {
  const opts: string[] = [];
  let unconfinedPaths = false;
  for (const opt of values) {
    let sep = opt.indexOf('=');
    let k = sep < 0 ? opt : opt.slice(0, sep);
    if (sep < 0 && k !== 'no-new-privileges') {
      sep = opt.indexOf(':');
      k = sep < 0 ? opt : opt.slice(0, sep);
    }
    const v = sep < 0 ? '' : opt.slice(sep + 1);
    if ((sep < 0 || v === '') && k !== 'no-new-privileges') fail(undefined, `Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (opt === 'systempaths=unconfined') {
      unconfinedPaths = true;
      continue;
    }
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let text: string;
      try {
        text = ctx.readFile(v, 'seccomp');
      } catch (err) {
        return fail(undefined, `opening seccomp profile (${v}) failed: ${readError(err, v)}`);
      }
      opts.push(`seccomp=${compactJson(text, v)}`);
      continue;
    }
    opts.push(opt);
  }
  return { opts, unconfinedPaths };
}

function readKvFiles(flags: Flags, name: string, ctx: BodyContext, lookup?: (k: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const file of flags.list(name)) {
    let text: string;
    try {
      text = ctx.readFile(file, name === 'env-file' ? 'env-file' : 'label-file');
    } catch (err) {
      const e = err as { code?: string; line?: number };
      if (e.code === 'ENOENT') return fail(`--${name}`, `open ${file}: no such file or directory`);
      if (e.code === 'EILSEQ' && e.line !== undefined) return fail(`--${name}`, `invalid env file (${file}): invalid utf8 bytes at line ${e.line}`);
      return fail(`--${name}`, readError(err, file));
    }
    try {
      out.push(...parseKvFile(text, file, lookup));
    } catch (err) {
      return fail(`--${name}`, err);
    }
  }
  return out;
}

/** A read error's text: the reader's reason (it names no bytes), else the system's message. */
function readError(err: unknown, file: string): string {
  const e = err as { reason?: string; code?: string; message?: string };
  if (typeof e.reason === 'string') return `${file}: ${e.reason}`;
  return e.code === 'ENOENT' ? `open ${file}: no such file or directory` : String(e.message ?? err);
}

/**
 * docker's json.Compact of a seccomp file. On bad JSON the message gives the line, column and
 * what was expected (from the located parser), never the text: node's JSON.parse quotes the
 * first bytes of the file, which would print any file the user can read.
 */
function compactJson(text: string, file: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    let where = '';
    try {
      parseJsonLocated(text);
      where = 'nested too deeply';
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      where = `line ${err.position.line}, column ${err.position.column}: ${err.message}`;
    }
    return fail(undefined, `compacting json for seccomp profile (${file}) failed: ${where}`);
  }
}

function healthConfig(flags: Flags): HealthConfig | undefined {
  const cmd = flags.str('health-cmd');
  const interval = flags.num('health-interval');
  const timeout = flags.num('health-timeout');
  const startPeriod = flags.num('health-start-period');
  const retries = flags.num('health-retries');
  const any = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0;
  if (flags.bool('no-healthcheck')) {
    if (any) fail(undefined, '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (interval < 0) fail(undefined, '--health-interval cannot be negative');
  if (timeout < 0) fail(undefined, '--health-timeout cannot be negative');
  if (retries < 0) fail(undefined, '--health-retries cannot be negative');
  if (startPeriod < 0) fail(undefined, '--health-start-period cannot be negative');
  const hc: HealthConfig = { Interval: interval, Timeout: timeout, StartPeriod: startPeriod, Retries: retries };
  if (cmd !== '') hc.Test = ['CMD-SHELL', cmd];
  return hc;
}

function validateMode(value: string, flag: string, what: string, extra: (v: string) => boolean): string {
  if (value === '' || value === 'host' || extra(value)) return value;
  return fail(undefined, `--${flag}: invalid ${what} mode`);
}

const isContainerRef = (v: string) => v.startsWith('container:') && v.length > 'container:'.length;

/**
 * The Engine API create body for `docker run`/`docker create` flags, built as docker CLI 28.2
 * builds it (cli/command/container/opts.go `parse`), so that with no policy applied the engine
 * creates exactly the container docker would.
 */
export function toCreateBody(flags: Flags, image: string, args: string[], ctx: BodyContext): CreateBody {
  const attach = each(flags, 'attach', (v) => {
    const s = v.toLowerCase();
    if (!['stdin', 'stdout', 'stderr'].includes(s)) throw new Error('valid streams are STDIN, STDOUT and STDERR');
    return s;
  });
  const mac = flags.str('mac-address');
  if (mac !== '' && !isValidMac(mac)) fail(undefined, `${mac} is not a valid mac address`);
  const openStdin = flags.bool('interactive');
  const attachStdin = attach.includes('stdin') || openStdin;
  const attachStdout = attach.length === 0 || attach.includes('stdout');
  const attachStderr = attach.length === 0 || attach.includes('stderr');

  const swappiness = flags.num('memory-swappiness', -1);
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    fail(undefined, `invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  let volumes;
  try {
    volumes = splitVolumes(flags.list('volume'), ctx.cwd);
  } catch (err) {
    return fail(undefined, err);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of flags.list('tmpfs')) {
    const c = t.indexOf(':');
    tmpfs[c < 0 ? t : t.slice(0, c)] = c < 0 ? '' : t.slice(c + 1);
  }

  let entrypoint: string[] | undefined;
  if (flags.str('entrypoint') !== '') entrypoint = [flags.str('entrypoint')];
  else if (flags.has('entrypoint')) entrypoint = [''];

  let publish;
  try {
    publish = parsePublish(flags.list('publish'));
  } catch (err) {
    return fail(undefined, err);
  }
  const exposedPorts: Record<string, Record<string, never>> = {};
  for (const p of publish.exposed) exposedPorts[p] = {};
  try {
    for (const p of parseExpose(flags.list('expose'))) exposedPorts[p] = {};
  } catch (err) {
    fail(undefined, err);
  }

  const devices: DeviceMapping[] = [];
  const cdiNames: string[] = [];
  for (const d of flags.list('device')) {
    if (isCdiName(d)) cdiNames.push(d);
    else {
      try {
        devices.push(parseDevice(d));
      } catch (err) {
        fail(undefined, err);
      }
    }
  }

  const typedEnv = each(flags, 'env', (v) => validateEnv(v, ctx.env));
  const envVars = [
    ...readKvFiles(flags, 'env-file', ctx, (k) => ctx.env[k]),
    ...withProxies(typedEnv, ctx.proxies ?? {}),
  ];
  const labels = [...readKvFiles(flags, 'label-file', ctx), ...each(flags, 'label', validateLabel)];

  const pidMode = validateMode(flags.str('pid'), 'pid', 'PID', isContainerRef);
  const utsMode = validateMode(flags.str('uts'), 'uts', 'UTS', () => false);
  const usernsMode = validateMode(flags.str('userns'), 'userns', 'USER', () => false);
  const cgroupnsMode = validateMode(flags.str('cgroupns'), 'cgroupns', 'CGROUP', (v) => v === 'private');

  const restart = flags.has('restart') ? flags.str('restart') : 'no';
  const restartPolicy = { Name: '', MaximumRetryCount: 0 };
  if (restart !== '') {
    const c = restart.indexOf(':');
    const name = c < 0 ? restart : restart.slice(0, c);
    const count = c < 0 ? '' : restart.slice(c + 1);
    if (c >= 0 && name === '') fail(undefined, 'invalid restart policy format: no policy provided before colon');
    if (count !== '') {
      if (!/^[+-]?\d+$/.test(count)) fail(undefined, 'invalid restart policy format: maximum retry count must be an integer');
      restartPolicy.MaximumRetryCount = Number(count);
    }
    restartPolicy.Name = name;
  }

  const logDriver = flags.str('log-driver');
  const logOpts = flags.list('log-opt');
  if (logDriver === 'none' && logOpts.length > 0) fail(undefined, `invalid logging opts for driver ${logDriver}`);

  const security = parseSecurityOpts(flags.list('security-opt'), ctx);

  const storageOpt: Record<string, string> = {};
  for (const o of flags.list('storage-opt')) {
    const eq = o.indexOf('=');
    if (eq < 0) fail(undefined, 'invalid storage option');
    storageOpt[o.slice(0, eq)] = o.slice(eq + 1);
  }

  const health = healthConfig(flags);

  const deviceRequests: DeviceRequest[] = each(flags, 'gpus', parseGpus);
  if (cdiNames.length > 0) deviceRequests.push({ Driver: 'cdi', DeviceIDs: cdiNames });

  const mounts = each(flags, 'mount', (v) => parseMount(v, ctx.cwd));
  const sysctls = kvToMap(each(flags, 'sysctl', validateSysctl));
  const networks = each(flags, 'network', parseNetworkOpt);

  const ip = flags.str('ip');
  const ip6 = flags.str('ip6');
  let endpoints;
  try {
    endpoints = networkEndpoints(networks, {
      aliases: flags.list('network-alias'),
      links: flags.list('link'),
      ipv4: ip !== '' ? ip : undefined,
      ipv6: ip6 !== '' ? ip6 : undefined,
      macAddress: mac !== '' ? mac : undefined,
      linkLocalIps: flags.list('link-local-ip'),
    });
  } catch (err) {
    return fail(undefined, err);
  }
  const networkMode = networks[0]?.target ?? 'default';

  const hostConfig: HostConfig = {
    Binds: emptyToNull(volumes.binds),
    ContainerIDFile: flags.str('cidfile'),
    OomScoreAdj: flags.num('oom-score-adj'),
    AutoRemove: flags.bool('rm'),
    Privileged: flags.bool('privileged'),
    PortBindings: publish.bindings,
    Links: emptyToNull(each(flags, 'link', validateLink)),
    PublishAllPorts: flags.bool('publish-all'),
    Dns: each(flags, 'dns', validateIpAddress),
    DnsSearch: each(flags, 'dns-search', validateDnsSearch),
    DnsOptions: flags.list('dns-option'),
    ExtraHosts: emptyToNull(each(flags, 'add-host', validateExtraHost)),
    VolumesFrom: emptyToNull(flags.list('volumes-from')),
    IpcMode: flags.str('ipc'),
    NetworkMode: networkMode,
    PidMode: pidMode,
    UTSMode: utsMode,
    UsernsMode: usernsMode,
    CgroupnsMode: cgroupnsMode,
    CapAdd: normalizeCapabilities(flags.list('cap-add')),
    CapDrop: normalizeCapabilities(flags.list('cap-drop')),
    GroupAdd: emptyToNull(flags.list('group-add')),
    RestartPolicy: restartPolicy,
    // docker filters systempaths=unconfined out of a non-nil list: given any --security-opt, the list is there.
    SecurityOpt: flags.list('security-opt').length > 0 ? security.opts : null,
    StorageOpt: storageOpt,
    ReadonlyRootfs: flags.bool('read-only'),
    LogConfig: { Type: logDriver, Config: kvToMap(logOpts) },
    VolumeDriver: flags.str('volume-driver'),
    Isolation: flags.str('isolation'),
    ShmSize: flags.num('shm-size'),
    Tmpfs: tmpfs,
    Sysctls: sysctls,
    Runtime: flags.str('runtime'),
    Mounts: mounts,
    // Resources
    CgroupParent: flags.str('cgroup-parent'),
    Memory: flags.num('memory'),
    MemoryReservation: flags.num('memory-reservation'),
    MemorySwap: flags.num('memory-swap'),
    MemorySwappiness: swappiness,
    OomKillDisable: flags.bool('oom-kill-disable'),
    NanoCpus: flags.num('cpus'),
    CpuShares: flags.num('cpu-shares'),
    CpuPeriod: flags.num('cpu-period'),
    CpusetCpus: flags.str('cpuset-cpus'),
    CpusetMems: flags.str('cpuset-mems'),
    CpuQuota: flags.num('cpu-quota'),
    CpuRealtimePeriod: flags.num('cpu-rt-period'),
    CpuRealtimeRuntime: flags.num('cpu-rt-runtime'),
    PidsLimit: flags.num('pids-limit'),
    BlkioWeight: flags.num('blkio-weight'),
    BlkioWeightDevice: each(flags, 'blkio-weight-device', parseWeightDevice),
    BlkioDeviceReadBps: each(flags, 'device-read-bps', parseThrottleBps),
    BlkioDeviceWriteBps: each(flags, 'device-write-bps', parseThrottleBps),
    BlkioDeviceReadIOps: each(flags, 'device-read-iops', parseThrottleIops),
    BlkioDeviceWriteIOps: each(flags, 'device-write-iops', parseThrottleIops),
    KernelMemory: flags.num('kernel-memory'),
    Ulimits: (() => {
      try {
        return parseUlimits(flags.list('ulimit'));
      } catch (err) {
        return fail('--ulimit', err);
      }
    })(),
    DeviceCgroupRules: emptyToNull(each(flags, 'device-cgroup-rule', validateDeviceCgroupRule)),
    Devices: devices,
    DeviceRequests: deviceRequests.length > 0 ? deviceRequests : null,
  };
  if (security.unconfinedPaths) {
    hostConfig.MaskedPaths = [];
    hostConfig.ReadonlyPaths = [];
  }
  if (flags.bool('rm') && restartPolicy.Name !== '' && restartPolicy.Name !== 'no') {
    fail(undefined, 'conflicting options: cannot specify both --restart and --rm');
  }
  if (flags.has('init')) hostConfig.Init = flags.bool('init');

  const anonymous: Record<string, Record<string, never>> = {};
  for (const v of volumes.anonymous) anonymous[v] = {};

  const body: CreateBody = {
    Hostname: flags.str('hostname'),
    Domainname: flags.str('domainname'),
    User: flags.str('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: exposedPorts,
    Tty: flags.bool('tty'),
    OpenStdin: openStdin,
    StdinOnce: openStdin && attachStdin,
    Env: envVars,
    Cmd: args.length > 0 ? args : null,
    Image: image,
    Volumes: anonymous,
    WorkingDir: flags.str('workdir'),
    Entrypoint: entrypoint ?? null,
    Labels: kvToMap(labels),
    StopSignal: flags.str('stop-signal'),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  if (health) body.Healthcheck = health;
  if (flags.has('stop-timeout')) body.StopTimeout = flags.num('stop-timeout');
  // API 1.41 knows the MAC address only on Config (per-endpoint MAC addresses came in 1.44).
  const primary = endpoints[networkMode];
  if (primary?.MacAddress) {
    body.MacAddress = primary.MacAddress;
    delete primary.MacAddress;
  }
  return body;
}
