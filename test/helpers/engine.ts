/**
 * Shared helpers for tests against the real engine: the label every test object carries and a
 * cleanup for them, an in-memory ProcessIO for runSession, a runner for the built CLI, and a
 * throw-away local registry (Debian's docker-registry) on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ProcessIO } from '../../src/io/process-io.js';
import { EngineClient } from '../../src/engine/client.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import type { CreateBody } from '../../src/api/types.js';

export const TEST_LABEL_KEY = 'sdocker.test';
/** Which test process made an object: cleanup removes only its own, so parallel test runs do not kill each other's containers. */
export const OWNER_LABEL_KEY = 'sdocker.test.owner';
/** Which test run made an object (set by the global setup): its teardown removes only that run's objects. */
export const RUN_LABEL_KEY = 'sdocker.test.run';
export const TEST_RUN_ID = process.env.SDOCKER_TEST_RUN ?? 'unset';
export const TEST_LABELS: Record<string, string> = { [TEST_LABEL_KEY]: '1', [OWNER_LABEL_KEY]: String(process.pid), [RUN_LABEL_KEY]: TEST_RUN_ID };
/** The same labels as CLI flags, for `sdocker run` in tests. */
export const TEST_LABEL_ARGS: string[] = Object.entries(TEST_LABELS).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(REPO_ROOT, 'bin', 'sdocker');

export function engineClient(): EngineClient {
  return new EngineClient(resolveEndpoint({}, process.env));
}

/**
 * Remove the containers and volumes this test process labelled (scope 'all': every object with the
 * test label, from any run). Safe to call in afterAll when tests failed.
 */
export async function cleanupTestObjects(scope: 'mine' | 'all' = 'mine'): Promise<void> {
  const c = engineClient();
  try {
    const label = scope === 'all' ? [`${TEST_LABEL_KEY}=1`] : [`${TEST_LABEL_KEY}=1`, `${OWNER_LABEL_KEY}=${process.pid}`];
    const filters = JSON.stringify({ label });
    const containers = await c.json<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: 1, filters } });
    for (const ct of containers) {
      await c.call('DELETE', `/containers/${ct.Id}`, { query: { force: 1, v: 1 } }).catch(() => undefined);
    }
    const vols = await c.json<{ Volumes: Array<{ Name: string }> | null }>('GET', '/volumes', { query: { filters } });
    for (const v of vols.Volumes ?? []) {
      await c.call('DELETE', `/volumes/${encodeURIComponent(v.Name)}`, { query: { force: 1 } }).catch(() => undefined);
    }
  } finally {
    c.close();
  }
}

/** Does a container exist (by id or name)? */
export function containerExists(idOrName: string): Promise<boolean> {
  return exists(`/containers/${encodeURIComponent(idOrName)}/json`);
}

/** Does a volume exist? */
export function volumeExists(name: string): Promise<boolean> {
  return exists(`/volumes/${encodeURIComponent(name)}`);
}

async function exists(path: string): Promise<boolean> {
  const c = engineClient();
  try {
    await c.json('GET', path);
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  } finally {
    c.close();
  }
}

/** A unique name for a test container. */
export function testName(prefix = 'sdt'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** A minimal create body like `docker run [-i] IMAGE CMD...` would send (labelled for cleanup). */
export function baseBody(image: string, cmd: string[] | undefined, opts: { stdin?: boolean; tty?: boolean; autoRemove?: boolean } = {}): CreateBody {
  const body: CreateBody = {
    Image: image,
    AttachStdin: !!opts.stdin,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: !!opts.stdin,
    StdinOnce: !!opts.stdin,
    Tty: !!opts.tty,
    Labels: { ...TEST_LABELS },
    HostConfig: { AutoRemove: !!opts.autoRemove, NetworkMode: 'none' },
  };
  if (cmd) body.Cmd = cmd;
  return body;
}

export interface MemoryIO extends ProcessIO {
  stdoutText(): string;
  stderrText(): string;
  stdoutBytes(): number;
  /** Deliver a signal to the subscribed handlers, as the OS would to the process. */
  signal(sig: NodeJS.Signals): void;
}

/** A ProcessIO on memory streams. `stdin`: bytes to feed (then EOF), a Readable, or nothing (EOF at once). */
export function memoryIO(opts: { stdin?: Buffer | string | Readable; keepStdout?: boolean; env?: Record<string, string | undefined> } = {}): MemoryIO {
  const stdin =
    opts.stdin instanceof Readable ? opts.stdin : Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => {
    outBytes += c.length;
    if (opts.keepStdout !== false) out.push(c);
  });
  stderr.on('data', (c: Buffer) => err.push(c));
  const signals = new EventEmitter();
  return {
    stdin,
    stdout,
    stderr,
    env: opts.env ?? { ...process.env },
    cwd: process.cwd(),
    onSignal(sig, handler) {
      signals.on(sig, handler);
      return () => signals.off(sig, handler);
    },
    onResize() {
      return () => undefined;
    },
    stdoutText: () => Buffer.concat(out).toString('utf8'),
    stderrText: () => Buffer.concat(err).toString('utf8'),
    stdoutBytes: () => outBytes,
    signal: (sig) => signals.emit(sig),
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  cwd?: string;
  input?: Buffer | string;
  /** Added to this process's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void;
}

/** Run a command, collect its output and exit; killed after `timeoutMs` (50 s). */
export function spawnCollect(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...(opts.env ?? {}) };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(cmd, args, { cwd: opts.cwd ?? process.cwd(), env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 50_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    opts.onSpawn?.(child);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Run `bin/sdocker ARGS` as a command (the build must exist: npm run build). */
export function runCli(args: string[], opts: SpawnOptions = {}): Promise<CliResult> {
  return spawnCollect(CLI, args, opts);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
    srv.on('error', reject);
  });
}

export interface LocalRegistry {
  /** host:port, e.g. 127.0.0.1:41234 (the engine trusts 127.0.0.0/8 without TLS). */
  address: string;
  stop(): Promise<void>;
}

/** Start Debian's docker-registry on 127.0.0.1:<free port> with its storage in a temp dir (one starter: registry.ts). */
export async function startRegistry(): Promise<LocalRegistry> {
  const { startTestRegistry } = await import('./registry.js');
  return startTestRegistry();
}
