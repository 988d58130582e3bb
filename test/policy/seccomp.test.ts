/**
 * The policy's seccomp side without the engine: where a profile's seccomp file is read from, the
 * verdicts the shell hands to the core, and the core's refusals.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatViolations } from '../../src/policy/explain.js';
import { loadEffectiveProfile } from '../../src/policy/load-profile.js';
import { verdictOf } from '../../src/seccomp/policy-check.js';
import { profileOf, rules, run } from './helpers.js';
import { applyPolicy } from '../../src/policy/apply.js';
import { bodyOf, ENGINE } from './helpers.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdocker-policy-seccomp-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the pure core', () => {
  test('never loads koffi, even judging a request profile', () => {
    const o = run(['--security-opt', 'seccomp=/log.json']);
    expect(rules(o)).toEqual(['SD-SECCOMP-002']);
    const cache = createRequire(import.meta.url).cache;
    expect(Object.keys(cache).filter((k) => k.includes('koffi'))).toEqual([]);
  });

  test('a profile without a verdict from the shell is refused (SD-SECCOMP-003), not applied', () => {
    const { body, typed } = bodyOf(['--security-opt', 'seccomp=/ok.json', 'IMG']);
    const o = applyPolicy({ body, engine: ENGINE, profile: profileOf(), mode: 'enforce', provenance: typed, image: { User: '' } });
    expect(rules(o)).toEqual(['SD-SECCOMP-003']);
    expect(o.refused).toBe(true);
    const p = profileOf();
    p.seccompProfile = '{"defaultAction":"SCMP_ACT_ERRNO"}';
    const o2 = applyPolicy({ body: bodyOf(['IMG']).body, engine: ENGINE, profile: p, mode: 'enforce', image: { User: '' } });
    expect(rules(o2)).toEqual(['SD-SECCOMP-003']);
    expect(o2.body.HostConfig.SecurityOpt?.some((s) => s.startsWith('seccomp='))).toBe(false);
  });

  test('the refusal lists the findings with the rule id', () => {
    const o = run(['--security-opt', 'seccomp=/allow.json']);
    const text = formatViolations(o.violations);
    expect(text).toContain('SD-SECCOMP-002');
    expect(text).toMatch(/defaultAction SCMP_ACT_ALLOW allows every syscall the profile does not name: not a whitelist \[not-whitelist\]/);
  });

  test('in warn mode a blacklist is let through as typed, with the warning', () => {
    const o = run(['--security-opt', 'seccomp=/allow.json'], { mode: 'warn' });
    expect(o.refused).toBe(false);
    expect(o.body.HostConfig.SecurityOpt?.some((s) => s.includes('SCMP_ACT_ALLOW'))).toBe(true);
  });
});

describe('verdicts (src/seccomp/policy-check.ts)', () => {
  test('JSON errors name file:line:col; structure is checked without libseccomp', () => {
    const v = verdictOf('{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [}\n', 'p.json', { lib: null });
    expect(v.findings).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-profile', line: 3, column: 16 })]);
    const c = verdictOf(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['read'], action: 'SCMP_ACT_KILL' }] }, null, 1), 'c.json', { lib: null });
    expect(c.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual(['conflict']);
  });

  test('name findings are cached by sha256; a forged cache entry cannot hide a blacklist', () => {
    const cacheDir = join(dir, 'cache');
    const text = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'wrte'], action: 'SCMP_ACT_ALLOW' }] });
    const first = verdictOf(text, 't.json', { cacheDir });
    expect(first.findings.map((f) => f.code)).toContain('unknown-syscall');
    expect(readdirSync(cacheDir)).toEqual([`${createHash('sha256').update(text).digest('hex')}.json`]);
    // Served from the cache: the same name finding.
    expect(verdictOf(text, 't.json', { cacheDir }).findings.map((f) => f.code)).toContain('unknown-syscall');

    const weak = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] });
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, `${createHash('sha256').update(weak).digest('hex')}.json`), JSON.stringify({ findings: [] }));
    const v = verdictOf(weak, 'w.json', { cacheDir });
    expect(v.whitelist).toBe(false);
    expect(v.findings.map((f) => f.code)).toContain('not-whitelist');
  });
});

describe('defaults.seccomp', () => {
  test('a path is relative to the profile file that names it, not to the working directory', async () => {
    const proj = join(dir, 'proj');
    mkdirSync(join(proj, 'seccomp'), { recursive: true });
    mkdirSync(join(proj, 'team', 'seccomp'), { recursive: true });
    mkdirSync(join(proj, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(proj, '.git'), '');
    writeFileSync(join(proj, 'seccomp', 'app.json'), '{"defaultAction":"SCMP_ACT_ERRNO"}');
    writeFileSync(join(proj, 'team', 'seccomp', 'team.json'), '{"defaultAction":"SCMP_ACT_KILL"}');
    writeFileSync(join(proj, 'sdocker.yaml'), 'extends: restricted\ndefaults:\n  seccomp: ./seccomp/app.json\n');
    const p = await loadEffectiveProfile({ cwd: join(proj, 'sub', 'deeper'), env: {}, machineFloor: join(dir, 'no-floor') });
    expect(p.seccompProfilePath).toBe(join(proj, 'seccomp', 'app.json'));
    expect(p.seccompProfile).toBe('{"defaultAction":"SCMP_ACT_ERRNO"}');
    // A file it extends names its own, relative to itself.
    writeFileSync(join(proj, 'team', 'team.yaml'), 'extends: restricted\ndefaults:\n  seccomp: ./seccomp/team.json\n');
    writeFileSync(join(proj, 'sdocker.yaml'), 'extends: ./team/team.yaml\n');
    const q = await loadEffectiveProfile({ cwd: join(proj, 'sub'), env: {}, machineFloor: join(dir, 'no-floor') });
    expect(q.seccompProfilePath).toBe(join(proj, 'team', 'seccomp', 'team.json'));
    // The shipped default is trusted (a verdict without a check); a project's file is not.
    expect(q.seccompChecks?.[q.seccompProfile!]).toBeUndefined();
    const d = await loadEffectiveProfile({ cwd: dir, env: {}, machineFloor: join(dir, 'no-floor') });
    expect(d.seccompChecks?.[d.seccompProfile!]).toMatchObject({ trusted: true, whitelist: true });
  });
});
