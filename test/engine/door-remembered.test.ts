/**
 * The door remembers the engine's answers across creates (src/door/memory.ts) and decides on them
 * at once; against the real engine, a tag moved to another image between two creates through the
 * same door: the second container is judged on the new image (the one the engine creates from),
 * as seen from inside it, not on the image the door remembered.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EngineClient } from '../../src/engine/client.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { loadDoorProfile } from '../../src/door/core.js';
import { createJudge, type DoorJudge } from '../../src/door/judge.js';
import type { DoorRequest } from '../../src/door/types.js';
import { cleanupTestObjects, TEST_LABELS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, tempDir } from '../policy/engine-checks.js';

const state = tempDir('door-remembered');
const env = { ...process.env, SDOCKER_STATE_DIR: state.path };
const client = new EngineClient(resolveEndpoint({}, process.env));
const tag = `sdocker-test/door-retag-${process.pid}:1`;
const caseLabel = { 'sdocker.test.case': `door-retag-${process.pid}` };
let judge: DoorJudge;

beforeAll(async () => {
  await ensureTestImages();
  judge = createJudge({ client, profile: await loadDoorProfile({ env, cwd: state.path }), env, cwd: state.path });
});

afterAll(async () => {
  await docker(['rmi', tag]);
  await cleanupTestObjects();
  client.close();
  state.remove();
});

async function createAndRun(): Promise<{ id: string; uid: string; image: string }> {
  const found = judge.routeFor('POST', '/containers/create')!;
  const req: DoorRequest = {
    method: 'POST', path: '/containers/create', query: new URLSearchParams(), headers: {}, peer: { uid: 4242, gid: 4242, pid: 1 },
    body: { Image: tag, Cmd: ['sleep', '300'], Labels: { ...TEST_LABELS, ...caseLabel }, HostConfig: { NetworkMode: 'none' } },
  };
  const v = await found.route.judge(req, found.match);
  expect(v, JSON.stringify(v)).toMatchObject({ action: 'respond', status: 201 });
  const id = (v as { body: { Id: string } }).body.Id;
  expect((await docker(['start', id])).code).toBe(0);
  const uid = (await docker(['exec', id, 'id', '-u'])).stdout.trim();
  const image = (await docker(['inspect', '--format', '{{.Image}}', id])).stdout.trim();
  return { id, uid, image };
}

const imageId = async (ref: string) => (await docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();

it('a tag moved to an image without USER between two creates: the second container is judged on the new image, not the remembered one', async () => {
  expect((await docker(['tag', IMAGES.user, tag])).code).toBe(0);
  const first = await createAndRun();
  // The image's own USER 1000 is kept.
  expect(first.uid).toBe('1000');
  expect(first.image).toBe(await imageId(IMAGES.user));
  // The tag now names an image that runs as root; the door remembers the other one.
  expect((await docker(['tag', IMAGES.root, tag])).code).toBe(0);
  const second = await createAndRun();
  expect(second.image).toBe(await imageId(IMAGES.root));
  // Judged on the new image: the policy's own user, never root, and not the remembered image's 1000.
  expect(second.uid).toBe('65534');
  // Nothing else left: the container made on the remembered image (if any) was removed.
  const ours = (await docker(['ps', '-aq', '--no-trunc', '--filter', `label=sdocker.test.case=${caseLabel['sdocker.test.case']}`])).stdout.trim().split('\n').filter(Boolean);
  expect(ours.sort()).toEqual([first.id, second.id].sort());
});
