/**
 * `sdocker exec | update | build` (and their `container`/`image`/`builder` spellings): the command
 * is judged by the pure judges in src/policy/commands/ under the effective profile (the floor, the
 * project's sdocker.yaml, the level), then handed to docker unchanged by main.ts. A refusal prints
 * the policy's explanation, goes to the run record, and throws PolicyError (exit 125); nothing
 * reaches docker. Level
 * privileged: nothing is judged.
 */
import { EngineClient } from '../engine/client.js';
import { httpApi } from '../engine/http-api.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { PolicyError } from '../errors.js';
import { formatViolations } from '../policy/explain.js';
import { engineFactsFrom } from '../policy/facts.js';
import { loadEffectiveProfile } from '../policy/load-profile.js';
import { effectiveMode } from '../policy/profile-effective.js';
import type { EffectiveProfile, PolicyMode, Violation } from '../policy/types.js';
import { judgeBuild } from '../policy/commands/build.js';
import type { Judgement } from '../policy/commands/common.js';
import { execNeedsUsernsFact, judgeExec } from '../policy/commands/exec.js';
import { judgeUpdate } from '../policy/commands/update.js';
import type { GuardedCommand } from './dispatch.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

async function usernsRemap(globals: GlobalOptions, io: ProcessIO): Promise<boolean> {
  const api = httpApi(new EngineClient(resolveEndpoint(globals, io.env)));
  try {
    return engineFactsFrom(await api.info()).usernsRemap;
  } finally {
    api.close();
  }
}

async function judge(command: GuardedCommand, args: string[], profile: EffectiveProfile, globals: GlobalOptions, io: ProcessIO): Promise<Judgement> {
  switch (command) {
    case 'exec':
      return judgeExec(args, profile, execNeedsUsernsFact(profile) ? await usernsRemap(globals, io) : false);
    case 'update':
      return judgeUpdate(args, profile);
    case 'build':
      return judgeBuild(args, profile);
    default:
      throw new Error(`no judge for ${command}`);
  }
}

/** Resolves when docker may run the command; throws PolicyError (exit 125) when it may not. */
export async function guardCommand(command: GuardedCommand, args: string[], globals: GlobalOptions, io: ProcessIO): Promise<void> {
  // Judged by the mounts' own modules (they load the profile they need and throw on a refusal).
  if (command === 'volume-create') return (await import('./volume-create.js')).judgeVolumeCreate(args, globals, io);
  if (command === 'start' || command === 'restart') return (await import('./start.js')).checkStart(args, globals, io, command);
  const profile = await loadEffectiveProfile({ cwd: io.cwd, env: io.env, seccomp: false });
  if (profile.unconfined) return;
  const { violations, provenance } = await judge(command, args, profile, globals, io);
  if (violations.length === 0) return;
  const mode = effectiveMode(undefined, profile);
  const text = formatViolations(violations, provenance, { level: profile.level, mode }).replace(' this container:', ` this ${command}:`);
  io.stderr.write(text);
  await recordRefusal(command, args, profile, mode, violations, io);
  if (mode === 'enforce') throw new PolicyError('');
}

/** The run record gets the refusal (or the warning) as it gets run's: argv is the whole command. */
async function recordRefusal(command: GuardedCommand, args: string[], profile: EffectiveProfile, mode: PolicyMode, violations: Violation[], io: ProcessIO): Promise<void> {
  const { appendRecord, auditLogPath, recordContext, recordViolations } = await import('../record/run-record.js');
  const { profilesOf } = await import('../pipeline/run-policy.js');
  try {
    appendRecord(auditLogPath(io.env, profile.auditLog), {
      ...recordContext(io.cwd), event: 'refused', profiles: profilesOf(profile), level: profile.level, mode, image: '',
      argv: [command, ...args], changes: [], violations: recordViolations(violations), allowances: [],
    });
  } catch (err) {
    io.stderr.write(`sdocker: warning: the run record was not written: ${(err as Error).message}\n`);
  }
}
