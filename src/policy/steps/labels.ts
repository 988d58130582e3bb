/**
 * SD-LABEL-001: sdocker's own labels are not the request's to set.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { requestedOwnLabels } from '../own-labels.js';
import type { Ctx } from '../context.js';

/** SD-LABEL-001: the request may not set sdocker's own labels (they decide which containers may be joined). */
export function labels(c: Ctx): void {
  for (const l of requestedOwnLabels(c.body)) {
    if (c.check('SD-LABEL-001', l.field, l.key, l.key, undefined, { flag: l.flag })) continue;
    c.change(l.field, l.key, null, 'SD-LABEL-001');
    if (l.field === 'Labels') delete c.body.Labels![l.key];
    else for (const m of c.hc.Mounts ?? []) if (m.VolumeOptions?.Labels) delete m.VolumeOptions.Labels[l.key];
  }
}
