/**
 * The door's judge against the real engine, route by route (the judge's own functions, called as
 * the server calls them; the server and the docker CLI through it: door-cli.test.ts). A create
 * through the door is hardened as `sdocker run` hardens it, proven from inside the container
 * (/proc/self/status, uid, the root filesystem); refusals leave nothing behind; the run record
 * carries the client's uid and pid.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient } from '../../src/engine/client.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { loadDoorProfile } from '../../src/door/core.js';
import { createJudge, type DoorJudge } from '../../src/door/judge.js';
import type { DoorRequest, Verdict } from '../../src/door/types.js';
import { cleanupTestObjects, TEST_LABELS, volumeExists } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { caseLabel, docker, listContainers, tempDir } from '../policy/engine-checks.js';

const state = tempDir('door-judge');
const env = { ...process.env, SDOCKER_STATE_DIR: state.path };
const client = new EngineClient(resolveEndpoint({}, process.env));
const peer = { uid: 4242, gid: 4242, pid: 777 };
let judge: DoorJudge;

beforeAll(async () => {
  await ensureTestImages();
  judge = createJudge({ client, profile: await loadDoorProfile({ env, cwd: state.path }), env, cwd: state.path, sockets: ['/run/sdocker-test-door.sock'] });
});

afterAll(async () => {
  await cleanupTestObjects();
  client.close();
  state.remove();
});

async function ask(method: string, path: string, o: { body?: unknown; query?: Record<string, string>; headers?: DoorRequest['headers']; peer?: DoorRequest['peer'] } = {}): Promise<Verdict> {
  const found = judge.routeFor(method, path);
  if (!found) throw new Error(`no route for ${method} ${path}`);
  const req: DoorRequest = { method, path, apiVersion: '1.41', query: new URLSearchParams(o.query ?? {}), headers: o.headers ?? {}, peer: o.peer ?? peer };
  if (o.body !== undefined) req.body = o.body;
  return found.route.judge(req, found.match);
}

function records(): Array<Record<string, unknown>> {
  return readFileSync(join(state.path, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

const body = (labels: Record<string, string>, extra: Record<string, unknown> = {}, hc: Record<string, unknown> = {}) => ({
  Image: IMAGES.root, Cmd: ['sleep', '300'], Labels: { ...TEST_LABELS, ...labels }, ...extra, HostConfig: { NetworkMode: 'none', ...hc },
});
const caseOf = (tag: string) => {
  const c = caseLabel(tag);
  return { ...c, labels: { [c.key]: c.value } };
};

describe('POST /containers/create through the door', () => {
  it('hardens the create as sdocker run does: the started container has no capability, no new privileges, seccomp, uid 65534, a read-only root', async () => {
    const c = caseOf('door-create');
    const v = await ask('POST', '/containers/create', { body: body(c.labels), query: { name: `sdt-door-${process.pid}-${Date.now().toString(36)}` } });
    expect(v.action, JSON.stringify(v)).toBe('respond');
    if (v.action !== 'respond') return;
    expect(v.status).toBe(201);
    const id = (v.body as { Id: string }).Id;
    expect(await listContainers(`${c.key}=${c.value}`)).toEqual([id]);
    expect((await docker(['start', id])).code).toBe(0);
    const st = await docker(['exec', id, 'sh', '-c', "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; id -u; touch /x 2>&1 || echo ro"]);
    const kv = Object.fromEntries(st.stdout.trim().split('\n').filter((l) => l.includes(':')).map((l) => l.split(/:\s*/) as [string, string]));
    expect(kv).toMatchObject({ CapEff: '0000000000000000', CapBnd: '0000000000000000', NoNewPrivs: '1', Seccomp: '2' });
    expect(st.stdout).toMatch(/\n65534\n/);
    expect(st.stdout).toContain('Read-only file system');
    const hc = JSON.parse((await docker(['inspect', '--format', '{{json .HostConfig}}', id])).stdout) as { PidsLimit: number; Memory: number; ReadonlyRootfs: boolean };
    expect(hc.PidsLimit).toBeGreaterThan(0);
    expect(hc.Memory).toBeGreaterThan(0);
    expect(hc.ReadonlyRootfs).toBe(true);
    const rec = records().find((r) => r.containerId === id);
    expect(rec).toMatchObject({ event: 'create', peer, image: IMAGES.root });
  });

  it.each([
    [{}, { Privileged: true }, 'SD-PRIV-001', 'privileged:'],
    [{}, { capadd: ['SYS_ADMIN'] }, 'SD-CAP-001', 'capabilities:'],
    [{}, { PidMode: 'host' }, 'SD-NS-001', 'hostNamespaces:'],
    [{}, { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] }, 'SD-MNT-001', ''],
    [{}, { Binds: ['/run/sdocker-test-door.sock:/d.sock'] }, 'SD-MNT-001', ''],
    [{ User: '0' }, {}, 'SD-USER-001', 'root:'],
    [{}, { PidsLimit: -1 }, 'SD-RES-002', 'unlimited:'],
  ])('refuses %j %j (%s) with the allowing YAML, nothing created, a record with the peer', async (extra, hc, rule, yaml) => {
    const c = caseOf('door-refuse');
    const v = await ask('POST', '/containers/create', { body: body(c.labels, extra, hc) });
    expect(v.action, JSON.stringify(v)).toBe('refuse');
    if (v.action !== 'refuse') return;
    expect(v.status).toBe(403);
    expect(v.rules).toContain(rule);
    expect(v.message).toContain(rule);
    if (yaml) expect(v.message).toContain(yaml);
    if (yaml) expect(v.message).toContain("add to the door's profile (sdocker serve --profile FILE):");
    expect(await listContainers(`${c.key}=${c.value}`)).toEqual([]);
    expect(records().at(-1)).toMatchObject({ event: 'refused', peer });
  });

  it('answers 400 to a body it cannot classify and 404 to a missing image, creating nothing', async () => {
    const c = caseOf('door-bad');
    for (const b of [body(c.labels, {}, { Annotations: { 'x': 'y' } }), body(c.labels, {}, { Privileged: false, privileged: true }), { ...body(c.labels), Image: '' }]) {
      const v = await ask('POST', '/containers/create', { body: b });
      expect(v, JSON.stringify(b)).toMatchObject({ action: 'refuse', status: 400, rules: ['SD-DOOR-001'] });
    }
    const missing = await ask('POST', '/containers/create', { body: { ...body(c.labels), Image: `sdocker-test/absent:${process.pid}` } });
    expect(missing).toMatchObject({ action: 'respond', status: 404 });
    expect(await listContainers(`${c.key}=${c.value}`)).toEqual([]);
  });
});

describe('other routes against the engine', () => {
  let id = '';
  beforeAll(async () => {
    const c = caseOf('door-routes');
    const v = await ask('POST', '/containers/create', { body: body(c.labels) });
    if (v.action !== 'respond') throw new Error(JSON.stringify(v));
    id = (v.body as { Id: string }).Id;
    expect((await docker(['start', id])).code).toBe(0);
  });

  it('exec: privileged and uid 0 are refused, an ordinary exec goes on as judged; no exec instance was made by a refusal', async () => {
    expect(await ask('POST', `/containers/${id}/exec`, { body: { Privileged: true, Cmd: ['id'] } })).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-EXEC-001'] });
    expect(await ask('POST', `/containers/${id}/exec`, { body: { User: '0', Cmd: ['id'] } })).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-EXEC-002'] });
    expect(await ask('POST', `/containers/${id}/exec`, { body: { Cmd: ['id'], AttachStdout: true } })).toMatchObject({ action: 'forward' });
    expect((await docker(['inspect', '--format', '{{json .ExecIDs}}', id])).stdout.trim()).toBe('null');
  });

  it('start: a container made directly on the engine (no sdocker labels) is refused; one the door made may restart', async () => {
    const c = caseOf('door-plain');
    const made = await docker(['create', '--label', `${c.key}=${c.value}`, ...Object.entries(TEST_LABELS).flatMap(([k, v]) => ['--label', `${k}=${v}`]), IMAGES.root, 'true']);
    expect(made.code, made.stderr).toBe(0);
    const plain = made.stdout.trim();
    const v = await ask('POST', `/containers/${plain}/start`);
    expect(v).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-DOOR-004'] });
    expect(v.action === 'refuse' && v.message).toContain('was not created by sdocker');
    expect(await ask('POST', `/containers/${plain}/exec`, { body: { Cmd: ['id'] } })).toMatchObject({ action: 'refuse', rules: ['SD-DOOR-004'] });
    expect(await ask('PUT', `/containers/${plain}/archive`)).toMatchObject({ action: 'refuse', rules: ['SD-DOOR-004'] });
    // Passed to the engine by the full id the door checked (routes/pin.ts).
    expect(await ask('GET', `/containers/${id.slice(0, 12)}/archive`)).toEqual({ action: 'pass', path: `/containers/${id}/archive` });
    expect(await ask('POST', `/containers/${id}/restart`)).toEqual({ action: 'pass', path: `/containers/${id}/restart` });
    expect(await ask('POST', `/containers/${id}/start`, { headers: { 'content-length': '40' } })).toMatchObject({ action: 'refuse', rules: ['SD-DOOR-004'] });
    expect(await ask('POST', '/containers/sdocker-no-such-container/start')).toMatchObject({ action: 'respond', status: 404 });
  });

  it('another client (another uid) may not exec, attach, copy from or restart the container the door made for this one', async () => {
    const other = { uid: 4243, gid: 4243, pid: 778 };
    for (const [method, path, o] of [['POST', `/containers/${id}/exec`, { body: { Cmd: ['id'] } }], ['POST', `/containers/${id}/attach`, {}], ['GET', `/containers/${id}/archive`, {}], ['POST', `/containers/${id}/restart`, {}]] as const) {
      const v = await ask(method, path, { ...o, peer: other });
      expect(v, `${method} ${path}`).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-DOOR-004'] });
      expect(v.action === 'refuse' && v.message).toContain('belongs to uid 4242, not to uid 4243');
    }
  });

  it('volume create with o=bind,device=/etc is refused and not made; a plain one passes', async () => {
    const name = `sdt-door-vol-${process.pid}`;
    const v = await ask('POST', '/volumes/create', { body: { Name: name, Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: '/etc' }, Labels: TEST_LABELS } });
    expect(v.action).toBe('refuse');
    expect(v.action === 'refuse' && v.rules?.some((r) => r.startsWith('SD-MNT-'))).toBe(true);
    expect(await volumeExists(name)).toBe(false);
    // Made for this client: labelled with its uid (routes/owners.ts).
    expect(await ask('POST', '/volumes/create', { body: { Name: name, Labels: TEST_LABELS } })).toEqual({ action: 'forward', body: { Name: name, Labels: { ...TEST_LABELS, 'io.sdocker.owner': String(peer.uid) } } });
  });
});
