/**
 * sdocker audit's pure parts: dockerd's command line and daemon.json, the CVE table's version
 * ranges, the daemon and container checks over synthetic facts, the local-daemon lookup over a
 * fake /proc, and the report formats.
 */
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/audit/catalog.js';
import { findLocalDaemon, groupMembers, type HostReader } from '../../src/audit/collect.js';
import { checkContainer } from '../../src/audit/container-checks.js';
import { CVES } from '../../src/audit/cves.js';
import { checkDaemon, checkVersions, daemonContext, insecureRegistries } from '../../src/audit/daemon-checks.js';
import { daemonSettings, parseDockerdArgs, tcpHosts, unixSockets } from '../../src/audit/dockerd-args.js';
import { renderJson, renderSarif, renderText } from '../../src/audit/render.js';
import type { ContainerFacts, DaemonContext, DaemonFacts } from '../../src/audit/types.js';
import { compareVersions, isDistributionBuild, parseVersion } from '../../src/audit/versions.js';
import type { Endpoint } from '../../src/engine/endpoint.js';

describe('dockerd command line (pflag rules over dockerd 20.10 flags)', () => {
  it('reads long, short, clustered, = and bool forms', () => {
    const f = parseDockerdArgs(['/usr/bin/dockerd', '-H', 'tcp://0.0.0.0:2375', '-Hunix:///x.sock', '--tlsverify=false', '-DG', 'staff', '--icc=false', '--log-opt', 'max-size=10m', '--userns-remap', 'default', '--live-restore']);
    expect(f.get('host')).toEqual(['tcp://0.0.0.0:2375', 'unix:///x.sock']);
    expect(f.get('tlsverify')).toEqual(['false']);
    expect(f.get('debug')).toEqual(['true']);
    expect(f.get('group')).toEqual(['staff']);
    expect(f.get('icc')).toEqual(['false']);
    expect(f.get('userns-remap')).toEqual(['default']);
    expect(f.get('live-restore')).toEqual(['true']);
  });
  it('a bool flag never swallows the next word', () => {
    const f = parseDockerdArgs(['dockerd', '--tlsverify', '-H', 'tcp://127.0.0.1:2376']);
    expect(f.get('tlsverify')).toEqual(['true']);
    expect(f.get('host')).toEqual(['tcp://127.0.0.1:2376']);
  });
  it('merges with daemon.json: either source, --tlsverify implies --tls, defaults as dockerd has them', () => {
    const s = daemonSettings(parseDockerdArgs(['dockerd', '--tlsverify']), { hosts: ['tcp://0.0.0.0:2376'], 'no-new-privileges': true, 'log-opts': { 'max-size': '5m' }, 'default-ulimits': { nofile: { Name: 'nofile', Hard: 1, Soft: 1 } } });
    expect(s).toMatchObject({ hosts: ['tcp://0.0.0.0:2376'], tls: true, tlsVerify: true, noNewPrivileges: true, userlandProxy: true, iptables: true, defaultUlimits: true, logOpts: { 'max-size': '5m' } });
    const d = daemonSettings(parseDockerdArgs(['dockerd']), undefined);
    expect(d).toMatchObject({ hosts: [], tls: false, noNewPrivileges: false, userlandProxy: true, defaultUlimits: false });
    expect(d.icc).toBeUndefined();
  });
  it('tells unix sockets from TCP listeners (a bare host:port is TCP; fd:// is systemd\'s socket)', () => {
    expect(unixSockets([])).toEqual(['/var/run/docker.sock']);
    expect(unixSockets(['fd://', 'unix:///a.sock', 'tcp://1.2.3.4:2375'])).toEqual(['/var/run/docker.sock', '/run/docker.sock', '/a.sock']);
    expect(tcpHosts(['unix:///a', 'tcp://1.2.3.4:2375', '0.0.0.0:2375'])).toEqual(['tcp://1.2.3.4:2375', '0.0.0.0:2375']);
  });
});

describe('versions and the CVE table', () => {
  const v = (s: string) => parseVersion(s)!;
  it('orders releases, pre-releases and distribution builds by their upstream version', () => {
    expect(compareVersions(v('1.0.0-rc6'), v('1.0.0-rc7'))).toBe(-1);
    expect(compareVersions(v('1.0.0-rc95'), v('1.0.0'))).toBe(-1);
    expect(compareVersions(v('1.1.5+ds1'), v('1.1.12'))).toBe(-1);
    expect(compareVersions(v('v1.1.12'), v('1.1.12'))).toBe(0);
    expect(compareVersions(v('5.10.102'), v('5.10.0-21-amd64'))).toBe(1);
    expect(parseVersion('unknown')).toBeUndefined();
    expect(isDistributionBuild('1.1.5+ds1')).toBe(true);
    expect(isDistributionBuild('6.1.0-18-amd64')).toBe(true);
    expect(isDistributionBuild('1.1.12')).toBe(false);
    expect(isDistributionBuild('1.0.0-rc95')).toBe(false);
  });
  it('every entry names a source URL and at least one range', () => {
    for (const e of CVES) {
      expect(e.source, e.id).toMatch(/^https:\/\//);
      expect(e.affected.length, e.id).toBeGreaterThan(0);
      for (const r of e.affected) expect(parseVersion(r.below), e.id).toBeDefined();
    }
  });
  const facts = (c: Record<string, [string, string?]>, kernel?: string): DaemonFacts => ({
    endpoint: 'unix:///var/run/docker.sock',
    info: kernel ? { KernelVersion: kernel } : {},
    version: { Components: Object.entries(c).map(([Name, [Version, GitCommit]]) => ({ Name, Version, ...(GitCommit ? { Details: { GitCommit } } : {}) })) },
  });
  const cves = (f: DaemonFacts) => checkVersions(f).map((x) => /^(CVE-\d+-\d+)/.exec(x.message)![1]);
  it('reports what is in range, not what is out of it', () => {
    expect(cves(facts({ runc: ['1.0.0-rc6'] }))).toEqual(['CVE-2019-5736', 'CVE-2021-30465']);
    expect(cves(facts({ runc: ['1.1.11'] }))).toEqual(['CVE-2024-21626']);
    expect(cves(facts({ runc: ['1.1.12'] }))).toEqual([]);
    expect(cves(facts({ containerd: ['1.4.2'] }))).toEqual(['CVE-2020-15257']);
    expect(cves(facts({ containerd: ['1.4.3'] }))).toEqual([]);
    expect(cves(facts({ Engine: ['19.03.0'] }))).toEqual(['CVE-2019-14271']);
    expect(cves(facts({}, '5.10.101'))).toEqual(['CVE-2022-0847', 'CVE-2022-0492']);
    expect(cves(facts({}, '5.16.1'))).toEqual(['CVE-2022-0847', 'CVE-2022-0185', 'CVE-2022-0492']);
    expect(cves(facts({}, '6.18.44-fc-v1045'))).toEqual([]);
    expect(cves(facts({}, '4.4.25'))).toEqual(['CVE-2016-5195', 'CVE-2022-0492']);
  });
  it('a distribution build known to carry the fix is not reported; another one is, and says it is a distribution build', () => {
    expect(cves(facts({ runc: ['1.1.5+ds1', '1.1.5+ds1-1+deb12u1'] }))).toEqual([]);
    const f = checkVersions(facts({ runc: ['1.1.5+ds1', '1.1.5+ds1-1'] }));
    expect(f).toHaveLength(1);
    expect(f[0]!).toMatchObject({ id: 'SDA-DMN-ENGINE-CVE', severity: 'critical', subject: 'daemon' });
    expect(f[0]!.message).toContain('distribution build');
    expect(checkVersions(facts({}, '5.10.0-21-amd64'))[0]!).toMatchObject({ id: 'SDA-HOST-KERNEL-CVE', subject: 'host' });
  });
});

const HARDENED_INFO = {
  SecurityOptions: ['name=apparmor', 'name=seccomp,profile=default', 'name=userns'],
  LoggingDriver: 'syslog',
  LiveRestoreEnabled: true,
  Runtimes: { runc: { path: 'runc' }, runsc: { path: '/usr/local/bin/runsc' } },
  Plugins: { Authorization: ['opa-docker-authz'] },
  RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: { 'docker.io': { Name: 'docker.io', Secure: true } }, Mirrors: [] },
  Debug: false,
  Driver: 'overlay2',
};
const local = (cmdline: string[], config?: Record<string, unknown>) => ({ pid: 1, cmdline, configPath: '/etc/docker/daemon.json', ...(config ? { config } : {}) });

describe('daemon checks', () => {
  const ids = (f: DaemonFacts) => checkDaemon(f).map((x) => x.id).sort();
  it('a hardened local daemon: only rootful remains', () => {
    const f: DaemonFacts = {
      endpoint: 'unix:///var/run/docker.sock', info: HARDENED_INFO, version: {}, bridgeIcc: false,
      local: local(['dockerd', '--tlsverify', '-H', 'tcp://0.0.0.0:2376', '-H', 'unix:///var/run/docker.sock'], { 'no-new-privileges': true, 'userland-proxy': false, 'default-ulimits': { nofile: {} } }),
      socketGroup: { name: 'docker', members: [] },
    };
    expect(ids(f)).toEqual(['SDA-DMN-ROOTFUL']);
  });
  it('the opposite: every configurable finding', () => {
    const f: DaemonFacts = {
      endpoint: 'unix:///var/run/docker.sock',
      info: {
        SecurityOptions: ['name=seccomp,profile=unconfined'], LoggingDriver: 'json-file', LiveRestoreEnabled: false, Runtimes: { runc: {} },
        Plugins: { Authorization: null }, Debug: true, ExperimentalBuild: true, Driver: 'aufs', Swarm: { LocalNodeState: 'active' },
        RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8', '10.0.0.0/8'], IndexConfigs: { 'reg.local:5000': { Name: 'reg.local:5000', Secure: false } }, Mirrors: ['http://m.local/', 'https://m2.local/'] },
      },
      version: {}, bridgeIcc: true,
      local: local(['dockerd', '-H', 'tcp://0.0.0.0:2375', '--iptables=false']),
      socketGroup: { name: 'docker', members: ['alice', 'bob'] },
    };
    expect(ids(f)).toEqual([
      'SDA-DMN-AUFS', 'SDA-DMN-AUTHZ', 'SDA-DMN-EXPERIMENTAL', 'SDA-DMN-ICC', 'SDA-DMN-INSECURE-REGISTRY', 'SDA-DMN-IPTABLES', 'SDA-DMN-LIVE-RESTORE',
      'SDA-DMN-LOG-LEVEL', 'SDA-DMN-LOG-LOCAL', 'SDA-DMN-LOG-ROTATION', 'SDA-DMN-LSM', 'SDA-DMN-MIRROR', 'SDA-DMN-MIRROR-HTTP', 'SDA-DMN-NNP',
      'SDA-DMN-ROOTFUL', 'SDA-DMN-SANDBOX', 'SDA-DMN-SECCOMP', 'SDA-DMN-SWARM', 'SDA-DMN-TCP-NOTLS', 'SDA-DMN-ULIMIT', 'SDA-DMN-USERLAND-PROXY', 'SDA-DMN-USERNS',
      'SDA-HOST-DOCKER-GROUP',
    ]);
    expect(insecureRegistries(f)).toEqual(['10.0.0.0/8', 'reg.local:5000']);
    expect(checkDaemon(f).find((x) => x.id === 'SDA-HOST-DOCKER-GROUP')!.message).toBe('group docker: alice, bob');
  });
  it('--tls without --tlsverify is its own finding', () => {
    const f: DaemonFacts = { endpoint: 'x', info: HARDENED_INFO, version: {}, local: local(['dockerd', '--tls', '-H', '0.0.0.0:2376']) };
    expect(ids(f)).toContain('SDA-DMN-TCP-NOVERIFY');
    expect(ids(f)).not.toContain('SDA-DMN-TCP-NOTLS');
  });
  it('a remote daemon: what needs its command line is said to be unchecked, not guessed; a plain TCP endpoint is reported', () => {
    const f: DaemonFacts = { endpoint: 'tcp://10.0.0.5:2375', endpointPlainTcp: true, info: HARDENED_INFO, version: {}, localMissing: 'the daemon is remote' };
    expect(ids(f)).toEqual(['SDA-DMN-ROOTFUL', 'SDA-DMN-TCP-NOTLS', 'SDA-DMN-UNCHECKED']);
  });
});

const CTX: DaemonContext = { noNewPrivileges: false, usernsRemap: false, apparmor: false, selinux: false, socketPaths: ['/var/run/docker.sock'], dockerRootDir: '/var/lib/docker' };

/** What `sdocker run` under restricted creates (inspect of a real one, trimmed). */
function restricted(): ContainerFacts {
  return {
    Id: 'abcdef0123456789', Name: '/r', State: { Running: true },
    Config: { User: '65534:65534' },
    HostConfig: {
      NetworkMode: 'default', PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      CapDrop: ['ALL'], ReadonlyRootfs: true, SecurityOpt: ['no-new-privileges', 'seccomp={"defaultAction":"SCMP_ACT_ERRNO"}'],
      Memory: 1 << 30, NanoCpus: 2e9, PidsLimit: 512, IpcMode: 'private', CgroupnsMode: 'private',
    },
    Mounts: [{ Type: 'bind', Source: '/home/u/proj', Destination: '/src', RW: false, Propagation: 'rprivate' }],
  };
}

describe('container checks', () => {
  const ids = (c: ContainerFacts, ctx = CTX) => checkContainer(c, ctx).map((f) => f.id).sort();
  const withHc = (hc: Partial<ContainerFacts['HostConfig']>, more: Partial<ContainerFacts> = {}): ContainerFacts => {
    const c = restricted();
    return { ...c, ...more, HostConfig: { ...c.HostConfig, ...hc } };
  };
  it('restricted: nothing above low (health check, ulimits, default bridge)', () => {
    expect(ids(restricted())).toEqual(['SDA-CTR-DEFAULT-BRIDGE', 'SDA-CTR-HEALTH', 'SDA-CTR-ULIMIT']);
  });
  it('each bad setting gets its id', () => {
    const cases: Array<[Partial<ContainerFacts['HostConfig']>, string]> = [
      [{ Privileged: true }, 'SDA-CTR-PRIVILEGED'],
      [{ CapAdd: ['cap_sys_admin'] }, 'SDA-CTR-CAP-ADD'],
      [{ CapAdd: ['ALL'] }, 'SDA-CTR-CAP-ADD'],
      [{ CapDrop: ['NET_RAW'] }, 'SDA-CTR-CAP-DEFAULT'],
      [{ NetworkMode: 'host' }, 'SDA-CTR-HOST-NET'],
      [{ PidMode: 'host' }, 'SDA-CTR-HOST-PID'],
      [{ IpcMode: 'host' }, 'SDA-CTR-HOST-IPC'],
      [{ UTSMode: 'host' }, 'SDA-CTR-HOST-UTS'],
      [{ Memory: 0 }, 'SDA-CTR-MEMORY'],
      [{ PidsLimit: -1 }, 'SDA-CTR-PIDS'],
      [{ PidsLimit: null }, 'SDA-CTR-PIDS'],
      [{ NanoCpus: 0 }, 'SDA-CTR-CPU'],
      [{ SecurityOpt: ['no-new-privileges', 'seccomp:unconfined'] }, 'SDA-CTR-SECCOMP-UNCONFINED'],
      [{ SecurityOpt: [] }, 'SDA-CTR-NNP'],
      [{ SecurityOpt: ['no-new-privileges=false'] }, 'SDA-CTR-NNP'],
      [{ ReadonlyRootfs: false }, 'SDA-CTR-ROOTFS-RW'],
      [{ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } }, 'SDA-CTR-PORT-ALL'],
      [{ PortBindings: { '80/tcp': [{ HostIp: '::', HostPort: '' }] } }, 'SDA-CTR-PORT-ALL'],
      [{ PublishAllPorts: true }, 'SDA-CTR-PORT-ALL'],
      [{ PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '80' }] } }, 'SDA-CTR-PORT-PRIVILEGED'],
      [{ RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }, 'SDA-CTR-RESTART'],
      [{ RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } }, 'SDA-CTR-RESTART'],
      [{ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 0 } }, 'SDA-CTR-RESTART'],
      [{ Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }, 'SDA-CTR-DEVICES'],
      [{ DeviceCgroupRules: ['c 1:* rwm'] }, 'SDA-CTR-DEVICES'],
      [{ CgroupParent: '/other' }, 'SDA-CTR-CGROUP-PARENT'],
      [{ Ulimits: [] }, 'SDA-CTR-ULIMIT'],
    ];
    for (const [hc, id] of cases) expect(ids(withHc(hc)), `${JSON.stringify(hc)}`).toContain(id);
  });
  it('the good spellings get nothing', () => {
    expect(ids(withHc({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 } }))).not.toContain('SDA-CTR-RESTART');
    expect(ids(withHc({ CapAdd: ['NET_BIND_SERVICE'] }))).not.toContain('SDA-CTR-CAP-ADD');
    expect(ids(withHc({ SecurityOpt: ['no-new-privileges:true'] }))).not.toContain('SDA-CTR-NNP');
    expect(ids(withHc({ SecurityOpt: [] }), { ...CTX, noNewPrivileges: true })).not.toContain('SDA-CTR-NNP');
    expect(ids(withHc({ CpuShares: 512, NanoCpus: 0 }))).not.toContain('SDA-CTR-CPU');
    expect(ids(withHc({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }] }))).not.toContain('SDA-CTR-ULIMIT');
    expect(ids({ ...restricted(), Config: { User: '65534', Healthcheck: { Test: ['CMD', 'true'] } } })).not.toContain('SDA-CTR-HEALTH');
  });
  it('root as the host sees it: a name the image maps to uid 0 is root; remapped root is low', () => {
    const toor = { ...restricted(), Config: { User: 'toor' }, processes: [{ command: 'sleep 300', uid: 0 }] };
    expect(checkContainer(toor, CTX).find((f) => f.id === 'SDA-CTR-ROOT')).toMatchObject({ severity: 'medium', message: 'user "toor"; uid 0 on the host: sleep 300' });
    expect(ids({ ...toor, processes: [{ command: 'sleep 300', uid: 1000 }] })).not.toContain('SDA-CTR-ROOT');
    const remapped = { ...restricted(), Config: { User: '' }, processes: [{ command: 'sleep 300', uid: 100000 }] };
    expect(checkContainer(remapped, { ...CTX, usernsRemap: true }).find((f) => f.id === 'SDA-CTR-ROOT')!.severity).toBe('low');
    expect(checkContainer(remapped, CTX).find((f) => f.id === 'SDA-CTR-ROOT')!.severity).toBe('medium');
  });
  it('root in every spelling; a health check switched off is none', () => {
    for (const User of ['', 'root', '0', '0:0', 'root:root', '000']) expect(ids({ ...restricted(), Config: { User } }), User).toContain('SDA-CTR-ROOT');
    expect(ids({ ...restricted(), Config: { User: '1000:0' } })).not.toContain('SDA-CTR-ROOT');
    expect(ids({ ...restricted(), Config: { User: '65534', Healthcheck: { Test: ['NONE'] } } })).toContain('SDA-CTR-HEALTH');
  });
  it('userns host matters only on a remapping daemon; AppArmor and SELinux only where the host has them', () => {
    expect(ids(withHc({ UsernsMode: 'host' }))).not.toContain('SDA-CTR-HOST-USERNS');
    expect(ids(withHc({ UsernsMode: 'host' }), { ...CTX, usernsRemap: true })).toContain('SDA-CTR-HOST-USERNS');
    const unconf = withHc({ SecurityOpt: ['no-new-privileges', 'apparmor=unconfined'] });
    expect(ids(unconf)).not.toContain('SDA-CTR-APPARMOR-UNCONFINED');
    expect(ids(unconf, { ...CTX, apparmor: true })).toContain('SDA-CTR-APPARMOR-UNCONFINED');
    // docker adds label=disable itself to --pid host / --ipc host containers: it counts only where SELinux labels containers
    const nolabel = withHc({ SecurityOpt: ['no-new-privileges', 'label=disable'] });
    expect(ids(nolabel)).not.toContain('SDA-CTR-SELINUX-DISABLED');
    expect(ids(nolabel, { ...CTX, selinux: true })).toContain('SDA-CTR-SELINUX-DISABLED');
  });
  it('mounts: the socket anywhere, sensitive paths and their ancestors, writable binds, shared propagation', () => {
    const m = (Source: string, RW: boolean, Propagation = 'rprivate') => ids({ ...restricted(), Mounts: [{ Type: 'bind', Source, Destination: '/x', RW, Propagation }] });
    expect(m('/var/run/docker.sock', false)).toContain('SDA-CTR-SOCKET');
    expect(m('/run/user/1000/docker.sock', false)).toContain('SDA-CTR-SOCKET');
    expect(m('/etc', true)).toContain('SDA-CTR-MOUNT-SENSITIVE-RW');
    expect(m('/etc/ssl/', false)).toContain('SDA-CTR-MOUNT-SENSITIVE');
    expect(m('/var', false)).toContain('SDA-CTR-MOUNT-SENSITIVE');
    expect(m('/srv/../etc', false)).toContain('SDA-CTR-MOUNT-SENSITIVE');
    expect(m('/home/u/data', true)).toContain('SDA-CTR-MOUNT-RW');
    expect(m('/home/u/data', false)).not.toContain('SDA-CTR-MOUNT-RW');
    expect(m('/home/u/data', false, 'rshared')).toContain('SDA-CTR-MOUNT-SHARED');
    // a symlink to a sensitive path is judged as where it leads (collect.ts resolves it on a local daemon's host)
    const link = ids({ ...restricted(), Mounts: [{ Type: 'bind', Source: '/tmp/innocent', RealSource: '/etc', Destination: '/x', RW: false }] });
    expect(link).toContain('SDA-CTR-MOUNT-SENSITIVE');
    // a local volume whose options bind a host path is that path
    const vol = ids({ ...restricted(), Mounts: [{ Type: 'volume', Name: 'v', Driver: 'local', Source: '/var/lib/docker/volumes/v/_data', BindDevice: '/etc', Destination: '/v', RW: true }] });
    expect(vol).toContain('SDA-CTR-MOUNT-SENSITIVE-RW');
    // a plain named volume is not a host path
    expect(ids({ ...restricted(), Mounts: [{ Type: 'volume', Name: 'v', Source: '/var/lib/docker/volumes/v/_data', Destination: '/v', RW: true }] })).not.toContain('SDA-CTR-MOUNT-RW');
  });
  it('sshd among the processes (the program, not a word in an argument)', () => {
    expect(ids({ ...restricted(), processes: [{ command: '/usr/sbin/sshd -D', uid: 0 }] })).toContain('SDA-CTR-SSHD');
    expect(ids({ ...restricted(), processes: [{ command: 'sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups' }] })).toContain('SDA-CTR-SSHD');
    expect(ids({ ...restricted(), processes: [{ command: 'sleep 300' }, { command: 'sh -c sleep 1; echo sshd' }] })).not.toContain('SDA-CTR-SSHD');
  });
});

describe('the local daemon behind an endpoint (fake /proc)', () => {
  const host = (files: Record<string, string>): HostReader => ({
    procEntries: () => Object.keys(files).map((p) => /^\/proc\/(\d+)\/cmdline$/.exec(p)?.[1]).filter((x): x is string => !!x).concat(['self', 'cpuinfo']),
    read: (p) => files[p],
    realpath: (p) => (p === '/var/run/docker.sock' ? '/run/docker.sock' : p),
  });
  const unix = (socketPath: string): Endpoint => ({ kind: 'unix', host: `unix://${socketPath}`, socketPath, contextName: 'default' });
  const files = {
    '/proc/10/cmdline': 'dockerd\0',
    '/proc/20/cmdline': '/usr/bin/dockerd\0-H\0unix:///tmp/p/docker.sock\0--config-file\0/tmp/p/daemon.json\0',
    '/proc/30/cmdline': 'containerd\0',
    '/tmp/p/daemon.json': '{"no-new-privileges": true}',
    '/etc/group': 'root:x:0:\ndocker:x:107:alice,bob\n',
    '/etc/passwd': 'root:x:0:0::/root:/bin/sh\ncarol:x:1002:107::/home/carol:/bin/sh\n',
  };
  it('finds the daemon by its socket, through symlinks, and reads its own daemon.json', () => {
    const a = findLocalDaemon(unix('/run/docker.sock'), {}, host(files));
    expect(a).toMatchObject({ pid: 10, configPath: '/etc/docker/daemon.json' });
    const b = findLocalDaemon(unix('/tmp/p/docker.sock'), {}, host(files));
    expect(b).toMatchObject({ pid: 20, configPath: '/tmp/p/daemon.json', config: { 'no-new-privileges': true } });
  });
  it('says why when it cannot: remote, ssh, no process', () => {
    expect(findLocalDaemon({ kind: 'tcp', host: 'tcp://10.1.1.1:2376', hostname: '10.1.1.1', port: 2376, contextName: 'default' }, {}, host(files))).toMatch(/remote/);
    expect(findLocalDaemon({ kind: 'ssh', host: 'ssh://h', sshArgs: [], contextName: 'default' }, {}, host(files))).toMatch(/ssh/);
    expect(findLocalDaemon(unix('/nowhere.sock'), {}, host(files))).toMatch(/no dockerd process listens/);
    expect(findLocalDaemon(unix('/run/docker.sock'), {}, host({}))).toMatch(/no dockerd process/);
  });
  it('a bad daemon.json is reported as such, not read as empty', () => {
    const a = findLocalDaemon(unix('/tmp/p/docker.sock'), {}, host({ ...files, '/tmp/p/daemon.json': '{oops' }));
    expect(typeof a === 'object' && a.configError).toMatch(/daemon.json/);
  });
  it('members of the socket group: listed, and by primary group', () => {
    expect(groupMembers('docker', host(files))).toEqual({ name: 'docker', members: ['alice', 'bob', 'carol'] });
    expect(groupMembers('nogroup', host(files))).toEqual({ name: 'nogroup', members: [] });
  });
});

describe('report formats', () => {
  const findings = [
    ...checkContainer({ ...restricted(), HostConfig: { ...restricted().HostConfig, Privileged: true } }, CTX),
    ...checkDaemon({ endpoint: 'unix:///var/run/docker.sock', info: HARDENED_INFO, version: {}, localMissing: 'x' }),
  ];
  const report = { endpoint: 'unix:///var/run/docker.sock', containers: 1, findings };
  it('text: grouped by severity, worst first, each with its fix; colour only on a terminal', () => {
    const t = renderText(report, false);
    expect(t.indexOf('CRITICAL (1)')).toBeGreaterThan(0);
    expect(t.indexOf('CRITICAL')).toBeLessThan(t.indexOf('LOW'));
    expect(t).toContain('SDA-CTR-PRIVILEGED  r (abcdef012345): privileged container');
    expect(t).toContain('fix: ');
    expect(t).not.toContain('\x1b[');
    expect(renderText(report, true)).toContain('\x1b[');
  });
  it('text: what a container controls cannot send escape sequences to the terminal', () => {
    const evil = checkContainer({ ...restricted(), processes: [{ command: 'sshd \x1b]0;owned\x07 \x1b[2J' }] }, CTX);
    const t = renderText({ ...report, findings: evil }, true);
    expect(t).toContain('sshd \\x1b]0;owned\\x07 \\x1b[2J');
    expect(t.replace(/\x1b\[[0-9;]*m/g, '')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });
  it('json: the summary counts what the list holds', () => {
    const j = JSON.parse(renderJson(report)) as { summary: Record<string, number>; findings: unknown[] };
    expect(Object.values(j.summary).reduce((a, b) => a + b, 0)).toBe(j.findings.length);
    expect(j.summary.critical).toBe(1);
  });
  it('sarif: every result names a rule of the catalog; rules carry guideline and CIS tags', () => {
    const s = JSON.parse(renderSarif(report, '0.1.0')) as { runs: Array<{ tool: { driver: { rules: Array<{ id: string; properties: { tags: string[] } }> } }; results: Array<{ ruleId: string; level: string }> }> };
    const run = s.runs[0]!;
    expect(run.tool.driver.rules).toHaveLength(CATALOG.size);
    expect(run.results).toHaveLength(findings.length);
    expect(run.tool.driver.rules.find((r) => r.id === 'SDA-CTR-PRIVILEGED')!.properties.tags).toEqual(expect.arrayContaining(['guideline-5', 'cis-5.5']));
    expect(run.results.find((r) => r.ruleId === 'SDA-CTR-PRIVILEGED')!.level).toBe('error');
  });
});

describe('daemon context for the container checks', () => {
  it('comes from the daemon facts', () => {
    const ctx = daemonContext({ endpoint: 'x', info: { SecurityOptions: ['name=userns', 'name=apparmor'], DockerRootDir: '/d' }, version: {}, local: local(['dockerd', '--no-new-privileges', '-H', 'unix:///s.sock']) });
    expect(ctx).toEqual({ noNewPrivileges: true, usernsRemap: true, apparmor: true, selinux: false, socketPaths: ['/s.sock'], dockerRootDir: '/d' });
  });
});
