/**
 * Pull through the engine from a real local registry (Debian's docker-registry on 127.0.0.1).
 */
import { httpApi } from '../../src/engine/http-api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { EngineClient } from '../../src/engine/client.js';
import { runSession } from '../../src/session/run.js';
import type { SessionRequest } from '../../src/session/types.js';
import { SdockerError } from '../../src/errors.js';
import { baseBody, cleanupTestObjects, engineClient, memoryIO, startRegistry, type LocalRegistry } from '../helpers/engine.js';
import { ensureImage, VARIANTS } from '../helpers/images.js';

let registry: LocalRegistry;
let client: EngineClient;
let image: string;
const marker = `pulled-${Date.now()}-${Math.random().toString(36).slice(2)}`;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function req(img: string, cmd: string[], extra: Partial<SessionRequest> = {}): SessionRequest {
  return { mode: 'run', body: baseBody(img, cmd, { autoRemove: true }), image: img, pull: 'missing', quiet: false, detach: false, sigProxy: true, ...extra };
}

beforeAll(async () => {
  registry = await startRegistry();
  client = engineClient();
  image = `${registry.address}/sdt/pulled:v1`;
  // A layer of its own, so the pull really downloads something.
  await ensureImage(image, VARIANTS.root, { 'marker.txt': `${marker}\n` });
  docker('push', '-q', image);
  docker('rmi', image);
});

afterAll(async () => {
  await cleanupTestObjects();
  try {
    docker('rmi', '-f', image);
  } catch {
    // not there
  }
  client?.close();
  await registry?.stop();
});

describe('pull', () => {
  it('pulls a missing image with progress on stderr, then runs it', async () => {
    const io = memoryIO();
    const res = await runSession(httpApi(client), req(image, ['cat', '/marker.txt']), io);
    expect(res.exitCode).toBe(0);
    expect(io.stdoutText()).toBe(`${marker}\n`);
    const err = io.stderrText();
    expect(err).toMatch(new RegExp(`^Unable to find image '${image.replace(/[.]/g, '\\.')}' locally\n`));
    expect(err).toMatch(/^v1: Pulling from sdt\/pulled$/m);
    expect(err).toMatch(/^[0-9a-f]{12}: Pull complete$/m);
    expect(err).toMatch(/^[0-9a-f]{12}: Already exists$/m);
    expect(err).toMatch(/^Digest: sha256:[0-9a-f]{64}$/m);
    expect(err).toMatch(new RegExp(`^Status: Downloaded newer image for ${image.replace(/[.]/g, '\\.')}$`, 'm'));
  });

  it('--pull=always pulls an image that is present; -q keeps stderr silent', async () => {
    const io = memoryIO();
    await runSession(httpApi(client), req(image, ['true'], { pull: 'always' }), io);
    expect(io.stderrText()).toMatch(/Status: Image is up to date/);
    const quiet = memoryIO();
    await runSession(httpApi(client), req(image, ['true'], { pull: 'always', quiet: true }), quiet);
    expect(quiet.stderrText()).toBe('');
  });

  it('maps a failed pull to an error with the registry message and exit 125', async () => {
    const io = memoryIO();
    const err = await runSession(httpApi(client), req(`${registry.address}/sdt/absent:v1`, ['true']), io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SdockerError);
    expect((err as SdockerError).exitCode).toBe(125);
    expect((err as Error).message).toMatch(/not found|manifest unknown/i);
    expect(io.stderrText()).toMatch(/Unable to find image/);
  });

  it('--pull=never does not pull', async () => {
    docker('rmi', '-f', image);
    const io = memoryIO();
    const err = await runSession(httpApi(client), req(image, ['true'], { pull: 'never' }), io).catch((e: unknown) => e);
    expect((err as SdockerError).exitCode).toBe(125);
    expect((err as Error).message).toMatch(/No such image/);
    expect(io.stderrText()).toBe('');
  });
});
