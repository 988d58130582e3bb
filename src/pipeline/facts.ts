/**
 * What the policy needs to know before it decides, read from the engine (I/O; the policy itself is
 * pure): GET /info, the image's inspect (pulling it first as docker would when it is missing), the
 * named volumes a request mounts, and the containers whose namespaces it joins.
 */
import type { ContainerJson, EngineApi, VolumeJson } from '../engine/api.js';
import type { PullOptions } from '../engine/pull.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';
import type { RunRequest } from '../flags/request.js';
import { linkRef, volumesFromRef } from '../policy/join-trust.js';
import { JOIN_DEPTH, JOIN_FIELDS, joinRef } from '../policy/joins.js';
import { isOwnLabelKey } from '../policy/own-labels.js';
import type { JoinedContainer, JoinedContainers } from '../policy/types.js';

export interface EarlyFacts {
  info: Promise<EngineInfo>;
  /** The image as it is now (undefined when missing); a pull, if needed, comes later. */
  image: Promise<ImageInspect | undefined>;
}

export function startFacts(api: EngineApi, req: Pick<RunRequest, 'pull' | 'image'>): EarlyFacts {
  const info = api.info();
  const image = req.pull === 'always' ? Promise.resolve(undefined) : api.images.inspect(req.image);
  info.catch(() => undefined);
  image.catch(() => undefined);
  return { info, image };
}

export interface Facts {
  info: EngineInfo;
  image: ImageInspect | undefined;
  pulled: boolean;
  namedVolumes: Record<string, { Driver?: string; Options?: Record<string, string> | null }>;
  /** Containers the request joins (`--pid container:x` ...) and those they join, to JOIN_DEPTH. */
  containers: JoinedContainers;
}

/**
 * The answers below, per image id: an id names the image's configuration (its digest), so its
 * labels never change; a long-lived door asks once per image, not on every attach or start.
 */
const ownLabelsById = new Map<string, boolean>();

/** Whether an image's labels (which its containers inherit) include sdocker's own keys. */
async function imageHasOwnLabels(api: EngineApi, image: string | undefined): Promise<boolean> {
  if (!image) return false;
  const known = ownLabelsById.get(image);
  if (known !== undefined) return known;
  const img = await api.images.inspect(image);
  // An image removed since: its labels cannot be checked, so they prove nothing.
  if (!img) return true;
  const own = Object.keys(img.Config?.Labels ?? {}).some(isOwnLabelKey);
  if (/^sha256:[0-9a-f]{64}$/.test(image) && img.Id === image) {
    ownLabelsById.set(image, own);
    if (ownLabelsById.size > 1024) ownLabelsById.delete(ownLabelsById.keys().next().value as string);
  }
  return own;
}

/**
 * Inspect every container a `container:<ref>` mode names, then those they join, level by level
 * (each level in parallel), JOIN_DEPTH levels deep. None when nothing is joined. A missing
 * container is left out: the engine refuses the create by itself.
 */
export async function inspectJoined(api: EngineApi, body: CreateBody): Promise<JoinedContainers> {
  const out: JoinedContainers = {};
  const refsOf = (hc: Partial<Record<string, unknown>> | undefined) =>
    JOIN_FIELDS.map((f) => joinRef(hc?.[f] as string | undefined)).filter((r): r is string => r !== undefined);
  let level = [...new Set([
    ...refsOf(body.HostConfig as Partial<Record<string, unknown>>),
    ...(body.HostConfig?.VolumesFrom ?? []).map(volumesFromRef),
    ...(body.HostConfig?.Links ?? []).map(linkRef),
  ])];
  for (let depth = 0; depth < JOIN_DEPTH && level.length > 0; depth++) {
    const found = await Promise.all(level.map(async (ref) => {
      const c: ContainerJson | undefined = await api.containers.inspect(ref);
      return c && ([ref, c, await imageHasOwnLabels(api, c.Image)] as const);
    }));
    const next = new Set<string>();
    for (const f of found) {
      if (!f) continue;
      const [ref, c, forged] = f;
      const hc: Partial<ContainerJson['HostConfig']> = c.HostConfig ?? {};
      const j: JoinedContainer = {
        Name: c.Name || c.Id, Privileged: hc.Privileged === true, Labels: c.Config?.Labels ?? null, User: c.Config?.User ?? '',
        CapAdd: hc.CapAdd ?? null, CapDrop: hc.CapDrop ?? null, ImageSdockerLabels: forged,
      };
      for (const k of JOIN_FIELDS) if (typeof hc[k] === 'string') j[k] = hc[k];
      out[ref] = j;
      for (const r of refsOf(hc)) if (!(r in out)) next.add(r);
    }
    level = [...next];
  }
  return out;
}

/** How the facts are read for one request: the pull's options, and remembered answers to decide on. */
export interface FactsOptions {
  /** Where pull progress and "Unable to find image" go (null: -q), with the credentials. */
  pull: PullOptions & { quiet: boolean };
  /** Decide on these instead of waiting for GET /info (the caller verifies them before start). */
  remembered?: EngineInfo | undefined;
  /** Likewise for the image: no wait for its inspect, no pull here (the session pulls on a 404). */
  rememberedImage?: ImageInspect | undefined;
}

/** GET /info, the image and the named volumes, in parallel; a missing image is pulled as docker would. */
export async function gatherFacts(
  api: EngineApi,
  req: Pick<RunRequest, 'pull' | 'image' | 'body' | 'sdocker'>,
  volumeNames: string[],
  early: EarlyFacts,
  opts: FactsOptions,
): Promise<Facts> {
  let pulled = false;
  const imageFacts = async (): Promise<ImageInspect | undefined> => {
    if (req.pull === 'always') {
      await (await import('../engine/pull.js')).pullImage(api, req.image, opts.pull);
    } else {
      const found = await early.image;
      if (found || req.pull === 'never' || req.sdocker.dryRun) return found;
      await (await import('../engine/pull.js')).pullMissing(api, req.image, opts.pull);
    }
    pulled = true;
    return api.images.inspect(req.image);
  };
  const inspectVolume = async (name: string) => {
    const v: VolumeJson | undefined = await api.volumes.inspect(name);
    return v && ([name, { Driver: v.Driver, Options: v.Options ?? null }] as const);
  };
  const joins = JOIN_FIELDS.some((f) => joinRef(req.body.HostConfig[f]) !== undefined) || (req.body.HostConfig.VolumesFrom ?? []).length > 0
    || (req.body.HostConfig.Links ?? []).length > 0;
  const [info, image, volumes, containers] = await Promise.all([
    opts.remembered ?? early.info, opts.rememberedImage ?? imageFacts(), Promise.all(volumeNames.map(inspectVolume)), joins ? inspectJoined(api, req.body) : {},
  ]);
  const namedVolumes: Facts['namedVolumes'] = {};
  for (const v of volumes) if (v) namedVolumes[v[0]] = v[1];
  return { info, image, pulled, namedVolumes, containers };
}
