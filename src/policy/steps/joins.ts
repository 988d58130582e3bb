/**
 * Joining other containers (container:<ref> modes, --link, --volumes-from): only trusted ones.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { rootAllowed } from '../identity.js';
import type { JoinField } from '../joins.js';
import { distrust, joinAllowance, joinChain, linkRef, type Joiner, volumesFromRef } from '../join-trust.js';
import type { JoinedContainer } from '../types.js';
import type { Ctx } from '../context.js';

function joiner(c: Ctx): Joiner {
  return { level: c.profile.level, owner: c.input.owner, allow: c.allow, rootAllowed: rootAllowed(c.allow, c.input.engine.usernsRemap) };
}

/** SD-NS-007: every container along a `container:` chain must be one sdocker hardened for this user, or be allowed by name. */
export function joinTrust(c: Ctx, ref: string, field: JoinField, flag: string): void {
  const v = c.hc[field];
  for (const x of joinChain(ref, field, c.input.containers)) {
    const why = distrust(x, joiner(c));
    if (!why) continue;
    const name = x.Name.replace(/^\//, '');
    if (!c.check('SD-NS-007', `HostConfig.${field}`, v, `${flag}=container:${ref}`, joinAllowance(c.allow, ref, x), { flag, why, denialKey: 'joinContainers', denialValue: name, allowSubject: name })) {
      c.change(`HostConfig.${field}`, v, '', 'SD-NS-007', `the join of container ${name} is dropped: ${why}`);
      (c.hc as Record<string, unknown>)[field] = '';
    }
    return;
  }
}

/**
 * References to other containers (`--link`, `--volumes-from`): each must be one sdocker hardened
 * for this user under a level at least as strict, or allowed. Returns the specs that may stay.
 */
function trustedRefs(c: Ctx, specs: string[], refOf: (spec: string) => string,
  judge: (spec: string, ref: string, why: string, x: JoinedContainer | undefined) => boolean): string[] {
  return specs.filter((spec) => {
    const ref = refOf(spec);
    const x = c.input.containers?.[ref];
    const why = x ? distrust(x, joiner(c)) : `container ${ref} was not found`;
    return !why || judge(spec, ref, why, x);
  });
}

/** `--link NAME[:ALIAS]`: the linked container's environment is copied into this one. */
export function links(c: Ctx): void {
  const specs = c.hc.Links ?? [];
  if (specs.length === 0) return;
  const kept = trustedRefs(c, specs, linkRef, (spec, ref, why, x) => c.check('SD-LINK-001', 'HostConfig.Links', spec, spec,
    joinAllowance(c.allow, ref, x), { why, denialKey: 'joinContainers', denialValue: ref, allowSubject: ref }));
  if (kept.length !== specs.length) {
    c.change('HostConfig.Links', specs, kept.length ? kept : null, 'SD-LINK-001');
    c.hc.Links = kept.length ? kept : null;
  }
}

export function volumesFrom(c: Ctx): void {
  const specs = c.hc.VolumesFrom ?? [];
  if (specs.length === 0) return;
  const kept = trustedRefs(c, specs, volumesFromRef, (spec, ref, why, x) => c.check('SD-MNT-004', 'HostConfig.VolumesFrom', spec, spec,
    c.allow.volumesFrom ?? joinAllowance(c.allow, ref, x), { why, denialKey: 'volumesFrom' }));
  if (kept.length !== specs.length) {
    c.change('HostConfig.VolumesFrom', specs, kept, 'SD-MNT-004');
    c.hc.VolumesFrom = kept;
  }
}
