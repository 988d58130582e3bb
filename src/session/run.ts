/**
 * The run lifecycle, in docker/cli's order:
 *   [pull if --pull=always] → create (on "No such image": pull, create again) → cidfile →
 *   beforeStart (the caller's last check, alongside attach and the wait for run; refused: the container is removed) → attach (hijacked) → register the wait → start → TTY size / raw mode / signal proxy →
 *   stream until the output is drained → the container's exit status.
 * With --rm nothing is left behind, even when start fails (the engine does not auto-remove a
 * container that never ran, so we remove it, and the volumes sdocker made for it).
 */
import type { ProcessIO } from '../io/process-io.js';
import { EngineError, SdockerError } from '../errors.js';
import type { EngineClient } from '../engine/client.js';
import { DetachKeyMatcher, parseDetachKeys } from '../api/detach-keys.js';
import { attachContainer, forwardStdin } from '../engine/attach.js';
import { copyRaw, demux } from '../api/demux.js';
import { registerWait, type RegisteredWait } from '../engine/wait.js';
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

async function loadPull() {
  return import('../engine/pull.js');
}

async function pull(client: EngineClient, req: SessionRequest, io: ProcessIO): Promise<void> {
  const { pullImage } = await loadPull();
  const opts: Parameters<typeof pullImage>[2] = { progress: req.quiet ? null : io.stderr, env: io.env };
  if (req.platform) opts.platform = req.platform;
  if (req.configDir) opts.configDir = req.configDir;
  await pullImage(client, req.image, opts);
}

interface CreateResponse {
  Id: string;
  Warnings?: string[] | null;
}

async function createOnce(client: EngineClient, req: SessionRequest, body: CreateBody): Promise<CreateResponse> {
  return client.json<CreateResponse>('POST', '/containers/create', {
    query: { name: req.name || undefined, platform: req.platform || undefined },
    body,
  });
}

async function createContainer(client: EngineClient, req: SessionRequest, body: CreateBody, io: ProcessIO): Promise<string> {
  if (req.pull === 'always') await pull(client, req, io);
  let res: CreateResponse;
  try {
    res = await createOnce(client, req, body);
  } catch (err) {
    if (!(err instanceof EngineError) || err.statusCode !== 404 || !/no such image/i.test(err.message) || req.pull === 'never') {
      throw err;
    }
    if (!req.quiet) {
      const { familiarString } = await loadPull();
      io.stderr.write(`Unable to find image '${familiarString(req.image)}' locally\n`);
    }
    await pull(client, req, io);
    res = await createOnce(client, req, body);
  }
  for (const w of res.Warnings ?? []) io.stderr.write(`WARNING: ${w}\n`);
  return res.Id;
}

/** Remove a container and the volumes sdocker made for it; errors are reported, not thrown. */
async function removeEverything(client: EngineClient, id: string | undefined, volumes: string[], io: ProcessIO): Promise<void> {
  if (id) {
    try {
      await client.call('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { v: 1, force: 1 } });
    } catch (err) {
      if (!(err instanceof EngineError && err.statusCode === 404)) {
        io.stderr.write(`sdocker: failed to remove container ${id.slice(0, 12)}: ${(err as Error).message}\n`);
      }
    }
  }
  for (const v of volumes) {
    try {
      await client.call('DELETE', `/volumes/${encodeURIComponent(v)}`, { query: { force: 1 } });
    } catch (err) {
      if (!(err instanceof EngineError && err.statusCode === 404)) {
        io.stderr.write(`sdocker: failed to remove volume ${v}: ${(err as Error).message}\n`);
      }
    }
  }
}

export async function runSession(client: EngineClient, req: SessionRequest, io: ProcessIO): Promise<SessionResult> {
  const body: CreateBody = { ...req.body, HostConfig: { ...req.body.HostConfig } };
  const run = req.mode === 'run';
  if (run && req.detach) {
    body.AttachStdin = false;
    body.AttachStdout = false;
    body.AttachStderr = false;
    body.StdinOnce = false;
  }
  if (req.detachKeys) {
    try {
      parseDetachKeys(req.detachKeys);
    } catch (err) {
      throw new SdockerError((err as Error).message, 125);
    }
  }
  const owned = req.ownedVolumes ?? [];
  const autoRemove = body.HostConfig.AutoRemove === true;

  // create (+ pull), cidfile
  const cid = req.cidfile ? await CidFile.create(req.cidfile) : undefined;
  let id: string;
  try {
    id = await createContainer(client, req, body, io);
  } catch (err) {
    await cid?.remove();
    // The volumes were made for a container that will not exist.
    await removeEverything(client, undefined, owned, io);
    throw toStatusError(err);
  }
  // The caller's last check: for run it goes on while attach and the wait are set up (start waits
  // for it); a refusal removes the container, its volumes and the cidfile, for create too.
  let checked: Promise<void> | undefined;
  const refuse = async (err: unknown): Promise<never> => {
    await removeEverything(client, id, owned, io);
    await cid?.remove();
    throw err;
  };
  try {
    await cid?.write(id);
    if (run) {
      checked = req.beforeStart?.(client, id);
      checked?.catch(() => undefined);
    } else {
      await req.beforeStart?.(client, id);
    }
  } catch (err) {
    return refuse(err);
  }

  if (!run) {
    io.stdout.write(`${id}\n`);
    return { containerId: id, exitCode: 0 };
  }

  const attachAny = !!(body.AttachStdin || body.AttachStdout || body.AttachStderr);
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

  let attached: Awaited<ReturnType<typeof attachContainer>> | undefined;
  let wait: RegisteredWait | undefined;
  const failBeforeStart = async (err: unknown): Promise<never> => {
    cleanup();
    attached?.socket.destroy();
    wait?.abort();
    if (autoRemove) {
      await removeEverything(client, id, owned, io);
      await cid?.remove();
    }
    throw toStatusError(err);
  };

  try {
    if (req.sigProxy && !tty && attachAny) cleanups.push(forwardSignals(client, io, id));
    if (attachAny) {
      const opts: Parameters<typeof attachContainer>[2] = {
        stdin: !!body.AttachStdin,
        stdout: !!body.AttachStdout,
        stderr: !!body.AttachStderr,
      };
      if (req.detachKeys) opts.detachKeys = req.detachKeys;
      attached = await attachContainer(client, id, opts);
      attached.socket.on('error', () => undefined);
      wait = await registerWait(client, id, autoRemove ? 'removed' : 'next-exit');
    }
  } catch (err) {
    return failBeforeStart(err);
  }

  try {
    await checked;
  } catch (err) {
    cleanup();
    attached?.socket.destroy();
    wait?.abort();
    return refuse(err);
  }

  // Raw mode before start, so the first keystrokes already go through unchanged.
  if (tty && body.AttachStdin) cleanups.push(rawStdin(io));

  try {
    await client.call('POST', `/containers/${encodeURIComponent(id)}/start`);
  } catch (err) {
    return failBeforeStart(err);
  }
  try {
    await req.afterStart?.(client, id);
  } catch (err) {
    cleanup();
    attached?.socket.destroy();
    wait?.abort();
    await removeEverything(client, id, owned, io);
    await cid?.remove();
    throw err;
  }

  if (!attachAny || !attached || !wait) {
    cleanup();
    io.stdout.write(`${id}\n`);
    return { containerId: id, exitCode: 0 };
  }

  try {
    if (tty && io.stdout.isTTY) cleanups.push(monitorTtySize(client, io, id));

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
    if (autoRemove && owned.length) await removeEverything(client, undefined, owned, io);
    return { containerId: id, exitCode: status.StatusCode };
  } finally {
    cleanup();
    attached.socket.destroy();
  }
}
