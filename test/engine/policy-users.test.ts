/**
 * Users and groups (issue 7, point 2): every spelling runc reads as 0, and the image tricks that
 * make a name 0, are refused or run without uid 0 and without group 0, seen from inside the
 * container (/proc/self/status, id). Each attack is shown to work with plain docker first (the
 * control), so a passing test cannot be a vacuous one. Legit users behave as docker's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTestObjects, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { bindDevice, caseLabel, docker, eventsSince, listContainers, listVolumes, sdocker, tempDir } from '../policy/engine-checks.js';

const L = TEST_LABEL_ARGS;
const tmp = tempDir('users');
const state = join(tmp.path, 'state');
const env = { SDOCKER_STATE_DIR: state, SDOCKER_PROFILE: undefined, SDOCKER_FLOOR: undefined };
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
/** passwd/group traps (measured: each is uid or gid 0 for docker), a VOLUME with a marker file. */
const trapImage = `sdocker-test/busybox:users-trap-${tag}`;
const user00Image = `sdocker-test/busybox:users-00-${tag}`;
const user1000Image = `sdocker-test/busybox:users-1000-${tag}`;
/** /d is a symbolic link to /etc: a mount on /d lands on /etc (the engine follows it). */
const etcLinkImage = `sdocker-test/busybox:users-etclink-${tag}`;
const marker = `/vol-${tag}`;
const fakeEtc = join(tmp.path, 'fakeetc');

const PROBE = 'grep -E "^(Uid|Gid|Groups):" /proc/self/status; echo "id=$(id -u) groups=$(id -G)"';

beforeAll(async () => {
  await ensureTestImages();
  const build = async (name: string, dockerfile: string) => {
    const dir = join(tmp.path, name.replace(/[^a-z0-9]/gi, '_'));
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    const b = await docker(['build', '-q', '--label', 'sdocker.test=1', '-t', name, dir]);
    expect(b.code, b.stderr).toBe(0);
  };
  await build(trapImage, [
    `FROM ${IMAGES.root}`,
    'RUN printf \'evil:x:abc:abc::/:/bin/sh\\n#x:x:0:0::/:/bin/sh\\ntoor:x:0:0::/root:/bin/sh\\nbig:x:4294967296:4294967296::/:/bin/sh\\napp:x:1001:1001::/:/bin/sh\\n\' >> /etc/passwd'
      + ' && printf \'wheel:x:0:\\n4242:x:0:\\napp:x:1001:\\nextra:x:2000:app,user\\n\' >> /etc/group'
      + ` && mkdir ${marker} && touch ${marker}/marker-${tag}`,
    `VOLUME ${marker}`,
  ].join('\n'));
  await build(user00Image, `FROM ${IMAGES.root}\nUSER 00\n`);
  await build(user1000Image, `FROM ${trapImage}\nUSER 1000\n`);
  await build(etcLinkImage, `FROM ${IMAGES.root}\nRUN ln -s /etc /d\n`);
  // A volume over /etc that says toor is 1000 and names a group 4242 with gid 0.
  mkdirSync(fakeEtc);
  writeFileSync(join(fakeEtc, 'passwd'), 'root:x:0:0::/:/bin/sh\ntoor:x:1000:1000::/:/bin/sh\n');
  writeFileSync(join(fakeEtc, 'group'), '4242:x:0:\n');
}, 120_000);

afterAll(async () => {
  await cleanupTestObjects();
  await docker(['rmi', etcLinkImage, user1000Image, user00Image, trapImage]);
  tmp.remove();
});

interface Seen {
  uid: string[];
  gid: string[];
  groups: string[];
}

function parseProbe(out: string): Seen {
  const field = (k: string) => (new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(out)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') };
}

const hasZero = (s: Seen) => [...s.uid, ...s.gid, ...s.groups].includes('0');

/** Nothing of a case is left: its containers, the helper containers, the helper's image volumes. */
async function nothingLeft(label: { key: string; value: string }): Promise<void> {
  expect(await listContainers(`${label.key}=${label.value}`)).toEqual([]);
  expect(await listContainers('sdocker.helper=identity')).toEqual([]);
  for (const v of await listVolumes()) {
    const r = await docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', v.Name]);
    const dir = r.stdout.trim();
    let files: string[] = [];
    try {
      files = readdirSync(dir);
    } catch {
      // removed meanwhile, or not a local volume
    }
    expect(files, `volume ${v.Name} holds the trap image's marker`).not.toContain(`marker-${tag}`);
    expect(bindDevice(v) === fakeEtc).toBe(false);
  }
}

interface Attack {
  name: string;
  args: string[];
  image: () => string;
  rule: string;
}

const attacks: Attack[] = [
  { name: '-u 00', args: ['-u', '00'], image: () => IMAGES.root, rule: 'SD-USER-001' },
  { name: '-u +0', args: ['-u', '+0'], image: () => IMAGES.root, rule: 'SD-USER-001' },
  { name: '-u -0', args: ['-u', '-0'], image: () => IMAGES.root, rule: 'SD-USER-001' },
  { name: '-u 1000:00', args: ['-u', '1000:00'], image: () => IMAGES.root, rule: 'SD-USER-002' },
  { name: '-u :1000 (empty user)', args: ['-u', ':1000'], image: () => IMAGES.root, rule: 'SD-USER-001' },
  { name: '--group-add 00', args: ['-u', '1000:1000', '--group-add', '00'], image: () => IMAGES.root, rule: 'SD-USER-002' },
  { name: '--group-add +0', args: ['-u', '1000:1000', '--group-add', '+0'], image: () => IMAGES.root, rule: 'SD-USER-002' },
  { name: '-u evil (uid field "abc")', args: ['-u', 'evil'], image: () => trapImage, rule: 'SD-USER-001' },
  { name: '-u #x (a passwd line starting with #)', args: ['-u', '#x'], image: () => trapImage, rule: 'SD-USER-001' },
  { name: '-u big (uid 2^32)', args: ['-u', 'big'], image: () => trapImage, rule: 'SD-USER-001' },
  { name: '-u 4242:4242 (a group NAMED 4242 with gid 0)', args: ['-u', '4242:4242'], image: () => trapImage, rule: 'SD-USER-002' },
  { name: '-u toor -v FAKE_ETC:/etc (the volume says toor is 1000, the image says 0)', args: ['-u', 'toor', '-v', `${fakeEtc}:/etc`], image: () => trapImage, rule: 'SD-USER-001' },
  { name: '-u 4242:4242 -v FAKE_ETC:/etc (runc looks 4242 up in the volume\'s group file)', args: ['-u', '4242:4242', '-v', `${fakeEtc}:/etc`], image: () => IMAGES.root, rule: 'SD-USER-002' },
  { name: 'an image with USER 00', args: [], image: () => user00Image, rule: 'SD-USER-001' },
  {
    name: '-u 4242:4242 -v FAKE_ETC:/d where the image links /d to /etc (seen only after create, through the created container)',
    args: ['-u', '4242:4242', '-v', `${fakeEtc}:/d`], image: () => etcLinkImage, rule: 'SD-USER-002',
  },
];

describe('every spelling of root is refused, or runs without uid 0 and group 0 (seen in /proc/self/status)', () => {
  for (const a of attacks) {
    it(a.name, async () => {
      // The control: plain docker runs it with a 0 somewhere.
      const control = await docker(['run', '--rm', ...L, ...a.args, a.image(), 'sh', '-c', PROBE]);
      expect(control.code, control.stderr).toBe(0);
      expect(hasZero(parseProbe(control.stdout)), control.stdout).toBe(true);
      const label = caseLabel('users');
      const r = await sdocker(['run', '--rm', ...label.args, ...a.args, a.image(), 'sh', '-c', PROBE], { env });
      if (r.code === 125) {
        expect(r.stderr).toContain(a.rule);
        expect(r.stdout).toBe('');
      } else {
        expect(r.code, r.stderr).toBe(0);
        const seen = parseProbe(r.stdout);
        expect(seen.uid.length).toBe(4);
        expect(hasZero(seen), r.stdout).toBe(false);
      }
      await nothingLeft(label);
    });
  }
  it('-u toor over a fake /etc is refused for what the IMAGE says (SD-USER-001: toor is uid 0 in the image\'s /etc/passwd)', async () => {
    const r = await sdocker(['run', '--rm', ...L, '-u', 'toor', '-v', `${fakeEtc}:/etc`, trapImage, 'id', '-u'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/toor is uid 0 in the image's \/etc\/passwd \(line \d+\)/);
  });
  it('sdocker create of an image with USER 00: 125, and no container', async () => {
    const label = caseLabel('users-create');
    const r = await sdocker(['create', ...label.args, user00Image, 'id'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("the image's USER 00");
    await nothingLeft(label);
  });
});

describe('legit users behave as with docker', () => {
  async function same(args: string[], image: string): Promise<Seen> {
    const d = await docker(['run', '--rm', ...L, ...args, image, 'sh', '-c', PROBE]);
    const s = await sdocker(['run', '--rm', ...L, ...args, image, 'sh', '-c', PROBE], { env });
    expect(d.code, d.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    const [ds, ss] = [parseProbe(d.stdout), parseProbe(s.stdout)];
    expect(ss).toEqual(ds);
    return ss;
  }
  it('-u nobody runs as 65534 with its groups', async () => {
    expect(await same(['-u', 'nobody'], trapImage)).toEqual({ uid: Array(4).fill('65534'), gid: Array(4).fill('65534'), groups: ['65534'] });
  });
  it('-u app runs as 1001 with its membership group (2000) as docker gives it', async () => {
    expect((await same(['-u', 'app'], trapImage)).groups.sort()).toEqual(['1001', '2000']);
  });
  it('an image with USER 1000 keeps 1000 and the groups /etc/group gives it', async () => {
    const seen = await same([], user1000Image);
    expect(seen.uid[0]).toBe('1000');
    expect(seen.groups.sort()).toEqual(['1000', '2000']);
  });
  it('--group-add by name and by number, as docker', async () => {
    expect((await same(['-u', 'app', '--group-add', 'extra', '--group-add', '050'], trapImage)).groups.sort()).toEqual(['1001', '2000', '50']);
  });
  it('the engine is sent numbers (the engine resolves nothing), and the image\'s files are read once per image', async () => {
    const fresh = join(tmp.path, 'state-once');
    const since = Date.now();
    const label = caseLabel('users-once');
    for (let i = 0; i < 2; i++) {
      const r = await sdocker(['run', '-d', ...label.args, '-u', 'app', trapImage, 'true'], { env: { ...env, SDOCKER_STATE_DIR: fresh } });
      expect(r.code, r.stderr).toBe(0);
    }
    const ids = await listContainers(`${label.key}=${label.value}`);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      const r = await docker(['inspect', '-f', '{{.Config.User}} {{json .HostConfig.GroupAdd}}', id]);
      expect(r.stdout.trim()).toBe('1001:1001 ["2000"]');
      await docker(['rm', '-f', '-v', id]);
    }
    const helpers = await eventsSince(since, { type: ['container'], label: ['sdocker.helper=identity'] });
    expect(helpers.filter((e) => e.Action === 'create')).toHaveLength(1);
    expect(helpers.filter((e) => e.Action === 'destroy')).toHaveLength(1);
    await nothingLeft(label);
  });
});

describe('--dry-run', () => {
  it('resolves names through the engine when the image is there', async () => {
    const r = await sdocker(['run', '--dry-run', ...L, '-u', 'evil', trapImage], { env });
    expect(r.code).toBe(125);
    expect(r.stdout + r.stderr).toContain('evil is uid 0 in the image');
  });
  it('says it could not resolve a name when the image is not there', async () => {
    const r = await sdocker(['run', '--dry-run', ...L, '--pull', 'never', '-u', 'app', `sdocker-test/missing:${tag}`], { env });
    expect(r.stdout + r.stderr).toContain('could not be read');
  });
  it('level privileged: the body is exactly docker\'s (-u 00 goes as typed)', async () => {
    const r = await sdocker(['run', '--dry-run', '--policy', 'privileged', ...L, '-u', '00', IMAGES.root], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('00');
    expect(r.stdout).not.toContain('65534');
  });
});
