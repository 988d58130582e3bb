/**
 * The run lifecycle against the real engine (no mocks): runSession with hand-written create bodies.
 */
import { httpApi } from '../../src/engine/http-api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/client.js';
import { runSession } from '../../src/session/run.js';
import type { SessionRequest } from '../../src/session/types.js';
import type { CreateBody } from '../../src/api/types.js';
import { EngineError, SdockerError } from '../../src/errors.js';
import {
  baseBody,
  cleanupTestObjects,
  containerExists,
  engineClient,
  memoryIO,
  TEST_LABELS,
  testName,
} from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

let client: EngineClient;

beforeAll(async () => {
  await ensureTestImages();
  client = engineClient();
});

afterAll(async () => {
  client?.close();
  await cleanupTestObjects();
});

function request(body: CreateBody, extra: Partial<SessionRequest> = {}): SessionRequest {
  return {
    mode: 'run',
    body,
    image: body.Image ?? '',
    pull: 'never',
    quiet: false,
    detach: false,
    sigProxy: true,
    ...extra,
  };
}

async function expectExitError(p: Promise<unknown>, code: number): Promise<SdockerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SdockerError);
  expect((err as SdockerError).exitCode).toBe(code);
  return err as SdockerError;
}

describe('streams', () => {
  it('pipes stdin into the container with EOF: wc -c counts every byte', async () => {
    const size = 1_000_003;
    const input = Buffer.alloc(size);
    for (let i = 0; i < size; i++) input[i] = (i * 31 + 7) & 0xff;
    const io = memoryIO({ stdin: input });
    const res = await runSession(httpApi(client), request(baseBody(IMAGES.root, ['wc', '-c'], { stdin: true, autoRemove: true })), io);
    expect(res.exitCode).toBe(0);
    expect(io.stdoutText().trim()).toBe(String(size));
  });

  it('keeps stdout and stderr apart without a TTY', async () => {
    const io = memoryIO();
    const body = baseBody(IMAGES.root, ['sh', '-c', 'echo out1; echo err1 >&2; echo out2; echo err2 >&2'], { autoRemove: true });
    const res = await runSession(httpApi(client), request(body), io);
    expect(res.exitCode).toBe(0);
    expect(io.stdoutText()).toBe('out1\nout2\n');
    expect(io.stderrText()).toBe('err1\nerr2\n');
  });

  it('drains all output of a large write before returning (16 MiB)', async () => {
    const io = memoryIO({ keepStdout: false });
    const body = baseBody(IMAGES.root, ['sh', '-c', 'head -c 16777216 /dev/zero; echo done >&2'], { autoRemove: true });
    const res = await runSession(httpApi(client), request(body), io);
    expect(res.exitCode).toBe(0);
    expect(io.stdoutBytes()).toBe(16 * 1024 * 1024);
    expect(io.stderrText()).toBe('done\n');
  });

  it('runs the image entrypoint with its default command', async () => {
    const io = memoryIO();
    const res = await runSession(httpApi(client), request(baseBody(IMAGES.entrypoint, ['a', 'b'], { autoRemove: true })), io);
    expect(res.exitCode).toBe(0);
    expect(io.stdoutText()).toBe('ep a b\n');
  });
});

describe('exit codes', () => {
  it('passes 0 and 3 through', async () => {
    const ok = await runSession(httpApi(client), request(baseBody(IMAGES.root, ['true'], { autoRemove: true })), memoryIO());
    expect(ok.exitCode).toBe(0);
    const three = await runSession(httpApi(client), request(baseBody(IMAGES.root, ['sh', '-c', 'exit 3'], { autoRemove: true })), memoryIO());
    expect(three.exitCode).toBe(3);
  });

  it('126 for a command that cannot be invoked (not executable)', async () => {
    const name = testName();
    const err = await expectExitError(
      runSession(httpApi(client), request(baseBody(IMAGES.root, ['/etc/passwd'], { autoRemove: true }), { name }), memoryIO()),
      126,
    );
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/permission denied/);
    expect(await containerExists(name)).toBe(false);
  });

  it('127 for a missing command', async () => {
    const name = testName();
    const err = await expectExitError(
      runSession(httpApi(client), request(baseBody(IMAGES.root, ['/no/such/cmd'], { autoRemove: true }), { name }), memoryIO()),
      127,
    );
    expect(err.message).toMatch(/no such file or directory|executable file not found/);
    expect(await containerExists(name)).toBe(false);
  });

  it('125 for a daemon error at create (image missing, pull never)', async () => {
    const err = await expectExitError(
      runSession(httpApi(client), request(baseBody('sdocker-test/does-not-exist:1', ['true'])), memoryIO()),
      125,
    );
    expect(err.message).toMatch(/No such image/i);
  });
});

describe('--rm leaves nothing behind', () => {
  it('after success and after a non-zero exit', async () => {
    for (const cmd of [['true'], ['sh', '-c', 'exit 4']]) {
      const name = testName();
      await runSession(httpApi(client), request(baseBody(IMAGES.root, cmd, { autoRemove: true }), { name }), memoryIO());
      expect(await containerExists(name)).toBe(false);
    }
  });

  it('after a start error, including the volumes sdocker made for it', async () => {
    const name = testName();
    const vol = `${name}-vol`;
    await client.json('POST', '/volumes/create', { body: { Name: vol, Labels: TEST_LABELS } });
    const body = baseBody(IMAGES.root, ['/no/such/cmd'], { autoRemove: true });
    body.HostConfig.Binds = [`${vol}:/v`];
    await expectExitError(runSession(httpApi(client), request(body, { name, ownedVolumes: [vol] }), memoryIO()), 127);
    expect(await containerExists(name)).toBe(false);
    await expect(client.json('GET', `/volumes/${vol}`)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('after a normal exit, the volumes sdocker made for it go too', async () => {
    const name = testName();
    const vol = `${name}-vol`;
    await client.json('POST', '/volumes/create', { body: { Name: vol, Labels: TEST_LABELS } });
    const body = baseBody(IMAGES.root, ['sh', '-c', 'echo x > /v/f; exit 2'], { autoRemove: true });
    body.HostConfig.Binds = [`${vol}:/v`];
    const res = await runSession(httpApi(client), request(body, { name, ownedVolumes: [vol] }), memoryIO());
    expect(res.exitCode).toBe(2);
    expect(await containerExists(name)).toBe(false);
    await expect(client.json('GET', `/volumes/${vol}`)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('without --rm a failed start leaves the container (as docker does)', async () => {
    const name = testName();
    await expectExitError(runSession(httpApi(client), request(baseBody(IMAGES.root, ['/no/such/cmd']), { name }), memoryIO()), 127);
    expect(await containerExists(name)).toBe(true);
  });
});

describe('detach, create, cidfile', () => {
  it('-d prints the id and returns while the container runs', async () => {
    const io = memoryIO();
    const body = baseBody(IMAGES.root, ['sleep', '30']);
    const res = await runSession(httpApi(client), request(body, { detach: true }), io);
    expect(res.exitCode).toBe(0);
    expect(io.stdoutText()).toBe(`${res.containerId}\n`);
    expect(res.containerId).toMatch(/^[0-9a-f]{64}$/);
    const info = await client.json<{ State: { Running: boolean } }>('GET', `/containers/${res.containerId}/json`);
    expect(info.State.Running).toBe(true);
  });

  it('create prints the id and does not start', async () => {
    const io = memoryIO();
    const res = await runSession(httpApi(client), { ...request(baseBody(IMAGES.root, ['true'])), mode: 'create' }, io);
    expect(io.stdoutText()).toBe(`${res.containerId}\n`);
    const info = await client.json<{ State: { Status: string } }>('GET', `/containers/${res.containerId}/json`);
    expect(info.State.Status).toBe('created');
  });

  it('writes the cidfile, and refuses an existing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdt-cid-'));
    const cidfile = join(dir, 'cid');
    const res = await runSession(httpApi(client), request(baseBody(IMAGES.root, ['true'], { autoRemove: true }), { cidfile }), memoryIO());
    expect(readFileSync(cidfile, 'utf8')).toBe(res.containerId);
    const name = testName();
    const err = await expectExitError(
      runSession(httpApi(client), request(baseBody(IMAGES.root, ['true']), { cidfile, name }), memoryIO()),
      125,
    );
    expect(err.message).toMatch(/container ID file found/);
    expect(await containerExists(name)).toBe(false);
  });

  it('removes a fresh cidfile when create fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdt-cid-'));
    const cidfile = join(dir, 'cid');
    await expectExitError(runSession(httpApi(client), request(baseBody('sdocker-test/nope:1', ['true']), { cidfile }), memoryIO()), 125);
    expect(existsSync(cidfile)).toBe(false);
    writeFileSync(join(dir, 'marker'), '');
  });
});

describe('signals', () => {
  it('forwards SIGTERM to the container: the trap runs and sets the status', async () => {
    const io = memoryIO();
    const body = baseBody(IMAGES.root, ['sh', '-c', "trap 'echo got; exit 7' TERM; echo ready; while true; do sleep 0.1; done"], {
      autoRemove: true,
    });
    const p = runSession(httpApi(client), request(body), io);
    await waitFor(() => io.stdoutText().includes('ready'), { timeoutMs: 10_000, what: 'the container to print ready' });
    io.signal('SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(7);
    expect(io.stdoutText()).toBe('ready\ngot\n');
  });

  it('--sig-proxy=false does not forward', async () => {
    const io = memoryIO();
    const body = baseBody(IMAGES.root, ['sh', '-c', "trap 'echo got; exit 7' TERM; echo ready; sleep 1; exit 0"], { autoRemove: true });
    const p = runSession(httpApi(client), request(body, { sigProxy: false }), io);
    await waitFor(() => io.stdoutText().includes('ready'), { timeoutMs: 10_000, what: 'the container to print ready' });
    io.signal('SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(io.stdoutText()).toBe('ready\n');
  });
});

describe('tty and detach keys', () => {
  it('-t: sizes the container terminal from our stdout and merges the streams', async () => {
    const io = memoryIO();
    Object.assign(io.stdout, { isTTY: true, rows: 33, columns: 77 });
    const body = baseBody(IMAGES.root, ['sh', '-c', 'sleep 0.3; stty -a | head -n 1; echo err >&2'], { tty: true, autoRemove: true });
    const res = await runSession(httpApi(client), request(body), io);
    expect(res.exitCode).toBe(0);
    expect(io.stdoutText()).toMatch(/rows 33; columns 77;/);
    expect(io.stdoutText()).toMatch(/err\r\n/);
    expect(io.stderrText()).toBe('');
  });

  it('the detach keys (with -t, where the engine honours them) end the session with 0 and leave the container running', async () => {
    const stdin = new PassThrough();
    const io = memoryIO({ stdin });
    const name = testName();
    const body = baseBody(IMAGES.root, ['sh', '-c', 'echo started; sleep 30'], { stdin: true, tty: true });
    const p = runSession(httpApi(client), request(body, { name, detachKeys: 'ctrl-x,y' }), io);
    await waitFor(() => io.stdoutText().includes('started'), { timeoutMs: 10_000, what: 'the container to print started' });
    const t0 = Date.now();
    stdin.write(Buffer.from([0x18, 0x79]));
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    const info = await client.json<{ State: { Running: boolean } }>('GET', `/containers/${name}/json`);
    expect(info.State.Running).toBe(true);
  });
});
