/**
 * Issue 7: generated docker command lines over users, groups, mounts, volumes, devices, security
 * options, namespaces, capabilities, limits and privileges, in many spellings, through the real
 * parser (buildRunRequest) and the real policy (applyPolicy, with the input run-policy.ts decide()
 * builds) at level restricted, enforce mode. Each is either refused or sends a create body that
 * satisfies the invariants (src/policy/invariants.ts, the body half of the after-create
 * verification). Host paths, named volumes, joined containers and the image are synthetic facts.
 *
 * `SDOCKER_GEN_REPORT=1` prints, instead of failing at the first, every kind of breach found with
 * its shortest command line (for handing a class of bypass to its owner).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRunRequest } from '../../src/flags/request.js';
import { applyPolicy } from '../../src/policy/apply.js';
import { bodyInvariants, contextOf, type Difference } from '../../src/policy/invariants.js';
import { hostPathsOf } from '../../src/policy/paths.js';
import type { HostPaths, ImageFacts, JoinedContainers, NamedVolumes, PolicyOutcome } from '../../src/policy/types.js';
import { gatherSeccompChecks } from '../../src/seccomp/policy-check.js';
import { ENGINE, profileOf, SECCOMP_FILES } from './helpers.js';

const CWD = '/home/u/proj';
const PROFILE = profileOf('restricted');

/** Where each synthetic host path really leads (symlinks); any other path is its own real path. */
const LINKS: Record<string, string> = {
  '/home/u/proj/etc-link': '/etc',
  '/home/u/proj/data/link': '/etc',
  '/home/u/proj/sock': '/run/docker.sock',
  '/home/u/proj/devlink': '/dev/mem',
  '/srv/tty-link': '/dev/ttyS0',
};
function hostPaths(paths: string[]): HostPaths {
  const out: HostPaths = {};
  for (const p of paths) {
    const abs = p.startsWith('/') ? p : `${CWD}/${p}`;
    const norm = abs.replace(/\/+/g, '/').split('/').reduce<string[]>((acc, s) => (s === '..' ? acc.slice(0, -1) : s === '.' || s === '' ? acc : [...acc, s]), []);
    let real = `/${norm.join('/')}`;
    for (const [from, to] of Object.entries(LINKS)) if (real === from || real.startsWith(`${from}/`)) real = to + real.slice(from.length);
    out[p] = { realPath: real, exists: true, isDirectory: !real.startsWith('/dev/') || real === '/dev' || real === '/dev/snd' };
  }
  return out;
}

const NAMED: NamedVolumes = {
  plain: { Driver: 'local', Options: null },
  etcbind: { Driver: 'local', Options: { type: 'none', o: 'bind', device: '/etc' } },
  databind: { Driver: 'local', Options: { type: 'none', o: 'bind', device: '/home/u/proj/data' } },
  procvol: { Driver: 'local', Options: { type: 'proc', device: 'proc' } },
  tmpvol: { Driver: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } },
};
const CONTAINERS: JoinedContainers = {
  hostpid: { Name: '/hostpid', Privileged: false, PidMode: 'host', IpcMode: 'host', NetworkMode: 'host', UTSMode: 'host' },
  priv: { Name: '/priv', Privileged: true },
  chain: { Name: '/chain', Privileged: false, PidMode: 'container:hostpid', NetworkMode: 'container:hostpid', IpcMode: 'container:hostpid' },
  ok: { Name: '/ok', Privileged: false },
};

// ---------------------------------------------------------------------------------------------
// Spellings

const oneOf = <T>(...xs: T[]) => fc.constantFrom(...xs);
/** A flag with its value in each of pflag's spellings: `--f v`, `--f=v`, and for a shorthand `-fv`, `-f v`. */
const spelled = (long: string, short: string | undefined, value: fc.Arbitrary<string>) =>
  fc.tuple(value, fc.nat(3)).map(([v, k]) => {
    if (short && k === 2) return [`-${short}${v}`];
    if (short && k === 3) return [`-${short}`, v];
    return k === 0 ? [`--${long}`, v] : [`--${long}=${v}`];
  });
const bool = (flag: string) => oneOf([flag], [`${flag}=true`], [`${flag}=1`], [`${flag}=t`], [`${flag}=TRUE`], [`${flag}=false`], [`${flag}=0`], [`${flag}=F`]);

const idPart = oneOf('0', '00', '+0', '-0', '000', '1000', '+1000', '65534', 'root', 'toor', 'app', '2147483648');
const user = fc.oneof(idPart, fc.tuple(idPart, idPart).map(([u, g]) => `${u}:${g}`), fc.tuple(idPart, idPart, idPart).map((p) => p.join(':')), idPart.map((u) => `${u}:`));
const userFlags = fc.oneof(spelled('user', 'u', user), spelled('group-add', undefined, oneOf('0', '00', '+0', '-0', 'root', 'wheel', '1000')));

const hostSource = oneOf(
  '/etc', '/etc/', '//etc', '/etc/../etc', '/srv/../etc', './data', 'data', './data/', './data/../../../../etc', 'etc-link', './etc-link',
  '/home/u/proj/data', './data/link', '/var/run/docker.sock', '/run/docker.sock', './sock', '/', '/proc/sys', '/sys', '/dev', '/tmp/x', '../proj/data',
  '/var/lib/docker/volumes', '/run', '/var',
);
const volumeName = oneOf('plain', 'etcbind', 'databind', 'procvol', 'tmpvol', 'fresh');
const vOpts = fc.subarray(['ro', 'rw', 'RO', 'Rw', 'z', 'Z', 'nocopy', 'rshared', 'rslave', 'private', 'suid', 'dev'], { maxLength: 3 });
const vFlag = fc.tuple(fc.oneof(hostSource, volumeName), vOpts).map(([s, o]) => `${s}:/mnt/x${o.length ? `:${o.join(',')}` : ''}`);
const quote = (f: string) => (f.includes(',') || f.includes('"') ? `"${f.replace(/"/g, '""')}"` : f);
const mountFields = fc.tuple(
  oneOf('type=bind', 'type=volume', 'type=tmpfs', 'type=BIND', 'type=Volume', 'Type=bind', 'TYPE=volume'),
  fc.option(fc.tuple(oneOf('src', 'source', 'SRC', 'Source'), fc.oneof(hostSource, volumeName)).map(([k, v]) => `${k}=${v}`), { nil: undefined }),
  oneOf('dst=/mnt/m', 'target=/mnt/m', 'destination=/mnt/m'),
  fc.subarray([
    'readonly', 'ro=true', 'ro=1', 'readonly=false', 'ro=0', 'ReadOnly=True', 'volume-opt=O=bind', 'volume-opt=Device=/etc', 'volume-opt=type=none', 'volume-opt=type=proc', 'volume-opt=device=proc', 'volume-opt=type=sysfs', 'volume-opt=device=sysfs',
    'volume-opt=type=none', 'volume-opt=o=bind', 'volume-opt=o=bind,nosuid,suid', 'volume-opt=o=rbind,rw', 'volume-opt=device=/etc', 'volume-opt=device=../../../../etc',
    'volume-opt=device=/home/u/proj/data', 'volume-opt=device=/home/u/proj/etc-link', 'volume-opt=type=tmpfs', 'volume-opt=device=tmpfs', 'volume-opt=o=dev,suid',
    'bind-propagation=rshared', 'tmpfs-size=1k', 'tmpfs-mode=1777', 'volume-driver=foo', 'volume-nocopy',
  ], { maxLength: 4 }),
).map(([t, s, d, rest]) => [t, ...(s ? [s] : []), d, ...rest].map(quote));
const mountFlag = fc.tuple(mountFields, fc.boolean()).map(([fields, rev]) => (rev ? [...fields].reverse() : fields).join(','));
const tmpfsFlag = fc.tuple(oneOf('/t', '/t/', '/run', '/dev/shm', '/tmp'), fc.subarray(['rw', 'ro', 'suid', 'dev', 'exec', 'nosuid', 'nodev', 'size=1k', 'mode=1777', 'SUID', 'nosuid,suid'], { maxLength: 3 }))
  .map(([p, o]) => (o.length ? `${p}:${o.join(',')}` : p));
const mountFlags = fc.oneof(
  spelled('volume', 'v', vFlag),
  spelled('mount', undefined, mountFlag),
  spelled('tmpfs', undefined, tmpfsFlag),
  spelled('volumes-from', undefined, oneOf('ok', 'ok:ro', 'priv:rw')),
  spelled('volume-driver', undefined, oneOf('local', 'foo')),
);

const devicePath = oneOf('/dev/null', '/dev/fuse', '/dev/net/tun', '/dev/mem', '/dev/ttyS0', '/dev/vcs1', '/dev/userfaultfd', '/dev/sda', '/dev/../dev/mem',
  '/dev/kvm', '/dev/input/event0', '/dev/snd', '/dev', '/home/u/proj/devlink', '/srv/tty-link', '/dev//mem', '/dev/tty', '/dev/console');
const deviceFlags = fc.oneof(
  spelled('device', undefined, fc.tuple(devicePath, oneOf('', ':/dev/x', ':/dev/x:rwm', ':r')).map(([p, s]) => p + s)),
  spelled('device-cgroup-rule', undefined, oneOf('c 1:3 rwm', 'a *:* rwm', 'c 4:1 rw', 'b 8:0 r', 'c *:* m', 'c 1:1 r', 'c 10:200 rwm')),
);

const secOpt = oneOf(
  'seccomp=unconfined', 'seccomp:unconfined', 'apparmor=unconfined', 'apparmor:unconfined', 'label=disable', 'label:disable', 'disable', 'label=type:spc_t',
  'label:type:unconfined_t', 'no-new-privileges', 'no-new-privileges=false', 'no-new-privileges:0', 'no-new-privileges=F', 'no-new-privileges=FALSE',
  'no-new-privileges=true', 'no-new-privileges:T', 'systempaths=unconfined', 'seccomp=/allow.json', 'seccomp=/ok.json', 'seccomp=builtin', 'seccomp=/log.json',
  'no-new-privileges=False', 'no-new-privileges:f', 'apparmor=docker-default', 'label=type:container_t', 'seccomp=unconfined,'
);
const securityFlags = spelled('security-opt', undefined, secOpt);

const nsValue = oneOf('host', 'container:hostpid', 'container:priv', 'container:chain', 'container:ok', 'container:missing', '', 'private', 'shareable', 'none', 'bridge');
const nsFlags = fc.oneof(
  ...['pid', 'ipc', 'uts', 'network', 'net', 'userns', 'cgroupns'].map((f) => spelled(f, undefined, nsValue)),
);

const capName = oneOf('SYS_ADMIN', 'sys_admin', 'CAP_SYS_ADMIN', 'cap_sys_admin', 'ALL', 'all', 'NET_BIND_SERVICE', 'net_bind_service', 'CAP_NET_BIND_SERVICE', 'Cap_Net_Raw', 'CAP_ALL',
  'NET_BIND_SERVICE,SYS_PTRACE', ' SYS_ADMIN', 'cap_chown', 'MKNOD');
const capFlags = fc.oneof(spelled('cap-add', undefined, capName), spelled('cap-drop', undefined, capName));

const limitFlags = fc.oneof(
  spelled('memory', 'm', oneOf('-1', '0', '1', '4m', '1g', '1t', '1.5g', '0b', '7m')),
  spelled('pids-limit', undefined, oneOf('-1', '0', '1', '100000')),
  spelled('cpus', undefined, oneOf('0', '0.001', '0.000000001', '1', '100')),
  spelled('cpu-quota', undefined, oneOf('-1', '0', '1000')),
  spelled('cpu-period', undefined, oneOf('0', '1000', '100000')),
  spelled('cpuset-cpus', undefined, oneOf('0', '0-1')),
  spelled('memory-reservation', undefined, oneOf('1t', '0', '8m')),
  spelled('memory-swap', undefined, oneOf('-1', '0', '2g')),
  bool('--oom-kill-disable'),
  spelled('cgroup-parent', undefined, oneOf('/', 'x')),
  spelled('log-driver', undefined, oneOf('none', 'json-file', 'local', 'syslog')),
  spelled('log-opt', undefined, oneOf('max-size=1t', 'max-file=1000', 'max-size=0')),
);
const otherFlags = fc.oneof(
  bool('--privileged'),
  bool('--read-only'),
  oneOf(['--privileged=True'], ['--privileged=T'], ['--read-only=False']),
  spelled('publish', 'p', oneOf('8080:80', '0.0.0.0:8080:80', '80', '192.168.1.1:80:80', '[::]:80:80', '127.0.0.1:80:80')),
  bool('--publish-all'),
  spelled('sysctl', undefined, oneOf('kernel.shm_rmid_forced=1', 'net.ipv4.ip_forward=1', 'kernel.core_pattern=x')),
);

const anyFlag = fc.oneof(userFlags, mountFlags, deviceFlags, securityFlags, nsFlags, capFlags, limitFlags, otherFlags);
const imageUser = oneOf<string | undefined>(undefined, '', '0', 'root', '1000', '1000:0', 'app', '65534:65534');
const commandLine = fc.record({ flags: fc.array(anyFlag, { minLength: 1, maxLength: 6 }), imageUser });

// ---------------------------------------------------------------------------------------------

interface Verdict {
  argv: string[];
  outcome?: PolicyOutcome;
  breaches: Difference[];
}

/** The command line through the parser and the policy, as `sdocker run` decides it. */
function decide(flags: string[][], imgUser: string | undefined): Verdict {
  const argv = [...flags.flat(), 'IMG', 'true'];
  let req: ReturnType<typeof buildRunRequest>;
  try {
    req = buildRunRequest(argv, 'run', { cwd: CWD, env: {}, readFile: (p) => SECCOMP_FILES[p] ?? (() => { throw new Error(`open ${p}: no such file`); })() });
  } catch {
    return { argv, breaches: [] }; // refused by the parser (docker's own errors)
  }
  const image: ImageFacts | undefined = imgUser === undefined ? undefined : { User: imgUser, Volumes: null, ExposedPorts: { '80/tcp': {} } };
  const named: NamedVolumes = {};
  for (const n of Object.keys(NAMED)) named[n] = NAMED[n]!;
  const paths = hostPaths(hostPathsOf(req.body, named));
  const outcome = applyPolicy({
    body: req.body,
    ...(image ? { image } : {}),
    engine: ENGINE,
    profile: PROFILE,
    ...((req.body.HostConfig.SecurityOpt ?? []).some((o) => o.startsWith('seccomp'))
      ? { seccompChecks: gatherSeccompChecks({ body: req.body, typed: req.typed }, PROFILE, { cwd: CWD, env: {}, lib: null }) } : {}),
    mode: 'enforce',
    hostPaths: paths,
    namedVolumes: named,
    containers: CONTAINERS,
    provenance: req.typed,
  });
  if (outcome.refused) return { argv, outcome, breaches: [] };
  const ctx = { ...contextOf(PROFILE, ENGINE), hostPaths: paths, namedVolumes: named, containers: CONTAINERS, ...(image ? { imageUser: image.User ?? '' } : {}) };
  return { argv, outcome, breaches: bodyInvariants(outcome.body, ctx) };
}

const shq = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`);
const RUNS = Number(process.env.SDOCKER_GEN_RUNS ?? 5000);

describe('generated command lines at level restricted, enforce mode', () => {
  if (process.env.SDOCKER_GEN_REPORT) {
    it('report: every kind of breach with its shortest command lines', () => {
      const seen = new Map<string, Map<string, string>>();
      for (const c of fc.sample(commandLine, RUNS)) {
        const v = decide(c.flags, c.imageUser);
        for (const b of v.breaches) {
          const cls = seen.get(b.name.replace(/:.*/, '')) ?? new Map<string, string>();
          seen.set(b.name.replace(/:.*/, ''), cls);
          const line = [...(c.imageUser === undefined ? [] : [`(image USER ${JSON.stringify(c.imageUser)})`]), ...v.argv.map(shq)].join(' ');
          const prev = cls.get(b.name);
          if (prev === undefined || line.length < prev.length) cls.set(b.name, line);
        }
      }
      for (const [k, cls] of [...seen.entries()].sort()) {
        console.log(`${k}: ${cls.size} kinds\n${[...cls.entries()].sort((a, b) => a[1].length - b[1].length).slice(0, 6).map(([n, l]) => `  ${n}: ${l}`).join('\n')}`);
      }
    });
    return;
  }
  it(`either refused or satisfying the invariants (${RUNS} command lines)`, () => {
    fc.assert(
      fc.property(commandLine, ({ flags, imageUser: u }) => {
        const v = decide(flags, u);
        expect(v.breaches, `${v.argv.map(shq).join(' ')}\n${JSON.stringify(v.breaches, null, 1)}`).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('plain counterexamples', () => {
  it('volume-opt and volume-driver given for an existing volume (which the engine mounts as it is) are dropped from the request', () => {
    const v = decide([['--mount', 'type=volume,src=plain,dst=/m,volume-opt=device=tmpfs']], '');
    expect(v.breaches).toEqual([]);
    expect(JSON.stringify(v.outcome?.body.HostConfig.Mounts)).not.toContain('tmpfs');
    const d = decide([['--mount', 'type=Volume,src=plain,dst=/mnt/m,volume-driver=foo']], '');
    expect(d.breaches).toEqual([]);
    expect(JSON.stringify(d.outcome?.body.HostConfig.Mounts)).not.toContain('foo');
  });
  it('a --mount bind without a source is the engine\'s to refuse, not a breach', () => {
    expect(decide([['--mount', 'type=bind,dst=/m']], '').breaches).toEqual([]);
  });
  it('the spellings that hold: each refused', () => {
    for (const argv of [
      ['-u', '0'], ['-u', 'root'], ['--privileged=1'], ['--privileged=t'], ['--cap-add', 'cap_sys_admin'], ['--cap-add', 'ALL'], ['--pid', 'container:chain'],
      ['--network', 'container:priv'], ['--security-opt', 'seccomp:unconfined'], ['--security-opt', 'no-new-privileges:F'], ['--security-opt', 'label:disable'],
      ['-v', './data/../../../../etc:/m'], ['-v', './etc-link:/m'], ['-v', 'etcbind:/m'],
      ['--mount', 'type=volume,dst=/m,volume-opt=o=bind'], ['--mount', 'type=volume,dst=/m,volume-opt=nocopy=1'],
      ['--tmpfs', '/t:rw,suid'], ['--device', '/dev//mem'], ['--device', '/home/u/proj/devlink'], ['-m', '0'], ['--pids-limit', '-1'], ['--oom-kill-disable=1'],
    ]) {
      expect(decide([argv], '').outcome?.refused, argv.join(' ')).toBe(true);
    }
  });
});
