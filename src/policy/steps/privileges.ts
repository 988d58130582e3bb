/**
 * --privileged and capabilities (SD-PRIV-001, SD-CAP-001), and the capability set the container will hold.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { DOCKER_DEFAULT_CAPS, capName as normalizeCap } from '../../api/capabilities.js';
import type { Ctx } from '../context.js';

export function privileged(c: Ctx): void {
  if (c.hc.Privileged) {
    c.check('SD-PRIV-001', 'HostConfig.Privileged', true, '--privileged', c.allow.privileged, { denialKey: 'privileged' });
  }
}

export function capabilities(c: Ctx): void {
  const allowed = new Map((c.allow.capabilities ?? []).map((a) => [normalizeCap(a.name), a] as const));
  // defaults.capabilities join the request, and are judged as a --cap-add is (allow.capabilities).
  const extra = (c.profile.defaults.capabilities ?? []).filter((d) => !(c.hc.CapAdd ?? []).some((r) => normalizeCap(r) === d));
  if (extra.length) {
    c.change('HostConfig.CapAdd', c.hc.CapAdd ?? null, [...(c.hc.CapAdd ?? []), ...extra], 'SD-CAP-001', 'the profile\'s defaults.capabilities');
    c.hc.CapAdd = [...(c.hc.CapAdd ?? []), ...extra];
  }
  const requested = c.hc.CapAdd ?? [];
  const kept: string[] = [];
  for (const cap of requested) {
    const n = normalizeCap(cap);
    if (c.check('SD-CAP-001', 'HostConfig.CapAdd', cap, n, allowed.get(n) ?? allowed.get('ALL'), { denialKey: 'capabilities', denialValue: n })) kept.push(cap);
  }
  if (kept.length !== requested.length) {
    c.change('HostConfig.CapAdd', c.hc.CapAdd, kept, 'SD-CAP-001', 'capabilities outside the whitelist are not added');
    c.hc.CapAdd = kept;
  }
  if (!c.allow.defaultCapabilities) {
    const drop = c.hc.CapDrop ?? [];
    if (!(drop.length === 1 && normalizeCap(drop[0] ?? '') === 'ALL')) {
      c.change('HostConfig.CapDrop', c.hc.CapDrop ?? null, ['ALL'], 'SD-CAP-001', 'drop every capability; only whitelisted ones are added back');
      c.hc.CapDrop = ['ALL'];
    }
  }
}

/** The capabilities the container will hold (capabilities() has run): docker's set unless ALL is dropped, plus CapAdd. */
export function containerCaps(c: Ctx): Set<string> {
  const drop = (c.hc.CapDrop ?? []).map(normalizeCap);
  const caps = new Set(drop.includes('ALL') ? [] : DOCKER_DEFAULT_CAPS.filter((x) => !drop.includes(x)));
  for (const a of c.hc.CapAdd ?? []) caps.add(normalizeCap(a));
  return caps;
}
