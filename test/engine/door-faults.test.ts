/**
 * The door under faults, as shipped (`bin/sdocker serve`, the real judge), in front of a PRIVATE
 * dockerd started here (own socket, data root, exec root, network namespace; no bridge, no
 * iptables) so that the
 * engine can be stopped and started without touching the shared one: clients get errors, not
 * hangs, and service resumes. 200 concurrent clients, 20 concurrent runs, a malformed and an
 * oversized create body, a client trickling its headers. The door's pid is the same from the
 * first test to the last: it never crashed or restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { pingStatus } from '../helpers/door.js';
import { EngineClient, readBody } from '../../src/engine/client.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { CLI, spawnCollect, TEST_LABEL_ARGS, TEST_LABELS } from '../helpers/engine.js';
import { imageArchive, IMAGES, VARIANTS } from '../helpers/images.js';

let dir: string;
let engineSock: string;
let doorSock: string;
let dockerd: ChildProcess | undefined;
let door: ChildProcess;
let doorPid: number;
let doorOut = '';
let doorErr = '';

function engineArgs(): string[] {
  return [
    `--host=unix://${engineSock}`,
    `--data-root=${join(dir, 'root')}`,
    `--exec-root=${join(dir, 'exec')}`,
    `--pidfile=${join(dir, 'dockerd.pid')}`,
    `--config-file=${join(dir, 'daemon.json')}`,
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--log-level=error',
  ];
}

async function startEngine(): Promise<void> {
  // In a network namespace of its own: with --bridge=none, dockerd deletes the interface named
  // docker0 (daemon_unix.go removeDefaultBridgeInterface), and in the host's namespace that is the
  // shared engine's bridge: every other test's container would then fail to start.
  dockerd = spawn('unshare', ['--net', '--', 'dockerd', ...engineArgs()], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  dockerd.stderr?.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  await waitFor(async () => (await pingStatus(engineSock)) === 200, { what: `the private dockerd (${log})`, timeoutMs: 60_000, intervalMs: 200 });
}

async function stopEngine(): Promise<void> {
  const d = dockerd;
  if (!d || d.exitCode !== null) return;
  const exited = new Promise((r) => d.once('exit', r));
  d.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  dockerd = undefined;
}

function privateClient(): EngineClient {
  return new EngineClient(resolveEndpoint({ host: `unix://${engineSock}` }, {}));
}

function docker(args: string[], opts: { input?: string; timeoutMs?: number; onSpawn?: (c: ChildProcess) => void } = {}) {
  return spawnCollect('docker', args, { env: { DOCKER_HOST: `unix://${doorSock}`, DOCKER_CONTEXT: undefined }, timeoutMs: opts.timeoutMs ?? 50_000, ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}) });
}

function request(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: doorSock, method, path, agent: false, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function containerCount(): Promise<number> {
  const c = privateClient();
  try {
    return (await c.json<unknown[]>('GET', '/containers/json', { query: { all: 1 } })).length;
  } finally {
    c.close();
  }
}

const RUN = ['--network', 'none', '--pids-limit', '64', ...TEST_LABEL_ARGS];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdf-'));
  engineSock = join(dir, 'engine.sock');
  doorSock = join(dir, 'door.sock');
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  await startEngine();
  const { archive } = await imageArchive(IMAGES.root, VARIANTS.root);
  const c = privateClient();
  try {
    const res = await c.request('POST', '/images/load', { query: { quiet: 1 }, raw: archive, headers: { 'Content-Type': 'application/x-tar' } });
    expect((await readBody(res)).toString()).not.toMatch(/"error"/);
  } finally {
    c.close();
  }
  door = spawn(CLI, ['serve', '--socket', doorSock, '--log-format', 'json', '--headers-timeout', '2'], {
    env: { ...process.env, DOCKER_HOST: `unix://${engineSock}`, DOCKER_CONTEXT: '', SDOCKER_STATE_DIR: join(dir, 'state') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  doorPid = door.pid!;
  door.stdout?.on('data', (c: Buffer) => (doorOut += c.toString()));
  door.stderr?.on('data', (c: Buffer) => (doorErr += c.toString()));
  await waitFor(async () => door.exitCode === null && existsSync(doorSock) && (await pingStatus(doorSock)) === 200, { what: 'the door', timeoutMs: 20_000, intervalMs: 200 });
});

afterAll(async () => {
  if (door && door.exitCode === null) {
    const exited = new Promise((r) => door.once('exit', r));
    door.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  await stopEngine();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function doorAlive(): void {
  expect(door.exitCode, doorErr).toBeNull();
  expect(door.pid).toBe(doorPid);
  expect(doorErr).not.toMatch(/internal error|uncaught|TypeError/i);
}

describe('door faults (a private engine behind bin/sdocker serve)', () => {
  it('serves 200 concurrent clients on GET /containers/json', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, () => request('GET', '/v1.41/containers/json?all=1')));
    expect(answers.filter((a) => a.status === 200).length).toBe(200);
    for (const a of answers) expect(Array.isArray(JSON.parse(a.body))).toBe(true);
    doorAlive();
  });

  it('runs 20 containers at once, each hardened, with the client in the decision lines', async () => {
    const pids: number[] = [];
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => docker(['run', '--rm', ...RUN, IMAGES.root, 'sh', '-c', `echo run-${i}; grep CapEff /proc/self/status`], { timeoutMs: 120_000, onSpawn: (c) => pids.push(c.pid!) })),
    );
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`run-${i}\nCapEff:\t0000000000000000\n`);
    });
    const creates = doorOut
      .split('\n')
      .filter((l) => l.includes('"route":"container.create"'))
      .map((l) => JSON.parse(l) as { peer?: { pid: number; uid: number }; action: string });
    expect(creates.filter((c) => c.peer && pids.includes(c.peer.pid)).length).toBe(20);
    doorAlive();
  }, 180_000);

  it('refuses a malformed create body (400) and an oversized one (413): nothing is created', async () => {
    const before = await containerCount();
    const bad = await request('POST', '/v1.41/containers/create', `{"Image":"${IMAGES.root}","HostConfig":{"Privileged":true}`);
    expect(bad.status).toBe(400);
    const huge = JSON.stringify({ Image: IMAGES.root, Labels: TEST_LABELS, Env: Array.from({ length: 4096 }, (_, i) => `V${i}=${'x'.repeat(512)}`) });
    const over = await request('POST', '/v1.41/containers/create', huge);
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body).message).toMatch(/larger than/);
    expect(await containerCount()).toBe(before);
    doorAlive();
  });

  it('drops a client sending its headers a byte a second, and keeps serving', async () => {
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const s = connect(doorSock);
      const text = 'GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\nX-Slow: ' + 'a'.repeat(100);
      let i = 0;
      const timer = setInterval(() => {
        if (!s.destroyed) s.write(text[i++ % text.length]!);
      }, 1000);
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        resolve(Date.now() - started);
      });
    });
    expect(closedAfter).toBeLessThan(5000);
    expect(await pingStatus(doorSock)).toBe(200);
    doorAlive();
  });

  it('survives the engine stopping and starting: errors, not hangs, while it is down; service resumes', async () => {
    const bridge = readFileSync('/sys/class/net/docker0/ifindex', 'utf8');
    // A stream open when the engine goes away must end, not hang.
    const events = docker(['events', '--format', '{{.Action}}'], { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 500));
    const stopAt = Date.now();
    await stopEngine();
    const ev = await events;
    expect(ev.code).not.toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(40_000);

    const t0 = Date.now();
    expect(await pingStatus(doorSock, 10_000)).toBe(502);
    const ps = await docker(['ps'], { timeoutMs: 30_000 });
    expect(ps.code).not.toBe(0);
    expect(ps.stderr).toMatch(/cannot reach the engine|Cannot connect|502|Error response from daemon/i);
    const run = await docker(['run', '--rm', ...RUN, IMAGES.root, 'true'], { timeoutMs: 30_000 });
    expect(run.code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
    doorAlive();

    await startEngine();
    const again = await docker(['run', '--rm', ...RUN, IMAGES.root, 'echo', 'back']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('back\n');
    const list = await request('GET', '/v1.41/containers/json');
    expect(list.status).toBe(200);
    // the shared engine's bridge is untouched by the private engine's starts and stops
    expect(readFileSync('/sys/class/net/docker0/ifindex', 'utf8')).toBe(bridge);
    doorAlive();
  }, 180_000);

  it('never restarted: the same door process answered every test', () => {
    doorAlive();
    expect(readFileSync(`/proc/${doorPid}/cmdline`, 'utf8')).toContain('serve');
  });
});
