/**
 * The door attacked at the HTTP level by an untrusted client writing raw bytes on its socket, with
 * the real judge (src/door/judge.ts) and the real engine behind it. Each attack that once got
 * through is here with the proof it would leave on the engine (the container's inspect and what
 * runs inside it, or the image a build made), so that it fails loudly, naming what ran, if the
 * fix is ever undone. What the door refused from the start is listed in docs/serve.md.
 */
import { readdirSync } from 'node:fs';
import * as http from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDoorProfile } from '../../src/door/core.js';
import { createJudge } from '../../src/door/judge.js';
import type { EngineClient } from '../../src/engine/client.js';
import { startTestDoor, type TestDoor } from '../helpers/door.js';
import { cleanupTestObjects, containerExists, engineClient, TEST_LABELS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, tempDir } from '../policy/engine-checks.js';

const state = tempDir('door-attack-http');
const env = { ...process.env, SDOCKER_STATE_DIR: state.path };
let client: EngineClient;
let door: TestDoor;
const images: string[] = [];

beforeAll(async () => {
  await ensureTestImages();
  client = engineClient();
  const profile = await loadDoorProfile({ env, cwd: state.path });
  // Judged bodies held at once: 16 MiB here (64 MiB by default).
  door = await startTestDoor({ headersTimeoutMs: 2000, maxJsonBytesHeld: 16 * 1024 * 1024, routes: createJudge({ client, profile, env, cwd: state.path }) });
});

afterAll(async () => {
  await door?.stop();
  await cleanupTestObjects();
  if (images.length > 0) await docker(['image', 'rm', '-f', ...images]);
  client?.close();
  state.remove();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Write `parts` on one new connection to the door (a pause of `gapMs` between parts), and return
 * all it answers until it closes the connection or is quiet for `quietMs`.
 */
function raw(parts: Array<string | Buffer>, o: { gapMs?: number; quietMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(door.socket);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(done, o.quietMs ?? 1500);
    };
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      quiet();
    });
    s.on('error', done);
    s.on('close', done);
    s.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0) await sleep(o.gapMs ?? 0);
        if (!s.destroyed) s.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      }
      quiet();
    });
  });
}

/** One HTTP/1.1 request as a client writes it. */
function request(method: string, target: string, headers: Record<string, string> = {}, body = ''): string {
  const h = { Host: 'docker', ...headers, ...(body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) };
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
}

function statusLines(answer: string): string[] {
  return answer.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];
}

/** What the engine shows of a container an attack made, or undefined when there is none: the proof. */
async function proofOf(name: string): Promise<string | undefined> {
  if (!(await containerExists(name))) return undefined;
  const hc = await docker(['inspect', '--format', 'Privileged={{.HostConfig.Privileged}} Binds={{json .HostConfig.Binds}} CapAdd={{json .HostConfig.CapAdd}} User={{json .Config.User}}', name]);
  const inside = await docker(['exec', name, 'sh', '-c', 'id -u; grep CapEff /proc/self/status; head -n 1 /host-etc/passwd']);
  return `the engine made ${name}: ${hc.stdout.trim()}; inside: ${(inside.stdout + inside.stderr).trim().replace(/\n/g, ' | ')}`;
}

/**
 * A create the policy refuses (root, CAP_SYS_ADMIN, the host's /etc; Privileged cannot start on a
 * host whose own bounding set lacks a capability) and its start, as one client would write them.
 */
function forbiddenRequests(name: string): string {
  const body = JSON.stringify({
    Image: IMAGES.root, Cmd: ['sleep', '300'], User: '0', Labels: { ...TEST_LABELS },
    HostConfig: { CapAdd: ['SYS_ADMIN'], NetworkMode: 'none', Binds: ['/etc:/host-etc:ro'] },
  });
  return (
    request('POST', `/v1.41/containers/create?name=${name}`, { 'Content-Type': 'application/json' }, body) +
    request('POST', `/v1.41/containers/${name}/start`, { 'Content-Length': '0' })
  );
}

/**
 * `method target` with `hidden` as the first chunk of its body, the body left open (the door's
 * connection to the engine then stays open while the engine reads what follows); the last chunk
 * is for the caller to send.
 */
function chunkedAround(method: string, target: string, hidden: string): string {
  return `${method} ${target} HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(hidden).toString(16)}\r\n${hidden}\r\n`;
}

describe('request smuggling: a body the door streams is framed for the engine', () => {
  it.each([
    ['GET', '/_ping'],
    ['HEAD', '/_ping'],
    ['DELETE', '/containers/sdocker-test-absent'],
    ['GET', '/v1.41/containers/json'],
  ])('a chunked body on %s %s (a pass route) never reaches the engine as a request of its own', async (method, target) => {
    const name = testName('sdt-smuggled');
    // The body's end comes after a pause: the engine has the time to run what it might read as requests.
    const answer = await raw([chunkedAround(method, target, forbiddenRequests(name)), '0\r\n\r\n'], { gapMs: 1500 });
    const proof = await proofOf(name);
    expect(proof, proof).toBeUndefined();
    // The engine answered the outer request, and only it.
    expect(statusLines(answer), answer).toHaveLength(1);
  });

  it.each([
    ['Content-Length'],
    ['keep-alive, content-length'],
  ])('a body framed by a Content-Length that Connection: %s names hop-by-hop is still framed for the engine', async (conn) => {
    const name = testName('sdt-smuggled');
    const hidden = forbiddenRequests(name);
    // One byte of the body comes after a pause: the engine has the time to run what it might read as requests.
    const head = `GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: ${conn}\r\nContent-Length: ${Buffer.byteLength(hidden) + 1}\r\n\r\n`;
    const answer = await raw([head + hidden, ' '], { gapMs: 1500 });
    const proof = await proofOf(name);
    expect(proof, proof).toBeUndefined();
    expect(statusLines(answer), answer).toHaveLength(1);
  });

  it('keeps the engine and the door in step after bodies on GET: every answer is the one asked for', async () => {
    for (let i = 0; i < 4; i++) {
      const answer = await raw([`GET /_ping HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, request('GET', '/version')]);
      const lines = statusLines(answer);
      expect(lines, answer).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      expect(answer).toContain('"ApiVersion"');
    }
  });
});

/** The forbidden create alone: its head and body. */
function forbiddenCreate(name: string, target = `/v1.41/containers/create?name=${name}`, headers: Record<string, string> = {}): string {
  return forbiddenRequests(name).split(`POST /v1.41/containers/${name}/start`)[0]!.replace(`/v1.41/containers/create?name=${name}`, target).replace('Host: docker\r\n', `Host: docker\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}`);
}

describe('what the door refused from the start (kept so it stays refused)', () => {
  it('judges a request pipelined after a passed one on the same connection', async () => {
    const name = testName('sdt-pipelined');
    const answer = await raw([request('GET', '/_ping') + forbiddenCreate(name, undefined, { Connection: 'close' })], { quietMs: 15_000 });
    expect(statusLines(answer), answer).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 403 Forbidden']);
    expect(await proofOf(name)).toBeUndefined();
  });

  it.each([
    ['CL and TE', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n'],
    ['two Content-Lengths', 'Content-Length: 3\r\nContent-Length: 4\r\n'],
    ['an obs-fold header', 'X-A: a\r\n b\r\n'],
    ['TE other than chunked last', 'Transfer-Encoding: chunked, identity\r\n'],
  ])('answers 400 and closes on %s (node parser), running nothing hidden behind', async (_what, bad) => {
    const name = testName('sdt-framing');
    const answer = await raw([`POST /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\n${bad}\r\n0\r\n\r\n` + forbiddenRequests(name)]);
    expect(statusLines(answer), answer).toEqual(['HTTP/1.1 400 Bad Request']);
    expect(await proofOf(name)).toBeUndefined();
  });

  it.each([
    ['//', (n: string) => `/v1.41//containers/create?name=${n}`, 400],
    ['%2e%2e', (n: string) => `/v1.41/x/%2e%2e/containers/create?name=${n}`, 400],
    ['/v1.41.0/', (n: string) => `/v1.41.0/containers/create?name=${n}`, 400],
    ['a trailing slash', (n: string) => `/v1.41/containers/create/?name=${n}`, 403],
    ['/V1.41/', (n: string) => `/V1.41/containers/create?name=${n}`, 403],
    ['a ";" in the query', (n: string) => `/v1.41/containers/create?name=${n};x=1`, 400],
    ['%2F for "/"', (n: string) => `/v1.41/containers%2Fcreate?name=${n}`, 403],
  ])('refuses or judges the create spelled with %s: nothing made', async (_what, target, status) => {
    const name = testName('sdt-spelled');
    const answer = await raw([forbiddenCreate(name, target(name), { Connection: 'close' })], { quietMs: 15_000 });
    expect(statusLines(answer)[0], answer).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(await proofOf(name)).toBeUndefined();
  });

  it('judges a create sent with Expect: 100-continue, with Upgrade: tcp, or with a spoofed loop marker', async () => {
    const variants: Array<Record<string, string>> = [{ Expect: '100-continue' }, { Connection: 'Upgrade', Upgrade: 'tcp' }, { 'X-Sdocker-Door': 'ffffffffffffffff' }];
    for (const headers of variants) {
      const name = testName('sdt-headers');
      const answer = await raw([forbiddenCreate(name, undefined, { ...headers, Connection: headers.Connection ?? 'close' })], { quietMs: 15_000 });
      expect(statusLines(answer).at(-1), answer).toBe('HTTP/1.1 403 Forbidden');
      expect(await proofOf(name)).toBeUndefined();
    }
  });

  it.each([
    ['a BOM', (b: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(b)]), {}, 400],
    ['UTF-16', (b: string) => Buffer.from(b, 'utf16le'), { 'Content-Type': 'application/json; charset=utf-16' }, 400],
    ['gzip', (b: string) => gzipSync(b), { 'Content-Encoding': 'gzip' }, 400],
    ['text/plain (judged all the same)', (b: string) => Buffer.from(b), { 'Content-Type': 'text/plain' }, 403],
  ])('refuses or judges a forbidden create body sent with %s: nothing made', async (_what, encode, headers, status) => {
    const name = testName('sdt-encoded');
    const json = forbiddenCreate(name).split('\r\n\r\n')[1]!;
    const body = encode(json);
    const h: Record<string, string> = { Host: 'docker', 'Content-Type': 'application/json', ...headers, 'Content-Length': String(body.length), Connection: 'close' };
    const head = `POST /v1.41/containers/create?name=${name} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const answer = await raw([Buffer.concat([Buffer.from(head, 'latin1'), body])], { quietMs: 15_000 });
    expect(statusLines(answer)[0], answer).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(await proofOf(name)).toBeUndefined();
  });

  it('closes a hijack the engine did not accept: requests sent after it are not run', async () => {
    const name = testName('sdt-hijack');
    const start = request('POST', '/v1.41/exec/sdocker-test-absent/start', { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json' }, '{"Detach":false,"Tty":false}');
    const answer = await raw([start + forbiddenRequests(name)]);
    expect(statusLines(answer), answer).toEqual(['HTTP/1.1 404 Not Found']);
    await sleep(300);
    expect(await proofOf(name)).toBeUndefined();
  });
});

describe('the query read as the engine reads it', () => {
  it('refuses a build whose options come in a form body (the engine reads them as query parameters): no RUN step on the host network', async () => {
    const tag = `sdt-attack-form-${process.pid}-${Date.now().toString(36)}`;
    images.push(`${tag}:1`);
    // The context: a Dockerfile the engine downloads itself (remote=), so the body can carry the form.
    const dockerfile = `FROM ${IMAGES.root}\nRUN ls /sys/class/net > /netdevs\n`;
    const srv = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(dockerfile);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as { port: number }).port;
      const form = `&remote=${encodeURIComponent(`http://127.0.0.1:${port}/Dockerfile`)}&networkmode=host&t=${tag}:1&rm=1&forcerm=1`;
      // The engine peeks one read of a build body before it parses the form: the first byte goes alone.
      const head = `POST /v1.41/build HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${1 + form.length}\r\n\r\nx`;
      const answer = await raw([head, form], { gapMs: 500, quietMs: 3000 });
      let proof: string | undefined;
      const made = await docker(['image', 'inspect', '--format', '{{.Id}}', `${tag}:1`]);
      if (made.code === 0) {
        const seen = await docker(['run', '--rm', '--network', 'none', `${tag}:1`, 'cat', '/netdevs']);
        proof = `the engine built ${tag}:1 with networkmode=host: its RUN step saw the host's interfaces ${seen.stdout.trim().split('\n').join(',')} (the host has ${readdirSync('/sys/class/net').join(',')})`;
      }
      expect(proof, proof).toBeUndefined();
      expect(statusLines(answer)[0], answer).toBe('HTTP/1.1 400 Bad Request');
      expect(answer).toContain('form');
    } finally {
      srv.close();
    }
  });
});

describe('resources: what a client can hold', () => {
  /** Open a connection that sends `first` (nothing when empty); resolve with the ms after which the door closed it, or -1 if it is still open after `waitMs`. */
  function heldFor(first: string, waitMs: number): Promise<number> {
    return new Promise((resolve) => {
      const t0 = Date.now();
      const s = connect(door.socket, () => {
        if (first) s.write(first);
      });
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      const timer = setTimeout(() => {
        s.destroy();
        resolve(-1);
      }, waitMs);
      s.on('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - t0);
      });
    });
  }

  it('drops connections that never send a request after the headers timeout (2 s here), so idle ones cannot use up its descriptors', async () => {
    const held = await Promise.all(Array.from({ length: 50 }, () => heldFor('', 6000)));
    for (const ms of held) {
      expect(ms).toBeGreaterThan(1500);
      expect(ms).toBeLessThan(5000);
    }
    // The door still answers.
    expect(statusLines(await raw([request('GET', '/_ping', { Connection: 'close' })]))).toEqual(['HTTP/1.1 200 OK']);
  });

  it('keeps a quiet stream open past that timeout (events with nothing to say: a logs -f that waits)', async () => {
    const filters = encodeURIComponent(JSON.stringify({ label: [`sdocker.test.none=${process.pid}`] }));
    expect(await heldFor(request('GET', `/events?filters=${filters}`), 5000)).toBe(-1);
  });
});

describe('resources: the bodies the door holds to judge', () => {
  it('holds a bounded total of judged bodies at once: 120 clients each sending 1 MiB but its last byte do not grow the door by 120 MiB', async () => {
    const size = 1024 * 1024;
    const chunk = Buffer.alloc(size - 1, 0x20);
    const before = process.memoryUsage().arrayBuffers;
    const answers: string[] = [];
    const sockets = Array.from({ length: 120 }, () => {
      const s = connect(door.socket, () => {
        s.write(`POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
        s.write(chunk);
      });
      let answer = '';
      s.on('data', (c: Buffer) => (answer += c.toString('latin1')));
      s.on('close', () => answers.push(answer));
      s.on('error', () => undefined);
      return s;
    });
    // Everything sent but the last byte of each body: the door holds what it read.
    await sleep(4000);
    const grown = process.memoryUsage().arrayBuffers - before;
    for (const s of sockets) s.destroy();
    await sleep(200);
    // 16 MiB held, and what the refused clients still send (read and dropped) awaiting the collector.
    expect(grown / size, `${Math.round(grown / size)} MiB held`).toBeLessThan(60);
    // The clients beyond the bound were told so at once (503), not left to wait.
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 503')).length).toBeGreaterThan(0);
    // The door still judges.
    expect(statusLines(await raw([request('GET', '/_ping', { Connection: 'close' })]))).toEqual(['HTTP/1.1 200 OK']);
  });
});

describe('resources: answers the client does not read', () => {
  it('does not buffer a flood the client leaves unread: an attached container writing without end, 6 s paused', async () => {
    // A container made through the door (so this client may attach to it), writing as fast as it can.
    const name = testName('sdt-flood');
    const body = JSON.stringify({ Image: IMAGES.root, Cmd: ['sh', '-c', 'while :; do echo 0123456789012345678901234567890123456789012345678901234567890123456789; done'], Labels: { ...TEST_LABELS }, HostConfig: { NetworkMode: 'none' } });
    const made = await raw([request('POST', `/v1.41/containers/create?name=${name}`, { 'Content-Type': 'application/json', Connection: 'close' }, body)], { quietMs: 15_000 });
    expect(statusLines(made)[0], made).toBe('HTTP/1.1 201 Created');
    const before = process.memoryUsage().arrayBuffers;
    const s = connect(door.socket);
    let head = '';
    await new Promise<void>((resolve) => {
      s.on('connect', () => s.write(request('POST', `/v1.41/containers/${name}/attach?stream=1&stdout=1&stderr=1`, { Connection: 'Upgrade', Upgrade: 'tcp' })));
      s.once('data', (c: Buffer) => {
        head = c.toString('latin1');
        s.pause();
        resolve();
      });
    });
    expect(head).toMatch(/^HTTP\/1.1 101/);
    const started = await raw([request('POST', `/v1.41/containers/${name}/start`, { Connection: 'close' })], { quietMs: 15_000 });
    expect(statusLines(started)[0], started).toBe('HTTP/1.1 204 No Content');
    await sleep(6000);
    const grown = process.memoryUsage().arrayBuffers - before;
    // What the engine wrote meanwhile, once the client reads (it was held back, not lost nor buffered in the door).
    let read = 0;
    s.on('data', (c: Buffer) => (read += c.length));
    s.resume();
    await sleep(1000);
    s.destroy();
    await docker(['rm', '-f', name]);
    expect(read).toBeGreaterThan(100_000);
    expect(grown / 1024 / 1024, `${Math.round(grown / 1024 / 1024)} MiB held`).toBeLessThan(32);
  });
});
