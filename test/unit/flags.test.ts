import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { buildRunRequest } from '../../src/flags/request.js';
import { parseArgs } from '../../src/flags/parse.js';
import { FLAGS, flagByLong, flagByShort } from '../../src/flags/table.js';
import { parseGoDuration, parseGoInt, parseNanoCpus, parseRamBytes } from '../../src/flags/values/go-numbers.js';
import { parsePublish } from '../../src/flags/values/ports.js';
import { parseVolumeSpec } from '../../src/flags/values/volumes.js';
import { parseMount } from '../../src/flags/values/mount.js';
import { parseKvFile } from '../../src/flags/values/kv.js';

const ctx = (files: Record<string, string> = {}, env: Record<string, string> = {}) => ({
  cwd: '/work/project',
  env,
  readFile: (p: string) => {
    const v = files[p];
    if (v === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return v;
  },
});

describe('the flag table', () => {
  it('has unique long names, aliases and shorthands', () => {
    const longs = FLAGS.flatMap((f) => [f.name, ...(f.aliases ?? [])]);
    expect(new Set(longs).size).toBe(longs.length);
    const shorts = FLAGS.filter((f) => f.short).map((f) => f.short);
    expect(new Set(shorts).size).toBe(shorts.length);
  });
  it('knows docker run shorthands', () => {
    expect(flagByShort('p')?.name).toBe('publish');
    expect(flagByShort('h')?.name).toBe('hostname');
    expect(flagByLong('net')?.name).toBe('network');
  });
});

describe('parseArgs (pflag rules)', () => {
  it('bundles booleans and stops at the image', () => {
    const p = parseArgs(['-itd', '--rm', 'img', '-e', 'x'], 'run');
    expect(p.values.get('interactive')).toBe(true);
    expect(p.values.get('tty')).toBe(true);
    expect(p.values.get('detach')).toBe(true);
    expect(p.image).toBe('img');
    expect(p.args).toEqual(['-e', 'x']);
  });
  it('takes values glued to a shorthand and after =', () => {
    const p = parseArgs(['-p8080:80', '-uroot', '-e=A=1', '--name=web', '--env', 'B=2', 'img'], 'run');
    expect(p.values.get('publish')).toEqual(['8080:80']);
    expect(p.values.get('user')).toBe('root');
    expect(p.values.get('env')).toEqual(['A=1', 'B=2']);
    expect(p.values.get('name')).toBe('web');
  });
  it('takes a value that looks like a flag, as pflag does', () => {
    expect(parseArgs(['--name', '-x', 'img'], 'run').values.get('name')).toBe('-x');
  });
  it('reads booleans with Go rules', () => {
    expect(parseArgs(['--rm=false', 'img'], 'run').values.get('rm')).toBe(false);
    expect(() => parseArgs(['--rm=maybe', 'img'], 'run')).toThrow(/invalid argument "maybe" for "--rm" flag/);
  });
  it('refuses unknown flags and run-only flags on create', () => {
    expect(() => parseArgs(['--nope', 'img'], 'run')).toThrow('unknown flag: --nope');
    expect(() => parseArgs(['-d', 'img'], 'create')).toThrow("unknown shorthand flag: 'd' in -d");
    expect(() => parseArgs(['--name'], 'run')).toThrow('flag needs an argument: --name');
  });
  it('keeps what the user typed for explanations', () => {
    const p = parseArgs(['--cap-add', 'SYS_ADMIN', '--privileged', 'img'], 'run');
    expect(p.typed.get('cap-add')).toEqual(['--cap-add SYS_ADMIN']);
    expect(p.typed.get('privileged')).toEqual(['--privileged']);
  });
});

describe("Go's number formats", () => {
  it('parses base-0 integers', () => {
    expect(parseGoInt('0x200', 64, false)).toBe(512);
    expect(parseGoInt('010', 64, false)).toBe(8);
    expect(parseGoInt('-5', 64, false)).toBe(-5);
    expect(() => parseGoInt('70000', 16, true)).toThrow(/out of range/);
    expect(() => parseGoInt('1.5', 64, false)).toThrow(/invalid syntax/);
  });
  it('parses durations, sizes and CPUs', () => {
    expect(parseGoDuration('1m30s')).toBe(90e9);
    expect(parseGoDuration('500ms')).toBe(5e8);
    expect(() => parseGoDuration('10')).toThrow(/missing unit/);
    expect(parseRamBytes('512m')).toBe(512 * 1024 ** 2);
    expect(parseRamBytes('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseRamBytes('64MiB')).toBe(64 * 1024 ** 2);
    expect(() => parseRamBytes('-1')).toThrow(/invalid size/);
    expect(parseNanoCpus('1.5')).toBe(1.5e9);
    expect(parseNanoCpus('3/2')).toBe(1.5e9);
    expect(() => parseNanoCpus('0.0000000001')).toThrow(/too precise/);
  });
});

describe('value syntaxes', () => {
  it('publishes ports, ranges and addresses', () => {
    const r = parsePublish(['127.0.0.1:8080:80', '9000-9001:9000-9001/udp', '[::1]::53/udp']);
    expect(r.bindings['80/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '8080' }]);
    expect(r.bindings['9001/udp']).toEqual([{ HostIp: '', HostPort: '9001' }]);
    expect(r.bindings['53/udp']).toEqual([{ HostIp: '::1', HostPort: '' }]);
    expect(() => parsePublish(['80/icmp'])).toThrow('invalid proto: icmp');
  });
  it('splits volume specs like docker', () => {
    expect(parseVolumeSpec('/h:/c:ro')).toMatchObject({ type: 'bind', source: '/h', target: '/c', readOnly: true });
    expect(parseVolumeSpec('name:/c')).toMatchObject({ type: 'volume', source: 'name' });
    expect(parseVolumeSpec('/anon')).toMatchObject({ source: '', target: '/anon' });
    expect(() => parseVolumeSpec('/a::/b')).toThrow(/empty section/);
  });
  it('reads --mount keys', () => {
    expect(parseMount('type=bind,src=./x,dst=/y,readonly', '/w')).toEqual({ Type: 'bind', Source: '/w/x', Target: '/y', ReadOnly: true });
    expect(() => parseMount('type=tmpfs,dst=/x,volume-nocopy', '/w')).toThrow(/cannot mix 'volume-\*' options/);
  });
  it('names the file and line of a bad env file', () => {
    expect(() => parseKvFile('A=1\nBAD NAME=2\n', 'app.env')).toThrow('invalid env file (app.env): variable on line 2 contains whitespaces');
    expect(parseKvFile('A=1\nFROM\n', 'f', (k) => (k === 'FROM' ? 'caller' : undefined))).toEqual(['A=1', 'FROM=caller']);
  });
});

describe('buildRunRequest', () => {
  it('builds the body docker would send', () => {
    const r = buildRunRequest(['-it', '--rm', '-e', 'HOME_X', '-v', './data:/data:ro', '-m', '1g', 'img', 'sh'], 'run', ctx({}, { HOME_X: 'v' }));
    expect(r.body.Image).toBe('img');
    expect(r.body.Cmd).toEqual(['sh']);
    expect(r.body.Env).toEqual(['HOME_X=v']);
    expect(r.body.StdinOnce).toBe(true);
    expect(r.body.HostConfig.Binds).toEqual(['/work/project/data:/data:ro']);
    expect(r.body.HostConfig.Memory).toBe(1024 ** 3);
    expect(r.body.HostConfig.AutoRemove).toBe(true);
  });
  it('detaches: no attach, and refuses -a with -d', () => {
    expect(buildRunRequest(['-d', 'img'], 'run', ctx()).body.AttachStdout).toBe(false);
    expect(() => buildRunRequest(['-d', '-a', 'stdout', 'img'], 'run', ctx())).toThrow(/cannot specify both --attach and --detach/);
  });
  it('refuses flags this engine cannot honour, by name', () => {
    expect(() => buildRunRequest(['--annotation', 'a=b', 'img'], 'run', ctx())).toThrow('"--annotation" requires API version 1.43');
    expect(() => buildRunRequest(['--cpu-count', '1', 'img'], 'run', ctx())).toThrow(/only supported on a Docker daemon running on windows/);
    expect(() => buildRunRequest(['--use-api-socket', 'img'], 'run', ctx())).toThrow(/--use-api-socket is refused/);
  });
  it('reads a seccomp file and sends its content', () => {
    const r = buildRunRequest(['--security-opt', 'seccomp=p.json', 'img'], 'run', ctx({ 'p.json': '{ "defaultAction": "SCMP_ACT_ERRNO" }' }));
    expect(r.body.HostConfig.SecurityOpt).toEqual(['seccomp={"defaultAction":"SCMP_ACT_ERRNO"}']);
  });
  it('throws UsageError (exit 125) naming the flag', () => {
    try {
      buildRunRequest(['--ulimit', 'nofile=2:1', 'img'], 'run', ctx());
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(125);
      expect((err as Error).message).toMatch(/^--ulimit: /);
    }
  });
});

describe('IP addresses without node:net', () => {
  it('accepts and canonicalises what Go accepts', async () => {
    const { canonicalIp } = await import('../../src/flags/values/kv.js');
    const { isIP } = await import('node:net');
    const cases = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '::1', '::', '2001:db8::33', '2001:4860:4860::8888',
      'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::ffff:10.0.0.1', '64:ff9b::192.0.2.33', '1::', '1:2:3:4:5:6:7::'];
    for (const c of cases) {
      expect(isIP(c), c).not.toBe(0);
      expect(canonicalIp(c), c).toBeDefined();
    }
    const bad = ['256.0.0.1', '1.2.3', '01.2.3.4', 'a.b.c.d', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1', 'gggg::1', '1.2.3.4.5', 'localhost', '', '::1::', '12345::1'];
    for (const c of bad) {
      expect(isIP(c), c).toBe(0);
      expect(canonicalIp(c), c).toBeUndefined();
    }
    expect(canonicalIp('2001:0db8:0000:0000:0000:0000:0000:0033')).toBe('2001:db8::33');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('proxies from the docker config, and -e through a map as docker does', () => {
  it('adds each configured proxy in both cases unless -e names it, and keeps the last of a repeated -e', () => {
    const r = buildRunRequest(['-e', 'A=1', '-e', 'A=2', '-e', 'http_proxy=mine', 'img'], 'run', {
      ...ctx(),
      proxies: { httpProxy: 'http://proxy:3128', noProxy: 'localhost' },
    });
    expect([...(r.body.Env ?? [])].sort()).toEqual(['A=2', 'HTTP_PROXY=http://proxy:3128', 'NO_PROXY=localhost', 'http_proxy=mine', 'no_proxy=localhost']);
  });
});

describe('-e values without a docker config', () => {
  it('keep the last value of a repeated name, for create as for run', () => {
    const r = buildRunRequest(['-e', 'A=1', '-e', 'B=2', '-e', 'A=3', 'img'], 'create', ctx());
    expect([...(r.body.Env ?? [])].sort()).toEqual(['A=3', 'B=2']);
  });
});
