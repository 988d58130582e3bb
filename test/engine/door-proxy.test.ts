/**
 * The door's server as a faithful proxy, with the real docker CLI and the real engine on the
 * other side (the judge here is the small one of test/helpers/door.ts): hijacked streams with
 * stdin EOF, -it under script(1), logs -f flushed as it comes, cp both ways, exec, classic build;
 * and what the server itself refuses before anything reaches the engine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDoor, type TestDoor } from '../helpers/door.js';
import { cleanupTestObjects, containerExists, engineClient, spawnCollect, TEST_LABEL_ARGS, TEST_LABELS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';

let door: TestDoor;
let work: string;

beforeAll(async () => {
  await ensureTestImages();
  door = await startTestDoor({ headersTimeoutMs: 2000 });
  work = mkdtempSync(join(tmpdir(), 'sdocker-door-work-'));
});

afterAll(async () => {
  await door?.stop();
  await cleanupTestObjects();
  rmSync(work, { recursive: true, force: true });
});

function docker(args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string | undefined> } = {}) {
  return spawnCollect('docker', args, { env: { DOCKER_HOST: door.host, DOCKER_CONTEXT: undefined, ...(opts.env ?? {}) }, ...(opts.input !== undefined ? { input: opts.input } : {}), timeoutMs: opts.timeoutMs ?? 50_000 });
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: door.socket, method, path, headers: { Host: 'docker', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const RUN = ['--network', 'none', ...TEST_LABEL_ARGS];

describe('door: the docker CLI through the socket', () => {
  it('answers HEAD and GET /_ping, versioned and unversioned paths alike', async () => {
    const head = await request('HEAD', '/_ping');
    expect(head.status).toBe(200);
    expect(head.headers['api-version']).toMatch(/^1\.\d+$/);
    const v = await request('GET', '/v1.41/containers/json');
    const u = await request('GET', '/containers/json');
    expect([v.status, u.status]).toEqual([200, 200]);
    expect(Array.isArray(JSON.parse(v.body))).toBe(true);
    const r = await docker(['version', '--format', '{{.Server.APIVersion}}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^1\.\d+$/);
  });

  it('runs a container: create, hijacked attach, start, wait, auto-remove', async () => {
    const r = await docker(['run', '--rm', ...RUN, IMAGES.root, 'echo', 'through-the-door']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('through-the-door\n');
  });

  it('carries stdin to the container and its EOF (the client half-closes): cat ends and the bytes all arrive', async () => {
    const input = randomBytes(300_000).toString('base64');
    const r = await docker(['run', '-i', '--rm', ...RUN, IMAGES.root, 'sh', '-c', 'wc -c; echo done'], { input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([String(input.length), 'done']);
  });

  it('runs -it under script(1): a terminal, with its size sent through resize', async () => {
    // The CLI sends the size with POST /resize once the container runs: stty sees it a moment later.
    const cmd = `stty cols 97 rows 31; docker run -it --rm --network none ${TEST_LABEL_ARGS.join(' ')} ${IMAGES.root} sh -c 'test -t 0 && echo tty-yes; sleep 1; stty size'`;
    const r = await spawnCollect('script', ['-qec', cmd, '/dev/null'], { env: { DOCKER_HOST: door.host } });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('tty-yes');
    expect(r.stdout).toContain('31 97');
  });

  it('refuses what the judge refuses, as the engine answers errors, and creates nothing', async () => {
    const name = testName('door-priv');
    const r = await docker(['run', '--rm', '--privileged', '--name', name, ...RUN, IMAGES.root, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('Error response from daemon: test judge: privileged refused (TEST-PRIV)');
    expect(await containerExists(name)).toBe(false);
    const line = door.lines.find((l) => l.route === 'container.create' && l.action === 'refuse');
    expect(line?.rules).toEqual(['TEST-PRIV']);
  });

  it('sends the judge\'s replaced body (forward): the container carries what the judge added', async () => {
    const name = testName('door-fwd');
    const r = await docker(['create', '--name', name, '--label', 'door.test.forward=1', ...RUN, IMAGES.root, 'true']);
    expect(r.code, r.stderr).toBe(0);
    const c = engineClient();
    try {
      const info = await c.json<{ Config: { Labels: Record<string, string> } }>('GET', `/containers/${name}/json`);
      expect(info.Config.Labels['door.test.forwarded']).toBe('yes');
    } finally {
      c.close();
    }
  });

  it('streams logs -f as they come (flushed, not buffered until the end)', async () => {
    const name = testName('door-logs');
    const d = await docker(['run', '-d', '--name', name, ...RUN, IMAGES.root, 'sh', '-c', 'echo first; sleep 4; echo second']);
    expect(d.code, d.stderr).toBe(0);
    const started = Date.now();
    let firstAt = 0;
    const r = await new Promise<{ out: string; code: number | null }>((resolve) => {
      let out = '';
      void spawnCollect('docker', ['logs', '-f', name], {
        env: { DOCKER_HOST: door.host },
        onSpawn: (child) =>
          child.stdout?.on('data', (c: Buffer) => {
            out += c.toString();
            if (!firstAt && out.includes('first')) firstAt = Date.now();
          }),
      }).then((res) => resolve({ out: res.stdout, code: res.code }));
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe('first\nsecond\n');
    expect(firstAt - started).toBeLessThan(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  });

  it('streams events as they happen', async () => {
    const name = testName('door-ev');
    const since = Math.floor(Date.now() / 1000) - 1;
    const ev = docker(['events', '--since', String(since), '--until', String(since + 8), '--filter', `container=${name}`, '--format', '{{.Action}}'], { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 500));
    const c = await docker(['create', '--name', name, ...RUN, IMAGES.root, 'true']);
    expect(c.code, c.stderr).toBe(0);
    const r = await ev;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toContain('create');
  });

  it('copies files in and out (archive PUT streamed, GET and HEAD)', async () => {
    const name = testName('door-cp');
    const c = await docker(['create', '--name', name, ...RUN, IMAGES.root, 'true']);
    expect(c.code, c.stderr).toBe(0);
    const data = randomBytes(3 * 1024 * 1024);
    writeFileSync(join(work, 'in.bin'), data);
    const put = await docker(['cp', join(work, 'in.bin'), `${name}:/tmp/in.bin`]);
    expect(put.code, put.stderr).toBe(0);
    const get = await docker(['cp', `${name}:/tmp/in.bin`, join(work, 'out.bin')]);
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(join(work, 'out.bin')).equals(data)).toBe(true);
  });

  it('execs, with stdin, and refuses a privileged exec', async () => {
    const name = testName('door-exec');
    const d = await docker(['run', '-d', '--name', name, ...RUN, IMAGES.root, 'sleep', '60']);
    expect(d.code, d.stderr).toBe(0);
    const e = await docker(['exec', name, 'echo', 'exec-ok']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toBe('exec-ok\n');
    const i = await docker(['exec', '-i', name, 'sh', '-c', 'cat; echo eof-seen'], { input: 'piped\n' });
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toBe('piped\neof-seen\n');
    const p = await docker(['exec', '--privileged', name, 'true']);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain('test judge: privileged exec refused');
  });

  it('builds with the classic builder (the build context streamed)', async () => {
    const ctx = join(work, 'ctx');
    rmSync(ctx, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(ctx));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${IMAGES.root}\nCOPY big.bin /big.bin\nRUN wc -c /big.bin\n`);
    writeFileSync(join(ctx, 'big.bin'), randomBytes(2 * 1024 * 1024));
    const tag = `sdocker-test/door-build:${process.pid}`;
    try {
      const r = await docker(['build', '--network', 'none', '-q', '--label', `${Object.keys(TEST_LABELS)[0]}=1`, '-t', tag, ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    } finally {
      await docker(['rmi', '-f', tag]);
    }
  });
});

describe('door: what the server refuses itself', () => {
  it('refuses an endpoint no route knows (403), without forwarding it', async () => {
    const r = await request('POST', '/v1.41/plugins/pull?remote=x');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).message).toMatch(/POST \/plugins\/pull is not an endpoint the door knows/);
  });

  it('refuses targets it cannot read as the engine does (400)', async () => {
    for (const path of ['/v1.41/containers/../containers/create', '/v1.41//containers/json', '/v1.41/containers%2Fjson', '/v1.41/containers/x%zz/json', '/v1.41/containers/json?all=1;x=2', '/vx/containers/json']) {
      const r = await request('GET', path);
      if (path === '/v1.41/containers%2Fjson') {
        // decoded to /containers/json: the same route as the engine's router finds
        expect(r.status, path).toBe(200);
        continue;
      }
      expect(r.status, path).toBe(path === '/vx/containers/json' ? 403 : 400);
    }
  });

  it('refuses a malformed create body (400) and an oversized one (413); nothing is created', async () => {
    const name = testName('door-bad');
    const bad = await request('POST', `/v1.41/containers/create?name=${name}`, '{"Image": "x",');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).message).toMatch(/not valid JSON/);
    const big = JSON.stringify({ Image: IMAGES.root, Labels: { ...TEST_LABELS }, Env: [`X=${'a'.repeat(2 * 1024 * 1024)}`] });
    const over = await request('POST', `/v1.41/containers/create?name=${name}`, big);
    expect(over.status).toBe(413);
    expect(await containerExists(name)).toBe(false);
  });

  it('answers 500 when the judge throws, 508 on its own loop marker, and what the judge answers itself', async () => {
    const t = await request('GET', '/door-test/throw');
    expect(t.status).toBe(500);
    expect(door.warnings.some((w) => w.includes('test judge failed on purpose'))).toBe(true);
    const loop = await request('GET', '/_ping', undefined, { 'X-Sdocker-Door': door.door.id });
    expect(loop.status).toBe(508);
    const resp = await request('GET', '/door-test/respond');
    expect(resp.status).toBe(201);
    expect(JSON.parse(resp.body)).toEqual({ Id: 'door-test-id', Warnings: [] });
    expect(door.lines.find((l) => l.route === 'responds')?.id).toBe('door-test-id');
  });

  it('closes the connection after refusing a request whose streamed body it did not read', async () => {
    const r = await new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = http.request({ socketPath: door.socket, method: 'POST', path: '/v1.41/door-test/refuse', agent: false, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(4 * 1024 * 1024));
      req.end();
    });
    expect(r.status).toBe(403);
    expect(r.connection).toBe('close');
    expect(JSON.parse(r.body).message).toBe('test judge: refused unread');
  });

  it('relays an engine\'s refusal of a hijack and closes: nothing smuggled after it reaches the engine', async () => {
    const text = await new Promise<string>((resolve) => {
      const s = connect(door.socket);
      let out = '';
      s.on('data', (c: Buffer) => (out += c.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => resolve(out));
      s.write(
        'POST /v1.41/containers/door-test-no-such-container/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n' +
          'GET /v1.41/version HTTP/1.1\r\nHost: docker\r\n\r\n',
      );
      setTimeout(() => s.destroy(), 10_000);
    });
    expect(text).toMatch(/^HTTP\/1\.1 404 /);
    expect(text).toContain('Connection: close');
    expect(text.match(/HTTP\/1\.1 /g)?.length).toBe(1);
    expect(text).not.toContain('ApiVersion');
  });

  it('logs each decision with the peer (SO_PEERCRED: this process)', async () => {
    await request('GET', '/v1.41/version');
    const line = door.lines.filter((l) => l.route === 'system').pop();
    expect(line?.peer).toEqual({ uid: process.getuid!(), gid: process.getgid!(), pid: process.pid });
  });

  it('drops a client that sends its headers a byte at a time', async () => {
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const s = connect(door.socket);
      const text = 'GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\nX-Slow: ' + 'a'.repeat(200);
      let i = 0;
      const timer = setInterval(() => {
        if (i < text.length && !s.destroyed) s.write(text[i++]!);
      }, 200);
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        resolve(Date.now() - started);
      });
    });
    // headers timeout 2 s, checked every 0.5 s
    expect(closedAfter).toBeGreaterThanOrEqual(1900);
    expect(closedAfter).toBeLessThan(6000);
    const ping = await request('GET', '/_ping');
    expect(ping.body).toBe('OK');
  });
});
