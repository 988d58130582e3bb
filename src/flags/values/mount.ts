import { isAbsolute, resolve } from 'node:path';
import type { MountSpec } from '../../api/types.js';
import { parseGoBool, parseRamBytes } from './go-numbers.js';
import { readCsvRecord } from './csv.js';

/** `--mount type=bind,src=/a,dst=/b,readonly` with docker CLI 28's keys and checks. */
export function parseMount(value: string, cwd: string): MountSpec {
  const fields = readCsvRecord(value);
  const m: MountSpec & { Type: string } = { Type: 'volume', Target: '' };
  const volumeOptions = () => {
    m.VolumeOptions ??= { Labels: {}, DriverConfig: {} };
    m.VolumeOptions.DriverConfig ??= {};
    return m.VolumeOptions;
  };
  const bindOptions = () => (m.BindOptions ??= {});
  const tmpfsOptions = () => (m.TmpfsOptions ??= {});
  const setOnMap = (target: Record<string, string>, v: string) => {
    const eq = v.indexOf('=');
    const k = eq < 0 ? v : v.slice(0, eq);
    if (k !== '') target[k] = eq < 0 ? '' : v.slice(eq + 1);
  };
  let readOnlyNonRecursive = false;
  let readOnlyForceRecursive = false;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.ReadOnly = true;
          continue;
        case 'volume-nocopy':
          volumeOptions().NoCopy = true;
          continue;
        case 'bind-nonrecursive':
          bindOptions().NonRecursive = true;
          continue;
        default:
          throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
    }
    const bool = () => {
      try {
        return parseGoBool(val);
      } catch {
        throw new Error(`invalid value for ${key}: ${val}`);
      }
    };
    switch (key) {
      case 'type':
        m.Type = val.toLowerCase() as MountSpec['Type'];
        break;
      case 'source':
      case 'src':
        m.Source = !isAbsolute(val) && val.startsWith('.') ? resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool();
        break;
      case 'consistency':
        m.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = bool();
        break;
      case 'bind-recursive':
        if (val === 'enabled') break;
        if (val === 'disabled') bindOptions().NonRecursive = true;
        else if (val === 'writable') {
          bindOptions();
          readOnlyNonRecursive = true;
        } else if (val === 'readonly') {
          bindOptions();
          readOnlyForceRecursive = true;
        } else throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        try {
          volumeOptions().NoCopy = parseGoBool(val);
        } catch {
          throw new Error(`invalid value for volume-nocopy: ${val}`);
        }
        break;
      case 'volume-label':
        setOnMap((volumeOptions().Labels ??= {}), val);
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig!.Name = val;
        break;
      case 'volume-opt':
        setOnMap((volumeOptions().DriverConfig!.Options ??= {}), val);
        break;
      case 'image-subpath':
        throw new Error(`mount option 'image-subpath' needs Engine API 1.48; this engine speaks 1.41`);
      case 'tmpfs-size':
        try {
          tmpfsOptions().SizeBytes = parseRamBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = parseInt(val, 8);
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if ((m.Type as string) === '') throw new Error('type is required');
  if (m.Target === '') throw new Error('target is required');
  if (m.VolumeOptions && m.Type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.BindOptions && m.Type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.TmpfsOptions && m.Type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  if (readOnlyNonRecursive) throw new Error(`option 'bind-recursive=writable' needs Engine API 1.44; this engine speaks 1.41`);
  if (readOnlyForceRecursive) throw new Error(`option 'bind-recursive=readonly' needs Engine API 1.44; this engine speaks 1.41`);
  return m;
}
