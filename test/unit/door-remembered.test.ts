/**
 * The door's create (src/door/core.ts: THE run pipeline in create-only mode) with the engine's
 * answers remembered across requests (src/door/memory.ts, request-facts.ts), on the in-memory
 * engine with an event stream the test writes (src/door/engine-watch.ts): a remembered answer
 * lets the door decide at once (and not ask GET /info at all), and never decides what is made: a
 * stale one (the tag moved to another image, the daemon reconfigured, the stream broken) sends the
 * request to a second attempt on the engine's own answers, the container made on the stale ones
 * removed before the client sees it.
 */
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CreateBody, EngineInfo } from '../../src/api/types.js';
import { inspectJoined } from '../../src/pipeline/facts.js';
import { createThroughPolicy, loadDoorProfile, type CoreContext } from '../../src/door/core.js';
import { EngineWatch } from '../../src/door/engine-watch.js';
import { doorMemory, type DoorMemory } from '../../src/door/memory.js';
import type { Verdict } from '../../src/door/types.js';
import { FakeEngine } from '../helpers/fake-engine.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n';
const GROUP = 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n';
const FILES = { '/etc/passwd': PASSWD, '/etc/group': GROUP };
const peer = { uid: 4242, gid: 4242, pid: 777 };

let dir: string;
let engine: FakeEngine;
let memory: DoorMemory;
let ctx: CoreContext;
let events: PassThrough;
let watch: EngineWatch;
/** Whether the fake engine reports its creates on the event stream (as dockerd does). */
let reportCreates = true;

const emit = (e: Record<string, unknown>) => events.write(`${JSON.stringify(e)}\n`);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdocker-door-memory-'));
  const env = { HOME: dir, SDOCKER_STATE_DIR: join(dir, 'state'), PATH: '/usr/bin:/bin' };
  engine = new FakeEngine();
  engine.addImage({ tags: ['app:1'], config: { User: 'app' }, files: FILES });
  const create = engine.containers.create.bind(engine.containers);
  reportCreates = true;
  engine.containers.create = async (body, opts) => {
    const made = await create(body, opts);
    if (reportCreates) emit({ Type: 'container', Action: 'create', Actor: { ID: made.Id } });
    return made;
  };
  memory = doorMemory();
  events = new PassThrough();
  watch = new EngineWatch(async () => {
    const s = new PassThrough();
    events = s;
    return s;
  }, 5);
  watch.start();
  await until(() => watch.connected);
  ctx = { api: engine, profile: await loadDoorProfile({ env, cwd: dir }), env, cwd: dir, sockets: ['/run/door-test.sock'], peer, memory, watch };
});

afterEach(() => {
  watch.stop();
  rmSync(dir, { recursive: true, force: true });
});

const create = (body: Record<string, unknown> = {}, c: CoreContext = ctx) =>
  createThroughPolicy({ Image: 'app:1', Cmd: ['true'], ...body, HostConfig: { NetworkMode: 'none' } }, new URLSearchParams(), c);

const count = (prefix: string) => engine.calls.filter((c) => c.startsWith(prefix)).length;
const lifecycle = () => engine.calls.filter((c) => /^containers\.(create app:1|remove)/.test(c)).map((c) => c.split(' ')[0]);

function idOf(v: Verdict): string {
  expect(v, JSON.stringify(v)).toMatchObject({ action: 'respond', status: 201 });
  return (v as { body: { Id: string } }).body.Id;
}

function records(): Array<Record<string, unknown>> {
  return readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** GET /info held back until `release()`: whatever is made before that was decided without it. */
function holdInfo(): { release: () => void } {
  const real = engine.info.bind(engine);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  engine.info = async () => {
    await gate;
    return real();
  };
  return { release };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}

describe("the door's create through the run pipeline, with remembered engine answers", () => {
  it("the first create asks the engine and remembers its answers; the next is decided on them and asks no GET /info at all", async () => {
    idOf(await create());
    expect(count('info')).toBe(1);
    expect(memory.info()?.value.NCPU).toBe(2);
    expect(memory.image('app:1')?.Config?.User).toBe('app');
    engine.calls.length = 0;
    const id = idOf(await create());
    expect(count('info')).toBe(0);
    // The image is asked for all the same (cheap), and agrees: one container.
    expect(count('images.inspect app:1')).toBe(1);
    expect(lifecycle()).toEqual(['containers.create']);
    const made = await engine.containers.inspect(id);
    expect(made?.Config?.User).toBe('1000:1000');
    expect(made?.State?.Status).toBe('created');
    expect(records().at(-1)).toMatchObject({ event: 'create', containerId: id, peer });
  });

  it('without the event stream, GET /info is asked for, and waited for, on every create', async () => {
    ctx = { ...ctx, watch: undefined };
    idOf(await create());
    engine.calls.length = 0;
    const held = holdInfo();
    const pending = create();
    await new Promise((r) => setTimeout(r, 50));
    expect(count('containers.create app:1')).toBe(0);
    held.release();
    idOf(await pending);
    expect(count('info')).toBe(1);
    expect(lifecycle()).toEqual(['containers.create']);
  });

  it('the tag moved to an image that runs as root: the container made on the remembered image is removed, and the create decided again on the new one', async () => {
    const before = idOf(await create());
    const now = engine.addImage({ tags: ['app:1'], config: { User: '' }, files: FILES });
    engine.calls.length = 0;
    const id = idOf(await create());
    // Made on the remembered image, removed (with the new image's identity helper), made again.
    expect(count('containers.create app:1')).toBe(2);
    expect(lifecycle()[1]).toBe('containers.remove');
    const made = await engine.containers.inspect(id);
    // Decided on the new image: no USER, so the policy's own user, never root.
    expect(made?.Image).toBe(now);
    expect(made?.Config?.User).not.toBe('1000:1000');
    expect(made?.Config?.User).toMatch(/^65534/);
    // The first request's container, and this one's: the one made on the stale image is gone.
    expect(engine.containerIds().sort()).toEqual([before, id].sort());
    expect(memory.image('app:1')?.Id).toBe(now);
    // One create, one record: the discarded attempt is not a create.
    expect(records().map((r) => r.event)).toEqual(['create', 'create']);
  });

  it('the daemon reloaded its configuration (a daemon event): the remembered /info is not used, the next create asks for it', async () => {
    const first = await engine.containers.inspect(idOf(await create()));
    // The engine's default log driver now sends logs off the host: the policy's log options differ.
    engine.engineInfo = { ...engine.engineInfo, LoggingDriver: 'gelf' } as EngineInfo;
    emit({ Type: 'daemon', Action: 'reload', Actor: { ID: 'daemon' } });
    await until(() => !watch.holds(memory.info()!.epoch));
    engine.calls.length = 0;
    const id = idOf(await create());
    expect(count('info')).toBe(1);
    expect(lifecycle()).toEqual(['containers.create']);
    const made = await engine.containers.inspect(id);
    expect(made?.HostConfig.LogConfig).not.toEqual(first?.HostConfig.LogConfig);
    expect(memory.info()?.value.LoggingDriver).toBe('gelf');
  });

  it('a reload that lands between the decision and the create: seen before the create\'s event, the container is removed and made again on a fresh /info', async () => {
    const first = await engine.containers.inspect(idOf(await create()));
    engine.calls.length = 0;
    // The reload comes after the door decided on its memory, before the engine made the container.
    const create0 = engine.containers.create;
    engine.containers.create = async (body, opts) => {
      if (engine.engineInfo.LoggingDriver !== 'gelf') {
        engine.engineInfo = { ...engine.engineInfo, LoggingDriver: 'gelf' } as EngineInfo;
        emit({ Type: 'daemon', Action: 'reload', Actor: { ID: 'daemon' } });
      }
      return create0(body, opts);
    };
    const id = idOf(await create());
    expect(lifecycle()).toEqual(['containers.create', 'containers.remove', 'containers.create']);
    const made = await engine.containers.inspect(id);
    expect(made?.HostConfig.LogConfig).not.toEqual(first?.HostConfig.LogConfig);
    expect(engine.containerIds().sort()).toEqual([first!.Id, id].sort());
  });

  it('the event stream broke (the daemon restarting): nothing remembered is used until a /info asked on the new stream', async () => {
    idOf(await create());
    events.end();
    await until(() => !watch.connected);
    engine.calls.length = 0;
    idOf(await create());
    expect(count('info')).toBe(1);
    await until(() => watch.connected);
    idOf(await create());
    engine.calls.length = 0;
    idOf(await create());
    expect(count('info')).toBe(0);
  });

  it("a create whose event never arrives is not confirmed: removed, and made again on a fresh /info", { timeout: 10_000 }, async () => {
    idOf(await create());
    reportCreates = false;
    engine.calls.length = 0;
    idOf(await create());
    expect(lifecycle()).toEqual(['containers.create', 'containers.remove', 'containers.create']);
    expect(count('info')).toBe(1);
  });

  it('a refusal is never made on remembered answers: an image remembered with a USER nobody can resolve is asked again, and created', async () => {
    idOf(await create());
    memory.rememberImage('app:1', { ...memory.image('app:1')!, Config: { User: 'ghost', Volumes: null, ExposedPorts: {} } });
    engine.calls.length = 0;
    idOf(await create());
    expect(lifecycle()).toEqual(['containers.create']);
    expect(memory.image('app:1')?.Config?.User).toBe('app');
  });

  it('a refusal on the engine\'s answers: 403 with the rule and the field as sent, nothing made, the record with the peer', async () => {
    const v = await createThroughPolicy({ Image: 'app:1', HostConfig: { Privileged: true } }, new URLSearchParams(), ctx);
    expect(v).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-PRIV-001'] });
    expect(v.action === 'refuse' && v.message).toContain('Privileged: true');
    expect(engine.containerIds()).toEqual([]);
    expect(records().at(-1)).toMatchObject({ event: 'refused', peer });
  });

  it("a missing image is the engine's 404, never a pull; one removed since it was remembered is the engine's 404 too", async () => {
    expect(await create({ Image: 'nowhere:1' })).toMatchObject({ action: 'respond', status: 404 });
    idOf(await create());
    engine.removeImage('app:1');
    expect(await create()).toMatchObject({ action: 'respond', status: 404 });
    expect(count('images.pull')).toBe(0);
    expect(engine.containerIds()).toHaveLength(1);
  });

  it('the engine out of reach: the request fails and the memory is forgotten', async () => {
    idOf(await create());
    engine.images.inspect = () => Promise.reject(new Error('connect ECONNREFUSED /var/run/docker.sock'));
    await expect(create()).rejects.toThrow(/ECONNREFUSED/);
    expect(memory.info()).toBeUndefined();
    expect(memory.image('app:1')).toBeUndefined();
  });
});

describe('doorMemory', () => {
  const info = (id: string): EngineInfo => ({ ...({ ID: id } as EngineInfo), DockerRootDir: '/var/lib/docker', NCPU: 2 });

  it("another engine (a new daemon ID) forgets the images remembered from the previous one", () => {
    const m = doorMemory();
    m.rememberInfo(info('A'), 1);
    m.rememberImage('app:1', { Id: 'sha256:1' });
    m.rememberInfo(info('A'), 2);
    expect(m.image('app:1')?.Id).toBe('sha256:1');
    m.rememberInfo(info('B'), 3);
    expect(m.image('app:1')).toBeUndefined();
    expect(m.info()).toMatchObject({ epoch: 3, value: { ID: 'B' } });
  });

  it('keeps copies (a caller changing its object changes nothing remembered) and at most 256 references', () => {
    const m = doorMemory();
    const img = { Id: 'sha256:1', Config: { User: 'app' } };
    m.rememberImage('app:1', img);
    img.Config.User = 'root';
    expect(m.image('app:1')?.Config?.User).toBe('app');
    for (let i = 0; i < 300; i++) m.rememberImage(`i:${i}`, { Id: `sha256:${i}` });
    expect(m.image('app:1')).toBeUndefined();
    expect(m.image('i:299')?.Id).toBe('sha256:299');
    expect(m.image('i:43')).toBeUndefined();
    expect(m.image('i:44')?.Id).toBe('sha256:44');
  });
});

describe('EngineWatch', () => {
  it('confirms a create seen before or after it is asked for, not one after a daemon event or a break', async () => {
    emit({ Type: 'container', Action: 'create', Actor: { ID: 'a' } });
    await new Promise((r) => setTimeout(r, 5));
    const e = watch.epoch;
    expect(await watch.confirm('a', e)).toBe(true);
    const b = watch.confirm('b', e);
    emit({ Type: 'container', Action: 'create', Actor: { ID: 'b' } });
    expect(await b).toBe(true);
    const c = watch.confirm('c', e);
    emit({ Type: 'daemon', Action: 'reload' });
    emit({ Type: 'container', Action: 'create', Actor: { ID: 'c' } });
    expect(await c).toBe(false);
    const e2 = watch.epoch;
    const d = watch.confirm('d', e2);
    events.end();
    expect(await d).toBe(false);
    expect(await watch.confirm('x', e2)).toBe(false);
  });

  it('a line it cannot read counts as a change', async () => {
    const e = watch.epoch;
    events.write('not json\n');
    await until(() => watch.epoch !== e);
    expect(watch.holds(e)).toBe(false);
  });
});

describe("a joined container's image labels (the door's attach and start checks)", () => {
  it('are asked for once per image id: an id names its configuration, whose labels never change', async () => {
    const made = await engine.containers.create({ Image: 'app:1', Cmd: ['true'], HostConfig: {} });
    const image = (await engine.containers.inspect(made.Id))!.Image!;
    const join = { Image: '', HostConfig: { PidMode: `container:${made.Id}` } } as unknown as CreateBody;
    engine.calls.length = 0;
    const first = await inspectJoined(engine, join);
    const second = await inspectJoined(engine, join);
    expect(first[made.Id]?.ImageSdockerLabels).toBe(false);
    expect(second).toEqual(first);
    expect(engine.calls.filter((c) => c === `images.inspect ${image}`)).toHaveLength(1);
    expect(count('containers.inspect')).toBe(2);
  });
});

describe("the door's create judges image trust as the CLI does", () => {
  it("an image outside the door's profile's allowlist is refused before the engine is asked (SD-IMG-001), with the peer in the record", async () => {
    const file = join(dir, 'door.yaml');
    writeFileSync(file, 'images:\n  allow: ["registry.example/team/**"]\n');
    const profile = await loadDoorProfile({ profile: file, env: ctx.env, cwd: dir });
    engine.calls.length = 0;
    const v = await create({}, { ...ctx, profile });
    expect(v).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-IMG-001'] });
    expect(engine.calls).toEqual([]);
    expect(records().at(-1)).toMatchObject({ event: 'refused', peer });
  });
});
