/**
 * The door attacked at the Engine API level by an untrusted client: uid 1000 in the door's group
 * (setpriv; SO_PEERCRED gives the door uid 1000), talking to the real judge in front of the real
 * engine, where root (the engine socket, directly) has a container with a host bind of a
 * root-only directory holding a planted secret. Each case is an attack that got through before
 * its fix (the proof: the secret read by uid 1000, or the engine's own state), and what the door
 * now answers; and the same request on the client's own container still works.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDoorProfile } from '../../src/door/core.js';
import { createJudge } from '../../src/door/judge.js';
import { listenUnix } from '../../src/door/listen.js';
import { createUnixDoorServer, Door } from '../../src/door/server.js';
import { upstreamFor } from '../../src/door/upstream.js';
import { EngineClient } from '../../src/engine/client.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { cleanupTestObjects, containerExists, spawnCollect, TEST_LABEL_ARGS, testName } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker } from '../policy/engine-checks.js';

const UID = 1000;
const DOOR_GID = 47113;
const client = new EngineClient(resolveEndpoint({}, process.env));
const root = mkdtempSync(join(tmpdir(), 'sdocker-attack-api-'));
const hostDir = join(root, 'hostdir');
const SECRET = `PLANTED-${randomBytes(8).toString('hex')}`;
const images: string[] = [];
const networks: string[] = [];
const volumes: string[] = [];
let socket = '';
let server: Server | undefined;
let victim = '';
let victimName = '';

beforeAll(async () => {
  await ensureTestImages();
  chmodSync(root, 0o755);
  mkdirSync(hostDir, { mode: 0o700 });
  writeFileSync(join(hostDir, 'secret'), `${SECRET}\n`, { mode: 0o600 });
  // Host files of other users: one readable by all behind a root-only directory, one of uid 1001's.
  mkdirSync(join(root, 'closed'), { mode: 0o700 });
  writeFileSync(join(root, 'closed', 'pub'), `${SECRET}\n`, { mode: 0o644 });
  mkdirSync(join(root, 'open'), { mode: 0o755 });
  writeFileSync(join(root, 'open', 'bob'), `${SECRET}\n`, { mode: 0o600 });
  chownSync(join(root, 'open', 'bob'), 1001, 1001);
  writeFileSync(join(root, 'open', 'shared'), 'for everyone\n', { mode: 0o644 });
  const state = join(root, 'state');
  mkdirSync(state);
  const env = { ...process.env, SDOCKER_STATE_DIR: state };
  const judge = createJudge({ client, profile: await loadDoorProfile({ env, cwd: root }), env, cwd: root, sockets: [join(root, 'door.sock')] });
  const door = new Door({ routes: judge, upstream: await upstreamFor(resolveEndpoint({}, process.env)), log: () => undefined, warn: () => undefined, peerCredentials: true });
  server = createUnixDoorServer(door, { headersTimeoutMs: 10_000, checkIntervalMs: 500 });
  socket = (await listenUnix(server, join(root, 'door.sock'), DOOR_GID, 0)).path;
  // root's container, made on the engine socket: the host's secret directory bound in, running.
  victimName = testName('sdt-victim');
  const r = await docker(['run', '-d', ...TEST_LABEL_ARGS, '--name', victimName, '-v', `${hostDir}:/hostdir`, IMAGES.root, 'sh', '-c', 'echo root-only > /vfile; sleep 600']);
  expect(r.code, r.stderr).toBe(0);
  victim = r.stdout.trim();
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await cleanupTestObjects();
  for (const i of images) await docker(['rmi', '-f', i]);
  for (const v of volumes) await docker(['volume', 'rm', '-f', v]);
  for (const n of networks) await docker(['network', 'rm', n]);
  // by id too: a duplicate name (what the door now refuses) cannot be removed by name
  const left = (await docker(['network', 'ls', '-q', '--filter', `label=sdocker.test.owner=${process.pid}`])).stdout.trim();
  for (const id of left ? left.split('\n') : []) await docker(['network', 'rm', id]);
  client.close();
  rmSync(root, { recursive: true, force: true });
});

/** A shell script run as uid 1000 with only the door's group: the untrusted client. */
function asClient(script: string, timeoutMs = 120_000) {
  return spawnCollect('setpriv', ['--reuid', String(UID), '--regid', String(UID), '--groups', String(DOOR_GID), '--', 'sh', '-c', script], {
    env: { PATH: process.env.PATH, HOME: root, SOCK: socket },
    timeoutMs,
  });
}

/** One request through the door as the client: the answer's body, then its status on the last line. */
async function request(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const data = body === undefined ? '' : `-H 'Content-Type: application/json' -d '${JSON.stringify(body)}'`;
  const r = await asClient(`curl -s -w '\\n%{http_code}' --unix-socket "$SOCK" -X ${method} ${data} 'http://door${path}'`);
  const lines = r.stdout.split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

/** A container made through the door for the client (hardened, owned by uid 1000), running. */
async function ownContainer(name = testName('sdt-own'), cmd = ['sleep', '600']): Promise<string> {
  const labels = Object.fromEntries(TEST_LABEL_ARGS.filter((_, i) => i % 2 === 1).map((l) => l.split('=') as [string, string]));
  const c = await request('POST', `/containers/create?name=${name}`, { Image: IMAGES.root, Cmd: cmd, Labels: labels, HostConfig: { NetworkMode: 'none' } });
  expect(c.status, c.body).toBe(201);
  const id = (JSON.parse(c.body) as { Id: string }).Id;
  const s = await request('POST', `/containers/${id}/start`);
  expect(s.status, s.body).toBe(204);
  return id;
}

describe('the secret is root-only on the host', () => {
  it('uid 1000 cannot read it directly, and root\'s container has it', async () => {
    const r = await asClient(`cat ${hostDir}/secret`);
    expect(r.code).not.toBe(0);
    expect((await docker(['exec', victim, 'cat', '/hostdir/secret'])).stdout).toContain(SECRET);
  });
});

describe('exec instances are global: starting root\'s exec', () => {
  it('is refused (SD-DOOR-004) and the exec does not run; the client\'s own exec starts', async () => {
    // root prepares an exec in its container and has not started it yet; the client can list its id.
    const made = await client.json<{ Id: string }>('POST', `/containers/${victim}/exec`, { body: { Cmd: ['cat', '/hostdir/secret'], AttachStdout: true, AttachStderr: true } });
    const seen = await request('GET', `/containers/${victimName}/json`);
    expect(seen.body).toContain(made.Id);
    const r = await request('POST', `/exec/${made.Id}/start`, { Detach: false, Tty: false });
    expect(r.body.toUpperCase()).not.toContain(SECRET.toUpperCase());
    expect(r.status).toBe(403);
    expect(r.body).toContain('SD-DOOR-004');
    const after = await client.json<{ Running: boolean; ExitCode: number | null; Pid: number }>('GET', `/exec/${made.Id}/json`);
    expect(after).toMatchObject({ Running: false, Pid: 0 });
    expect(after.ExitCode).toBeNull();

    const own = await ownContainer();
    const e = await request('POST', `/containers/${own}/exec`, { Cmd: ['id', '-u'], AttachStdout: true });
    expect(e.status, e.body).toBe(201);
    const started = await request('POST', `/exec/${(JSON.parse(e.body) as { Id: string }).Id}/start`, { Detach: false, Tty: false });
    expect(started.status).toBe(200);
    expect(started.body).toContain('65534');
  }, 60_000);
});

describe('POST /commit of root\'s container', () => {
  it('is refused (SD-DOOR-004): no image of its files for the client; its own container commits', async () => {
    const tag = `sdocker-test/attack-commit:${process.pid}`;
    images.push(tag);
    const r = await request('POST', `/commit?container=${victimName}&repo=sdocker-test/attack-commit&tag=${process.pid}`);
    expect(r.status, r.body).toBe(403);
    expect(r.body).toContain('SD-DOOR-004');
    const img = await docker(['image', 'inspect', tag]);
    expect(img.code).not.toBe(0);

    const own = await ownContainer();
    const ok = await request('POST', `/commit?container=${own.slice(0, 12)}&repo=sdocker-test/attack-commit&tag=${process.pid}`);
    expect(ok.status, ok.body).toBe(201);
    const made = JSON.parse((await docker(['image', 'inspect', tag])).stdout) as Array<{ Container: string }>;
    expect(made[0]?.Container).toBe(own);
  }, 60_000);
});

describe('renaming a container', () => {
  it('root\'s is refused (SD-DOOR-004) and keeps its name; the client\'s own is renamed', async () => {
    const r = await request('POST', `/containers/${victimName}/rename?name=${victimName}-taken`);
    expect(r.status, r.body).toBe(403);
    expect(r.body).toContain('SD-DOOR-004');
    expect(await containerExists(victimName)).toBe(true);
    expect(await containerExists(`${victimName}-taken`)).toBe(false);
    const own = await ownContainer();
    const name = testName('sdt-renamed');
    expect((await request('POST', `/containers/${own}/rename?name=${name}`)).status).toBe(204);
    expect(await containerExists(name)).toBe(true);
  }, 60_000);
});

describe('a name that changes between the check and the forward', () => {
  it('GET archive on the client\'s container named as a prefix of root\'s id, renamed meanwhile: never root\'s files', async () => {
    // The engine finds a container by full id, then name, then id prefix. The client names its own
    // container P = a prefix of root's id and flips that name away and back while asking for
    // P's files: a door that forwards "P" as checked lands on root's container when the flip
    // falls between its check and its forward.
    const prefix = victim.slice(0, 12);
    await ownContainer(prefix);
    const script = `
      C='curl -s --unix-socket '"$SOCK"
      ( i=0; while [ $i -lt 80 ]; do $C -X POST 'http://door/containers/${prefix}/rename?name=${prefix}-x' >/dev/null; $C -X POST 'http://door/containers/${prefix}-x/rename?name=${prefix}' >/dev/null; i=$((i+1)); done ) &
      i=0; while [ $i -lt 150 ]; do $C 'http://door/containers/${prefix}/archive?path=/hostdir/secret' | grep -a -o 'PLANTED-[0-9a-f]*' && break; i=$((i+1)); done
      echo tries=$i; kill $! 2>/dev/null; wait`;
    const r = await asClient(script, 240_000);
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).toMatch(/tries=150/);
  }, 300_000);
});

/** A create through the door as the client; when the engine made it, its output once run. */
async function createAndRun(hostConfig: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ status: number; body: string; output?: string }> {
  const labels = Object.fromEntries(TEST_LABEL_ARGS.filter((_, i) => i % 2 === 1).map((l) => l.split('=') as [string, string]));
  const c = await request('POST', '/containers/create', { Image: IMAGES.root, Cmd: ['sh', '-c', 'id; cat /x 2>&1'], Labels: labels, ...extra, HostConfig: { NetworkMode: 'none', ...hostConfig } });
  if (c.status !== 201) return c;
  const id = (JSON.parse(c.body) as { Id: string }).Id;
  await docker(['start', '-a', id]);
  return { ...c, output: (await docker(['logs', id])).stdout };
}

describe('host paths through the door are the client\'s (SD-DOOR-006)', () => {
  it('a file readable by all behind a root-only directory: the bind is refused, nothing created', async () => {
    expect((await asClient(`cat ${root}/closed/pub`)).code).not.toBe(0);
    for (const hc of [{ Binds: [`${root}/closed/pub:/x:ro`] }, { Mounts: [{ Type: 'bind', Source: `${root}/closed/pub`, Target: '/x' }] }]) {
      const r = await createAndRun(hc);
      expect(r.output ?? '').not.toContain(SECRET);
      expect(r.status, r.body).toBe(403);
      expect(r.body).toContain('SD-DOOR-006');
    }
  }, 60_000);

  it('a container running as another host user (or group) on a bind: refused, and removed', async () => {
    for (const user of ['1001:1001', '1001', '1000:1001']) {
      const r = await createAndRun({ Binds: [`${root}/open:/o:ro`] }, { User: user, Cmd: ['sh', '-c', 'id; cat /o/bob 2>&1'] });
      expect(r.output ?? '').not.toContain(SECRET);
      expect(r.status, `${user}: ${r.body}`).toBe(403);
      expect(r.body).toContain('SD-DOOR-006');
    }
    const listed = await client.json<unknown[]>('GET', '/containers/json', { query: { all: 1, filters: JSON.stringify({ label: [`sdocker.test.owner=${process.pid}`], ancestor: [IMAGES.root] }) } });
    const withOpen = await Promise.all(listed.map(async (c) => JSON.stringify(await client.json('GET', `/containers/${(c as { Id: string }).Id}/json`))));
    expect(withOpen.filter((j) => j.includes(`${root}/open`))).toEqual([]);
  }, 60_000);

  it('a missing source is not made on the host as root', async () => {
    const r = await createAndRun({ Binds: [`${root}/made-by-root/deep:/x`] });
    expect(r.status, r.body).toBe(403);
    expect(r.body).toContain('SD-DOOR-006');
    expect(existsSync(join(root, 'made-by-root'))).toBe(false);
  }, 60_000);

  it('an exec as another host user in the client\'s own container with a bind: refused; as the client, it runs', async () => {
    const labels = Object.fromEntries(TEST_LABEL_ARGS.filter((_, i) => i % 2 === 1).map((l) => l.split('=') as [string, string]));
    const c = await request('POST', '/containers/create', { Image: IMAGES.root, Cmd: ['sleep', '300'], Labels: labels, HostConfig: { NetworkMode: 'none', Binds: [`${root}/open:/o:ro`] } });
    expect(c.status, c.body).toBe(201);
    const id = (JSON.parse(c.body) as { Id: string }).Id;
    expect((await request('POST', `/containers/${id}/start`)).status).toBe(204);
    const run = async (user: string) => {
      const e = await request('POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', 'id; cat /o/bob 2>&1'], AttachStdout: true, User: user });
      if (e.status !== 201) return e;
      return request('POST', `/exec/${(JSON.parse(e.body) as { Id: string }).Id}/start`, { Detach: false, Tty: false });
    };
    for (const user of ['1001', '1001:1001', '1000:0']) {
      const r = await run(user);
      expect(r.body.toUpperCase()).not.toContain(SECRET.toUpperCase());
      expect(r.status, `${user}: ${r.body}`).toBe(403);
      expect(r.body).toContain('SD-DOOR-006');
    }
    const mine = await run('1000:1000');
    expect(mine.status).toBe(200);
    expect(mine.body).toContain('uid=1000');
  }, 60_000);

  it('docker cp out of (or into) the client\'s own container with a bind: refused, the engine would copy as root; without a bind it works', async () => {
    const labels = Object.fromEntries(TEST_LABEL_ARGS.filter((_, i) => i % 2 === 1).map((l) => l.split('=') as [string, string]));
    const c = await request('POST', '/containers/create', { Image: IMAGES.root, Cmd: ['sleep', '300'], Labels: labels, HostConfig: { NetworkMode: 'none', Binds: [`${root}/open:/o`] } });
    expect(c.status, c.body).toBe(201);
    const id = (JSON.parse(c.body) as { Id: string }).Id;
    expect((await request('POST', `/containers/${id}/start`)).status).toBe(204);
    const out = await request('GET', `/containers/${id}/archive?path=/o/bob`);
    expect(out.body).not.toContain(SECRET);
    expect(out.status, out.body).toBe(403);
    expect(out.body).toContain('SD-DOOR-006');
    const into = await request('PUT', `/containers/${id}/archive?path=/o`);
    expect(into.status, into.body).toBe(403);
    const own = await ownContainer();
    const plain = await request('GET', `/containers/${own}/archive?path=/etc/hostname`);
    expect(plain.status).toBe(200);
  }, 60_000);

  it('a host file the client can read, as the default user or its own uid: created and read', async () => {
    for (const extra of [{}, { User: '1000:1000' }]) {
      const r = await createAndRun({ Binds: [`${root}/open/shared:/x:ro`] }, extra);
      expect(r.status, r.body).toBe(201);
      expect(r.output).toContain('for everyone');
    }
  }, 60_000);
});

describe('volumes and networks of other users (SD-DOOR-006)', () => {
  it('root\'s named volume is not mounted; a new one is made labelled as the client\'s, and mounted again', async () => {
    const rootVol = testName('sdt-rootvol');
    volumes.push(rootVol);
    expect((await docker(['volume', 'create', ...TEST_LABEL_ARGS, rootVol])).code).toBe(0);
    expect((await docker(['run', '--rm', ...TEST_LABEL_ARGS, '-v', `${rootVol}:/v`, IMAGES.root, 'sh', '-c', `echo ${SECRET} > /v/x; chmod 644 /v/x`])).code).toBe(0);
    for (const hc of [{ Binds: [`${rootVol}:/v`] }, { Mounts: [{ Type: 'volume', Source: rootVol, Target: '/v' }] }]) {
      const r = await createAndRun(hc, { Cmd: ['cat', '/v/x'] });
      expect(r.output ?? '').not.toContain(SECRET);
      expect(r.status, r.body).toBe(403);
      expect(r.body).toContain('SD-DOOR-006');
    }
    const mine = testName('sdt-myvol');
    volumes.push(mine);
    for (let i = 0; i < 2; i++) {
      const r = await createAndRun({ Binds: [`${mine}:/v`] }, { Cmd: ['sh', '-c', 'ls /v; echo ok'] });
      expect(r.status, r.body).toBe(201);
      expect(r.output).toContain('ok');
    }
    const labels = JSON.parse((await docker(['volume', 'inspect', '--format', '{{json .Labels}}', mine])).stdout) as Record<string, string>;
    expect(labels['io.sdocker.owner']).toBe(String(UID));
    const made = testName('sdt-apivol');
    volumes.push(made);
    expect((await request('POST', '/volumes/create', { Name: made, Labels: { 'io.sdocker.owner': '0' } })).status).toBe(201);
    const madeLabels = JSON.parse((await docker(['volume', 'inspect', '--format', '{{json .Labels}}', made])).stdout) as Record<string, string>;
    expect(madeLabels['io.sdocker.owner']).toBe(String(UID));
  }, 90_000);

  it('root\'s internal network is not joined, nor root\'s service connected to the client\'s network', async () => {
    const priv = testName('sdt-rootnet');
    networks.push(priv);
    expect((await docker(['network', 'create', '--internal', ...TEST_LABEL_ARGS, priv])).code).toBe(0);
    const svc = await docker(['run', '-d', ...TEST_LABEL_ARGS, '--network', priv, '-v', `${hostDir}:/hostdir`, IMAGES.root, 'sh', '-c', 'while true; do nc -l -p 7000 -e cat /hostdir/secret; done']);
    expect(svc.code, svc.stderr).toBe(0);
    const svcId = svc.stdout.trim();
    const ipOn = async (net: string) => ((await client.json<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>('GET', `/containers/${svcId}/json`)).NetworkSettings.Networks[net]?.IPAddress);
    // the client's container on root's network
    const joined = await createAndRun({ NetworkMode: priv }, { Cmd: ['sh', '-c', `nc -w 3 ${await ipOn(priv)} 7000 </dev/null`] });
    expect(joined.output ?? '').not.toContain(SECRET);
    expect(joined.status, joined.body).toBe(403);
    expect(joined.body).toContain('SD-DOOR-006');
    // root's service connected to the client's own network
    const mine = testName('sdt-mynet');
    networks.push(mine);
    const labels = Object.fromEntries(TEST_LABEL_ARGS.filter((_, i) => i % 2 === 1).map((l) => l.split('=') as [string, string]));
    expect((await request('POST', '/networks/create', { Name: mine, Labels: labels })).status).toBe(201);
    // a second network under root's network's name: refused by the engine (CheckDuplicate)
    const dup = await request('POST', '/networks/create', { Name: priv, Labels: labels });
    expect(dup.status, dup.body).toBe(409);
    expect((await docker(['network', 'ls', '-q', '--filter', `name=^${priv}$`])).stdout.trim().split('\n')).toHaveLength(1);
    const netLabels = JSON.parse((await docker(['network', 'inspect', '--format', '{{json .Labels}}', mine])).stdout) as Record<string, string>;
    expect(netLabels['io.sdocker.owner']).toBe(String(UID));
    const connect = await request('POST', `/networks/${mine}/connect`, { Container: svcId.slice(0, 12) });
    expect(connect.status, connect.body).toBe(403);
    expect(connect.body).toContain('SD-DOOR-004');
    expect(await ipOn(mine)).toBeUndefined();
    const reached = await createAndRun({ NetworkMode: mine }, { Cmd: ['sh', '-c', 'echo on-my-net'] });
    expect(reached.status, reached.body).toBe(201);
    expect(reached.output).toContain('on-my-net');
    // the client's own container, connected to root's network: refused; to its own: done
    const own = await ownContainer(testName('sdt-own'));
    const toRoot = await request('POST', `/networks/${priv}/connect`, { Container: own });
    expect(toRoot.status, toRoot.body).toBe(403);
    expect(toRoot.body).toContain('SD-DOOR-006');
    const ownOnBridge = await request('POST', '/containers/create', { Image: IMAGES.root, Cmd: ['sleep', '60'], Labels: labels });
    const ownBridge = (JSON.parse(ownOnBridge.body) as { Id: string }).Id;
    expect((await request('POST', `/networks/${mine}/connect`, { Container: ownBridge })).status).toBe(200);
  }, 120_000);
});

describe('URLs the engine would fetch for a client (SD-DOOR-008)', () => {
  it('refuses a build from a URL and an import from a URL: the daemon would fetch them as root from the host network (a loopback-only service leaked its first line through the build error)', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const hostOnly = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`${SECRET}-HOST-ONLY-TOKEN\n`);
    });
    await new Promise<void>((r) => hostOnly.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hostOnly.address() as { port: number }).port}`;
      // The attack is real: the engine itself fetches the URL (asked on the engine socket as root)
      // and its error quotes the host-only answer.
      const direct = await docker(['build', '-t', testName('sdt-ssrf'), `${url}/direct`]);
      expect(direct.code).not.toBe(0);
      // (the parser's error upper-cases the instruction it quotes)
      expect(`${direct.stdout}${direct.stderr}`.toUpperCase()).toContain(SECRET.toUpperCase());
      expect(seen).toContain('/direct');
      // Through the door, as uid 1000: refused before anything is fetched.
      for (const [path, what] of [[`/v1.41/build?remote=${encodeURIComponent(`${url}/door-build`)}`, 'remote'], [`/v1.41/images/create?fromSrc=${encodeURIComponent(`${url}/door-import`)}&repo=${testName('sdt-ssrf')}`, 'fromSrc']] as const) {
        const r = await request('POST', path);
        expect(r.status, r.body).toBe(403);
        expect(r.body).toContain('SD-DOOR-008');
        expect(r.body).toContain(what);
        expect(r.body.toUpperCase()).not.toContain(SECRET.toUpperCase());
      }
      expect(seen.filter((u) => u.startsWith('/door'))).toEqual([]);
      // A context in the body still builds through the door.
      const tag = testName('sdt-body-build');
      images.push(tag);
      const built = await asClient(`printf 'FROM ${IMAGES.root}\\nLABEL ok=1\\n' | DOCKER_HOST=unix://$SOCK docker build -q -t ${tag} -`);
      expect(built.code, built.stderr).toBe(0);
    } finally {
      hostOnly.close();
    }
  }, 120_000);
});
