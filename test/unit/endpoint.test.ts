import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { parseHost, resolveEndpoint, sshArgsFor } from '../../src/engine/endpoint.js';
import { SdockerError } from '../../src/errors.js';

function fsOf(files: Record<string, string>) {
  return (p: string): Buffer => {
    if (p in files) return Buffer.from(files[p]!);
    const err = new Error(`ENOENT: ${p}`) as NodeJS.ErrnoException;
    err.code = 'ENOENT';
    throw err;
  };
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const HOME = { HOME: '/home/u' };

describe('parseHost', () => {
  it('normalises as docker does', () => {
    expect(parseHost('', false)).toBe('unix:///var/run/docker.sock');
    expect(parseHost('', true)).toBe('tcp://localhost:2376');
    expect(parseHost('tcp://', false)).toBe('tcp://localhost:2375');
    expect(parseHost('tcp://1.2.3.4', true)).toBe('tcp://1.2.3.4:2376');
    expect(parseHost('1.2.3.4:99', false)).toBe('tcp://1.2.3.4:99');
    expect(parseHost('unix://', false)).toBe('unix:///var/run/docker.sock');
    expect(parseHost('unix:///x.sock', false)).toBe('unix:///x.sock');
    expect(parseHost('ssh://me@h', false)).toBe('ssh://me@h');
    expect(() => parseHost('foo://x', false)).toThrow(/invalid bind address/);
  });
});

describe('resolveEndpoint', () => {
  it('defaults to the unix socket', () => {
    const ep = resolveEndpoint({}, HOME, fsOf({}));
    expect(ep).toMatchObject({ kind: 'unix', socketPath: '/var/run/docker.sock', contextName: 'default' });
  });

  it('takes -H over DOCKER_HOST, and DOCKER_HOST over DOCKER_CONTEXT and currentContext', () => {
    const files = { '/home/u/.docker/config.json': JSON.stringify({ currentContext: 'nope' }) };
    expect(resolveEndpoint({ host: 'unix:///a.sock' }, { ...HOME, DOCKER_HOST: 'unix:///b.sock' }, fsOf(files))).toMatchObject({ socketPath: '/a.sock' });
    expect(resolveEndpoint({}, { ...HOME, DOCKER_HOST: 'unix:///b.sock', DOCKER_CONTEXT: 'nope' }, fsOf(files))).toMatchObject({ socketPath: '/b.sock' });
  });

  it('refuses plain tcp without TLS, with 125 and advice, unless allowed', () => {
    let err: unknown;
    try {
      resolveEndpoint({ host: 'tcp://127.0.0.1:2375' }, HOME, fsOf({}));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SdockerError);
    expect((err as SdockerError).exitCode).toBe(125);
    expect((err as Error).message).toMatch(/without TLS.*root/s);
    expect((err as Error).message).toMatch(/--tlsverify/);
    expect((err as Error).message).toMatch(/ssh:\/\//);
    expect((err as Error).message).toMatch(/--allow-insecure-tcp/);
    expect(() => resolveEndpoint({}, { ...HOME, DOCKER_HOST: 'tcp://10.0.0.1:2375' }, fsOf({}))).toThrow(SdockerError);
    expect(resolveEndpoint({ host: 'tcp://127.0.0.1:2375', allowInsecureTcp: true }, HOME, fsOf({}))).toMatchObject({
      kind: 'tcp',
      hostname: '127.0.0.1',
      port: 2375,
    });
  });

  it('uses TLS from flags and from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH', () => {
    const files = { '/certs/ca.pem': 'CA', '/certs/cert.pem': 'CERT', '/certs/key.pem': 'KEY' };
    const ep = resolveEndpoint({}, { ...HOME, DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }, fsOf(files));
    expect(ep.kind).toBe('tcp');
    if (ep.kind !== 'tcp') return;
    expect(ep.tls?.verify).toBe(true);
    expect(ep.tls?.ca?.toString()).toBe('CA');
    expect(ep.tls?.key?.toString()).toBe('KEY');
    const flags = resolveEndpoint({ host: 'tcp://h', tlsVerify: true, tlsCaCert: '/certs/ca.pem' }, HOME, fsOf(files));
    expect(flags).toMatchObject({ kind: 'tcp', port: 2376, tls: { verify: true } });
    // --tls alone: encrypted, server not verified; default cert files are optional
    const tlsOnly = resolveEndpoint({ host: 'tcp://h:1', tls: true }, HOME, fsOf({}));
    expect(tlsOnly).toMatchObject({ kind: 'tcp', tls: { verify: false } });
    // an explicit file that is missing is an error
    expect(() => resolveEndpoint({ host: 'tcp://h:1', tlsVerify: true, tlsCert: '/missing.pem' }, HOME, fsOf({}))).toThrow(/missing\.pem/);
  });

  it('reads a named context from the store, with its TLS material', () => {
    const dir = sha('prod');
    const files = {
      '/cfg/config.json': JSON.stringify({ currentContext: 'prod' }),
      [`/cfg/contexts/meta/${dir}/meta.json`]: JSON.stringify({ Name: 'prod', Endpoints: { docker: { Host: 'tcp://prod:2376', SkipTLSVerify: false } } }),
      [`/cfg/contexts/tls/${dir}/docker/ca.pem`]: 'PRODCA',
      [`/cfg/contexts/tls/${dir}/docker/cert.pem`]: 'PRODCERT',
      [`/cfg/contexts/tls/${dir}/docker/key.pem`]: 'PRODKEY',
    };
    const ep = resolveEndpoint({ configDir: '/cfg' }, HOME, fsOf(files));
    expect(ep).toMatchObject({ kind: 'tcp', hostname: 'prod', port: 2376, contextName: 'prod' });
    if (ep.kind === 'tcp') expect(ep.tls?.cert?.toString()).toBe('PRODCERT');
    // DOCKER_CONFIG is honoured as well, and --context / DOCKER_CONTEXT select it too
    expect(resolveEndpoint({}, { ...HOME, DOCKER_CONFIG: '/cfg' }, fsOf(files)).contextName).toBe('prod');
    expect(resolveEndpoint({ context: 'prod', configDir: '/cfg' }, HOME, fsOf(files)).contextName).toBe('prod');
    expect(resolveEndpoint({ configDir: '/cfg' }, { ...HOME, DOCKER_CONTEXT: 'default' }, fsOf(files)).kind).toBe('unix');
  });

  it('refuses a context whose endpoint is plain tcp, and a missing context', () => {
    const dir = sha('lan');
    const files = {
      [`/cfg/contexts/meta/${dir}/meta.json`]: JSON.stringify({ Name: 'lan', Endpoints: { docker: { Host: 'tcp://lan:2375' } } }),
    };
    expect(() => resolveEndpoint({ context: 'lan', configDir: '/cfg' }, HOME, fsOf(files))).toThrow(/without TLS/);
    expect(() => resolveEndpoint({ context: 'gone', configDir: '/cfg' }, HOME, fsOf(files))).toThrow(/context "gone".*not found/);
    expect(() => resolveEndpoint({ context: 'lan', host: 'unix:///x' }, HOME, fsOf(files))).toThrow(/conflicting/);
  });

  it('builds the ssh command like docker connhelper', () => {
    expect(sshArgsFor('ssh://me@box:2222')).toEqual(['-l', 'me', '-p', '2222', '-o', 'ConnectTimeout=30', '-T', '--', 'box', 'docker system dial-stdio']);
    expect(sshArgsFor('ssh://box/run/d.sock')).toEqual(['-o', 'ConnectTimeout=30', '-T', '--', 'box', 'docker --host=unix:///run/d.sock system dial-stdio']);
    expect(() => sshArgsFor('ssh://me:pw@box')).toThrow(/password/);
    expect(resolveEndpoint({ host: 'ssh://me@box' }, HOME, fsOf({}))).toMatchObject({ kind: 'ssh' });
  });
});
