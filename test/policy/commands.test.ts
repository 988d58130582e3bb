import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { judgeBuild } from '../../src/policy/commands/build.js';
import { judgeExec, rootInUserSpec } from '../../src/policy/commands/exec.js';
import { judgeUpdate } from '../../src/policy/commands/update.js';
import { formatViolations } from '../../src/policy/explain.js';
import type { ProfileFile } from '../../src/policy/types.js';
import { profileOf } from './helpers.js';

const w = (s: string): string[] => s.split(' ');
const restricted = profileOf();
const ids = (j: { violations: { rule: string }[] }): string[] => j.violations.map((v) => v.rule);
const allowing = (allow: ProfileFile['allow']): ReturnType<typeof profileOf> => profileOf('restricted', [{ extends: 'restricted', allow } as ProfileFile]);

describe('exec', () => {
  it.each(['0', '00', '+0', '-0', '000', 'root', 'toor', '0:0', '1000:0', '1000:00', '1000:+0', '1000:root', '1000:wheel', ':0', '0:1000', '00:1000:7'])(
    'refuses -u %s (root as runc reads it, or a name)',
    (u) => {
      expect(ids(judgeExec(['-u', u, 'C', 'id'], restricted))).toEqual(['SD-EXEC-002']);
      expect(ids(judgeExec([`--user=${u}`, 'C', 'id'], restricted))).toEqual(['SD-EXEC-002']);
      expect(ids(judgeExec([`-u${u}`, 'C', 'id'], restricted))).toEqual(['SD-EXEC-002']);
    },
  );
  it.each(['1000', '1000:1000', '65534:65534', '+1000', ':1000', '', '1000:1000:0'])('lets -u %s through', (u) => {
    expect(ids(judgeExec(['-u', u, 'C', 'id'], restricted))).toEqual([]);
  });
  it('reads pflag syntax: the last -u wins, bundles, values after the container are the command\'s', () => {
    expect(ids(judgeExec(w('-u 0 -u 1000 C id'), restricted))).toEqual([]);
    expect(ids(judgeExec(w('-u 1000 -u 0 C id'), restricted))).toEqual(['SD-EXEC-002']);
    expect(ids(judgeExec(w('-itu0 C sh'), restricted))).toEqual(['SD-EXEC-002']);
    expect(ids(judgeExec(w('-it C -u 0 --privileged'), restricted))).toEqual([]);
    expect(ids(judgeExec(w('--privileged C id'), restricted))).toEqual(['SD-EXEC-001']);
    expect(ids(judgeExec(w('--privileged=1 -u root C id'), restricted))).toEqual(['SD-EXEC-001', 'SD-EXEC-002']);
    expect(ids(judgeExec(w('--privileged --privileged=false C id'), restricted))).toEqual([]);
    expect(ids(judgeExec(w('-e X=1 -w / --detach-keys ctrl-x -d C id'), restricted))).toEqual([]);
  });
  it('refuses what it cannot read, as docker does', () => {
    expect(() => judgeExec(w('--priviliged C id'), restricted)).toThrow(UsageError);
    expect(() => judgeExec(w('--privileged=yes C id'), restricted)).toThrow('strconv.ParseBool');
    expect(() => judgeExec(w('-x C id'), restricted)).toThrow("unknown shorthand flag: 'x' in -x");
    expect(() => judgeExec(['-u'], restricted)).toThrow('flag needs an argument');
  });
  it('lets the profile allow privileged and root (root only with userns-remap, unless withoutUsernsRemap)', () => {
    expect(ids(judgeExec(w('--privileged C id'), allowing({ privileged: { reason: 'r' } })))).toEqual([]);
    const root = allowing({ root: { reason: 'r' } });
    expect(ids(judgeExec(w('-u 0 C id'), root, false))).toEqual(['SD-EXEC-002']);
    expect(ids(judgeExec(w('-u 0 C id'), root, true))).toEqual([]);
    expect(ids(judgeExec(w('-u 0 C id'), allowing({ root: { reason: 'r', withoutUsernsRemap: true } })))).toEqual([]);
  });
  it('explains with the rule, the guideline, the flag as typed and the allowing YAML', () => {
    const j = judgeExec(w('-u 00 C id'), restricted);
    const text = formatViolations(j.violations, j.provenance, { level: 'restricted' });
    expect(text).toContain('-u 00');
    expect(text).toContain('SD-EXEC-002 (guideline 9');
    expect(text).toContain('uid "00" is uid 0');
    expect(text).toContain('root:');
    expect(rootInUserSpec('1000:wheel')).toContain('give the numeric gid');
  });
});

describe('update', () => {
  it.each([
    ['--pids-limit -1 C', 'pids-limit'],
    ['--pids-limit=-2 C', 'pids-limit'],
    ['--pids-limit 0 C', 'pids-limit'],
    ['C --pids-limit -1', 'pids-limit'],
    ['--pids-limit 513 C', 'pids-limit'],
    ['--pids-limit 0x1000 C', 'pids-limit'],
    ['-m 2g C', 'memory'],
    ['--memory=1025m C', 'memory'],
    ['--memory-swap -1 C', 'memory-swap'],
    ['--cpus 0 C', 'cpus'],
    ['--cpus 3 C', 'cpus'],
    ['--cpus=2.5 C', 'cpus'],
    ['--cpu-quota -1 C', 'cpu-quota'],
    ['--cpu-quota 300000 C', 'cpu-quota'],
    ['--cpu-quota 30000 --cpu-period 10000 C', 'cpu-quota'],
    ['--cpu-period 1000 C', 'cpu-period'],
    ['--cpu-rt-runtime 950000 C', 'cpu-rt-runtime'],
  ])('refuses %s (SD-UPDATE-001)', (line, flag) => {
    const j = judgeUpdate(w(line), restricted);
    expect(ids(j)).toContain('SD-UPDATE-001');
    expect(j.violations.map((v) => v.flag)).toContain(`--${flag}`);
  });
  it.each(['--pids-limit 100 C', '--pids-limit 512 C D', '-m 512m C', '--memory 1g C', '--memory-swap 2g C', '--cpus 1 C', '--cpus 2 C',
    '--cpu-quota 50000 C', '--cpu-quota 100000 --cpu-period 100000 C', '--cpu-shares 512 C', '-c 2 C', '--blkio-weight 300 C', '--restart no C',
    '--cpuset-cpus 0 C', '--memory-reservation 256m C', '--kernel-memory 64m C', '--memory 0 C'])('lets %s through', (line) => {
    expect(ids(judgeUpdate(w(line), restricted))).toEqual([]);
  });
  it('a restart policy needs allow.restartWithBinds (SD-MNT-008): the engine restarting by itself mounts binds again unchecked', () => {
    for (const p of ['always', 'unless-stopped', 'on-failure', 'on-failure:6']) expect(ids(judgeUpdate(w(`--restart ${p} C`), restricted))).toEqual(['SD-MNT-008', 'SD-RESTART-001']);
    expect(ids(judgeUpdate(w('--restart on-failure:3 C'), restricted))).toEqual(['SD-MNT-008']);
    const allowed = profileOf('restricted', [{ path: '/p.yaml', allow: { restartWithBinds: { reason: 'r' } } }]);
    expect(ids(judgeUpdate(w('--restart on-failure:5 C'), allowed))).toEqual([]);
    // an unbounded policy also needs allow.unboundedRestart (SD-RESTART-001, CIS 5.15), which baseline has
    expect(ids(judgeUpdate(w('--restart always C'), allowed))).toEqual(['SD-RESTART-001']);
    const both = profileOf('restricted', [{ path: '/p.yaml', allow: { restartWithBinds: { reason: 'r' }, unboundedRestart: { reason: 'r' } } }]);
    expect(ids(judgeUpdate(w('--restart unless-stopped C'), both))).toEqual([]);
  });
  it('the last occurrence wins, as pflag sets it', () => {
    expect(ids(judgeUpdate(w('--pids-limit -1 --pids-limit 100 C'), restricted))).toEqual([]);
    expect(ids(judgeUpdate(w('--pids-limit 100 C --pids-limit -1'), restricted))).toEqual(['SD-UPDATE-001']);
  });
  it('refuses values docker cannot read, and unknown flags', () => {
    expect(() => judgeUpdate(w('--memory -1 C'), restricted)).toThrow("invalid size: '-1'");
    expect(() => judgeUpdate(w('--pids-limit x C'), restricted)).toThrow('strconv.ParseInt');
    expect(() => judgeUpdate(w('--cpus x C'), restricted)).toThrow(UsageError);
    expect(() => judgeUpdate(w('--oom-kill-disable C'), restricted)).toThrow('unknown flag: --oom-kill-disable');
  });
  it('an unlimited allowance lets the resource go, and the messages say how', () => {
    expect(ids(judgeUpdate(w('--pids-limit -1 C'), allowing({ unlimited: [{ resource: 'pids', reason: 'r' }] })))).toEqual([]);
    expect(ids(judgeUpdate(w('--memory-swap -1 -m 8g C'), allowing({ unlimited: [{ resource: 'memory', reason: 'r' }] })))).toEqual([]);
    const j = judgeUpdate(w('--pids-limit -1 --cpus 4 C'), restricted);
    const text = formatViolations(j.violations, j.provenance);
    expect(text).toContain('--pids-limit -1');
    expect(text).toContain('resource: pids');
    expect(text).toContain("above the profile's 2 CPUs");
    expect(text).toContain('cpus: 4');
  });
});

describe('build', () => {
  it.each([
    ['--network host .', 'SD-BUILD-001'],
    ['--network=host .', 'SD-BUILD-001'],
    ['. --network host', 'SD-BUILD-001'],
    ['--network container:abc .', 'SD-BUILD-001'],
    ['--network bridge --network host .', 'SD-BUILD-001'],
    ['--allow network.host .', 'SD-BUILD-001'],
    ['--allow security.insecure .', 'SD-BUILD-002'],
    ['--allow=device .', 'SD-BUILD-002'],
    ['--security-opt seccomp=unconfined .', 'SD-BUILD-002'],
    ['--security-opt=apparmor=unconfined .', 'SD-BUILD-002'],
    ['--cgroup-parent /x .', 'SD-RES-004'],
  ])('refuses %s', (line, rule) => {
    expect(ids(judgeBuild(w(line), restricted))).toContain(rule);
  });
  it.each(['.', '-t app:1 .', '--add-host db:10.0.0.2 .', '--network none .', '--network default .', '--network mynet .', '--network bridge .',
    '-f Dockerfile.dev --build-arg X=1 --no-cache -q .', '--secret id=x,src=/tmp/s --ssh default --load .', '--sbom=false --provenance=mode=max .',
    '--network host --network default .'])('lets %s through', (line) => {
    expect(ids(judgeBuild(w(line), restricted))).toEqual([]);
  });
  it('refuses what it cannot read', () => {
    expect(() => judgeBuild(w('--privileged .'), restricted)).toThrow('unknown flag: --privileged');
    expect(() => judgeBuild(w('--sbom false .'), restricted)).toThrow('--sbom=VALUE');
  });
  it('a host-network allowance lets --network host go; a privileged one the security options', () => {
    expect(ids(judgeBuild(w('--network host .'), allowing({ hostNamespaces: [{ name: 'network', reason: 'r' }] })))).toEqual([]);
    expect(ids(judgeBuild(w('--allow security.insecure .'), allowing({ privileged: { reason: 'r' } })))).toEqual([]);
  });
});
