import type { DeviceRequest, ThrottleDevice, Ulimit, WeightDevice } from '../../api/types.js';
import { readCsvRecord } from './csv.js';
import { parseRamBytes } from './go-numbers.js';

const ULIMIT_NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice',
  'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
]);

/** go-units ParseUlimit: `nofile=1024[:2048]`. */
export function parseUlimit(val: string): Ulimit {
  const eq = val.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const limits = val.slice(eq + 1).split(':');
  if (limits.length > 2) throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const dec = (s: string) => {
    if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
    return Number(s);
  };
  const soft = dec(limits[0] as string);
  const hard = limits.length === 2 ? dec(limits[1] as string) : soft;
  if (hard !== -1 && soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

/** All `--ulimit` values: one per name (the last wins), sorted by name. */
export function parseUlimits(values: readonly string[]): Ulimit[] {
  const byName = new Map<string, Ulimit>();
  for (const v of values) {
    const u = parseUlimit(v);
    byName.set(u.Name, u);
  }
  return [...byName.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

function deviceAndValue(val: string): [string, string] {
  const colon = val.indexOf(':');
  const k = colon < 0 ? '' : val.slice(0, colon);
  if (colon < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  return [k, val.slice(colon + 1)];
}

export function parseThrottleBps(val: string): ThrottleDevice {
  const [path, v] = deviceAndValue(val);
  try {
    return { Path: path, Rate: parseRamBytes(v) };
  } catch {
    throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  }
}

export function parseThrottleIops(val: string): ThrottleDevice {
  const [path, v] = deviceAndValue(val);
  if (!/^\d+$/.test(v)) throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  return { Path: path, Rate: Number(v) };
}

export function parseWeightDevice(val: string): WeightDevice {
  const [path, v] = deviceAndValue(val);
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`invalid weight for device: ${val}`);
  const weight = Number(v);
  if (weight > 0 && (weight < 10 || weight > 1000)) throw new Error(`invalid weight for device: ${val}`);
  return { Path: path, Weight: weight };
}

function gpuCount(s: string): number {
  if (s === 'all') return -1;
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`invalid count (${s}): value must be either "all" or an integer: invalid syntax`);
  return Number(s);
}

/** `--gpus all`, `--gpus '"device=1,2"'`, `--gpus count=2,capabilities=utility`. */
export function parseGpus(value: string): DeviceRequest {
  const req: DeviceRequest = {};
  const seen = new Set<string>();
  for (const field of readCsvRecord(value)) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      req.Count = gpuCount(key);
      continue;
    }
    switch (key) {
      case 'driver':
        req.Driver = val;
        break;
      case 'count':
        req.Count = gpuCount(val);
        break;
      case 'device':
        req.DeviceIDs = val.split(',');
        break;
      case 'capabilities':
        req.Capabilities = [[...val.split(','), 'gpu']];
        break;
      case 'options': {
        const opts: Record<string, string> = {};
        for (const kv of readCsvRecord(val)) {
          const i = kv.indexOf('=');
          opts[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
        }
        req.Options = opts;
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!seen.has('count') && req.DeviceIDs === undefined) req.Count = 1;
  req.Options ??= {};
  req.Capabilities ??= [['gpu']];
  return req;
}
