/**
 * The run pipeline's decisions on the in-memory engine (test/helpers/fake-engine.ts): no daemon,
 * no root, no network. What is asserted is what the engine was asked to make and what it holds
 * afterwards (containers, volumes, their bodies), and what the user was told.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BodyContext } from '../../src/flags/body.js';
import type { EngineInfo } from '../../src/api/types.js';
import { buildRunRequest } from '../../src/flags/request.js';
import { requestFromBody } from '../../src/pipeline/request.js';
import { runPipeline, type PipelineContext } from '../../src/pipeline/run.js';
import type { FactsMemory } from '../../src/pipeline/remembered.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { memoryIO, type MemoryIO } from '../helpers/engine.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n';
const GROUP = 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n';

let dir: string;
let io: MemoryIO;
let engine: FakeEngine;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdocker-pipeline-'));
  io = { ...memoryIO({ env: { HOME: dir, SDOCKER_STATE_DIR: join(dir, 'state'), PATH: '/usr/bin:/bin' } }), cwd: dir, uid: 1000 };
  engine = new FakeEngine();
  engine.addImage({ tags: ['app:1'], config: { User: 'app' }, files: { '/etc/passwd': PASSWD, '/etc/group': GROUP }, program: { stdout: 'hello\n', exitCode: 3 } });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function request(argv: string[], mode: 'run' | 'create' = 'run') {
  const ctx: BodyContext = { cwd: dir, env: io.env, readFile: () => '' };
  return buildRunRequest(argv, mode, ctx);
}

/** A memory of engine answers kept in the test (the CLI's is the state directory). */
function memory(init: { info?: EngineInfo; images?: Record<string, NonNullable<ReturnType<FactsMemory['image']>>> } = {}) {
  const images = new Map(Object.entries(init.images ?? {}));
  const store = {
    info: init.info,
    images,
    facts: () => store.info,
    image: (ref: string) => images.get(ref),
    rememberFacts: (info: EngineInfo) => (store.info = info),
    rememberImage: (ref: string, image: NonNullable<ReturnType<FactsMemory['image']>>) => void images.set(ref, image),
  };
  return store;
}

async function pipeline(argv: string[], mode: 'run' | 'create' = 'run', extra: Partial<PipelineContext> = {}) {
  const req = request(argv, mode);
  const policy = await import('../../src/pipeline/run-policy.js');
  const profile = await policy.loadProfile(req, io);
  return runPipeline(engine, req, profile, { io, policy, ...extra });
}

function auditEvents(): string[] {
  try {
    return readFileSync(join(dir, 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event);
  } catch {
    return [];
  }
}

const count = (prefix: string) => engine.calls.filter((c) => c.startsWith(prefix)).length;

describe('run pipeline on the in-memory engine', () => {
  it('run --rm: the hardened container is made, started, its output and exit status passed on, nothing left behind', async () => {
    const r = await pipeline(['--rm', 'app:1']);
    expect(r).toMatchObject({ status: 3, refused: false });
    expect(io.stdoutText()).toBe('hello\n');
    const body = r.outcome!.body;
    expect(body.HostConfig.CapDrop).toContain('ALL');
    expect(body.HostConfig.SecurityOpt).toContain('no-new-privileges');
    // The engine was asked once to create and once to start; --rm left no container and no volume.
    expect(count('containers.create app:1')).toBe(1);
    expect(count('containers.start')).toBe(1);
    expect(engine.containerIds()).toEqual([]);
    expect(engine.volumeNames()).toEqual([]);
    expect(auditEvents()).toEqual(['run']);
  });

  it('create: the container is made, verified, not started; its id printed', async () => {
    const r = await pipeline(['--name', `p${process.pid}`, 'app:1'], 'create');
    expect(r.status).toBe(0);
    expect(io.stdoutText().trim()).toBe(r.containerId);
    expect(engine.stateOf(`p${process.pid}`)).toBe('created');
    expect(count('containers.start')).toBe(0);
    // verifyCreated read the container back before the pipeline ended.
    expect(engine.calls).toContain(`containers.inspect ${r.containerId}`);
  });

  it('a refusal: explained, recorded, and nothing is created', async () => {
    const r = await pipeline(['--privileged', 'app:1']);
    expect(r.refused).toBe(true);
    expect(r.status).toBe(125);
    expect(r.outcome!.violations.map((v) => v.rule)).toContain('SD-PRIV-001');
    expect(io.stderrText()).toMatch(/SD-PRIV-001/);
    expect(count('containers.create app:1')).toBe(0);
    expect(engine.containerIds()).toEqual([]);
    expect(auditEvents()).toEqual(['refused']);
  });

  it('a dry run asks the engine but makes nothing', async () => {
    const r = await pipeline(['--dry-run', 'app:1']);
    expect(r.refused).toBe(false);
    expect(count('containers.create app:1')).toBe(0);
    expect(engine.containerIds()).toEqual([]);
    expect(io.stdoutText()).toMatch(/cap-drop|CapDrop/i);
  });

  it('level privileged: docker\'s own requests only (no info, no image inspect)', async () => {
    const r = await pipeline(['--policy', 'privileged', '--rm', 'app:1']);
    expect(r.status).toBe(3);
    expect(engine.calls.filter((c) => c === 'info' || c.startsWith('images.'))).toEqual([]);
    expect(r.outcome).toBeUndefined();
  });

  it('a missing image is pulled once, with docker\'s message once', async () => {
    engine.addToRegistry('tool:2', { config: { User: '1000:1000' }, program: { stdout: 'pulled\n', exitCode: 0 } });
    const r = await pipeline(['--rm', 'tool:2']);
    expect(r.status).toBe(0);
    expect(io.stdoutText()).toBe('pulled\n');
    expect(count('images.pull')).toBe(1);
    expect(io.stderrText().match(/Unable to find image 'tool:2' locally/g)).toHaveLength(1);
  });

  it('--pull never on a missing image: the engine\'s 404, nothing pulled or made', async () => {
    const err = await pipeline(['--pull', 'never', 'absent:1']).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 404, exitCode: 125 });
    expect(count('images.pull')).toBe(0);
    expect(engine.containerIds()).toEqual([]);
  });

  it('-d: not attached, id printed, the container keeps running', async () => {
    engine.addImage({ tags: ['server:1'], config: { User: '1000' }, program: { exitCode: 0, runs: true } });
    const r = await pipeline(['-d', '--no-watch', 'server:1']);
    expect(r.status).toBe(0);
    expect(count('containers.attach')).toBe(0);
    expect(engine.stateOf(r.containerId!)).toBe('running');
    expect(io.stdoutText().trim()).toBe(r.containerId);
  });
});

describe('remembered facts', () => {
  it('none remembered: decided on the engine\'s answers, which are remembered for next time', async () => {
    const m = memory();
    await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    expect(count('info')).toBe(1);
    expect(m.info?.NCPU).toBe(2);
    expect(m.images.get('app:1')?.Id).toMatch(/^sha256:/);
    expect(count('containers.create app:1')).toBe(1);
  });

  it('remembered and still true: one container, verified against the engine before start', async () => {
    const m = memory();
    await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    engine.calls.length = 0;
    const r = await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    expect(r.status).toBe(3);
    expect(count('containers.create app:1')).toBe(1);
    expect(count('containers.remove')).toBe(0);
    // The engine was still asked (the verification), once.
    expect(count('info')).toBe(1);
  });

  it('stale engine facts that change the container: the container made on them is removed before start, and made again', async () => {
    const m = memory();
    const first = await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    // The engine changed since: its default log driver sends logs off the host (the policy's log options then differ).
    engine.engineInfo = { ...engine.engineInfo, LoggingDriver: 'gelf' };
    engine.calls.length = 0;
    const r = await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    expect(r.status).toBe(3);
    const creates = engine.calls.filter((c) => c.startsWith('containers.create app:1') || c.startsWith('containers.remove') || c.startsWith('containers.start'));
    expect(creates.map((c) => c.split(' ')[0])).toEqual(['containers.create', 'containers.remove', 'containers.create', 'containers.start']);
    expect(m.info?.LoggingDriver).toBe('gelf');
    expect(r.outcome!.body.HostConfig.LogConfig).not.toEqual(first.outcome!.body.HostConfig.LogConfig);
    expect(engine.containerIds()).toEqual([]);
    // One run, one record: the discarded attempt is not a run.
    expect(auditEvents()).toEqual(['run', 'run']);
  });

  it('the image moved to another id since: decided again on the new image', async () => {
    const m = memory();
    await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    const before = m.images.get('app:1')!.Id;
    // The tag now names an image running as root.
    const now = engine.addImage({ tags: ['app:1'], config: { User: '' }, files: { '/etc/passwd': PASSWD, '/etc/group': GROUP }, program: { exitCode: 0 } });
    engine.calls.length = 0;
    const r = await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    expect(now).not.toBe(before);
    expect(count('containers.create app:1')).toBe(2);
    expect(r.image?.Id).toBe(now);
    expect(m.images.get('app:1')!.Id).toBe(now);
    // Decided on the new image: it has no USER, so the policy's own user is set.
    expect(r.outcome!.body.User).not.toBe('app');
    expect(r.status).toBe(0);
  });

  it('a refusal is never made on remembered facts: decided again on the engine\'s', async () => {
    // Remembered: an image whose USER names nobody in its files (undecidable: refused).
    const m = memory();
    await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    m.images.set('app:1', { ...m.images.get('app:1')!, Config: { User: 'ghost', Volumes: null, ExposedPorts: {} } });
    engine.calls.length = 0;
    io = { ...io, ...memoryIO({ env: io.env }), cwd: dir, uid: 1000 };
    const r = await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    expect(r.refused).toBe(false);
    expect(r.status).toBe(3);
    expect(count('containers.create app:1')).toBe(1);
    expect(io.stderrText()).not.toMatch(/ghost/);
    // The copy is refreshed with the engine's answer.
    expect(m.images.get('app:1')!.Config?.User).toBe('app');
  });

  it('a dry run never decides on remembered facts', async () => {
    const m = memory({ info: { ...engineInfoWithout(), NCPU: 64 } });
    await pipeline(['--dry-run', 'app:1'], 'run', { memory: m });
    expect(count('info')).toBe(1);
    // ... and leaves the memory alone only when it was not used: the engine's answer is remembered.
    expect(m.info?.NCPU).toBe(2);
  });

  it('named volumes are never remembered: a volume changed into a bind of /etc is refused even on remembered facts', async () => {
    const m = memory();
    await pipeline(['--rm', 'app:1'], 'run', { memory: m });
    await engine.volumes.create({ Name: 'data', DriverOpts: { type: 'none', o: 'bind', device: '/etc' } });
    const r = await pipeline(['--rm', '-v', 'data:/data', 'app:1'], 'run', { memory: m });
    expect(r.refused).toBe(true);
    expect(engine.calls).toContain('volumes.inspect data');
    expect(count('containers.create app:1')).toBe(1); // the run before, none for this one
  });
});

describe('a create body from the API (the door\'s entry)', () => {
  it('is decided and hardened like sdocker create, and the container id returned', async () => {
    const req = requestFromBody({ Image: 'app:1', Cmd: ['true'], HostConfig: { Privileged: false, ReadonlyRootfs: false } }, { name: `door${process.pid}` });
    const policy = await import('../../src/pipeline/run-policy.js');
    const profile = await policy.loadProfile(req, io);
    const r = await runPipeline(engine, req, profile, { io, policy });
    expect(r.refused).toBe(false);
    const made = await engine.containers.inspect(`door${process.pid}`);
    expect(made?.Id).toBe(r.containerId);
    expect(made?.HostConfig.CapDrop).toContain('ALL');
    expect(made?.State?.Status).toBe('created');
  });

  it('a refused body makes nothing, and names the rules', async () => {
    const req = requestFromBody({ Image: 'app:1', HostConfig: { Privileged: true } });
    const policy = await import('../../src/pipeline/run-policy.js');
    const r = await runPipeline(engine, req, await policy.loadProfile(req, io), { io, policy });
    expect(r.refused).toBe(true);
    expect(r.outcome!.violations.map((v) => v.rule)).toContain('SD-PRIV-001');
    expect(count('containers.create app:1')).toBe(0);
  });

  it('a missing image is the engine\'s 404 (the API does not pull on create)', async () => {
    const req = requestFromBody({ Image: 'nowhere:1', HostConfig: {} });
    const policy = await import('../../src/pipeline/run-policy.js');
    const err = await runPipeline(engine, req, await policy.loadProfile(req, io), { io, policy }).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 404 });
    expect(count('images.pull')).toBe(0);
  });

  it('a body without an image is refused before anything', () => {
    expect(() => requestFromBody({ HostConfig: {} })).toThrow(/Image/);
  });
});

function engineInfoWithout(): EngineInfo {
  return { OSType: 'linux', SecurityOptions: ['name=seccomp,profile=default'] };
}
