/**
 * The engine's facts the policy reads from GET /info (user-namespace remapping, security options,
 * runtimes, CPUs, default logging driver), remembered per endpoint in the state directory.
 *
 * GET /info takes 7-15 ms on this engine and the create body depends on it, so waiting for it
 * delays every run. The decisions on the remembered copy (when it is used, when the engine's
 * answer wins) are src/pipeline/remembered.ts; this file only keeps the copies.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../record/run-record.js';
import { readBoundedText } from '../fs/read-bounded.js';
import type { EngineInfo, ImageInspect } from '../api/types.js';
import type { FactsMemory } from '../pipeline/remembered.js';

type Facts = EngineInfo & { NCPU?: number; LoggingDriver?: string };

const KEYS = ['SecurityOptions', 'Runtimes', 'DefaultRuntime', 'CgroupVersion', 'CgroupDriver', 'OSType', 'DockerRootDir', 'NCPU', 'LoggingDriver', 'ServerVersion', 'KernelVersion'] as const;

function file(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'engine-facts.json');
}

/**
 * A remembered map from the state directory. Anything but a JSON object of entries that pass
 * `valid` is an empty map, or loses the entries that fail: a missing, corrupt or hostile file
 * (garbage, an array, a FIFO, a link to /dev/zero, a huge file, wrong types inside) costs time, never
 * a run; the next answer from the engine rewrites it.
 */
function readMap<T>(path: string, valid: (v: unknown) => v is T): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readBoundedText(path, 'state'));
  } catch {
    return out;
  }
  if (!isObject(parsed)) return out;
  for (const [k, v] of Object.entries(parsed)) if (valid(v)) out[k] = v;
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

const FACT_TYPES: Record<(typeof KEYS)[number], (v: unknown) => boolean> = {
  SecurityOptions: isStrings,
  Runtimes: isObject,
  DefaultRuntime: (v) => typeof v === 'string',
  CgroupVersion: (v) => typeof v === 'string',
  CgroupDriver: (v) => typeof v === 'string',
  OSType: (v) => typeof v === 'string',
  DockerRootDir: (v) => typeof v === 'string',
  NCPU: (v) => typeof v === 'number' && Number.isInteger(v) && v > 0,
  LoggingDriver: (v) => typeof v === 'string',
  ServerVersion: (v) => typeof v === 'string',
  KernelVersion: (v) => typeof v === 'string',
};

/** Only the keys factsOf keeps, each of the type the engine sends. */
function isFacts(v: unknown): v is Facts {
  if (!isObject(v)) return false;
  return Object.entries(v).every(([k, x]) => Object.hasOwn(FACT_TYPES, k) && FACT_TYPES[k as keyof typeof FACT_TYPES](x));
}

/** The shape rememberImage writes. */
function isImageFacts(v: unknown): v is ImageInspect {
  if (!isObject(v) || typeof v.Id !== 'string' || !isStrings(v.RepoDigests) || !isObject(v.Config)) return false;
  const c = v.Config;
  return typeof c.User === 'string' && (c.Volumes === null || isObject(c.Volumes)) && isObject(c.ExposedPorts);
}

function readAll(env: Record<string, string | undefined>): Record<string, Facts> {
  return readMap(file(env), isFacts);
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
  return readMap(imageFile(env), isImageFacts);
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
  const facts: ImageInspect = {
    Id: image.Id, RepoDigests: image.RepoDigests ?? [],
    Config: { User: c.User ?? '', Volumes: c.Volumes ?? null, ExposedPorts: c.ExposedPorts ?? {}, ...(c.Healthcheck?.Test ? { Healthcheck: { Test: c.Healthcheck.Test } } : {}) },
  };
  if (JSON.stringify(all[key]) === JSON.stringify(facts)) return;
  delete all[key];
  all[key] = facts;
  const keys = Object.keys(all);
  for (const k of keys.slice(0, Math.max(0, keys.length - IMAGES_KEPT))) delete all[k];
  writeAtomically(env, imageFile(env), all);
}

/** The state directory's copies for one endpoint, as the run pipeline reads and refreshes them. */
export function factsMemory(env: Record<string, string | undefined>, host: string): FactsMemory {
  return {
    facts: () => rememberedFacts(env, host),
    image: (ref) => rememberedImage(env, host, ref),
    rememberFacts: (info) => rememberFacts(env, host, info),
    rememberImage: (ref, image) => rememberImage(env, host, ref, image),
  };
}

function writeAtomically(env: Record<string, string | undefined>, path: string, data: unknown): void {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(stateDir(env), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, JSON.stringify(data), { mode: 0o600, flag: 'wx' }); // a new file: never through a planted link
    renameSync(tmp, path); // replaces the entry itself (a planted FIFO or link), never writes through it
  } catch {
    // a read-only state directory costs time, not safety; no half-written file stays behind
    rmSync(tmp, { force: true });
  }
}
