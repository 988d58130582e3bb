/**
 * Remembered engine facts (GET /info, the image's inspect), as plain decisions. Pure.
 *
 * GET /info takes 7-15 ms and the create body depends on it: with a remembered copy the policy
 * decides at once and the container is created while the engine's answers are on their way. The
 * copy only ever saves time, never decides what runs:
 *   1. which remembered answers may be used at all (never for a dry run; never the image's with
 *      --pull always, which must ask the registry);
 *   2. a refusal is never made on remembered answers: refresh, and decide on the engine's;
 *   3. before the container starts, the decision is taken again on the engine's real answers:
 *      the same container → use it; another (or a refusal) → refresh: the container made on stale
 *      facts is discarded and everything is decided again on the engine's answers.
 */
import type { CreateBody, EngineInfo, ImageInspect } from '../api/types.js';

/** Where remembered answers are kept (the state directory for the CLI: cli/engine-facts.ts). */
export interface FactsMemory {
  facts(): EngineInfo | undefined;
  image(ref: string): ImageInspect | undefined;
  rememberFacts(info: EngineInfo): void;
  rememberImage(ref: string, image: ImageInspect): void;
}

export type FactsStep = 'use' | 'refresh';

/** What a decision is judged by: refused or not, and the body it gives. */
export interface Decided {
  refused: boolean;
  body: CreateBody;
}

/** Rule 1: the remembered answers this request may decide on. */
export function rememberedFor(
  memory: FactsMemory | undefined,
  req: { image: string; pull: 'missing' | 'always' | 'never'; sdocker: { dryRun: boolean } },
): { info?: EngineInfo; image?: ImageInspect } {
  if (!memory || req.sdocker.dryRun) return {};
  const out: { info?: EngineInfo; image?: ImageInspect } = {};
  const info = memory.facts();
  if (info) out.info = info;
  const image = req.pull === 'always' ? undefined : memory.image(req.image);
  if (image) out.image = image;
  return out;
}

/** Rule 2: after deciding (`remembered`: on remembered answers). */
export function afterDecision(remembered: boolean, decided: Decided): FactsStep {
  return remembered && decided.refused ? 'refresh' : 'use';
}

/** Rule 3: the decision on remembered answers against the one on the engine's. */
export function afterVerification(onRemembered: Decided, onEngine: Decided): FactsStep {
  if (onEngine.refused !== onRemembered.refused) return 'refresh';
  return JSON.stringify(onEngine.body) === JSON.stringify(onRemembered.body) ? 'use' : 'refresh';
}
