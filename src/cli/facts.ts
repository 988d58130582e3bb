/**
 * What the policy needs to know before it decides, read from the engine (I/O; the policy itself is
 * pure): GET /info, the image's inspect (pulling it first as docker would when it is missing), the
 * named volumes a request mounts, and the containers whose namespaces it joins.
 */
import { EngineError } from '../errors.js';
import type { EngineClient } from '../engine/client.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';
import type { RunRequest } from '../flags/request.js';
import { linkRef, volumesFromRef } from '../policy/join-trust.js';
import { JOIN_DEPTH, JOIN_FIELDS, joinRef } from '../policy/joins.js';
import { isOwnLabelKey } from '../policy/own-labels.js';
import type { JoinedContainer, JoinedContainers } from '../policy/types.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

export interface EarlyFacts {
  info: Promise<EngineInfo>;
  /** The image as it is now (undefined when missing); a pull, if needed, comes later. */
  image: Promise<ImageInspect | undefined>;
}

export function startFacts(client: EngineClient, req: RunRequest): EarlyFacts {
  const info = client.json<EngineInfo>('GET', '/info');
  const image = req.pull === 'always' ? Promise.resolve(undefined) : inspectImage(client, req.image);
  info.catch(() => undefined);
  image.catch(() => undefined);
  return { info, image };
}

export async function inspectImage(client: EngineClient, image: string): Promise<ImageInspect | undefined> {
  try {
    return await client.json<ImageInspect>('GET', `/images/${encodeURIComponent(image)}/json`);
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return undefined;
    throw err;
  }
}

export interface Facts {
  info: EngineInfo;
  image: ImageInspect | undefined;
  pulled: boolean;
  namedVolumes: Record<string, { Driver?: string; Options?: Record<string, string> | null }>;
  /** Containers the request joins (`--pid container:x` ...) and those they join, to JOIN_DEPTH. */
  containers: JoinedContainers;
}

interface ContainerInspect {
  Id: string;
  Name?: string;
  Image?: string;
  Config?: { Labels?: Record<string, string> | null; User?: string };
  HostConfig?: Partial<Record<'PidMode' | 'IpcMode' | 'NetworkMode' | 'UTSMode', string>> & {
    Privileged?: boolean; CapAdd?: string[] | null; CapDrop?: string[] | null;
  };
}

/** Whether an image's labels (which its containers inherit) include sdocker's own keys. */
async function imageHasOwnLabels(client: EngineClient, image: string | undefined): Promise<boolean> {
  if (!image) return false;
  try {
    const img = await client.json<{ Config?: { Labels?: Record<string, string> | null } }>('GET', `/images/${encodeURIComponent(image)}/json`);
    return Object.keys(img.Config?.Labels ?? {}).some(isOwnLabelKey);
  } catch (err) {
    // An image removed since: its labels cannot be checked, so they prove nothing.
    if (err instanceof EngineError && err.statusCode === 404) return true;
    throw err;
  }
}

/**
 * Inspect every container a `container:<ref>` mode names, then those they join, level by level
 * (each level in parallel), JOIN_DEPTH levels deep. None when nothing is joined. A missing
 * container is left out: the engine refuses the create by itself.
 */
export async function inspectJoined(client: EngineClient, body: CreateBody): Promise<JoinedContainers> {
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
      try {
        const c = await client.json<ContainerInspect>('GET', `/containers/${encodeURIComponent(ref)}/json`);
        return [ref, c, await imageHasOwnLabels(client, c.Image)] as const;
      } catch (err) {
        if (err instanceof EngineError && err.statusCode === 404) return undefined;
        throw err;
      }
    }));
    const next = new Set<string>();
    for (const f of found) {
      if (!f) continue;
      const [ref, c, forged] = f;
      const hc = c.HostConfig ?? {};
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

/** GET /info, the image and the named volumes, in parallel; a missing image is pulled as docker would. */
export async function gatherFacts(
  client: EngineClient,
  req: RunRequest,
  globals: GlobalOptions,
  io: ProcessIO,
  volumeNames: string[],
  early: EarlyFacts,
  /** Decide on these instead of waiting for GET /info (the caller verifies them before start). */
  remembered?: EngineInfo,
  /** Likewise for the image: no wait for its inspect, no pull here (the session pulls on a 404). */
  rememberedImg?: ImageInspect,
): Promise<Facts> {
  let pulled = false;
  const pull = async () => {
    const { pullImage } = await import('../engine/pull.js');
    const opts: Parameters<typeof pullImage>[2] = { progress: req.quiet ? null : io.stderr, env: io.env };
    if (req.platform) opts.platform = req.platform;
    if (globals.configDir) opts.configDir = globals.configDir;
    await pullImage(client, req.image, opts);
    pulled = true;
  };
  const imageFacts = async (): Promise<ImageInspect | undefined> => {
    if (req.pull === 'always') {
      await pull();
      return inspectImage(client, req.image);
    }
    const found = await early.image;
    if (found || req.pull === 'never' || req.sdocker.dryRun) return found;
    if (!req.quiet) {
      const { familiarString } = await import('../engine/pull.js');
      io.stderr.write(`Unable to find image '${familiarString(req.image)}' locally\n`);
    }
    await pull();
    return inspectImage(client, req.image);
  };
  const inspectVolume = async (name: string) => {
    try {
      return [name, await client.json<{ Driver?: string; Options?: Record<string, string> | null }>('GET', `/volumes/${encodeURIComponent(name)}`)] as const;
    } catch (err) {
      if (err instanceof EngineError && err.statusCode === 404) return undefined;
      throw err;
    }
  };
  const joins = JOIN_FIELDS.some((f) => joinRef(req.body.HostConfig[f]) !== undefined) || (req.body.HostConfig.VolumesFrom ?? []).length > 0
    || (req.body.HostConfig.Links ?? []).length > 0;
  const [info, image, volumes, containers] = await Promise.all([
    remembered ?? early.info, rememberedImg ?? imageFacts(), Promise.all(volumeNames.map(inspectVolume)), joins ? inspectJoined(client, req.body) : {},
  ]);
  const namedVolumes: Facts['namedVolumes'] = {};
  for (const v of volumes) if (v) namedVolumes[v[0]] = v[1];
  return { info, image, pulled, namedVolumes, containers };
}
