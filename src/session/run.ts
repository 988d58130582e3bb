/**
 * The run lifecycle, in docker/cli's order:
 *   [pull if --pull=always] → create (on "No such image": pull, create again) → cidfile →
 *   beforeStart (the caller's last check, alongside attach and the wait for run; refused: the container is removed) → attach (hijacked) → register the wait → start → TTY size / raw mode / signal proxy →
 *   stream until the output is drained → the container's exit status.
 * With --rm nothing is left behind, even when start fails (the engine does not auto-remove a
 * container that never ran, so we remove it, and the volumes sdocker made for it).
 */
import type { ProcessIO } from '../io/process-io.js';
import { EngineError } from '../errors.js';
import type { Attached, EngineApi, RegisteredWait } from '../engine/api.js';
import { DetachKeyMatcher } from '../api/detach-keys.js';
import { forwardStdin } from '../engine/attach.js';
import { copyRaw, demux } from '../api/demux.js';
import type { PullOptions } from '../engine/pull.js';
import type { CreateBody } from '../api/types.js';
import type { SessionRequest, SessionResult } from './types.js';
import { CidFile } from './cidfile.js';
import { forwardSignals } from './signals.js';
import { monitorTtySize, rawStdin } from './tty.js';

/**
 * docker's toStatusError for the daemon's errors: 127 for a command not found, 126 for one that
 * cannot be invoked, else 125. Our own errors (e.g. "permission denied while trying to connect")
 * keep their exit code: they say nothing about the container's command.
 */
export function toStatusError(err: unknown): unknown {
  if (!(err instanceof EngineError)) return err;
  const message = err.message;
  const status = err.statusCode;
  let code = 125;
  if (
    message.includes('executable file not found') ||
    message.includes('no such file or directory') ||
    message.includes('system cannot find the file specified')
  ) {
    code = 127;
  } else if (message.includes('permission denied') || message.includes('is a directory')) {
    code = 126;
  }
  return new EngineError(message, status, code);
}

/** How a pull for this request is made (credentials from --config, progress unless -q). */
export function pullOptions(req: Pick<SessionRequest, 'quiet' | 'platform' | 'configDir'>, io: ProcessIO): PullOptions & { quiet: boolean } {
  const opts: PullOptions & { quiet: boolean } = { progress: req.quiet ? null : io.stderr, env: io.env, quiet: req.quiet };
  if (req.platform) opts.platform = req.platform;
  if (req.configDir) opts.configDir = req.configDir;
  return opts;
}

async function createContainer(api: EngineApi, req: SessionRequest, body: CreateBody, io: ProcessIO): Promise<{ id: string; warnings: string[] }> {
  if (req.pull === 'always') await (await import('../engine/pull.js')).pullImage(api, req.image, pullOptions(req, io));
  const create = () => api.containers.create(body, { name: req.name, platform: req.platform });
  let res;
  try {
    res = await create();
  } catch (err) {
    if (!(err instanceof EngineError) || err.statusCode !== 404 || !/no such image/i.test(err.message) || req.pull === 'never') {
      throw err;
    }
    await (await import('../engine/pull.js')).pullMissing(api, req.image, pullOptions(req, io));
    res = await create();
  }
  for (const w of res.Warnings ?? []) io.stderr.write(`WARNING: ${w}\n`);
  return { id: res.Id, warnings: res.Warnings ?? [] };
}

/** Remove a container and the volumes sdocker made for it; errors are reported, not thrown. */
async function removeEverything(api: EngineApi, id: string | undefined, volumes: string[], io: ProcessIO): Promise<void> {
  if (id) {
    await api.containers.remove(id).catch((err: Error) => io.stderr.write(`sdocker: failed to remove container ${id.slice(0, 12)}: ${err.message}\n`));
  }
  for (const v of volumes) {
    await api.volumes.remove(v).catch((err: Error) => io.stderr.write(`sdocker: failed to remove volume ${v}: ${err.message}\n`));
  }
}

/**
 * The body is sent as it is: -d's cleared attach flags and the checked --detach-keys are the
 * request's (flags/request.ts); a detached run attaches to nothing whatever the body says.
 */
export async function runSession(api: EngineApi, req: SessionRequest, io: ProcessIO): Promise<SessionResult> {
  const body: CreateBody = { ...req.body, HostConfig: { ...req.body.HostConfig } };
  const run = req.mode === 'run';
  const owned = req.ownedVolumes ?? [];
  const autoRemove = body.HostConfig.AutoRemove === true;

  // create (+ pull), cidfile
  const cid = req.cidfile ? await CidFile.create(req.cidfile) : undefined;
  let id: string;
  let warnings: string[];
  try {
    ({ id, warnings } = await createContainer(api, req, body, io));
  } catch (err) {
    await cid?.remove();
    // The volumes were made for a container that will not exist.
    await removeEverything(api, undefined, owned, io);
    throw toStatusError(err);
  }
  // The caller's last check: for run it goes on while attach and the wait are set up (start waits
  // for it); a refusal removes the container, its volumes and the cidfile, for create too.
  let checked: Promise<void | 'discard'> | undefined;
  const refuse = async (err: unknown): Promise<never> => {
    await removeEverything(api, id, owned, io);
    await cid?.remove();
    throw err;
  };
  const discard = async (): Promise<SessionResult> => {
    await removeEverything(api, id, owned, io);
    await cid?.remove();
    return { containerId: id, exitCode: 0, discarded: true };
  };
  try {
    await cid?.write(id);
    if (run) {
      checked = req.beforeStart?.(api, id);
      checked?.catch(() => undefined);
    } else if ((await req.beforeStart?.(api, id)) === 'discard') {
      return discard();
    }
  } catch (err) {
    return refuse(err);
  }

  if (!run) {
    io.stdout.write(`${id}\n`);
    return { containerId: id, exitCode: 0, ...(warnings.length > 0 ? { warnings } : {}) };
  }

  const attachAny = !req.detach && !!(body.AttachStdin || body.AttachStdout || body.AttachStderr);
  const tty = body.Tty === true;
  const cleanups: Array<() => void> = [];
  const cleanup = () => {
    for (const f of cleanups.splice(0).reverse()) {
      try {
        f();
      } catch {
        // best effort
      }
    }
  };

  let attached: Attached | undefined;
  let wait: RegisteredWait | undefined;
  const failBeforeStart = async (err: unknown): Promise<never> => {
    cleanup();
    attached?.socket.destroy();
    wait?.abort();
    if (autoRemove) {
      await removeEverything(api, id, owned, io);
      await cid?.remove();
    }
    throw toStatusError(err);
  };

  try {
    if (req.sigProxy && !tty && attachAny) cleanups.push(forwardSignals(api, io, id));
    if (attachAny) {
      const opts: Parameters<EngineApi['containers']['attach']>[1] = {
        stdin: !!body.AttachStdin,
        stdout: !!body.AttachStdout,
        stderr: !!body.AttachStderr,
      };
      if (req.detachKeys) opts.detachKeys = req.detachKeys;
      attached = await api.containers.attach(id, opts);
      attached.socket.on('error', () => undefined);
      wait = await api.containers.wait(id, autoRemove ? 'removed' : 'next-exit');
    }
  } catch (err) {
    return failBeforeStart(err);
  }

  let verdict: void | 'discard';
  try {
    verdict = await checked;
  } catch (err) {
    cleanup();
    attached?.socket.destroy();
    wait?.abort();
    return refuse(err);
  }
  if (verdict === 'discard') {
    cleanup();
    attached?.socket.destroy();
    wait?.abort();
    return discard();
  }

  // Raw mode before start, so the first keystrokes already go through unchanged.
  if (tty && body.AttachStdin) cleanups.push(rawStdin(io));

  try {
    await api.containers.start(id);
  } catch (err) {
    return failBeforeStart(err);
  }
  try {
    await req.afterStart?.(api, id);
  } catch (err) {
    cleanup();
    attached?.socket.destroy();
    wait?.abort();
    await removeEverything(api, id, owned, io);
    await cid?.remove();
    throw err;
  }

  if (!attachAny || !attached || !wait) {
    cleanup();
    io.stdout.write(`${id}\n`);
    return { containerId: id, exitCode: 0, ...(warnings.length > 0 ? { warnings } : {}) };
  }

  try {
    if (tty && io.stdout.isTTY) cleanups.push(monitorTtySize(api, io, id));

    const socket = attached.socket;
    if (req.onOutput) socket.on('data', req.onOutput);
    // The engine honours the detach keys only with a TTY (without one, they are ordinary input).
    const matcher = tty && body.AttachStdin ? new DetachKeyMatcher(req.detachKeys) : undefined;
    if (body.AttachStdin) {
      cleanups.push(forwardStdin(io.stdin, socket, matcher ? (c) => matcher.feed(c) : undefined));
    } else {
      socket.end();
    }

    const output = tty
      ? copyRaw(socket, body.AttachStdout || body.AttachStderr ? io.stdout : null)
      : demux(socket, { stdout: body.AttachStdout ? io.stdout : null, stderr: body.AttachStderr ? io.stderr : null });
    output.catch(() => undefined);
    const waited = wait.result;

    const first = await Promise.race([
      output.then(
        () => 'output' as const,
        () => 'output' as const,
      ),
      waited.then(
        () => 'exit' as const,
        () => 'exit' as const,
      ),
    ]);

    if (first === 'output') {
      await output; // rethrows a stream error (e.g. the daemon's system-error message)
      if (matcher?.matched) {
        // The daemon ended the stream on the detach keys: the container keeps running.
        wait.abort();
        return { containerId: id, exitCode: 0 };
      }
    } else if (!body.AttachStdout && !body.AttachStderr) {
      socket.destroy();
    } else {
      await output.catch(() => undefined);
    }
    const status = await waited;
    if (autoRemove && owned.length) await removeEverything(api, undefined, owned, io);
    return { containerId: id, exitCode: status.StatusCode };
  } finally {
    cleanup();
    attached.socket.destroy();
  }
}
