/**
 * A container named by a client, resolved once (pure helpers and one inspect). The engine finds a
 * container by full id, then exact name, then unique id prefix, every time it is asked: a door that
 * checks `/containers/NAME/...` and then forwards the same NAME lets the client change what NAME
 * means in between (rename its own container away, delete it, so that NAME becomes the id prefix of
 * root's container, or rename root's container to NAME). So the door resolves the client's string
 * to a full id with ONE inspect, judges that container, and forwards the full id (Verdict.path):
 * the engine acts on the container judged, whatever is renamed meanwhile. A full id is looked up
 * before any name, and only containers the client may act in can be renamed (judged.ts).
 */
import type { EngineClient } from '../../engine/client.js';
import { EngineError } from '../../errors.js';
import type { Verdict } from '../types.js';

/** The full id the engine gives `ref` now, or the engine's own answer (404 for an unknown or ambiguous name). */
export async function containerIdOf(client: EngineClient, ref: string): Promise<{ id: string; labels: Record<string, string> | null | undefined } | { verdict: Verdict }> {
  try {
    const c = await client.json<{ Id?: unknown; Config?: { Labels?: Record<string, string> | null } } | undefined>('GET', `/containers/${encodeURIComponent(ref)}/json`);
    if (typeof c?.Id !== 'string' || !/^[0-9a-f]{64}$/.test(c.Id)) return { verdict: { action: 'respond', status: 502, body: { message: `sdocker serve: the engine gave no id for container ${ref}` } } };
    // Its labels too, from the same answer: the project profile it was made under (scoped.ts).
    return { id: c.Id, labels: c.Config?.Labels };
  } catch (err) {
    if (err instanceof EngineError) return { verdict: { action: 'respond', status: err.statusCode || 502, body: { message: err.message } } };
    throw err;
  }
}

/** Pure: `/containers/REF/rest` with REF replaced by the full id. */
export function pinContainerPath(path: string, id: string): string {
  return path.replace(/^\/containers\/[^/]+/, `/containers/${id}`);
}

/** Pure: a verdict that forwards (pass or forward) sent to `path` instead; refusals and answers unchanged. */
export function pinned(v: Verdict, path: string | undefined): Verdict {
  if (path === undefined) return v;
  return v.action === 'pass' || v.action === 'forward' ? { ...v, path } : v;
}
