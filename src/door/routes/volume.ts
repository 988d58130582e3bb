/**
 * `POST /volumes/create` judged as `sdocker volume create` is (src/policy/commands/volume.ts):
 * the driver and its options as a volume `run` would create (`o=bind,device=/etc` is a bind of
 * /etc: SD-MNT-002/006). API 1.41's fields: Name, Driver, DriverOpts, Labels; a cluster volume
 * (ClusterVolumeSpec, API 1.42) or any other field set is refused (SD-DOOR-001).
 */
import type { EngineInfo } from '../../api/types.js';
import { judgeVolume, volumeNeedsJudging, type VolumeSpec } from '../../policy/commands/volume.js';
import { engineFactsFrom } from '../../policy/facts.js';
import type { EffectiveProfile, EngineFacts } from '../../policy/types.js';
import type { JudgeOptions } from '../judge.js';
import type { DoorRequest, Verdict } from '../types.js';
import { canonicalKeys, caseDuplicates, isObject, unknownFields } from './body.js';
import { cannotJudge, verdictOf } from './verdict.js';
import { socketsOf } from './sockets.js';
import { ownerPeer, withOwner } from './owners.js';

export const VOLUME_FIELDS: ReadonlySet<string> = new Set(['Name', 'Driver', 'DriverOpts', 'Labels']);

/** The volume an API body asks for, or why the door cannot read it. */
export function volumeSpecOf(raw: unknown): VolumeSpec | string {
  if (!isObject(raw)) return 'the body is not a JSON object';
  const dup = caseDuplicates(raw);
  if (dup.length) return `a field given twice in different case: ${dup.join(', ')}`;
  const body = canonicalKeys(raw, VOLUME_FIELDS);
  const unknown = unknownFields(body, VOLUME_FIELDS);
  if (unknown.length) return `unknown field ${unknown.join(', ')}`;
  const driver = body.Driver ?? '';
  if (typeof driver !== 'string') return 'Driver is not a string';
  const opts = body.DriverOpts ?? {};
  if (!isObject(opts) || !Object.values(opts).every((o) => typeof o === 'string')) return 'DriverOpts is not a map of strings';
  const spec: VolumeSpec = { driver: driver === '' ? 'local' : driver, opts: opts as Record<string, string> };
  if (typeof body.Name === 'string' && body.Name !== '') spec.name = body.Name;
  return spec;
}

/** Pure: the verdict on a volume body under `engine`'s facts. */
export function judgeVolumeBody(raw: unknown, profile: EffectiveProfile, engine: EngineFacts | undefined, cwd: string, warn?: (t: string) => void): Verdict {
  if (profile.unconfined) return { action: 'pass' };
  const spec = volumeSpecOf(raw);
  if (typeof spec === 'string') return cannotJudge(`POST /volumes/create: ${spec}`);
  if (!volumeNeedsJudging(spec) || !engine) return { action: 'pass' };
  const { violations } = judgeVolume(spec, profile, engine, cwd);
  for (const v of violations) v.flag = 'DriverOpts';
  const prov = new Map([['DriverOpts', [`Driver: ${spec.driver}, DriverOpts: ${JSON.stringify(spec.opts)}`]]]);
  return verdictOf(violations, prov, profile, 'volume', warn);
}

export async function judgeVolumeCreateRequest(req: DoorRequest, opts: JudgeOptions): Promise<Verdict> {
  const spec = volumeSpecOf(req.body);
  const needs = !opts.profile.unconfined && typeof spec !== 'string' && volumeNeedsJudging(spec);
  const engine = needs ? engineFactsFrom(await opts.client.json<EngineInfo>('GET', '/info'), socketsOf(opts)) : undefined;
  const v = judgeVolumeBody(req.body, opts.profile, engine, opts.cwd, opts.warn);
  const peer = ownerPeer(opts, req.peer);
  // A volume made for this client is labelled its own (owners.ts): only its containers mount it.
  if (v.action !== 'pass' || !peer || !isObject(req.body)) return v;
  const body = canonicalKeys(req.body, VOLUME_FIELDS);
  return { action: 'forward', body: { ...body, Labels: withOwner(body.Labels, peer.uid) } };
}
