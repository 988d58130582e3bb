import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { readBoundedText } from '../fs/read-bounded.js';
import { EngineClient } from '../engine/client.js';
import type { BodyContext, ProxyConfig } from '../engine/body.js';
import { defaultConfigDir, resolveEndpoint } from '../engine/endpoint.js';
import { PolicyError, SdockerError } from '../errors.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../engine/types.js';
import { buildRunRequest, type RunRequest } from '../flags/request.js';
import { runSession } from '../session/run.js';
import type { SessionRequest } from '../session/types.js';
import type { EffectiveProfile, PolicyOutcome, RunRecordInput } from './run-policy.js';
import { rememberedFacts, rememberedImage, rememberFacts, rememberImage } from './engine-facts.js';
import { type EarlyFacts, gatherFacts, inspectImage, startFacts } from './facts.js';
import type { GlobalOptions } from './globals.js';
import type { IdentityFiles } from '../policy/user-names.js';
import type { ProcessIO } from './io.js';

/**
 * `sdocker run` / `sdocker create`: argv → request (pure) → profile and floor → facts from the
 * engine (info, image, named volumes; in parallel) → policy (pure) → refuse, dry-run, or the run
 * lifecycle → the run record.
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
  const client = new EngineClient(endpoint);
  // The engine's answers about itself and the image overlap with loading the policy code and
  // profiles. Not for an explicit --policy privileged: then docker's own requests are all we send.
  const early = req.sdocker.policy === 'privileged' ? undefined : startFacts(client, req);
  try {
    const policy = await import('./run-policy.js');
    const profile = await policy.loadProfile(req, io);
    try {
      return await runWithPolicy(client, req, profile, globals, io, policy, early, true);
    } catch (err) {
      if (!(err instanceof StaleFacts)) throw err;
      // The remembered engine facts were out of date: that container was removed; decide again.
      return await runWithPolicy(client, req, profile, globals, io, policy, early, false);
    }
  } finally {
    early?.info.catch(() => undefined);
    early?.image.catch(() => undefined);
    client.close();
  }
}

/**
 * The run lifecycle's request for a decided body. `pulled`: the image was read (and pulled if need
 * be) for the policy, so the session must not pull it a second time.
 */
export function sessionRequest(req: RunRequest, body: CreateBody, globals: GlobalOptions, pulled: boolean): SessionRequest {
  const session: SessionRequest = {
    mode: req.mode,
    body,
    image: req.image,
    pull: pulled ? 'missing' : req.pull,
    quiet: req.quiet,
    detach: req.detach,
    sigProxy: req.sigProxy,
  };
  if (req.name !== undefined) session.name = req.name;
  if (req.platform !== undefined) session.platform = req.platform;
  if (req.detachKeys !== undefined) session.detachKeys = req.detachKeys;
  if (req.cidfile !== undefined) session.cidfile = req.cidfile;
  if (globals.configDir !== undefined) session.configDir = globals.configDir;
  return session;
}

/** The engine's /info differed from the remembered copy in a way that changes the container. */
class StaleFacts extends Error {}

async function runWithPolicy(
  client: EngineClient,
  req: RunRequest,
  profile: EffectiveProfile,
  globals: GlobalOptions,
  io: ProcessIO,
  policy: typeof import('./run-policy.js'),
  early: EarlyFacts | undefined,
  useRemembered: boolean,
): Promise<number> {
  const record: RunRecordInput = { req, profile, io };
  let outcome: PolicyOutcome | undefined;
  let image: ImageInspect | undefined;
  let pulled = false;
  let info: EngineInfo | undefined;
  let verifyFacts: (() => Promise<EngineInfo>) | undefined;
  let identityFiles: IdentityFiles | undefined;
  if (!profile.unconfined) {
    // The policy reads the image (USER, VOLUME) and the engine (userns-remap, MAC, runtimes).
    const host = client.endpoint.host;
    const remembering = useRemembered && !req.sdocker.dryRun;
    const remembered = remembering ? rememberedFacts(io.env, host) : undefined;
    const rememberedImg = remembering && req.pull !== 'always' ? rememberedImage(io.env, host, req.image) : undefined;
    const pending = early ?? startFacts(client, req);
    const facts = await gatherFacts(client, req, globals, io, policy.namedVolumesOf(req.body), pending, remembered, rememberedImg);
    image = facts.image;
    info = facts.info;
    pulled = facts.pulled;
    // Users and groups are resolved on the image's own files, before anything is created.
    identityFiles = await policy.identityFilesFor(client, profile, facts.info, image, io);
    const filesImage = image?.Id;
    outcome = policy.decide(req, profile, facts.info, image, facts.namedVolumes, io, facts.containers, identityFiles);
    // After the decision: whether it depends on the scan (no-new-privileges lifted) sets what a scan may cost.
    const setuid = await policy.setuidFilesFor(client, profile, image, io, outcome);
    // Under restricted an image with setuid-root files runs only with no-new-privileges (SD-NNP-002).
    policy.judgeSetuid(outcome, profile.level, setuid?.files);
    if (setuid) record.setuidFiles = setuid.files;
    if (setuid?.note) record.setuidNote = setuid.note;
    if ((remembered || rememberedImg) && outcome.refused) {
      // A refusal is never made on remembered facts: ask the engine.
      return runWithPolicy(client, req, profile, globals, io, policy, pending, false);
    }
    if (remembered || rememberedImg) {
      const decided = outcome;
      verifyFacts = async () => {
        const real = remembered ? await pending.info : facts.info;
        // The image may have been missing at first and pulled by the session since.
        const realImage = rememberedImg ? ((await pending.image) ?? (await inspectImage(client, req.image))) : image;
        if (remembered) rememberFacts(io.env, host, real);
        if (rememberedImg && realImage) rememberImage(io.env, host, req.image, realImage);
        // The image's files were read for the remembered image id; another image: decide afresh.
        const files = realImage?.Id === filesImage ? identityFiles : undefined;
        const fresh = policy.decide(req, profile, real, realImage, facts.namedVolumes, io, facts.containers, files);
        if (fresh.refused !== decided.refused || JSON.stringify(fresh.body) !== JSON.stringify(decided.body)) throw new StaleFacts();
        image = realImage;
        return real;
      };
    } else {
      rememberFacts(io.env, host, facts.info);
      if (image) rememberImage(io.env, host, req.image, image);
    }
    if (req.sdocker.dryRun) {
      io.stdout.write(policy.dryRun(req, profile, outcome));
      return outcome.refused ? 125 : 0;
    }
    // A refusal in JSON goes to stdout, which no container writes to then; warnings stay on stderr.
    if (outcome.violations.length > 0) (outcome.refused && req.sdocker.output === 'json' ? io.stdout : io.stderr).write(policy.explain(req, profile, outcome));
    if (outcome.refused) {
      policy.record({ ...record, outcome, image, event: 'refused' });
      throw new PolicyError('');
    }
  } else if (req.sdocker.dryRun) {
    io.stdout.write(policy.dryRunUnconfined(req, profile));
    return 0;
  }

  const body = outcome?.body ?? req.body;
  if (body.Tty && io.stdout.isTTY) body.HostConfig.ConsoleSize = [io.stdout.rows ?? 0, io.stdout.columns ?? 0];
  // -v creates a missing host directory; the bind volume the policy made of it cannot.
  for (const dir of outcome?.createDirs ?? []) mkdirSync(dir, { recursive: true });
  const session = sessionRequest(req, body, globals, pulled);
  let createdId: string | undefined;
  if (outcome && info) {
    const o = outcome;
    const i = info;
    const verify = verifyFacts;
    // A mount may give the container another /etc/group, where runc looks the groups up at start.
    const groupsOf = identityFiles && policy.groupFileMayChange(body) ? identityFiles : undefined;
    session.beforeStart = async (c, id) => {
      createdId = id;
      // What the engine made, read back and judged apart from the code that built the request (in parallel).
      const created = policy.verifyCreated(c, id, profile, o, i, io, image);
      created.catch(() => undefined);
      // Decided on remembered facts: the engine's real answer must agree before anything starts.
      if (verify) await verify();
      if (groupsOf) await policy.checkMountedGroups(c, id, req, profile, o, groupsOf, io);
      await created;
    };
  }
  // Binds are resolved at start: their sources are rechecked then, and the mounts verified after.
  if (outcome?.mode === 'enforce') (await import('./bind-guard.js')).guardBinds(session);
  // A hardened run that fails says why (src/diagnose); not in audit mode, which hardens nothing.
  const diag = outcome && outcome.mode !== 'audit' ? await import('./diagnose-run.js') : undefined;
  const plan = diag?.planDiagnosis(req, body, true);
  if (plan?.tail) session.onOutput = (c) => plan.tail!.feed(c);
  try {
    const result = await runSession(client, session, io);
    const exitStatus = diag && plan ? await diag.diagnoseRun(client, plan, req, body, profile, image, result, io) : result.exitCode;
    policy.record({ ...record, outcome, image, event: req.mode, containerId: result.containerId, exitStatus });
    return exitStatus;
  } catch (err) {
    if (err instanceof StaleFacts) throw err;
    if (err instanceof PolicyError && outcome?.refused) {
      policy.record({ ...record, outcome, image, event: 'refused', ...(createdId ? { containerId: createdId } : {}) });
    } else {
      policy.record({ ...record, outcome, image, event: 'error', error: (err as Error).message });
    }
    throw err;
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
