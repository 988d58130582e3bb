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
import type { EngineInfo } from '../engine/types.js';

type Facts = EngineInfo & { NCPU?: number; LoggingDriver?: string };

const KEYS = ['SecurityOptions', 'Runtimes', 'DefaultRuntime', 'CgroupVersion', 'CgroupDriver', 'OSType', 'DockerRootDir', 'NCPU', 'LoggingDriver', 'ServerVersion', 'KernelVersion'] as const;

function file(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'engine-facts.json');
}

function readAll(env: Record<string, string | undefined>): Record<string, Facts> {
  try {
    return JSON.parse(readFileSync(file(env), 'utf8')) as Record<string, Facts>;
  } catch {
    return {};
  }
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
  try {
    const path = file(env);
    mkdirSync(stateDir(env), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // a read-only state directory costs time, not safety
  }
}
