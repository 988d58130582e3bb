/**
 * The door's remembered engine answers, kept in the door's memory for as long as it runs:
 * GET /info (with the epoch of the engine's event stream it was asked at: engine-watch.ts) and an
 * image's inspect by reference. A create is decided on them at once (request-facts.ts).
 *
 * What may be decided on them, and what happens when they are stale, is the run pipeline's
 * (src/pipeline/remembered.ts: never a refusal; before the create is answered, the decision is
 * taken again on the engine's answers, and a container made on stale answers is removed and the
 * request decided again), plus, for /info, which is not asked again on every create, the
 * confirmation in the engine's own order of events (engine-watch.ts).
 *
 * Another engine (a new daemon ID, another data root) forgets every image; an error reaching the
 * engine forgets everything (it may be restarting with another configuration).
 */
import type { EngineInfo, ImageInspect } from '../api/types.js';

/** How many image references are remembered (the least recently remembered go first). */
const IMAGES_KEPT = 256;

export interface DoorMemory {
  /** The remembered GET /info, and the watch's epoch when it was asked for. */
  info(): { value: EngineInfo; epoch: number } | undefined;
  rememberInfo(info: EngineInfo, epoch: number): void;
  image(ref: string): ImageInspect | undefined;
  rememberImage(ref: string, image: ImageInspect): void;
  /** Forget everything (the engine could not be reached, say). */
  clear(): void;
}

/** Which engine an answer of GET /info comes from: its images belong to that one. */
function engineOf(info: EngineInfo): string {
  const i = info as EngineInfo & { ID?: string };
  return `${i.ID ?? ''} ${i.DockerRootDir ?? ''}`;
}

export function doorMemory(): DoorMemory {
  let info: { value: EngineInfo; epoch: number } | undefined;
  let engine: string | undefined;
  const images = new Map<string, ImageInspect>();
  return {
    info: () => info,
    rememberInfo(next, epoch) {
      if (engine !== undefined && engine !== engineOf(next)) images.clear();
      engine = engineOf(next);
      info = { value: structuredClone(next), epoch };
    },
    image: (ref) => images.get(ref),
    rememberImage(ref, image) {
      images.delete(ref);
      images.set(ref, structuredClone(image));
      for (const k of images.keys()) {
        if (images.size <= IMAGES_KEPT) break;
        images.delete(k);
      }
    },
    clear() {
      info = undefined;
      images.clear();
    },
  };
}
