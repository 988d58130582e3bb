import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';

import { applyPolicy } from '../../src/policy/apply.js';
import { ENGINE, bindOpts, bodyOf, profileOf, rules, run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sdocker-policy-'));
beforeAll(() => {
  mkdirSync(join(dir, 'data'));
  symlinkSync('/etc', join(dir, 'etc-link'));
  symlinkSync('/var/run/docker.sock', join(dir, 'sock-link'));
  symlinkSync('/etc/not-there-yet', join(dir, 'dangling'));
  symlinkSync('/dev/mem', join(dir, 'mem-link'));
  writeFileSync(join(dir, 'data', 'f'), 'x');
});

describe('defaults of restricted', () => {
  test('a plain run is hardened and not refused', () => {
    const o = run([]);
    expect(o.violations).toEqual([]);
    expect(o.refused).toBe(false);
    const hc = o.body.HostConfig;
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.SecurityOpt).toContain('no-new-privileges');
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.Tmpfs).toEqual({ '/tmp': 'rw,nosuid,nodev,noexec,size=64m,uid=65534,gid=65534' });
    expect(hc.Memory).toBe(1024 ** 3);
    expect(hc.PidsLimit).toBe(512);
    expect(hc.NanoCpus).toBe(2e9);
    expect(hc.CgroupnsMode).toBe('private');
    expect(hc.LogConfig?.Config).toEqual({ 'max-size': '10m', 'max-file': '3' });
    expect(o.body.User).toBe('65534:65534');
    for (const c of o.changes) expect(c.rule).toMatch(/^SD-[A-Z]+-\d{3}$/);
  });
  test('CPU default never exceeds the engine CPUs', () => {
    expect(run([], { engine: { ncpu: 1 } }).body.HostConfig.NanoCpus).toBe(1e9);
  });
  test('shipped seccomp profile is applied when the request names none', () => {
    const p = profileOf();
    p.seccompProfile = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO' });
    p.seccompProfilePath = 'profiles/seccomp/default.json';
    expect(run([], { profile: p }).body.HostConfig.SecurityOpt).toContain(`seccomp=${p.seccompProfile}`);
    // without it: the engine's default, never unconfined
    expect(run([]).body.HostConfig.SecurityOpt?.some((s) => s.startsWith('seccomp'))).toBe(false);
  });
  test('the image USER is kept when it is not root, sent as numbers; a bare uid gets its own gid', () => {
    expect(run([], { image: { User: 'app' } }).body.User).toBe('1000:1000');
    expect(run([], { image: { User: 'app' } }).body.HostConfig.GroupAdd).toEqual(['50']);
    expect(run([], { image: { User: '1000' } }).body.User).toBe('1000:1000');
    expect(run([], { image: { User: '0' } }).body.User).toBe('65534:65534');
    expect(run([], { image: undefined }).body.User).toBe('65534:65534');
    expect(run(['-u', '1000']).body.User).toBe('1000:1000');
    expect(run(['-u', '1000:1000']).body.User).toBe('1000:1000');
  });
  test('everyday flags pass unchanged', () => {
    const o = run(['-w', '/work', '--entrypoint', 'sh', '--init', '-h', 'box', '--ulimit', 'nofile=1024:1024', '-d', '-e', 'A=1', '-p', '127.0.0.1:8080:80', '-v', `${dir}/data:/d:ro`]);
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.PortBindings?.['80/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '8080' }]);
    expect(o.body.HostConfig.Init).toBe(true);
  });
  test('the user\'s own limits are kept', () => {
    const o = run(['-m', '256m', '--pids-limit', '100', '--cpus', '0.5']);
    expect(o.body.HostConfig.Memory).toBe(256 * 1024 ** 2);
    expect(o.body.HostConfig.PidsLimit).toBe(100);
    expect(o.body.HostConfig.NanoCpus).toBe(5e8);
  });
  test('an image VOLUME path is not covered by the /tmp tmpfs', () => {
    const o = run([], { image: { User: 'app', Volumes: { '/tmp': {} } } });
    expect(o.body.HostConfig.Tmpfs).toEqual({});
  });
});

describe('SD-PRIV-001', () => {
  test('--privileged is refused', () => {
    const o = run(['--privileged']);
    expect(rules(o)).toEqual(['SD-PRIV-001']);
    expect(o.refused).toBe(true);
    expect(o.violations[0]!.allowWith.join('\n')).toContain('privileged:');
  });
});

describe('SD-CAP-001: capabilities in every spelling', () => {
  for (const spelling of [['sys_admin'], ['CAP_SYS_ADMIN'], ['Cap_Sys_Admin'], ['ALL'], ['all'], ['NET_ADMIN,SYS_PTRACE']]) {
    test(`--cap-add ${spelling.join(' ')}`, () => {
      const o = run(['--cap-add', ...spelling]);
      expect(rules(o).length).toBeGreaterThan(0);
      expect(new Set(rules(o))).toEqual(new Set(['SD-CAP-001']));
      expect(o.body.HostConfig.CapAdd).toEqual([]);
    });
  }
  test('several flags: each refused capability is listed', () => {
    const o = run(['--cap-add', 'SYS_ADMIN', '--cap-add', 'cap_net_raw', '--cap-add', 'NET_BIND_SERVICE']);
    expect(o.violations.map((v) => v.subject).sort()).toEqual(['NET_RAW', 'SYS_ADMIN']);
    expect(o.allowances.map((a) => a.subject)).toEqual(['NET_BIND_SERVICE']);
  });
  test('NET_BIND_SERVICE may be added in any spelling', () => {
    for (const s of ['net_bind_service', 'CAP_NET_BIND_SERVICE']) {
      const o = run(['--cap-add', s]);
      expect(o.violations).toEqual([]);
      expect(o.body.HostConfig.CapAdd).toEqual(['CAP_NET_BIND_SERVICE']);
      expect(o.body.HostConfig.CapDrop).toEqual(['ALL']);
    }
  });
  test('a profile allowance lets a capability through, with its reason recorded', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { capabilities: [{ name: 'SYS_PTRACE', reason: 'debugger' }] } }]);
    const o = run(['--cap-add', 'CAP_SYS_PTRACE'], { profile: p });
    expect(o.violations).toEqual([]);
    expect(o.allowances).toContainEqual({ rule: 'SD-CAP-001', subject: 'SYS_PTRACE', reason: 'debugger', source: 'p.yaml' });
  });
});

describe('SD-NS: host namespaces', () => {
  const cases: [string[], string][] = [
    [['--pid', 'host'], 'SD-NS-001'], [['--pid=host'], 'SD-NS-001'], [['--ipc', 'host'], 'SD-NS-002'], [['--uts', 'host'], 'SD-NS-003'],
    [['--network', 'host'], 'SD-NS-004'], [['--net=host'], 'SD-NS-004'], [['--userns', 'host'], 'SD-NS-005'], [['--cgroupns', 'host'], 'SD-NS-006'],
  ];
  for (const [argv, id] of cases) {
    test(argv.join(' '), () => {
      const o = run(argv);
      expect(rules(o)).toEqual([id]);
    });
  }
  test('container: namespaces are not host namespaces', () => {
    expect(rules(run(['--pid', 'container:abc', '--network', 'container:abc']))).toEqual([]);
  });
});

describe('security options', () => {
  const cases: [string, string][] = [
    ['seccomp=unconfined', 'SD-SECCOMP-001'], ['seccomp:unconfined', 'SD-SECCOMP-001'],
    ['seccomp=/allow.json', 'SD-SECCOMP-002'], ['seccomp=/log.json', 'SD-SECCOMP-002'],
    ['apparmor=unconfined', 'SD-MAC-001'], ['apparmor:unconfined', 'SD-MAC-001'],
    ['label=disable', 'SD-MAC-002'], ['label:disable', 'SD-MAC-002'], ['label=type:spc_t', 'SD-MAC-002'],
    ['systempaths=unconfined', 'SD-PATHS-001'],
    ['no-new-privileges=false', 'SD-NNP-001'], ['no-new-privileges:false', 'SD-NNP-001'],
  ];
  for (const [opt, id] of cases) {
    test(`--security-opt ${opt}`, () => {
      const o = run(['--security-opt', opt]);
      expect(rules(o)).toEqual([id]);
      expect(o.refused).toBe(true);
    });
  }
  test('a whitelist seccomp profile is accepted and not replaced', () => {
    const o = run(['--security-opt', 'seccomp=/ok.json']);
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.SecurityOpt?.filter((s) => s.startsWith('seccomp='))).toHaveLength(1);
  });
  test('no-new-privileges=true is kept, not duplicated', () => {
    const o = run(['--security-opt', 'no-new-privileges=true']);
    expect(o.body.HostConfig.SecurityOpt).toEqual(['no-new-privileges=true']);
  });
  test('systempaths=unconfined: the masked paths come back in warn mode? no: kept as asked', () => {
    const o = run(['--security-opt', 'systempaths=unconfined'], { mode: 'warn' });
    expect(o.refused).toBe(false);
    expect(o.body.HostConfig.MaskedPaths).toEqual([]);
  });
});

describe('SD-USER', () => {
  for (const u of ['0', 'root', '0:0', 'root:root']) {
    test(`-u ${u} is refused`, () => expect(rules(run(['-u', u]))[0]).toBe('SD-USER-001'));
  }
  for (const u of ['1000:0', '1000:root']) {
    test(`-u ${u} (root group) is refused`, () => expect(rules(run(['-u', u]))).toEqual(['SD-USER-002']));
  }
  test('--group-add 0 / root is refused', () => {
    expect(rules(run(['--group-add', '0']))).toEqual(['SD-USER-002']);
    expect(rules(run(['--group-add', 'root']))).toEqual(['SD-USER-002']);
  });
  test('root needs the allowance AND userns-remap', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { root: { reason: 'legacy image' } } }]);
    const without = run(['-u', '0'], { profile: p });
    expect(rules(without)).toEqual(['SD-USER-001']);
    expect(without.violations[0]!.why).toContain('userns-remap');
    const withRemap = run(['-u', '0'], { profile: p, engine: { usernsRemap: true } });
    expect(withRemap.violations).toEqual([]);
    expect(withRemap.body.User).toBe('0');
  });
});

describe('SD-MNT: host paths however spelled', () => {
  const sensitive = () => [
    ['-v', '/var/run/docker.sock:/s'], ['-v', '/run/docker.sock:/s'], ['-v', '/:/host'], ['-v', '/etc:/e:ro'], ['-v', '/etc/:/e'],
    ['-v', '/tmp/../etc:/e'], ['-v', '//etc//:/e'], ['-v', '/proc:/p'], ['-v', '/sys:/s'], ['-v', '/dev:/d'], ['-v', '/boot:/b'],
    ['-v', '/root:/r'], ['-v', '/var/lib/docker:/d'], ['-v', '/var:/v'], ['-v', '/run:/r'], ['-v', '/etc/shadow:/s'],
    ['-v', `${dir}/etc-link:/e`], ['-v', `${dir}/etc-link/:/e`], ['-v', `${dir}/sock-link:/s`], ['-v', `${dir}/dangling:/e`],
    ['--mount', 'type=bind,src=/etc,dst=/e'], ['--mount', 'type=bind,source=/etc/,target=/e,readonly'],
    ['--mount', `type=bind,src=${dir}/etc-link,dst=/e`],
    ['--mount', 'type=volume,dst=/e,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc'],
    ['--mount', 'type=volume,src=x,dst=/e,volume-opt=o=bind,volume-opt=device=/tmp/../etc'],
    ['--mount', `type=volume,dst=/e,volume-opt=o=bind,volume-opt=device=${dir}/sock-link`],
  ];
  test.each(sensitive().map((a) => [a.join(' ')]))('%s is refused', (joined) => {
    const argv = sensitive().find((a) => a.join(' ') === joined)!;
    const o = run(argv);
    expect(rules(o).length).toBe(1);
    expect(rules(o)[0]).toMatch(/^SD-MNT-00[12]$/);
    expect(o.refused).toBe(true);
    expect(o.body.HostConfig.Mounts ?? []).toEqual([]);
  });
  test('the socket is SD-MNT-001 wherever it is, even through a symlink', () => {
    expect(rules(run(['-v', `${dir}/sock-link:/s`]))).toEqual(['SD-MNT-001']);
    expect(rules(run(['-v', '/home/u/.docker/run/docker.sock:/s']))).toEqual(['SD-MNT-001']);
  });
  test('a named volume that is a bind of /etc is refused (facts from volume inspect)', () => {
    const o = run(['-v', 'sneaky:/e'], { namedVolumes: { sneaky: { Driver: 'local', Options: { type: 'none', o: 'bind', device: '/etc' } } } });
    expect(rules(o)).toEqual(['SD-MNT-002']);
  });
  test('an ordinary bind becomes a read-only nosuid nodev volume', () => {
    const o = run(['-v', `${dir}/data:/d`]);
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.Binds).toBeNull();
    expect(o.body.HostConfig.Mounts).toEqual([{
      Type: 'volume',
      Target: '/d',
      VolumeOptions: {
        NoCopy: true,
        Labels: { 'io.sdocker.bind': `${dir}/data` },
        DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind,nosuid,nodev,ro', device: `${dir}/data` } },
      },
    }]);
  });
  test('a bind stays writable only where the profile lists the path', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { writablePaths: [{ path: `${dir}/data`, reason: 'build output' }] } }]);
    expect(bindOpts(run(['-v', `${dir}/data:/d`], { profile: p }))).toBe('bind,nosuid,nodev');
    expect(bindOpts(run(['-v', `${dir}/data:/d:ro`], { profile: p }))).toBe('bind,nosuid,nodev,ro');
  });
  test('--mount type=bind becomes a volume too; a missing -v source is flagged for creation', () => {
    const o = run(['--mount', `type=bind,src=${dir}/data,dst=/d`, '-v', `${dir}/new:/n`]);
    const devices = (o.body.HostConfig.Mounts ?? []).map((m) => m.VolumeOptions?.DriverConfig?.Options?.device);
    expect(devices).toEqual([`${dir}/new`, `${dir}/data`]);
    expect(o.createDirs).toEqual([`${dir}/new`]);
  });
  test('a smuggled bind volume to an ordinary path gets nosuid,nodev,ro', () => {
    const o = run(['--mount', `type=volume,dst=/e,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=${dir}/data`]);
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.Mounts?.[0]?.VolumeOptions?.DriverConfig?.Options?.o).toBe('bind,nosuid,nodev,ro');
  });
  test('--volumes-from is refused', () => expect(rules(run(['--volumes-from', 'other']))).toEqual(['SD-MNT-004']));
  test('a tmpfs asking for suid or dev is refused; others get nosuid,nodev,noexec,size', () => {
    expect(rules(run(['--tmpfs', '/x:suid']))).toEqual(['SD-MNT-005']);
    expect(rules(run(['--tmpfs', '/x:rw,dev']))).toEqual(['SD-MNT-005']);
    expect(run(['--tmpfs', '/x:exec']).body.HostConfig.Tmpfs?.['/x']).toBe('rw,exec,nosuid,nodev,size=64m');
  });
  test('a sensitive path allowed by the profile is mounted read-only unless writable', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { hostPaths: [{ path: '/var/run/docker.sock', reason: 'CI builds images' }] } }]);
    const o = run(['-v', '/var/run/docker.sock:/var/run/docker.sock'], { profile: p });
    expect(o.violations).toEqual([]);
    expect(o.allowances[0]).toMatchObject({ rule: 'SD-MNT-001', reason: 'CI builds images' });
  });
});

describe('SD-TMPFS-001: no tmpfs without a size', () => {
  for (const o of ['size=0', 'size=0k', 'size=0%', 'size=00M', 'nr_inodes=0']) {
    test(`--tmpfs /x:${o} gets the default size`, () => {
      const t = run(['--tmpfs', `/x:rw,${o}`]).body.HostConfig.Tmpfs?.['/x'] ?? '';
      expect(t.split(',')).not.toContain(o);
      expect(t).toMatch(/(^|,)size=64m(,|$)/);
    });
  }
  test('--mount type=tmpfs without tmpfs-size (or with 0) gets the default size; a size is kept', () => {
    const size = (argv: string[]) => run(argv).body.HostConfig.Mounts?.find((m) => m.Type === 'tmpfs')?.TmpfsOptions?.SizeBytes;
    expect(size(['--mount', 'type=tmpfs,dst=/x'])).toBe(64 * 1024 * 1024);
    expect(size(['--mount', 'type=tmpfs,dst=/x,tmpfs-size=0'])).toBe(64 * 1024 * 1024);
    expect(size(['--mount', 'type=tmpfs,dst=/x,tmpfs-size=1m'])).toBe(1024 * 1024);
  });
});

describe('SD-MNT-008: a restart policy with host binds', () => {
  test('refused with a bind (the engine would resolve it again at every restart); fine without one, or with the allowance', () => {
    for (const p of ['always', 'unless-stopped', 'on-failure', 'on-failure:5']) {
      expect(rules(run(['--restart', p, '-v', `${dir}:/d`]))).toEqual(['SD-MNT-008']);
    }
    expect(rules(run(['--restart', 'always', '--mount', `type=bind,src=${dir},dst=/d`]))).toEqual(['SD-MNT-008']);
    expect(rules(run(['--restart', 'always']))).toEqual([]);
    // --volumes-from carries the other container's bind volumes, mounted again at every restart.
    expect(rules(run(['--restart', 'always', '--volumes-from', 'x'], { profile: profileOf('restricted', [{ path: '/p.yaml', allow: { volumesFrom: { reason: 'r' } } }]) }))).toEqual(['SD-MNT-008']);
    expect(rules(run(['--restart', 'no', '-v', `${dir}:/d`]))).toEqual([]);
    const allowed = profileOf('restricted', [{ path: '/p.yaml', allow: { restartWithBinds: { reason: 'a service that must come back' } } }]);
    expect(rules(run(['--restart', 'always', '-v', `${dir}:/d`], { profile: allowed }))).toEqual([]);
  });
});

describe('SD-DEV', () => {
  for (const d of ['/dev/mem', '/dev/kmem', '/dev/port', '/dev/kmsg', '/dev/sda', '/dev/sda1', '/dev/vda', '/dev/nvme0n1', '/dev/loop0', '/dev/dm-0', '/dev/mapper/root', '/dev/disk/by-id/x', '/dev', '/dev/']) {
    test(`--device ${d} is refused`, () => expect(rules(run(['--device', d]))).toEqual(['SD-DEV-001']));
  }
  test('--device through a symlink to /dev/mem is refused', () => {
    expect(rules(run(['--device', `${dir}/mem-link:/dev/x`]))).toEqual(['SD-DEV-001']);
  });
  test('a device on the level\'s list is fine; another needs allow.devices (test/policy/devices.test.ts)', () => {
    expect(rules(run(['--device', '/dev/null']))).toEqual([]);
    expect(rules(run(['--device', '/dev/net/tun']))).toEqual(['SD-DEV-001']);
  });
  for (const r of ['a *:* rwm', 'c *:* rwm', 'b 8:* rwm', 'b 8:0 rw', 'c 1:1 rwm', 'c 1:* r', 'c 189:* rwm', 'c 10:200 rwm']) {
    test(`--device-cgroup-rule '${r}' is refused`, () => expect(rules(run(['--device-cgroup-rule', r]))).toEqual(['SD-DEV-002']));
  }
  test('--gpus is refused', () => expect(rules(run(['--gpus', 'all']))).toEqual(['SD-DEV-003']));
});

describe('SD-RES', () => {
  test('--memory 0 is refused (explicit), absent gets the default', () => {
    expect(rules(run(['--memory', '0']))).toEqual(['SD-RES-001']);
    expect(rules(run(['-m', '0']))).toEqual(['SD-RES-001']);
    expect(run([]).body.HostConfig.Memory).toBe(1024 ** 3);
  });
  test('--pids-limit -1 / 0 is refused', () => {
    expect(rules(run(['--pids-limit', '-1']))).toEqual(['SD-RES-002']);
    expect(rules(run(['--pids-limit', '0']))).toEqual(['SD-RES-002']);
  });
  test('--oom-kill-disable and --cgroup-parent are refused', () => {
    expect(rules(run(['--oom-kill-disable']))).toEqual(['SD-RES-003']);
    expect(rules(run(['--cgroup-parent', '/evil']))).toEqual(['SD-RES-004']);
  });
  test('allow.unlimited lets memory 0 through', () => {
    const p = profileOf('restricted', [{ path: 'p.yaml', allow: { unlimited: [{ resource: 'memory', reason: 'in-memory db' }] } }]);
    const o = run(['-m', '0'], { profile: p });
    expect(o.violations).toEqual([]);
    expect(o.body.HostConfig.Memory).toBe(0);
  });
});

describe('SD-SYSCTL-001', () => {
  test('unsafe sysctls are refused, safe ones pass', () => {
    expect(rules(run(['--sysctl', 'kernel.msgmax=1']))).toEqual(['SD-SYSCTL-001']);
    expect(rules(run(['--sysctl', 'net.ipv4.ip_forward=1']))).toEqual(['SD-SYSCTL-001']);
    expect(rules(run(['--sysctl', 'net.ipv4.ping_group_range=0 1']))).toEqual([]);
    expect(rules(run(['--sysctl', 'net.ipv4.ip_forward=1'], { profile: profileOf('baseline') }))).toEqual([]);
  });
});

describe('SD-PORT-001', () => {
  test('ports without an address go to 127.0.0.1; 0.0.0.0 typed is refused', () => {
    expect(run(['-p', '8080:80']).body.HostConfig.PortBindings?.['80/tcp']?.[0]?.HostIp).toBe('127.0.0.1');
    expect(rules(run(['-p', '0.0.0.0:8080:80']))).toEqual(['SD-PORT-001']);
    expect(rules(run(['-p', '[::]:8080:80']))).toEqual(['SD-PORT-001']);
  });
  test('-P publishes the exposed ports on 127.0.0.1', () => {
    const o = run(['-P', '--expose', '81'], { image: { User: 'app', ExposedPorts: { '80/tcp': {} } } });
    expect(o.body.HostConfig.PublishAllPorts).toBe(false);
    expect(o.body.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  });
  test('baseline keeps all addresses', () => {
    expect(run(['-p', '8080:80'], { profile: profileOf('baseline') }).body.HostConfig.PortBindings?.['80/tcp']?.[0]?.HostIp).toBe('');
  });
});

describe('levels and modes', () => {
  test('privileged changes nothing at all', () => {
    const { body } = bodyOf(['--privileged', '-v', '/:/host', 'IMG']);
    const o = applyPolicy({ body, engine: ENGINE, profile: profileOf('privileged'), mode: 'enforce' });
    expect(o.body).toEqual(body);
    expect(o.changes).toEqual([]);
    expect(o.violations).toEqual([]);
  });
  test('baseline keeps root, capabilities and a writable rootfs but refuses privileged', () => {
    const p = profileOf('baseline');
    const o = run([], { profile: p });
    expect(o.body.User).toBe('');
    expect(o.body.HostConfig.CapDrop).toBeNull();
    expect(o.body.HostConfig.ReadonlyRootfs).toBe(false);
    expect(o.body.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(rules(run(['--privileged'], { profile: p }))).toEqual(['SD-PRIV-001']);
    expect(rules(run(['--cap-add', 'SYS_ADMIN'], { profile: p }))).toEqual(['SD-CAP-001']);
    expect(rules(run(['--cap-add', 'NET_RAW'], { profile: p }))).toEqual([]);
    expect(bindOpts(run(['-v', `${dir}/data:/d`], { profile: p }))).toBe('bind,nosuid,nodev');
  });
  test('warn: violations reported, request let through, defaults applied', () => {
    const o = run(['--cap-add', 'SYS_ADMIN'], { mode: 'warn' });
    expect(o.refused).toBe(false);
    expect(rules(o)).toEqual(['SD-CAP-001']);
    expect(o.body.HostConfig.CapAdd).toEqual(['CAP_SYS_ADMIN']);
    expect(o.body.HostConfig.CapDrop).toEqual(['ALL']);
  });
  test('audit: body unchanged, changes and violations recorded', () => {
    const { body } = bodyOf(['--cap-add', 'SYS_ADMIN', 'IMG']);
    const o = run(['--cap-add', 'SYS_ADMIN'], { mode: 'audit' });
    expect(o.body).toEqual(body);
    expect(o.applied).toBe(false);
    expect(o.changes.length).toBeGreaterThan(0);
    expect(rules(o)).toEqual(['SD-CAP-001']);
  });
  test('every refusal names a guideline and allowing YAML (when any profile may allow it)', () => {
    const o = run(['--privileged', '--cap-add', 'ALL', '--pid', 'host', '-v', '/etc:/e', '--device', '/dev/mem', '--sysctl', 'kernel.sem=1 2 3 4']);
    expect(o.violations.length).toBe(6);
    for (const v of o.violations) {
      expect(v.guideline).toBeGreaterThan(0);
      expect(v.allowWith[0]).toBe('allow:');
      expect(v.allowWith.join('\n')).toContain('reason:');
    }
  });
});
