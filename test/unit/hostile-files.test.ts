/**
 * Hostile or mistaken files where sdocker expects a profile, a seccomp profile or its remembered
 * facts: a clear error naming the file and line (or, for remembered facts, nothing at all), never a
 * stack trace, a hang, or a byte of the file in the message.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rememberedFacts, rememberedImage, rememberFacts, rememberImage } from '../../src/cli/engine-facts.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { UsageError } from '../../src/errors.js';
import { loadEffectiveProfile } from '../../src/policy/load-profile.js';
import { MAX_DEPTH, parseJsonLocated } from '../../src/text/json-located.js';
import { parseProfile } from '../../src/seccomp/profile.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdt-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shadow-like line: what must never appear in a message. */
const SECRET = 'alice:$6$s4ltS4lt$Xq9hashhashhash:19000:0:99999:7:::';

async function profileError(name: string, text: string | Buffer): Promise<string> {
  const p = join(dir, name);
  writeFileSync(p, text);
  try {
    await loadEffectiveProfile({ cwd: dir, env: {}, profile: p, machineFloor: join(dir, 'no-floor.yaml'), seccomp: false });
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected the profile to be refused');
}

describe('profiles', () => {
  it('an alias bomb is an error naming the file and line', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const t0 = Date.now();
    const m = await profileError('bomb.yaml', `${levels.join('\n')}\n`);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(m).toBe(`${join(dir, 'bomb.yaml')}:2:8: invalid YAML: aliases expand to too many nodes (more than 100 expansions: an alias bomb?)`);
  });

  it('flow collections nested thousands deep are refused before the parser (it aborts node at ~3,000)', async () => {
    const m = await profileError('deep.yaml', `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    expect(m).toBe(`${join(dir, 'deep.yaml')}:1: more than 1000 '[' and '{' in one profile (flow collections could nest too deeply to parse); write long lists as block lists`);
  });

  it('nesting deeper than 64 levels is refused with its line', async () => {
    expect(await profileError('deep2.yaml', `${'['.repeat(200)}${']'.repeat(200)}\n`)).toMatch(/deep2\.yaml:1:\d+: invalid YAML: nested deeper than 64 levels$/);
    const block = Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n');
    expect(await profileError('deep3.yaml', `${block} 1\n`)).toMatch(/deep3\.yaml:\d+:\d+: invalid YAML: nested (deeper than 64 levels|too deeply or too large)$/);
  });

  it('never quotes the file: a shadow file, a bad escape, an unknown key', async () => {
    for (const [name, text] of [
      ['shadow', `root:*:20228:0:99999:7:::\n${SECRET}\n`],
      ['escape.yaml', `extends: restricted\nx: "${SECRET}\\q"\n`],
      ['key.yaml', `extends: restricted\n${SECRET}: 1\n`],
    ] as const) {
      const m = await profileError(name, text);
      expect(m.startsWith(`${join(dir, name)}:`)).toBe(true);
      expect(m).not.toContain('alice');
      expect(m).not.toContain('$6$');
      expect(m).not.toContain('root');
    }
  });

  it('a file that is not UTF-8 is refused with its line', async () => {
    const m = await profileError('latin1.yaml', Buffer.from('extends: restricted\n# caf\xe9\n', 'latin1'));
    expect(m).toBe(`${join(dir, 'latin1.yaml')}: cannot read the profile: invalid utf8 bytes at line 2`);
  });
});

describe('seccomp JSON', () => {
  it('says where and what was expected, never what was found', () => {
    for (const text of [SECRET, `{"defaultAction": ${SECRET}}`, `{"a": 1} ${SECRET}`, `{"a": 1, "a": "${SECRET}"}`]) {
      let m = '';
      try {
        parseProfile(text, 'p.json');
      } catch (err) {
        m = (err as Error).message;
      }
      expect(m).toMatch(/^p\.json:1:\d+: invalid JSON: /);
      expect(m).not.toContain('alice');
      expect(m).not.toMatch(/'[a-z$0-9]'/);
    }
  });

  it('refuses nesting deeper than MAX_DEPTH instead of overflowing the stack', () => {
    expect(() => parseJsonLocated(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toThrow(`nested deeper than ${MAX_DEPTH} levels`);
    expect(() => parseJsonLocated(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`)).not.toThrow();
  });
});

describe('the docker configuration', () => {
  it('a config.json that is not JSON, or not a regular file, is named without its bytes', () => {
    const cfg = mkdtempSync(join(dir, 'cfg-'));
    writeFileSync(join(cfg, 'config.json'), `${SECRET}\n`);
    expect(() => resolveEndpoint({ configDir: cfg }, {})).toThrow(`cannot parse ${join(cfg, 'config.json')}: not valid JSON`);
    const fifoCfg = mkdtempSync(join(dir, 'cfg-'));
    execFileSync('mkfifo', [join(fifoCfg, 'config.json')]);
    expect(() => resolveEndpoint({ configDir: fifoCfg }, {})).toThrow(/config\.json: not a regular file \(a FIFO\)/);
  });
});

describe('remembered facts', () => {
  const HOST = 'unix:///var/run/docker.sock';
  const GOOD = { SecurityOptions: ['name=seccomp,profile=default'], NCPU: 2, OSType: 'linux' };

  const cases: [string, (p: string) => void][] = [
    ['garbage', (p) => writeFileSync(p, '\x00\x01 not json {{{')],
    ['a JSON array', (p) => writeFileSync(p, JSON.stringify([GOOD]))],
    ['a huge file', (p) => writeFileSync(p, `{"${HOST}": ${JSON.stringify(GOOD)}, "pad": "${'x'.repeat(5 * 1024 * 1024)}"}`)],
    ['a FIFO', (p) => execFileSync('mkfifo', [p])],
    ['a symlink to /dev/zero', (p) => symlinkSync('/dev/zero', p)],
    ['wrong types inside', (p) => writeFileSync(p, JSON.stringify({ [HOST]: { SecurityOptions: 'name=userns', NCPU: '64' } }))],
    ['an unknown key inside', (p) => writeFileSync(p, JSON.stringify({ [HOST]: { ...GOOD, Privileged: true } }))],
  ];

  for (const [what, make] of cases) {
    it(`${what}: ignored, then rewritten as a regular file; no temporary file left`, () => {
      const state = mkdtempSync(join(dir, 'state-'));
      const env = { SDOCKER_STATE_DIR: state };
      const path = join(state, 'engine-facts.json');
      make(path);
      const t0 = Date.now();
      expect(rememberedFacts(env, HOST)).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(1000);
      rememberFacts(env, HOST, GOOD);
      expect(lstatSync(path).isFile()).toBe(true);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ [HOST]: GOOD });
      expect(rememberedFacts(env, HOST)).toEqual(GOOD);
      expect(readdirSync(state).sort()).toEqual(['engine-facts.json']);
    });
  }

  it('a directory in its place: ignored, not replaced, and no temporary file left behind', () => {
    const state = mkdtempSync(join(dir, 'state-'));
    const env = { SDOCKER_STATE_DIR: state };
    mkdirSync(join(state, 'engine-facts.json'));
    expect(rememberedFacts(env, HOST)).toBeUndefined();
    rememberFacts(env, HOST, GOOD);
    expect(readdirSync(state)).toEqual(['engine-facts.json']);
    expect(lstatSync(join(state, 'engine-facts.json')).isDirectory()).toBe(true);
  });

  it('image facts: a wrong shape is ignored and rewritten', () => {
    const state = mkdtempSync(join(dir, 'state-'));
    const env = { SDOCKER_STATE_DIR: state };
    const path = join(state, 'image-facts.json');
    writeFileSync(path, JSON.stringify({ [`${HOST} img`]: { Id: 'sha256:x', Config: { User: 0 } } }));
    expect(rememberedImage(env, HOST, 'img')).toBeUndefined();
    const image = { Id: 'sha256:y', RepoDigests: [], Config: { User: '1000', Volumes: null, ExposedPorts: {} } };
    rememberImage(env, HOST, 'img', image);
    expect(rememberedImage(env, HOST, 'img')).toEqual(image);
    expect(existsSync(path)).toBe(true);
    expect(readdirSync(state)).toEqual(['image-facts.json']);
  });
});
