/**
 * The fields of a `POST /containers/create` body the door knows (Engine API 1.41: moby's
 * container.Config, HostConfig with its Resources, NetworkingConfig), and the body canonicalised
 * as the engine's Go decoder reads it (pure):
 * - Go matches a struct field's name case-insensitively (`privileged` sets `Privileged`): every
 *   struct key is renamed to its canonical spelling, and a field given twice in different cases
 *   is refused, so what the policy judges is what the engine reads. Map keys (labels, sysctls,
 *   tmpfs, driver options) are data and keep their spelling.
 * - A field not in the allowlist, set to anything but its zero value, is refused (SD-DOOR-001):
 *   newer API fields (Annotations, Mounts' Subpath/CreateMountpoint, StartInterval...), Windows
 *   fields, and fields the policy does not judge (HostConfig.Cgroup, non-empty MaskedPaths /
 *   ReadonlyPaths lists that would replace the engine's own) never reach the engine unjudged.
 */
import type { CreateBody } from '../../api/types.js';
import { isObject, isZero, type JsonObject } from './body.js';

type Shape = 'leaf' | 'map' | { struct: Record<string, Shape> } | { array: Shape } | { mapOf: Shape };

const leaf = 'leaf' as const;
const map = 'map' as const;
const struct = (fields: Record<string, Shape>): Shape => ({ struct: fields });
const arrayOf = (s: Shape): Shape => ({ array: s });
const leaves = (...names: string[]): Record<string, Shape> => Object.fromEntries(names.map((n) => [n, leaf]));

const THROTTLE = arrayOf(struct(leaves('Path', 'Rate')));
const MOUNT = struct({
  ...leaves('Type', 'Source', 'Target', 'ReadOnly', 'Consistency'),
  BindOptions: struct(leaves('Propagation', 'NonRecursive')),
  VolumeOptions: struct({ NoCopy: leaf, Labels: map, DriverConfig: struct({ Name: leaf, Options: map }) }),
  TmpfsOptions: struct(leaves('SizeBytes', 'Mode')),
});

export const HOST_CONFIG = struct({
  ...leaves(
    'Binds', 'ContainerIDFile', 'NetworkMode', 'AutoRemove', 'VolumeDriver', 'VolumesFrom', 'CapAdd', 'CapDrop', 'CgroupnsMode',
    'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IpcMode', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged',
    'PublishAllPorts', 'ReadonlyRootfs', 'SecurityOpt', 'UTSMode', 'UsernsMode', 'ShmSize', 'Runtime', 'ConsoleSize', 'Isolation',
    'MaskedPaths', 'ReadonlyPaths', 'Init',
    // Resources
    'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod',
    'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'DeviceCgroupRules', 'KernelMemory', 'KernelMemoryTCP',
    'MemoryReservation', 'MemorySwap', 'MemorySwappiness', 'OomKillDisable', 'PidsLimit',
  ),
  LogConfig: struct({ Type: leaf, Config: map }),
  PortBindings: { mapOf: arrayOf(struct(leaves('HostIp', 'HostPort'))) },
  RestartPolicy: struct(leaves('Name', 'MaximumRetryCount')),
  Mounts: arrayOf(MOUNT),
  StorageOpt: map,
  Tmpfs: map,
  Sysctls: map,
  BlkioWeightDevice: arrayOf(struct(leaves('Path', 'Weight'))),
  BlkioDeviceReadBps: THROTTLE,
  BlkioDeviceWriteBps: THROTTLE,
  BlkioDeviceReadIOps: THROTTLE,
  BlkioDeviceWriteIOps: THROTTLE,
  Devices: arrayOf(struct(leaves('PathOnHost', 'PathInContainer', 'CgroupPermissions'))),
  DeviceRequests: arrayOf(struct({ ...leaves('Driver', 'Count', 'DeviceIDs', 'Capabilities'), Options: map })),
  Ulimits: arrayOf(struct(leaves('Name', 'Soft', 'Hard'))),
});

const ENDPOINT = struct({
  IPAMConfig: struct(leaves('IPv4Address', 'IPv6Address', 'LinkLocalIPs')),
  ...leaves('Links', 'Aliases', 'NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPPrefixLen', 'IPv6Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'MacAddress'),
  DriverOpts: map,
});

export const CREATE_BODY = struct({
  ...leaves(
    'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd',
    'ArgsEscaped', 'Image', 'WorkingDir', 'Entrypoint', 'NetworkDisabled', 'MacAddress', 'OnBuild', 'StopSignal', 'StopTimeout', 'Shell',
  ),
  ExposedPorts: map,
  Volumes: map,
  Labels: map,
  Healthcheck: struct(leaves('Test', 'Interval', 'Timeout', 'StartPeriod', 'Retries')),
  HostConfig: HOST_CONFIG,
  NetworkingConfig: struct({ EndpointsConfig: { mapOf: ENDPOINT } }),
});

/** Rename struct keys to their canonical case, collect what the door cannot accept. */
function canon(value: unknown, shape: Shape, path: string, problems: string[]): unknown {
  if (value === null || value === undefined || shape === 'leaf') return value;
  if (shape === 'map') {
    if (!isObject(value)) problems.push(`${path} is not an object`);
    return value;
  }
  if ('array' in shape) {
    if (!Array.isArray(value)) {
      problems.push(`${path} is not a list`);
      return value;
    }
    return value.map((v, i) => canon(v, shape.array, `${path}[${i}]`, problems));
  }
  if (!isObject(value)) {
    problems.push(`${path} is not an object`);
    return value;
  }
  if ('mapOf' in shape) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = canon(v, shape.mapOf, `${path}.${k}`, problems);
    return out;
  }
  const byLower = new Map(Object.keys(shape.struct).map((k) => [k.toLowerCase(), k]));
  const out: JsonObject = {};
  const seen = new Map<string, string>();
  for (const [k, v] of Object.entries(value)) {
    const name = byLower.get(k.toLowerCase());
    const at = path ? `${path}.${name ?? k}` : (name ?? k);
    const prev = seen.get(k.toLowerCase());
    if (prev !== undefined) {
      problems.push(`${at} is given twice (${prev}, ${k}): the engine reads names without case`);
      continue;
    }
    seen.set(k.toLowerCase(), k);
    if (name === undefined) {
      if (!isZero(v)) problems.push(`${at} is not a field the door knows (API 1.41)`);
      continue;
    }
    out[name] = canon(v, shape.struct[name]!, at, problems);
  }
  return out;
}

/** What the policy does not judge, though the field is known: refused unless at its zero value. */
function unjudged(body: CreateBody, problems: string[]): void {
  const hc = body.HostConfig;
  const h = hc as unknown as JsonObject;
  if (typeof h.Cgroup === 'string' && h.Cgroup !== '') problems.push('HostConfig.Cgroup (another container\'s cgroup) is not judged by the policy');
  for (const f of ['MaskedPaths', 'ReadonlyPaths'] as const) {
    const v = hc[f];
    // null: the engine's own lists; []: systempaths=unconfined, judged by the policy (SD-PATHS-001)
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) problems.push(`HostConfig.${f} would replace the engine's own list; only [] (systempaths=unconfined, judged) is accepted`);
  }
  const eps = Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {});
  const mode = hc.NetworkMode ?? '';
  for (const net of eps) {
    if (net !== mode) problems.push(`NetworkingConfig.EndpointsConfig names network ${JSON.stringify(net)}, not the HostConfig.NetworkMode ${JSON.stringify(mode)} the policy judges`);
  }
}

/** The body as the engine reads it, or the list of what the door cannot accept. */
export function canonicalCreateBody(raw: unknown): { body: CreateBody } | { problems: string[] } {
  if (!isObject(raw)) return { problems: ['the body is not a JSON object'] };
  const problems: string[] = [];
  const out = canon(raw, CREATE_BODY, '', problems) as JsonObject;
  if (problems.length) return { problems };
  if (out.HostConfig === undefined || out.HostConfig === null) out.HostConfig = {};
  const body = out as unknown as CreateBody;
  unjudged(body, problems);
  if (typeof body.Image !== 'string' || body.Image === '') problems.push('Image is missing');
  return problems.length ? { problems } : { body };
}
