import { readFileSync } from 'node:fs';
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { buildRunRequest } from '../flags/request.js';
import { runSession } from '../session/run.js';
import type { SessionRequest } from '../session/types.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from './io.js';

/** `sdocker run` / `sdocker create`: parse → policy → create body → the run lifecycle. */
export async function runCommand(argv: string[], mode: 'run' | 'create', globals: GlobalOptions, io: ProcessIO): Promise<number> {
  const req = buildRunRequest(argv, mode, {
    cwd: io.cwd,
    env: io.env,
    readFile: (p) => readFileSync(p, 'utf8'),
  });
  for (const n of req.notices) io.stderr.write(`${n}\n`);
  if (req.help) {
    const { runHelp } = await import('./help.js');
    io.stdout.write(`${await runHelp(mode)}\n`);
    return 0;
  }
  const client = new EngineClient(resolveEndpoint(globals, io.env));
  const body = req.body;
  if (body.Tty && io.stdout.isTTY) body.HostConfig.ConsoleSize = [io.stdout.rows ?? 0, io.stdout.columns ?? 0];
  const session: SessionRequest = {
    mode,
    body,
    image: req.image,
    pull: req.pull,
    quiet: req.quiet,
    detach: req.detach,
    sigProxy: req.sigProxy,
  };
  if (req.name !== undefined) session.name = req.name;
  if (req.platform !== undefined) session.platform = req.platform;
  if (req.detachKeys !== undefined) session.detachKeys = req.detachKeys;
  if (req.cidfile !== undefined) session.cidfile = req.cidfile;
  if (globals.configDir !== undefined) session.configDir = globals.configDir;
  const result = await runSession(client, session, io);
  return result.exitCode;
}
