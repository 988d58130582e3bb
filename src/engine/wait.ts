/**
 * The registered wait: POST /containers/{id}/wait?condition=next-exit (or removed, with --rm),
 * sent before start. The daemon answers the headers once the waiter is registered, so a fast exit
 * or the auto-removal cannot slip between start and wait; the body (StatusCode, Error) comes at exit.
 */
import { EngineError, SdockerError } from '../errors.js';
import { readBody, type EngineClient } from './client.js';

export type WaitCondition = 'next-exit' | 'removed' | 'not-running';

export interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

export interface RegisteredWait {
  /** Resolves with the exit status when the container exits (or is removed). */
  result: Promise<WaitResult>;
  /** Give up waiting (closes the connection). */
  abort(): void;
}

/** Resolves once the daemon has registered the waiter (response headers received). */
export async function registerWait(client: EngineClient, id: string, condition: WaitCondition): Promise<RegisteredWait> {
  const res = await client.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
  const result = readBody(res).then((body) => {
    let parsed: WaitResult;
    try {
      parsed = JSON.parse(body.toString('utf8')) as WaitResult;
    } catch {
      throw new SdockerError(`unexpected answer of the wait for ${id}: ${body.toString('utf8').slice(0, 200)}`);
    }
    if (parsed.Error?.Message) throw new EngineError(parsed.Error.Message, res.statusCode ?? 200);
    return parsed;
  });
  // Avoid an unhandled rejection when nobody reads the result (detach).
  result.catch(() => undefined);
  return { result, abort: () => res.destroy() };
}
