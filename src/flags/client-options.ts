/**
 * The client-side options of `docker run`/`docker create`: what the flags ask of the run
 * lifecycle that never reaches the create body. The request (flags) makes them and the session
 * takes them, so the type lives here, below both.
 */

export type PullPolicy = 'missing' | 'always' | 'never';

export interface ClientOptions {
  name?: string;
  platform?: string;
  pull: PullPolicy;
  /** -q: no pull progress. */
  quiet: boolean;
  /** -d (run only): print the id and return. */
  detach: boolean;
  /** --sig-proxy (run only, default true). */
  sigProxy: boolean;
  detachKeys?: string;
  /** --cidfile: written after create, removed again when the run fails before start. */
  cidfile?: string;
}
