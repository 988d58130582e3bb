import { posix } from 'node:path';
import type { DeviceMapping } from '../../api/types.js';

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

/** A CDI device name (`vendor.com/class=name`), sent as a device request to the `cdi` driver. */
export function isCdiName(device: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9._-]*=[a-zA-Z0-9_.:-]+$/.test(device) && !device.startsWith('/');
}

/** `--device /dev/x[:/dev/y][:rwm]`, validated and split as docker does for a Linux engine. */
export function parseDevice(device: string): DeviceMapping {
  if ((device.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${device}`);
  const split = device.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${device}`);
  let containerPath: string;
  let validated: string;
  if (split.length === 1) {
    containerPath = split[0] as string;
    validated = posix.normalize(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1] as string)) {
      containerPath = split[0] as string;
      validated = `${posix.normalize(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1] as string;
      validated = `${split[0]}:${posix.normalize(containerPath)}`;
    }
  } else {
    containerPath = split[1] as string;
    if (!validDeviceMode(split[2] as string)) throw new Error(`bad mode specified: ${split[2]}`);
    validated = device;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  const arr = validated.split(':');
  const src = arr[0] as string;
  let dst = '';
  let permissions = 'rwm';
  if (arr.length === 3) permissions = arr[2] as string;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1] as string)) permissions = arr[1] as string;
    else dst = arr[1] as string;
  }
  if (dst === '') dst = src;
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: permissions };
}

export function validateDeviceCgroupRule(val: string): string {
  if (/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(val)) return val;
  throw new Error(`invalid device cgroup format '${val}'`);
}
