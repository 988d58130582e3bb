/**
 * `--pid`/`--ipc`/`--network`/`--uts` `container:<ref>`: the joiner gets the other container's
 * namespace, so a join of a container in the host's namespace is the host's namespace. Pure; the
 * shell (src/cli/run.ts) inspects the containers named, following chains to JOIN_DEPTH.
 */
import type { JoinedContainers } from './types.js';

/** How many joins are followed; a longer chain is refused (it cannot be checked). */
export const JOIN_DEPTH = 8;

export type JoinField = 'PidMode' | 'IpcMode' | 'NetworkMode' | 'UTSMode';
export const JOIN_FIELDS: readonly JoinField[] = ['PidMode', 'IpcMode', 'NetworkMode', 'UTSMode'];

/** The reference of a `container:<ref>` mode, else undefined. */
export function joinRef(mode: string | undefined | null): string | undefined {
  return typeof mode === 'string' && mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

export interface JoinVerdict {
  /** host: the chain ends in the host's namespace; privileged: a container on it is privileged; too-deep: not followed to its end. */
  kind: 'host' | 'privileged' | 'too-deep';
  /** Names of the containers along the chain, the one joined first. */
  via: string[];
}

/**
 * Where joining `ref`'s namespace (of `field`) leads. Undefined when the chain ends in a private
 * namespace of unprivileged containers, or reaches a container the shell did not find (the
 * engine refuses that create by itself).
 */
export function resolveJoin(ref: string, field: JoinField, containers: JoinedContainers | undefined): JoinVerdict | undefined {
  const via: string[] = [];
  let cur = ref;
  for (let i = 0; i < JOIN_DEPTH; i++) {
    const c = containers?.[cur];
    if (!c) return undefined;
    via.push(c.Name.replace(/^\//, '') || cur);
    const mode = c[field] ?? '';
    if (mode === 'host') return { kind: 'host', via };
    if (c.Privileged) return { kind: 'privileged', via };
    const next = joinRef(mode);
    if (next === undefined) return undefined;
    cur = next;
  }
  return { kind: 'too-deep', via };
}
