/**
 * Judged at the door with no CLI counterpart (pure): swarm membership (SD-DOOR-003), network
 * drivers (SD-DOOR-005). Swarm init, join, update, unlock and node updates change the daemon
 * itself: refused unless the profile allows privileged; at level privileged nothing is judged.
 * Plugins: plugins.ts; swarm services: services.ts.
 */
import type { EffectiveProfile } from '../../policy/types.js';
import type { DoorRequest, Verdict } from '../types.js';
import { cannotJudge, judgeOne, verdictOf } from './verdict.js';

export function refuseSwarm(req: DoorRequest, profile: EffectiveProfile): Verdict {
  if (profile.unconfined) return { action: 'pass' };
  const j = judgeOne(profile, 'SD-DOOR-003', profile.allow.privileged, {
    flag: 'swarm', subject: `${req.method} ${req.path} (changes the daemon's cluster membership or configuration, not a container)`, field: req.path, denialKey: 'privileged',
  });
  return verdictOf(j.violations, undefined, profile, 'swarm request');
}

/** Drivers whose containers stay behind the engine's own bridge (or swarm's overlay). */
const NETWORK_DRIVERS = new Set(['', 'bridge', 'overlay', 'null']);
const NETWORK_FIELDS = new Set([
  'Name', 'CheckDuplicate', 'Driver', 'Scope', 'Internal', 'Attachable', 'Ingress', 'ConfigOnly', 'ConfigFrom', 'IPAM', 'EnableIPv6', 'Options', 'Labels',
]);

export function judgeNetworkCreate(req: DoorRequest, profile: EffectiveProfile): Verdict {
  if (profile.unconfined) return { action: 'pass' };
  const body = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return cannotJudge('POST /networks/create: the body is not a JSON object');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !NETWORK_FIELDS.has(k));
  if (unknown.length > 0) return cannotJudge(`POST /networks/create: unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  const driver = b.Driver ?? '';
  if (typeof driver !== 'string') return cannotJudge('POST /networks/create: Driver is not a string');
  // ConfigFrom takes the driver of another (config-only) network: judged by that network's creation.
  if (NETWORK_DRIVERS.has(driver)) return { action: 'pass' };
  const j = judgeOne(profile, 'SD-DOOR-005', profile.allow.privileged, {
    flag: 'network create --driver', subject: driver, field: 'Driver', denialKey: 'privileged',
  });
  return verdictOf(j.violations, undefined, profile, 'network');
}
