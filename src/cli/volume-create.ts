/**
 * `sdocker volume create`: the volume judged as `run` judges a volume it would create (driver,
 * driver options: binds and kernel filesystems as host paths, SD-MNT-006 otherwise). Allowed or
 * nothing to judge: handed to docker unchanged (the caller passes it through).
 */
import type { CreateBody } from '../api/types.js';
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { PolicyError, UsageError } from '../errors.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

export interface VolumeCreate {
  name?: string;
  driver: string;
  opts: Record<string, string>;
  help: boolean;
}

const VALUE_FLAGS: Record<string, 'driver' | 'label' | 'opt' | 'name'> = {
  '-d': 'driver', '--driver': 'driver', '-l': 'label', '--label': 'label', '-o': 'opt', '--opt': 'opt', '--name': 'name',
};

/** docker volume create's options (docker CLI 28); anything else (cluster-volume flags too) is refused, not guessed at. */
export function parseVolumeCreate(args: readonly string[]): VolumeCreate {
  const out: VolumeCreate = { driver: 'local', opts: {}, help: false };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') {
      out.help = true;
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const long = a.startsWith('--');
    const eq = long ? a.indexOf('=') : -1;
    const flag = long ? (eq < 0 ? a : a.slice(0, eq)) : a.slice(0, 2);
    const kind = VALUE_FLAGS[flag];
    if (!kind) throw new UsageError(`volume create: sdocker does not know the option ${flag} (not handed to docker)`);
    let value: string | undefined = long ? (eq < 0 ? undefined : a.slice(eq + 1)) : a.length > 2 ? a.slice(2).replace(/^=/, '') : undefined;
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`volume create: flag needs an argument: ${flag}`);
    }
    if (kind === 'driver') out.driver = value;
    else if (kind === 'name') out.name = value;
    else if (kind === 'opt') {
      const k = value.indexOf('=');
      out.opts[k < 0 ? value : value.slice(0, k)] = k < 0 ? '' : value.slice(k + 1);
    }
  }
  if (positional.length > 1) throw new UsageError('volume create: at most 1 argument');
  if (positional[0] !== undefined) {
    if (out.name !== undefined && out.name !== positional[0]) throw new UsageError(`volume create: conflicting options: either specify --name or provide positional arg, not both`);
    out.name = positional[0];
  }
  return out;
}

/** The volume as `run` would create it: one --mount of it. */
export function volumeBody(v: VolumeCreate): CreateBody {
  return {
    Image: '',
    HostConfig: {
      Mounts: [{ Type: 'volume', Target: '/volume', ...(v.name ? { Source: v.name } : {}), VolumeOptions: { DriverConfig: { Name: v.driver, Options: v.opts } } }],
    },
  } as CreateBody;
}

/** Refuses (throws PolicyError) what the policy refuses; returns normally when docker may have it. */
export async function judgeVolumeCreate(args: readonly string[], globals: GlobalOptions, io: ProcessIO): Promise<void> {
  const v = parseVolumeCreate(args);
  if (v.help || (v.driver === 'local' && Object.keys(v.opts).length === 0)) return;
  const [{ loadEffectiveProfile }, { effectiveMode }, { applyPolicy }, { engineFactsFrom }, { resolveHostPaths }, { formatViolations }, { allowPaths }] = await Promise.all([
    import('../policy/load-profile.js'), import('../policy/profile-effective.js'), import('../policy/apply.js'), import('../policy/facts.js'),
    import('../policy/resolve-paths.js'), import('../policy/explain.js'), import('../policy/paths.js'),
  ]);
  const profile = await loadEffectiveProfile({ cwd: io.cwd, env: io.env, seccomp: false });
  if (profile.unconfined) return;
  const endpoint = resolveEndpoint(globals, io.env);
  const client = new EngineClient(endpoint);
  let info;
  try {
    info = await client.json<Parameters<typeof engineFactsFrom>[0]>('GET', '/info');
  } finally {
    client.close();
  }
  const sockets = ['/var/run/docker.sock', '/run/docker.sock'];
  if (endpoint.host.startsWith('unix://')) sockets.push(endpoint.host.slice('unix://'.length));
  const body = volumeBody(v);
  const mode = effectiveMode(undefined, profile);
  const outcome = applyPolicy({
    body, image: undefined, engine: engineFactsFrom(info, sockets), profile, mode, hostPaths: resolveHostPaths(body, {}, io.cwd, allowPaths(profile.allow)), namedVolumes: {},
  });
  const found = outcome.violations.filter((x) => x.rule.startsWith('SD-MNT-'));
  if (found.length === 0) return;
  for (const f of found) f.flag = '--opt';
  io.stderr.write(`sdocker volume create: ${formatViolations(found, undefined, { level: profile.level, mode })}`);
  if (mode === 'enforce') throw new PolicyError('');
}
