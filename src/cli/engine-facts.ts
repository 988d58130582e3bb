/**
 * The engine's facts the policy reads from GET /info (user-namespace remapping, security options,
 * runtimes, CPUs, default logging driver), remembered per endpoint in the state directory.
 *
 * GET /info takes 7-15 ms on this engine and the create body depends on it, so waiting for it
 * delays every run. With a remembered copy the policy decides at once and the container is
 * created while /info is on its way; before the container starts, the decision is taken again
 * with the engine's real answer, and a container made from outdated facts is removed and made
 * again. The remembered copy only ever saves time: it never decides what runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../audit/record.js';
import type { EngineInfo, ImageInspect } from '../engine/types.js';

type Facts = EngineInfo & { NCPU?: number; LoggingDriver?: string };

const KEYS = ['SecurityOptions', 'Runtimes', 'DefaultRuntime', 'CgroupVersion', 'CgroupDriver', 'OSType', 'DockerRootDir', 'NCPU', 'LoggingDriver', 'ServerVersion', 'KernelVersion'] as const;

function file(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'engine-facts.json');
}

/** A remembered map from the state directory; a missing or unreadable file is an empty one. */
function readMap<T>(path: string): Record<string, T> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, T>;
  } catch {
    return {};
  }
}

function readAll(env: Record<string, string | undefined>): Record<string, Facts> {
  return readMap<Facts>(file(env));
}

/** Only the fields the policy reads, so the copy compares equal when nothing that matters changed. */
export function factsOf(info: Facts): Facts {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if (info[k] !== undefined) out[k] = info[k];
  return out as Facts;
}

export function rememberedFacts(env: Record<string, string | undefined>, host: string): Facts | undefined {
  return readAll(env)[host];
}

/** Remember the engine's answer when it differs from the copy (atomically; a failure is ignored). */
export function rememberFacts(env: Record<string, string | undefined>, host: string, info: Facts): void {
  const all = readAll(env);
  const facts = factsOf(info);
  if (JSON.stringify(all[host]) === JSON.stringify(facts)) return;
  all[host] = facts;
  writeAtomically(env, file(env), all);
}

/** How many images' facts are kept (the oldest go first). */
const IMAGES_KEPT = 64;

function imageFile(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'image-facts.json');
}

function readImages(env: Record<string, string | undefined>): Record<string, ImageInspect> {
  return readMap<ImageInspect>(imageFile(env));
}

/**
 * What the policy reads of an image (its id, digests, USER, VOLUMEs, EXPOSEd ports), as the image
 * reference named it on this endpoint last time. Used like the engine's facts: to decide without
 * waiting, and verified against the engine's answer before the container starts.
 */
export function rememberedImage(env: Record<string, string | undefined>, host: string, ref: string): ImageInspect | undefined {
  return readImages(env)[`${host} ${ref}`];
}

export function rememberImage(env: Record<string, string | undefined>, host: string, ref: string, image: ImageInspect): void {
  const all = readImages(env);
  const key = `${host} ${ref}`;
  const c = image.Config ?? {};
  const facts: ImageInspect = { Id: image.Id, RepoDigests: image.RepoDigests ?? [], Config: { User: c.User ?? '', Volumes: c.Volumes ?? null, ExposedPorts: c.ExposedPorts ?? {} } };
  if (JSON.stringify(all[key]) === JSON.stringify(facts)) return;
  delete all[key];
  all[key] = facts;
  const keys = Object.keys(all);
  for (const k of keys.slice(0, Math.max(0, keys.length - IMAGES_KEPT))) delete all[k];
  writeAtomically(env, imageFile(env), all);
}

function writeAtomically(env: Record<string, string | undefined>, path: string, data: unknown): void {
  try {
    mkdirSync(stateDir(env), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // a read-only state directory costs time, not safety
  }
}
