/** The remembered-facts decisions (src/pipeline/remembered.ts), pure. */
import { describe, expect, it } from 'vitest';
import type { CreateBody, EngineInfo, ImageInspect } from '../../src/api/types.js';
import { afterDecision, afterVerification, rememberedFor, type FactsMemory } from '../../src/pipeline/remembered.js';

const info: EngineInfo = { OSType: 'linux', SecurityOptions: ['name=seccomp,profile=default'] };
const image: ImageInspect = { Id: 'sha256:1', Config: { User: '' } };
const mem: FactsMemory = { facts: () => info, image: (ref) => (ref === 'a:1' ? image : undefined), rememberFacts: () => undefined, rememberImage: () => undefined };
const body = (user: string): CreateBody => ({ User: user, HostConfig: { CapDrop: ['ALL'] } });
const req = (over: { pull?: 'missing' | 'always' | 'never'; dryRun?: boolean } = {}) => ({ image: 'a:1', pull: over.pull ?? 'missing', sdocker: { dryRun: over.dryRun ?? false } });

describe('which remembered answers a request may decide on', () => {
  it('both, for an ordinary run', () => expect(rememberedFor(mem, req())).toEqual({ info, image }));
  it('none without a memory', () => expect(rememberedFor(undefined, req())).toEqual({}));
  it('none for a dry run (it shows what the engine says now)', () => expect(rememberedFor(mem, req({ dryRun: true }))).toEqual({}));
  it('not the image with --pull always (the registry decides)', () => expect(rememberedFor(mem, req({ pull: 'always' }))).toEqual({ info }));
  it('not an image never seen', () => expect(rememberedFor(mem, { ...req(), image: 'b:2' })).toEqual({ info }));
});

describe('after deciding', () => {
  it('a refusal on remembered answers is taken again on the engine\'s', () => expect(afterDecision(true, { refused: true, body: body('') })).toBe('refresh'));
  it('a refusal on the engine\'s answers stands', () => expect(afterDecision(false, { refused: true, body: body('') })).toBe('use'));
  it('an allowed decision on remembered answers goes on (verified before start)', () => expect(afterDecision(true, { refused: false, body: body('') })).toBe('use'));
});

describe('before start: the decision on remembered answers against the engine\'s', () => {
  it('the same container: use it', () => expect(afterVerification({ refused: false, body: body('1000') }, { refused: false, body: body('1000') })).toBe('use'));
  it('another container (the image\'s USER changed): made again', () => expect(afterVerification({ refused: false, body: body('1000') }, { refused: false, body: body('65534') })).toBe('refresh'));
  it('the engine\'s answers refuse: made again (and refused then)', () => expect(afterVerification({ refused: false, body: body('1') }, { refused: true, body: body('1') })).toBe('refresh'));
});
