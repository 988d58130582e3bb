import { isAbsolute, resolve } from 'node:path';

export interface VolumeSpec {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
  propagation?: string;
  noCopy?: boolean;
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

/** The compose-style volume spec docker's CLI uses for `-v`: `[source:]target[:options]`. */
export function parseVolumeSpec(spec: string): VolumeSpec {
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  const vol: VolumeSpec = { type: 'volume', source: '', target: '', readOnly: false };
  if (spec.length <= 2) {
    vol.target = spec;
    return vol;
  }
  const fields = spec.split(':');
  let options: string | undefined;
  fields.forEach((field, idx) => {
    const last = idx === fields.length - 1;
    if (field === '') throw new Error(`invalid spec: ${spec}: empty section between colons`);
    if (vol.source === '' && last && idx === 0) vol.target = field;
    else if (vol.source === '' && idx === 0) vol.source = field;
    else if (vol.target === '') vol.target = field;
    else if (!last) throw new Error(`invalid spec: ${spec}: too many colons`);
    else options = field;
  });
  for (const option of options?.split(',') ?? []) {
    if (option === 'ro') vol.readOnly = true;
    else if (option === 'rw') vol.readOnly = false;
    else if (option === 'nocopy') vol.noCopy = true;
    else if (PROPAGATIONS.includes(option)) vol.propagation = option;
  }
  if (vol.source !== '' && ['.', '/', '~'].includes(vol.source[0] as string)) vol.type = 'bind';
  return vol;
}

export interface VolumeFlags {
  /** HostConfig.Binds, in the order given, duplicates removed. */
  binds: string[];
  /** Config.Volumes: anonymous volumes. */
  anonymous: string[];
}

/** Split `-v` values into binds (named volumes and host paths) and anonymous volumes, as docker does. */
export function splitVolumes(values: readonly string[], cwd: string): VolumeFlags {
  const binds: string[] = [];
  const anonymous: string[] = [];
  for (const v of new Set(values)) {
    const parsed = parseVolumeSpec(v);
    if (parsed.source === '') {
      anonymous.push(v);
      continue;
    }
    let bind = v;
    if (parsed.type === 'bind') {
      const colon = v.indexOf(':');
      let host = v.slice(0, colon);
      if (!isAbsolute(host) && host.startsWith('.')) host = resolve(cwd, host);
      bind = `${host}:${v.slice(colon + 1)}`;
    }
    binds.push(bind);
  }
  return { binds, anonymous };
}
