/**
 * One create's view of the door's remembered engine answers (memory.ts), in the shapes the run
 * pipeline takes: a FactsMemory (what it may decide on at once), the early facts (the engine's
 * answers it verifies against) and a session hook (the confirmation of a remembered /info).
 *
 * The pipeline (src/pipeline/run.ts) takes at most two attempts:
 * 1. decided on remembered answers (`facts()`/`image()`), when there are any: after the create,
 *    it takes the decision again on `early` (the image's inspect, asked for at once for every
 *    create; /info: the remembered answer while the watch holds, which the hook then confirms in
 *    the engine's order of events: engine-watch.ts), and discards the container on a difference;
 * 2. on the engine's answers only: `early.info` is then a fresh GET /info, never the memory.
 * A /info asked for while the watch's stream is open is remembered with its epoch.
 */
import type { EngineApi } from '../engine/api.js';
import type { EngineInfo, ImageInspect } from '../api/types.js';
import type { EarlyFacts } from '../pipeline/facts.js';
import type { FactsMemory } from '../pipeline/remembered.js';
import type { SessionRequest, SessionResult } from '../session/types.js';
import type { EngineWatch } from './engine-watch.js';
import type { DoorMemory } from './memory.js';

export interface RequestFacts {
  memory: FactsMemory;
  early: EarlyFacts;
  session: (request: SessionRequest, run: (request: SessionRequest) => Promise<SessionResult>) => Promise<SessionResult>;
}

export function requestFacts(api: EngineApi, image: string, memory: DoorMemory, watch: EngineWatch | undefined): RequestFacts {
  /** The epoch of the remembered /info this attempt decided on (undefined: the engine's own). */
  let decidedOn: number | undefined;
  /** While the session runs an attempt decided on the memory: the epoch it decided on. */
  let verifyingOn: number | undefined;

  const remembered = (): { value: EngineInfo; epoch: number } | undefined => {
    const m = memory.info();
    return m && watch?.holds(m.epoch) ? m : undefined;
  };
  const fresh = (): Promise<EngineInfo> => {
    const epoch = watch?.connected ? watch.epoch : undefined;
    const p = api.info();
    p.then((info) => {
      if (epoch !== undefined && watch?.holds(epoch)) memory.rememberInfo(info, epoch);
    }, () => undefined);
    return p;
  };
  const imageNow: Promise<ImageInspect | undefined> = api.images.inspect(image);
  imageNow.catch(() => undefined);

  const facts: FactsMemory = {
    facts() {
      const m = remembered();
      decidedOn = m?.epoch;
      return m?.value;
    },
    image: (ref) => memory.image(ref),
    // The door remembers /info answers itself, with their epoch (fresh()).
    rememberFacts: () => undefined,
    rememberImage: (ref, img) => memory.rememberImage(ref, img),
  };
  const early: EarlyFacts = {
    image: imageNow,
    // Read each time the pipeline needs it (a getter): the verification of attempt 1 may use the
    // memory it decided on (confirmed by the hook below); anything else asks the engine.
    get info(): Promise<EngineInfo> {
      const m = remembered();
      if (verifyingOn !== undefined && m?.epoch === verifyingOn) return Promise.resolve(m.value);
      // Not the verification of a decision on the memory: the next decision is the engine's.
      if (verifyingOn === undefined) decidedOn = undefined;
      return fresh();
    },
  };
  const session: RequestFacts['session'] = async (request, run) => {
    const epoch = decidedOn;
    decidedOn = undefined;
    if (epoch !== undefined && watch) {
      const inner = request.beforeStart;
      request.beforeStart = async (a, id) => {
        const confirmed = watch.confirm(id, epoch);
        if ((await inner?.(a, id)) === 'discard') return 'discard';
        if (await confirmed) return undefined;
        // Something changed in the engine since that /info: decide again on a fresh one.
        memory.clear();
        return 'discard';
      };
    }
    verifyingOn = epoch;
    try {
      return await run(request);
    } finally {
      verifyingOn = undefined;
    }
  };
  return { memory: facts, early, session };
}
