/**
 * The door's remembered engine answers (GET /info, an image's inspect by reference), kept in the
 * door's memory for as long as it runs: a create is decided on them at once, while the engine's
 * own answers (asked for every create all the same) are on their way.
 *
 * What may be decided on them, and what happens when they are stale, is the run pipeline's
 * (src/pipeline/remembered.ts): never a refusal; before the create is answered, the decision is
 * taken again on the engine's answers, and a container made on stale answers is removed and the
 * request decided again on the engine's. Every create refreshes the memory with the engine's
 * answers, so a stale answer costs one request at most one second attempt.
 *
 * What the door adds: another engine (a new daemon ID, another data root) forgets every image;
 * an error reaching the engine forgets everything (it may be restarting with another config).
 */
import type { EngineInfo, ImageInspect } from '../api/types.js';
import type { FactsMemory } from '../pipeline/remembered.js';

/** How many image references are remembered (the least recently remembered go first). */
const IMAGES_KEPT = 256;

export interface DoorMemory extends FactsMemory {
  /** Forget everything (the engine could not be reached, say). */
  clear(): void;
}

/** Which engine an answer of GET /info comes from: its images belong to that one. */
function engineOf(info: EngineInfo): string {
  const i = info as EngineInfo & { ID?: string };
  return `${i.ID ?? ''} ${i.DockerRootDir ?? ''}`;
}

export function doorMemory(): DoorMemory {
  let info: EngineInfo | undefined;
  const images = new Map<string, ImageInspect>();
  return {
    facts: () => info,
    image: (ref) => images.get(ref),
    rememberFacts(next) {
      if (info && engineOf(info) !== engineOf(next)) images.clear();
      info = structuredClone(next);
    },
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
