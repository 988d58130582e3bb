import { describe, expect, test } from 'vitest';
import { buildRunRequest } from '../../src/flags/request.js';
import { applyPolicy } from '../../src/policy/apply.js';
import { bodyToDockerArgs, formatViolations, renderDryRun } from '../../src/policy/explain.js';
import { ENGINE, IMAGE_FILES, bodyOf, profileOf, run } from './helpers.js';

const SECCOMP = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });

function reparse(args: string[]) {
  // bodyToDockerArgs puts the image and command last, like a user would.
  return buildRunRequest(args.map((s) => s.replace(/^"(.*)"$/, '$1')), 'run', { cwd: '/', env: {}, readFile: () => SECCOMP }).body;
}

describe('bodyToDockerArgs', () => {
  const cases = [
    [],
    ['-p', '8080:80', '-e', 'A=1', '-w', '/w', '--init', '-h', 'box', '--ulimit', 'nofile=10:20', '--cap-add', 'NET_BIND_SERVICE'],
    ['-v', '/tmp:/t', '--tmpfs', '/run:size=1m', '--entrypoint', 'sh', '--rm', '-t', '-i', '--dns', '1.1.1.1', '--add-host', 'a:1.2.3.4'],
    ['--sysctl', 'net.ipv4.ping_group_range=0 1', '-m', '300m', '--pids-limit', '10', '--cpus', '1.5', '--log-driver', 'json-file', '--log-opt', 'max-size=1m'],
  ];
  for (const argv of cases) {
    test(`the hardened body of ${JSON.stringify(argv)} round-trips through docker's flags`, () => {
      const p = profileOf();
      p.seccompProfile = SECCOMP;
      const o = run([...argv, 'IMG', 'echo', 'hi'], { profile: p });
      expect(o.violations).toEqual([]);
      const args = bodyToDockerArgs(o.body, { seccompProfilePath: '/p.json' });
      const again = reparse(args);
      expect(again).toEqual(o.body);
    });
  }
  test('the request body round-trips too (level privileged: exactly docker\'s)', () => {
    const { body } = bodyOf(['--privileged', '--pid', 'host', '-v', '/:/host', '--device', '/dev/mem', '--security-opt', 'apparmor=unconfined', 'IMG', 'sh']);
    expect(reparse(bodyToDockerArgs(body))).toEqual(body);
  });
});

describe('formatViolations', () => {
  test('names the flag as typed, the rule, the guideline, why, and the YAML that allows it', () => {
    const { body, typed } = bodyOf(['--cap-add', 'sys_admin', '--privileged', '-v', '/var/run/docker.sock:/s', 'IMG']);
    const o = applyPolicy({ body, engine: ENGINE, profile: profileOf(), mode: 'enforce', provenance: typed, image: { User: 'app' }, identityFiles: IMAGE_FILES });
    const text = formatViolations(o.violations, typed, { level: 'restricted' });
    expect(text).toContain('3 violations');
    expect(text).toContain('--cap-add sys_admin');
    expect(text).toContain('SD-CAP-001 (guideline 14: Capabilities)');
    expect(text).toContain('--privileged');
    expect(text).toContain('-v /var/run/docker.sock:/s');
    expect(text).toContain('SD-MNT-001');
    expect(text).toMatch(/allow:\n\s+capabilities:\n\s+- name: SYS_ADMIN\n\s+reason: /);
  });
  test('a floor refusal says no project profile can allow it', () => {
    const o = run(['--privileged']);
    o.violations[0]!.floorBlocked = '/etc/sdocker/policy.yaml';
    expect(formatViolations(o.violations)).toContain('the machine floor /etc/sdocker/policy.yaml does not allow it');
  });
});

describe('renderDryRun', () => {
  test('text: effective container, changes with rules, commands', () => {
    const o = run(['-v', '/tmp:/t', 'IMG', 'echo', 'hi']);
    const t = renderDryRun(o, { format: 'text', level: 'restricted' });
    expect(t).toContain('read-only');
    expect(t).toContain('[SD-CAP-001]');
    expect(t).toContain(`--mount 'type=volume,dst=/t,volume-nocopy,volume-driver=local,volume-opt=type=none,"volume-opt=o=bind,nosuid,nodev,ro",volume-opt=device=/tmp`);
    expect(t).toContain('docker run --user 65534:65534');
  });
  test('json: parseable with the body and the commands', () => {
    const o = run(['--privileged']);
    const j = JSON.parse(renderDryRun(o, { format: 'json', level: 'restricted' }));
    expect(j.refused).toBe(true);
    expect(j.violations[0].rule).toBe('SD-PRIV-001');
    expect(j.commands.at(-1)).toMatch(/^docker run /);
  });
});

import { engineFactsFrom, imageFactsFrom } from '../../src/policy/facts.js';
describe('facts', () => {
  test('engine info → facts', () => {
    const f = engineFactsFrom({ SecurityOptions: ['name=seccomp,profile=default', 'name=userns'], Runtimes: { runc: {}, runsc: {} }, CgroupVersion: '1', NCPU: 2, LoggingDriver: 'json-file' });
    expect(f).toMatchObject({ usernsRemap: true, apparmor: false, selinux: false, runtimes: ['runc', 'runsc'], ncpu: 2, loggingDriver: 'json-file' });
    expect(imageFactsFrom({ Id: 'x', Config: { User: 'app' } })).toEqual({ User: 'app', Volumes: null, ExposedPorts: null });
  });
});
