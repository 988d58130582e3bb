/**
 * May this run join container X (`--pid/--ipc/--network/--uts container:X`, `--volumes-from X`)?
 * Pure; the shell inspects X (src/cli/facts.ts). X is trusted when all of these hold:
 * - sdocker created it in enforce mode under a level at least as strict as this run's, for the
 *   same user (its io.sdocker.* labels), and X's image carries no io.sdocker.* label (an image's
 *   labels become the container's, so an image could forge them);
 * - its real configuration agrees, whatever the labels say: not privileged (resolveJoin), no host
 *   namespace along the chain (resolveJoin), every capability dropped but those this run may add
 *   itself, and a non-root numeric user unless this run may be root.
 * Otherwise the join needs `allow.joinContainers` naming X (or `*`), with a reason.
 */
import { capName } from '../api/capabilities.js';
import { goAtoi } from './ids.js';
import { LABEL_LEVEL, LABEL_MODE, LABEL_OWNER, LEVEL_STRENGTH } from './own-labels.js';
import type { AllowSpec, JoinedContainer, LevelName, Reasoned } from './types.js';
import { JOIN_DEPTH, joinRef, type JoinField } from './joins.js';

export interface Joiner {
  level: LevelName;
  /** uid of the user running sdocker. */
  owner: number | undefined;
  allow: AllowSpec;
  /** Root is allowed for this run (allow.root, with the engine's remap as required). */
  rootAllowed: boolean;
}

const norm = capName;

/** Why X is not to be trusted, or undefined when it is. */
export function distrust(x: JoinedContainer, j: Joiner): string | undefined {
  const name = x.Name.replace(/^\//, '');
  const labels = x.Labels ?? {};
  const level = labels[LABEL_LEVEL] as LevelName | undefined;
  if (level === undefined || !(level in LEVEL_STRENGTH)) return `container ${name} was not created by sdocker`;
  if (LEVEL_STRENGTH[level] < LEVEL_STRENGTH[j.level]) return `container ${name} was created under level ${level}, weaker than ${j.level}`;
  if (labels[LABEL_MODE] !== 'enforce') return `container ${name} was created in ${labels[LABEL_MODE] ?? 'an unknown'} mode, not enforce`;
  if (j.owner === undefined || labels[LABEL_OWNER] !== String(j.owner)) return `container ${name} belongs to ${labels[LABEL_OWNER] ? `uid ${labels[LABEL_OWNER]}` : 'nobody known'}, not to uid ${j.owner ?? '?'}`;
  if (x.ImageSdockerLabels) return `the image of container ${name} carries io.sdocker.* labels: its labels prove nothing`;
  // The labels are a claim; the configuration is what the engine runs.
  if (x.Privileged) return `container ${name} is privileged`;
  const drop = (x.CapDrop ?? []).map(norm);
  if (!drop.includes('ALL') && !j.allow.defaultCapabilities) return `container ${name} keeps docker's default capabilities`;
  const mayAdd = new Set((j.allow.capabilities ?? []).map((a) => norm(a.name)));
  const extra = (x.CapAdd ?? []).map(norm).filter((c) => !mayAdd.has(c) && !mayAdd.has('ALL'));
  if (extra.length) return `container ${name} holds ${extra.join(', ')}, which this run may not add`;
  if (!j.rootAllowed) {
    const [u = '', g = ''] = (x.User ?? '').split(':');
    const uid = goAtoi(u);
    const gid = g === '' ? undefined : goAtoi(g);
    if (uid === undefined) return `container ${name} runs as ${u === '' ? 'its image\'s user' : `user name ${u}`}, which may be root`;
    if (uid === 0 || gid === 0 || (g !== '' && gid === undefined)) return `container ${name} runs as ${x.User} (root or a group name)`;
  }
  return undefined;
}

/** The containers along a chain of `container:` joins of `field`, the one named first. */
export function joinChain(ref: string, field: JoinField, containers: Record<string, JoinedContainer> | undefined): JoinedContainer[] {
  const out: JoinedContainer[] = [];
  let cur: string | undefined = ref;
  for (let i = 0; i < JOIN_DEPTH && cur !== undefined; i++) {
    const c: JoinedContainer | undefined = containers?.[cur];
    if (!c) break;
    out.push(c);
    cur = joinRef(c[field]);
  }
  return out;
}

/** The allowance for joining `x` (typed as `ref`), if any. */
export function joinAllowance(allow: AllowSpec, ref: string, x: JoinedContainer | undefined): Reasoned | undefined {
  const names = new Set([ref, x?.Name.replace(/^\//, '') ?? ref]);
  return (allow.joinContainers ?? []).find((a) => a.name === '*' || names.has(a.name));
}

/** `NAME[:ALIAS]` of --link (the engine stores `/NAME:/ctr/ALIAS` once created): the container reference. */
export function linkRef(spec: string): string {
  return spec.split(':')[0]!.replace(/^\//, '');
}

/** `X[:ro|:rw]` of --volumes-from: the container reference. */
export function volumesFromRef(spec: string): string {
  const i = spec.lastIndexOf(':');
  return i > 0 && /^(ro|rw)$/.test(spec.slice(i + 1)) ? spec.slice(0, i) : spec;
}
