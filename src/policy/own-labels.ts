/**
 * The labels sdocker puts on the containers it creates, so a later run can tell a container it may
 * join (`--pid container:X`, `--volumes-from X`): the level and mode it was created under and the
 * uid of the user who ran sdocker. Pure. A request may not set a key under `io.sdocker.` itself
 * (SD-LABEL-001), but a label is still only a claim (an image's LABEL, a container made by plain
 * docker or at level privileged carries whatever it likes): join-trust.ts also checks the joined
 * container's real configuration.
 */
import type { CreateBody } from '../api/types.js';
import type { LevelName, PolicyMode } from './types.js';

export const LABEL_PREFIX = 'io.sdocker.';
export const LABEL_LEVEL = 'io.sdocker.level';
export const LABEL_MODE = 'io.sdocker.mode';
export const LABEL_OWNER = 'io.sdocker.owner';
/** On a container made through a TLS door: the sha256 of the client certificate that asked (no uid there). */
export const LABEL_CLIENT = 'io.sdocker.client.sha256';

/** Strictness: a container may join one created under a level at least as strict as its own. */
export const LEVEL_STRENGTH: Record<LevelName, number> = { privileged: 0, baseline: 1, restricted: 2 };

export function isOwnLabelKey(key: string): boolean {
  return key.toLowerCase().startsWith(LABEL_PREFIX);
}

/** Keys under `io.sdocker.` a request sets: container labels (`--label`, `--label-file`) and volume labels of `--mount`. */
export function requestedOwnLabels(body: CreateBody): { field: string; key: string; flag: string }[] {
  const out: { field: string; key: string; flag: string }[] = [];
  for (const k of Object.keys(body.Labels ?? {})) if (isOwnLabelKey(k)) out.push({ field: 'Labels', key: k, flag: '--label' });
  for (const m of body.HostConfig?.Mounts ?? []) {
    for (const k of Object.keys(m.VolumeOptions?.Labels ?? {})) if (isOwnLabelKey(k)) out.push({ field: 'HostConfig.Mounts', key: k, flag: '--mount' });
  }
  return out;
}

export function ownLabels(level: LevelName, mode: PolicyMode, owner: number | undefined): Record<string, string> {
  const l: Record<string, string> = { [LABEL_LEVEL]: level, [LABEL_MODE]: mode };
  if (owner !== undefined) l[LABEL_OWNER] = String(owner);
  return l;
}
