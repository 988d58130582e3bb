import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { LEVEL_FILES } from '../../src/policy/levels.js';
import { discoverProfile, loadEffectiveProfile } from '../../src/policy/load-profile.js';
import { validateProfile } from '../../src/policy/profile.js';
import { effectiveMode } from '../../src/policy/profile-effective.js';
import { rules, run } from './helpers.js';

function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'sdocker-prof-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

const load = (cwd: string, extra: Partial<Parameters<typeof loadEffectiveProfile>[0]> = {}) =>
  loadEffectiveProfile({ cwd, env: {}, machineFloor: join(cwd, 'no-floor.yaml'), ...extra });

describe('built-in levels', () => {
  test('levels.ts is profiles/levels/*.yaml compiled', () => {
    for (const name of ['restricted', 'baseline', 'privileged'] as const) {
      const yaml = parse(readFileSync(`profiles/levels/${name}.yaml`, 'utf8'));
      expect({ path: `level:${name}`, ...yaml }).toEqual(LEVEL_FILES[name]);
      // and they validate as profiles (same format)
      expect(() => validateProfile(yaml, `${name}.yaml`)).not.toThrow();
    }
  });
});

describe('discovery', () => {
  test('sdocker.yaml from cwd upward, stopping at the repository root', () => {
    const d = project({ 'repo/.git/HEAD': '', 'repo/sdocker.yaml': 'extends: restricted\n', 'repo/a/b/x': '', 'sdocker.yaml': 'extends: baseline\n' });
    expect(discoverProfile(join(d, 'repo/a/b'))).toBe(join(d, 'repo/sdocker.yaml'));
    const e = project({ 'outer/sdocker.yaml': '', 'outer/repo/.git/HEAD': '', 'outer/repo/src/x': '' });
    expect(discoverProfile(join(e, 'outer/repo/src'))).toBeUndefined();
  });
  test('--profile, SDOCKER_PROFILE and --policy LEVEL', async () => {
    const d = project({ '.git/HEAD': '', 'p.yaml': 'extends: baseline\n', 'sdocker.yaml': 'extends: restricted\n' });
    expect((await load(d)).level).toBe('restricted');
    expect((await load(d, { profile: 'p.yaml' })).level).toBe('baseline');
    expect((await load(d, { env: { SDOCKER_PROFILE: join(d, 'p.yaml') } })).level).toBe('baseline');
    expect((await load(d, { policy: 'privileged' })).unconfined).toBe(true);
  });
});

describe('errors name file:line:col', () => {
  const cases: [string, RegExp][] = [
    ['extends: restricted\nallow:\n  capabilities:\n    - name: SYS_ADMIN\n', /sdocker\.yaml:4:7: allow\.capabilities\.0: every allowance needs a reason/],
    ['extends: restricted\nalow:\n  privileged: {reason: x}\n', /sdocker\.yaml:2:1: alow: unknown key/],
    ['allow:\n  privileged: true\n', /sdocker\.yaml:2:3: allow\.privileged: must be a mapping with a reason/],
    ['defaults:\n  memory: lots\n', /sdocker\.yaml:2:3: defaults\.memory: must be a size/],
    ['defaults:\n  user: root\n', /sdocker\.yaml:2:3: defaults\.user: the default user must not be root/],
    ['allow:\n  hostNamespaces:\n    - {name: mnt, reason: x}\n', /sdocker\.yaml:3:8: allow\.hostNamespaces\.0\.name: "mnt": must be one of/],
    ['allow: [\n', /sdocker\.yaml:\d+:\d+: /],
    ['mode: loud\n', /sdocker\.yaml:1:1: mode: must be one of enforce, warn, audit/],
    ['level: privileged\n', /sdocker\.yaml:1:1: level: only the built-in level files set it/],
    ['extends: nowhere.yaml\n', /extends: nowhere\.yaml: no such level or file/],
  ];
  for (const [text, re] of cases) {
    test(JSON.stringify(text), async () => {
      const d = project({ 'sdocker.yaml': text, '.git/HEAD': '' });
      await expect(load(d)).rejects.toThrow(re);
    });
  }
  test('extends loops are found', async () => {
    const d = project({ 'sdocker.yaml': 'extends: a.yaml\n', 'a.yaml': 'extends: sdocker.yaml\n', '.git/HEAD': '' });
    await expect(load(d)).rejects.toThrow(/loops back/);
  });
});

describe('extends and merging', () => {
  test('a file extending a file extending a level; allowances keep their file and reason', async () => {
    const d = project({
      '.git/HEAD': '',
      'team.yaml': 'extends: baseline\ndefaults:\n  memory: 2g\nallow:\n  capabilities:\n    - {name: cap_sys_ptrace, reason: debugger}\n',
      'sdocker.yaml': 'extends: ./team.yaml\ndefaults:\n  pids: 64\nallow:\n  writablePaths:\n    - {path: ./out, reason: build output}\n',
    });
    const p = await load(d);
    expect(p.level).toBe('baseline');
    expect(p.defaults.memory).toBe(2 * 1024 ** 3);
    expect(p.defaults.pids).toBe(64);
    expect(p.allow.capabilities?.find((c) => c.name === 'SYS_PTRACE')).toMatchObject({ reason: 'debugger', source: join(d, 'team.yaml') });
    expect(p.allow.writablePaths?.[0]?.path).toBe(join(d, 'out'));
    expect(p.sources.map((s) => s.role)).toEqual(['level', 'extends', 'project']);
    expect(p.sources[2]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
  test('the shipped seccomp profile is read for restricted', async () => {
    const d = project({ '.git/HEAD': '' });
    const p = await load(d);
    expect(p.seccompProfilePath).toMatch(/profiles\/seccomp\/default\.json$/);
    expect(JSON.parse(p.seccompProfile!).defaultAction).toMatch(/^SCMP_ACT_(ERRNO|KILL)/);
  });
});

describe('the floor beats the project', () => {
  const malicious = [
    'extends: privileged',
  ].join('\n');
  const greedy = [
    'extends: restricted',
    'mode: audit',
    'allow:',
    '  privileged: {reason: "trust me"}',
    '  capabilities:',
    '    - {name: ALL, reason: "trust me"}',
    '  hostPaths:',
    '    - {path: /, reason: "trust me", writable: true}',
    '  hostNamespaces:',
    '    - {name: pid, reason: "trust me"}',
    '  root: {reason: "trust me", withoutUsernsRemap: true}',
    '',
  ].join('\n');
  test('a project extending privileged is refused under a restricted floor', async () => {
    const d = project({ '.git/HEAD': '', 'sdocker.yaml': malicious, 'floor.yaml': 'extends: restricted\n' });
    await expect(load(d, { machineFloor: join(d, 'floor.yaml') })).rejects.toThrow(/level privileged is not allowed on this machine/);
    await expect(load(d, { machineFloor: join(d, 'floor.yaml'), policy: 'privileged' })).rejects.toThrow(/not allowed/);
  });
  test('a malicious project profile cannot grant privileged, caps, host paths, pid, root or audit mode; the floor moves the log', async () => {
    const d = project({ '.git/HEAD': '', 'sdocker.yaml': greedy, 'floor.yaml': 'extends: restricted\naudit:\n  log: /var/log/sdocker.jsonl\n' });
    const p = await load(d, { machineFloor: join(d, 'floor.yaml') });
    expect(p.allow.privileged).toBeUndefined();
    expect(p.allow.hostPaths).toBeUndefined();
    expect(p.allow.root).toBeUndefined();
    expect(p.floorDenied.map((x) => x.key).sort()).toEqual(['capabilities', 'hostNamespaces', 'hostPaths', 'privileged', 'root']);
    expect(effectiveMode('audit', p)).toBe('enforce');
    expect(effectiveMode(undefined, p)).toBe('enforce');
    expect(p.auditLog).toBe('/var/log/sdocker.jsonl');
    const o = run(['--privileged', '--cap-add', 'SYS_ADMIN', '-v', '/:/host', '--pid', 'host', '-u', '0'], { profile: p });
    expect(rules(o).sort()).toEqual(['SD-CAP-001', 'SD-MNT-002', 'SD-NS-001', 'SD-PRIV-001', 'SD-USER-001']);
    expect(o.refused).toBe(true);
    for (const v of o.violations) expect(v.floorBlocked).toBe(join(d, 'floor.yaml'));
  });
  test('without the floor the same profile would allow it (the test above is not vacuous)', async () => {
    const d = project({ '.git/HEAD': '', 'sdocker.yaml': greedy });
    const p = await load(d);
    expect(rules(run(['--privileged', '--cap-add', 'SYS_ADMIN', '--pid', 'host'], { profile: p, mode: 'enforce' }))).toEqual([]);
  });
  test('a floor grants only what it lists; SDOCKER_FLOOR adds a floor and cannot remove one', async () => {
    const d = project({
      '.git/HEAD': '',
      'sdocker.yaml': 'allow:\n  capabilities:\n    - {name: SYS_PTRACE, reason: debug}\n    - {name: NET_ADMIN, reason: vpn}\n',
      'floor.yaml': 'extends: restricted\nallow:\n  capabilities:\n    - {name: SYS_PTRACE, reason: "debugging is fine here"}\n    - {name: NET_ADMIN, reason: ok}\n',
      'tighter.yaml': 'extends: restricted\nallow:\n  capabilities:\n    - {name: SYS_PTRACE, reason: ok}\n',
    });
    const p = await load(d, { machineFloor: join(d, 'floor.yaml') });
    expect(p.allow.capabilities?.map((c) => c.name).sort()).toEqual(['NET_ADMIN', 'NET_BIND_SERVICE', 'SYS_PTRACE']);
    const q = await load(d, { machineFloor: join(d, 'floor.yaml'), env: { SDOCKER_FLOOR: join(d, 'tighter.yaml') } });
    expect(q.allow.capabilities?.map((c) => c.name).sort()).toEqual(['NET_BIND_SERVICE', 'SYS_PTRACE']);
    await expect(load(d, { env: { SDOCKER_FLOOR: join(d, 'missing.yaml') } })).rejects.toThrow(/no such file/);
  });
});
