import type { EngineApi } from '../engine/api.js';
import type { CreateBody } from '../api/types.js';
import type { ClientOptions } from '../flags/client-options.js';

export type { PullPolicy } from '../flags/client-options.js';

/**
 * What the run lifecycle needs: the final create body (after policy) and the client-side
 * options of `docker run`/`docker create` that never reach the create body.
 */
export interface SessionRequest extends ClientOptions {
  mode: 'run' | 'create';
  body: CreateBody;
  /** The image as the user typed it (also body.Image). */
  image: string;
  /** The docker config directory (--config), for registry credentials when pulling; default $DOCKER_CONFIG or ~/.docker. */
  configDir?: string;
  /** Volumes sdocker itself created for this container (policy binds); removed with it on failure. */
  ownedVolumes?: string[];
  /**
   * Called after create (and the cidfile), before attach and start, also for `create`: a last
   * check that needs the created container (the policy reads the image's /etc/passwd through it).
   * If it throws, the container (with its anonymous volumes), the owned volumes and the cidfile
   * are removed and the error is rethrown: a refusal leaves nothing behind. If it answers
   * 'discard' (made on facts found stale), they are removed the same way and the session ends
   * with `discarded` (the caller decides again).
   */
  beforeStart?: (api: EngineApi, id: string) => Promise<void | 'discard'>;
  /**
   * Called right after start (run only), before any output is passed on: a check of what the
   * engine really made (the mounts). If it throws, the container is killed and removed with its
   * anonymous volumes, the owned volumes and the cidfile, and the error is rethrown.
   */
  afterStart?: (api: EngineApi, id: string) => Promise<void>;
  /** Sees every chunk of the attach stream as it arrives (frames and all): the diagnosis keeps the last lines. */
  onOutput?: (chunk: Buffer) => void;
}

export interface SessionResult {
  containerId: string;
  /** The container's exit status (run, attached), or 0 (create, -d). */
  exitCode: number;
  /** beforeStart discarded the container (removed, never started). */
  discarded?: boolean;
  /** The engine's warnings on the create (also written to stderr as docker does). */
  warnings?: string[];
}
