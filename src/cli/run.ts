import { resolve } from 'node:path';
import { readBoundedText } from '../fs/read-bounded.js';
import { EngineClient } from '../engine/client.js';
import { httpApi } from '../engine/http-api.js';
import type { BodyContext, ProxyConfig } from '../flags/body.js';
import { defaultConfigDir, resolveEndpoint } from '../engine/endpoint.js';
import { PolicyError, SdockerError } from '../errors.js';
import { buildRunRequest } from '../flags/request.js';
import { runPipeline } from '../pipeline/run.js';
import { factsMemory } from './engine-facts.js';
import { startFacts } from '../pipeline/facts.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

/**
 * `sdocker run` / `sdocker create`: argv → request (pure) → profile and floor → the run pipeline
 * (src/pipeline/run.ts: facts, policy, explanation, record, verification, session).
 */
export async function runCommand(argv: string[], mode: 'run' | 'create', globals: GlobalOptions, io: ProcessIO): Promise<number> {
  const endpoint = resolveEndpoint(globals, io.env);
  const ctx: BodyContext = { cwd: io.cwd, env: io.env, readFile: (p, kind) => readBoundedText(resolve(io.cwd, p), kind) };
  const proxies = proxiesFor(globals.configDir ?? defaultConfigDir(io.env), endpoint.host);
  if (proxies) ctx.proxies = proxies;
  const req = buildRunRequest(argv, mode, ctx);
  for (const n of req.notices) io.stderr.write(`${n}\n`);
  if (req.help) {
    const { runHelp } = await import('./help.js');
    io.stdout.write(`${await runHelp(mode)}\n`);
    return 0;
  }
  // docker's CheckTty: -it needs a terminal on stdin; say so before anything is created.
  if (mode === 'run' && !req.detach && req.body.Tty && req.body.AttachStdin && !io.stdin.isTTY) {
    throw new SdockerError('the input device is not a TTY', 1);
  }
  const api = httpApi(new EngineClient(endpoint));
  // The engine's answers about itself and the image overlap with loading the policy code and
  // profiles. Not for an explicit --policy privileged: then docker's own requests are all we send.
  const early = req.sdocker.policy === 'privileged' ? undefined : startFacts(api, req);
  try {
    const policy = await import('../pipeline/run-policy.js');
    const profile = await policy.loadProfile(req, io);
    // Image trust (allowlist, digests, content trust) is judged on the reference before any pull.
    const trust = (await import('../pipeline/run-trust.js')).trustBeforePull(req, profile, io, policy);
    const result = await runPipeline(api, req, profile, {
      io, policy, configDir: globals.configDir, early, memory: factsMemory(io.env, endpoint.host), trust,
    });
    if (result.refused && !req.sdocker.dryRun) throw new PolicyError('');
    return result.status;
  } finally {
    early?.info.catch(() => undefined);
    early?.image.catch(() => undefined);
    api.close();
  }
}

/** The docker config's proxies for this daemon (its own entry, else "default"), as docker run reads them. */
function proxiesFor(configDir: string, daemonHost: string): ProxyConfig | undefined {
  let text: string;
  try {
    text = readBoundedText(`${configDir}/config.json`, 'docker-config');
  } catch {
    return undefined;
  }
  try {
    const proxies = (JSON.parse(text) as { proxies?: Record<string, ProxyConfig> }).proxies;
    return proxies?.[daemonHost] ?? proxies?.default;
  } catch {
    return undefined; // docker itself warns and goes on with an unreadable config
  }
}
