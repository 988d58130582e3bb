/**
 * applyPolicy: the pure core. It reads the create body the docker-flag parser built (so every
 * spelling of a flag arrives as the same field), checks it against the effective profile and
 * returns the hardened body, the changes made, the violations and the allowances used.
 * No I/O: host paths, image and engine facts are gathered by the shell and passed in.
 * This file is the orchestrator: harden() runs the steps in order (one concern a file in
 * src/policy/steps/); they report through the run's context (src/policy/context.ts).
 */
import { judgeIdentity } from './identity.js';
import { ownLabels } from './own-labels.js';
import type { PolicyInput, PolicyOutcome } from './types.js';
import { Ctx } from './context.js';
import { healthcheck } from './healthcheck.js';
import { restartPolicy } from './restart.js';
import { ulimits } from './ulimits.js';
import { devices } from './steps/devices.js';
import { labels } from './steps/labels.js';
import { logging } from './steps/logging.js';
import { mounts } from './steps/mounts.js';
import { namespaces } from './steps/namespaces.js';
import { ports } from './steps/ports.js';
import { capabilities, privileged } from './steps/privileges.js';
import { resources } from './steps/resources.js';
import { runtime } from './steps/runtime.js';
import { securityOpts } from './steps/security-opts.js';
import { sysctls } from './steps/sysctls.js';

export function applyPolicy(input: PolicyInput): PolicyOutcome {
  const { profile, mode } = input;
  const original = input.body;
  if (profile.unconfined) {
    return {
      body: structuredClone(original), changes: [], violations: [], allowances: [
        { rule: 'level', subject: 'privileged', reason: 'level privileged: sdocker changes nothing', source: profile.sources.at(-1)?.path ?? 'level:privileged' },
      ], createDirs: [], mode, refused: false, applied: false,
    };
  }
  const ctx = new Ctx(input);
  harden(ctx);
  const refused = mode === 'enforce' && ctx.violations.length > 0;
  return {
    body: mode === 'audit' ? structuredClone(original) : ctx.body,
    changes: ctx.changes,
    violations: ctx.violations,
    allowances: ctx.allowances,
    createDirs: mode === 'audit' ? [] : ctx.createDirs,
    mode,
    refused,
    applied: mode !== 'audit',
    ...(ctx.notes.length ? { notes: ctx.notes } : {}),
  };
}

function harden(c: Ctx): void {
  labels(c);
  privileged(c);
  capabilities(c);
  namespaces(c);
  securityOpts(c);
  judgeIdentity(c);
  mounts(c);
  devices(c);
  resources(c);
  sysctls(c);
  ports(c);
  logging(c);
  runtime(c);
  restartPolicy(c);
  ulimits(c);
  healthcheck(c);
  c.body.Labels = { ...(c.body.Labels ?? {}), ...ownLabels(c.profile.level, c.input.mode, c.input.owner) };
}
