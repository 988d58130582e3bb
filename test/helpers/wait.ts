/**
 * Waiting in tests: poll a condition until it holds or a deadline passes, never a fixed sleep
 * and never an unbounded loop. On timeout it throws, naming what was awaited.
 */
export interface WaitOptions {
  timeoutMs: number;
  /** Between two polls (default 20 ms). */
  intervalMs?: number;
  /** For the timeout message: what was awaited. */
  what?: string;
}

/** Resolves with the condition's first truthy value; rejects when timeoutMs passes first. */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
