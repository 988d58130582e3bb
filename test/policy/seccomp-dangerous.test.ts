/**
 * SD-SECCOMP-004 without the engine: the table derived from the shipped default, what counts as
 * letting a call through (actions, argument conditions as runc adds them, capability conditions),
 * and the core's refusal and allowance.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { dangerousAllowed, dangerousTable } from '../../src/seccomp/dangerous.js';
import { parseProfile, type SeccompProfile } from '../../src/seccomp/profile.js';
import { DANGEROUS_SYSCALLS } from '../../src/seccomp/validate.js';
import { verdictOf } from '../../src/seccomp/policy-check.js';
import { applyPolicy } from '../../src/policy/apply.js';
import { bodyOf, ENGINE, profileOf, rules, SECCOMP_FILES } from './helpers.js';

const shipped = parseProfile(readFileSync('profiles/seccomp/default.json', 'utf8')).profile;
const table = dangerousTable(shipped);
const NS = 0x7e020000;
const names = (p: SeccompProfile) => dangerousAllowed(p, table).map((d) => d.name);
const wl = (...syscalls: SeccompProfile['syscalls']): SeccompProfile => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls });

describe('the table comes from the shipped default', () => {
  test('every unconditional EPERM name of the shipped default, and clone3; clone and personality are conditional', () => {
    const eperm = shipped.syscalls.filter((r) => !r.args?.length && r.action === 'SCMP_ACT_ERRNO' && (r.errnoRet ?? 1) === 1).flatMap((r) => r.names);
    expect(eperm.length).toBeGreaterThan(50);
    for (const n of [...eperm, ...DANGEROUS_SYSCALLS]) expect(table.denied.has(n), n).toBe(true);
    for (const n of ['unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'fsopen', 'fsmount', 'move_mount', 'open_tree', 'keyctl', 'add_key',
      'request_key', 'bpf', 'ptrace', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'kexec_load', 'init_module', 'finit_module',
      'delete_module', 'open_by_handle_at', 'process_vm_readv', 'clone3']) expect(table.denied.has(n), n).toBe(true);
    expect([...table.conditional.keys()].sort()).toEqual(['clone', 'personality']);
    // What the shipped default allows is not on it.
    const allowed = shipped.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length).flatMap((r) => r.names);
    for (const n of allowed) expect(table.denied.has(n), n).toBe(false);
    // The shipped default itself, and the recorded example, let nothing dangerous through.
    expect(dangerousAllowed(shipped, table)).toEqual([]);
    const example = parseProfile(readFileSync('profiles/seccomp/examples/busybox-shell.json', 'utf8')).profile;
    expect(dangerousAllowed(example, table)).toEqual([]);
  });
});

describe('what lets a call through', () => {
  test('ALLOW, LOG, TRACE and NOTIFY let it through; ERRNO, KILL and TRAP do not', () => {
    for (const action of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_NOTIFY']) {
      expect(names(wl({ names: ['read', 'unshare'], action }))).toEqual(['unshare']);
    }
    for (const action of ['SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP']) {
      expect(names(wl({ names: ['unshare', 'mount'], action }))).toEqual([]);
    }
  });

  test('a condition on an argument does not make unshare or mount safe', () => {
    expect(names(wl({ names: ['unshare'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x10000000, op: 'SCMP_CMP_EQ' }] }))).toEqual(['unshare']);
  });

  test('clone: only as narrow as the shipped flag filter', () => {
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW' }))).toEqual(['clone']);
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: NS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }))).toEqual([]);
    // A wider mask that still covers every namespace flag, an exact flag set without them: narrow enough.
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: NS | 0xff, valueTwo: 0x11, op: 'SCMP_CMP_MASKED_EQ' }] }))).toEqual([]);
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x01200011, op: 'SCMP_CMP_EQ' }] }))).toEqual([]);
    // Only CLONE_NEWUSER masked: NEWNS, NEWNET ... pass.
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x10000000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }))).toEqual(['clone']);
    // The flags as a value: CLONE_NEWUSER itself.
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x10000000, op: 'SCMP_CMP_EQ' }] }))).toEqual(['clone']);
    // Another argument than the flags.
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: NS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }))).toEqual(['clone']);
    // Two comparisons on one argument: runc adds them as separate rules (OR), so each must be narrow.
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [
      { index: 0, value: NS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }, { index: 0, value: 0, op: 'SCMP_CMP_NE' }] }))).toEqual(['clone']);
    // Two arguments, one narrow: ANDed, narrow enough.
    expect(names(wl({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [
      { index: 0, value: NS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }, { index: 1, value: 0, op: 'SCMP_CMP_NE' }] }))).toEqual([]);
  });

  test('personality: only the shipped values', () => {
    expect(names(wl({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] }))).toEqual([]);
    expect(names(wl({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x0040000, op: 'SCMP_CMP_EQ' }] }))).toEqual(['personality']);
    expect(names(wl({ names: ['personality'], action: 'SCMP_ACT_ALLOW' }))).toEqual(['personality']);
  });

  test('a rule limited to capabilities carries them, with the place in the file', () => {
    const text = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } }] }, null, 2);
    const v = verdictOf(text, 'app.json', { lib: null });
    expect(v.dangerous).toEqual([{ name: 'mount', line: 12, column: 9, caps: ['CAP_SYS_ADMIN'] }]);
  });
});

describe('the core judges the verdict', () => {
  const profileText = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'unshare', 'keyctl'], action: 'SCMP_ACT_ALLOW' }] });
  const judge = (allow: Record<string, unknown> = {}, extra: string[] = []) => {
    SECCOMP_FILES['/unshare.json'] = profileText;
    const { body, typed } = bodyOf(['--security-opt', 'seccomp=/unshare.json', ...extra, 'IMG']);
    const v = verdictOf(profileText, 'app.json', { lib: null });
    const profile = profileOf('restricted', [{ path: '/p/sdocker.yaml', extends: 'restricted', allow }]);
    return applyPolicy({ body, engine: ENGINE, profile, mode: 'enforce', provenance: typed, image: { User: '' }, seccompChecks: { [profileText]: v } });
  };

  test('each call is refused with SD-SECCOMP-004 and the YAML that allows it', () => {
    const o = judge();
    expect(rules(o)).toEqual(['SD-SECCOMP-004', 'SD-SECCOMP-004']);
    expect(o.violations.map((x) => x.subject)).toEqual(['unshare', 'keyctl']);
    expect(o.violations[0]!.allowWith.join('\n')).toContain('syscalls:\n    - name: unshare');
    expect(o.violations[0]!.details?.[0]).toMatch(/^app\.json:1:\d+: lets unshare through$/);
    expect(o.refused).toBe(true);
  });

  test('allowed with a reason, each call by name', () => {
    const half = judge({ syscalls: [{ name: 'unshare', reason: 'tests' }] });
    expect(half.violations.map((x) => x.subject)).toEqual(['keyctl']);
    const all = judge({ syscalls: [{ name: 'unshare', reason: 'tests' }, { name: 'keyctl', reason: 'tests' }] });
    expect(all.violations).toEqual([]);
    expect(all.allowances.filter((a) => a.rule === 'SD-SECCOMP-004').map((a) => a.subject)).toEqual(['unshare', 'keyctl']);
    expect(all.body.HostConfig.SecurityOpt).toContain(`seccomp=${profileText}`);
  });

  test('allow.seccompUnconfined (no filter at all) covers a wider filter too', () => {
    const o = judge({ seccompUnconfined: { reason: 'debugging' } });
    expect(o.violations).toEqual([]);
    expect(o.allowances.filter((a) => a.rule === 'SD-SECCOMP-004').map((a) => a.reason)).toEqual(['debugging', 'debugging']);
  });

  test('a rule for a capability the container does not hold is not reachable', () => {
    const text = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } }] });
    const v = verdictOf(text, 'app.json', { lib: null });
    const go = (allow: Record<string, unknown>, extra: string[]) => {
      SECCOMP_FILES['/mount-caps.json'] = text;
      const { body, typed } = bodyOf(['--security-opt', 'seccomp=/mount-caps.json', ...extra, 'IMG']);
      const profile = profileOf('restricted', [{ path: '/p/sdocker.yaml', extends: 'restricted', allow }]);
      return applyPolicy({ body, engine: ENGINE, profile, mode: 'enforce', provenance: typed, image: { User: '' }, seccompChecks: { [text]: v } });
    };
    expect(go({}, []).violations).toEqual([]);
    const o = go({ capabilities: [{ name: 'SYS_ADMIN', reason: 't' }] }, ['--cap-add', 'SYS_ADMIN']);
    expect(rules(o)).toEqual(['SD-SECCOMP-004']);
  });
});
