/**
 * After create, before start: read the container (and each volume it mounts) back from the engine
 * and judge that view (src/policy/created.ts), independently of the code that built the request.
 * A difference in enforce mode refuses the run; runSession then removes the container with its
 * anonymous volumes (sdocker's bind volumes among them) and the cidfile. Warn mode says what
 * differs and goes on; audit mode and level privileged change nothing, so there is nothing to verify.
 */
import type { EngineApi } from '../engine/api.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';
import { EngineError, PolicyError } from '../errors.js';
import { createdDifferences, type ContainerInspect, type CreatedOptions, type VolumeInspects } from '../policy/created.js';
import { JOIN_FIELDS, joinRef } from '../policy/joins.js';
import { engineFactsFrom } from '../policy/facts.js';
import { contextOf, type Difference } from '../policy/invariants.js';
import { resolveHostPath } from '../policy/resolve-paths.js';
import { RULES } from '../policy/rules.js';
import type { EffectiveProfile, HostPaths, PolicyOutcome, Violation } from '../policy/types.js';
import { inspectJoined } from './facts.js';
import type { ProcessIO } from '../io/process-io.js';

/** The engine's view of a container and of the volumes it mounts (GETs in parallel). */
export async function readCreated(api: EngineApi, id: string): Promise<{ inspect: ContainerInspect; volumes: VolumeInspects }> {
  const inspect = await api.containers.inspect(id);
  if (!inspect) throw new EngineError(`No such container: ${id}`, 404);
  const names = [...new Set((inspect.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name as string))];
  const got = await Promise.all(names.map((n) => api.volumes.inspect(n)));
  const volumes: VolumeInspects = {};
  names.forEach((n, i) => {
    const v = got[i];
    if (!v) throw new EngineError(`get ${n}: no such volume`, 404);
    volumes[n] = v;
  });
  return { inspect, volumes };
}

/**
 * The full id, now, of each container a `container:<ref>` mode of the decided body names (the
 * engine stores a join by id). A reference the engine no longer knows is left out: the created
 * mode then differs from the decided text.
 */
export async function joinIdsOf(api: EngineApi, decided: CreateBody): Promise<Record<string, string>> {
  const hc = decided.HostConfig ?? {};
  const refs = [...new Set(JOIN_FIELDS.map((f) => joinRef(hc[f])).filter((r): r is string => r !== undefined))];
  const ids = await Promise.all(refs.map(async (ref) => (await api.containers.inspect(ref))?.Id));
  const out: Record<string, string> = {};
  refs.forEach((r, i) => {
    if (ids[i]) out[r] = ids[i];
  });
  return out;
}

/** Real paths, now, of every host path the engine's view names (bind sources, volume devices, devices). */
export function hostPathsNow(inspect: ContainerInspect, volumes: VolumeInspects): HostPaths {
  const raw = new Set<string>();
  for (const m of inspect.Mounts ?? []) if (m.Type === 'bind' && m.Source) raw.add(m.Source);
  for (const v of Object.values(volumes)) if (v.Options?.device?.startsWith('/')) raw.add(v.Options.device);
  for (const m of inspect.HostConfig.Mounts ?? []) {
    if (m.Type === 'bind' && m.Source) raw.add(m.Source);
    const dev = m.VolumeOptions?.DriverConfig?.Options?.device;
    if (dev?.startsWith('/')) raw.add(dev);
  }
  for (const d of inspect.HostConfig.Devices ?? []) if (d.PathOnHost) raw.add(d.PathOnHost);
  const out: HostPaths = {};
  for (const p of raw) out[p] = resolveHostPath(p);
  return out;
}

/** The differences as violations, for the run record and the refusal's text. */
function asViolations(found: Difference[]): Violation[] {
  return found.map((d) => {
    const r = d.rule ? RULES[d.rule] : undefined;
    return {
      rule: r?.id ?? 'verify', guideline: r?.guideline ?? 17, field: d.field, value: d.found, flag: r?.flag ?? d.field,
      subject: d.name, why: `the created container differs from the policy: ${d.name}${d.expected ? ` (expected ${d.expected})` : ''}`, allowWith: [],
    };
  });
}

export function describeDifferences(found: Difference[], refused: boolean): string {
  const head = refused
    ? `the container the engine created differs from what the policy allows; it was removed before start: ${found.length} difference${found.length === 1 ? '' : 's'}`
    : `warning: the container the engine created differs from what the policy decided: ${found.length} difference${found.length === 1 ? '' : 's'}`;
  const lines = found.map((d) => {
    const value = typeof d.found === 'string' ? d.found : JSON.stringify(d.found ?? null);
    return `  ${d.name}: ${d.field} is ${value.length > 200 ? `${value.slice(0, 200)}...` : value}${d.expected ? `; expected ${d.expected}` : ''}${d.rule ? ` [${d.rule}]` : ''}`;
  });
  return `sdocker: ${head}\n${lines.join('\n')}\n`;
}

/**
 * Read the created container back and judge it. Throws PolicyError (exit 125) on a difference in
 * enforce mode, after writing what differed to stderr and adding it to the outcome's violations.
 */
export async function verifyCreated(
  api: EngineApi,
  id: string,
  profile: EffectiveProfile,
  outcome: PolicyOutcome,
  info: EngineInfo,
  io: ProcessIO,
  image?: ImageInspect,
): Promise<void> {
  if (profile.unconfined || !outcome.applied) return;
  const joinIds = joinIdsOf(api, outcome.body);
  joinIds.catch(() => undefined);
  const { inspect, volumes } = await readCreated(api, id);
  const host = io.env.DOCKER_HOST;
  const sockets = ['/var/run/docker.sock', '/run/docker.sock', ...(host?.startsWith('unix://') ? [host.slice('unix://'.length)] : [])];
  // The containers the created one joins, by the ids the engine holds: a chain is followed to the host's namespaces.
  const containers = await inspectJoined(api, { ...inspect.Config, HostConfig: inspect.HostConfig });
  const ctx = { ...contextOf(profile, engineFactsFrom(info, sockets)), hostPaths: hostPathsNow(inspect, volumes), containers };
  const enforce = outcome.mode === 'enforce';
  // A user name is left to the identity check only when it is the one the policy saw (the image's USER may have changed since).
  const opts: CreatedOptions = { invariants: enforce, joinIds: await joinIds };
  if (image) {
    opts.imageUser = image.Config?.User ?? '';
    opts.imageId = image.Id;
  }
  const found = createdDifferences(inspect, volumes, outcome.body, ctx, opts);
  if (found.length === 0) return;
  outcome.violations.push(...asViolations(found));
  io.stderr.write(describeDifferences(found, enforce));
  if (enforce) {
    outcome.refused = true;
    throw new PolicyError('');
  }
}
