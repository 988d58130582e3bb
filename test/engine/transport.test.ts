/**
 * The non-unix transports against the real engine: TCP with mutual TLS (through a TLS terminator
 * in front of the engine's unix socket, with client-certificate verification), and ssh:// (with an
 * `ssh` on PATH that runs `docker system dial-stdio` locally, as the remote end would).
 */
import { httpApi } from '../../src/engine/http-api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { createServer as tlsServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/client.js';
import { resolveEndpoint } from '../../src/engine/endpoint.js';
import { runSession } from '../../src/session/run.js';
import { SdockerError } from '../../src/errors.js';
import { baseBody, cleanupTestObjects, memoryIO, runCli, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';

let dir: string;
let server: Server;
let port: number;
const pem = (n: string) => join(dir, n);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  await ensureTestImages();
  dir = mkdtempSync(join(tmpdir(), 'sdt-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sdt-ca');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(pem(`${name}.ext`), `${ext}\n`);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  // A TLS terminator that demands a client certificate signed by our CA, forwarding to the engine
  // with half-close in both directions.
  server = tlsServer(
    {
      key: readFileSync(pem('server-key.pem')),
      cert: readFileSync(pem('server.pem')),
      ca: readFileSync(pem('ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      allowHalfOpen: true,
    },
    (tlsSock) => {
      const engine = netConnect({ path: '/var/run/docker.sock', allowHalfOpen: true });
      tlsSock.pipe(engine);
      engine.pipe(tlsSock);
      tlsSock.on('error', () => engine.destroy());
      engine.on('error', () => tlsSock.destroy());
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server?.close();
  await cleanupTestObjects();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tcp with TLS', () => {
  it('runs a session over mutual TLS: stdin EOF through the TLS half-close, streams, exit status', async () => {
    const ep = resolveEndpoint(
      { host: `tcp://127.0.0.1:${port}`, tlsVerify: true, tlsCaCert: pem('ca.pem'), tlsCert: pem('client.pem'), tlsKey: pem('client-key.pem') },
      {},
    );
    expect(ep).toMatchObject({ kind: 'tcp', tls: { verify: true } });
    const client = new EngineClient(ep);
    try {
      const io = memoryIO({ stdin: Buffer.alloc(100_003, 1) });
      const body = baseBody(IMAGES.root, ['sh', '-c', 'wc -c; echo e >&2; exit 9'], { stdin: true, autoRemove: true });
      const res = await runSession(httpApi(client), { mode: 'run', body, image: IMAGES.root, pull: 'never', quiet: false, detach: false, sigProxy: true }, io);
      expect(io.stdoutText().trim()).toBe('100003');
      expect(io.stderrText()).toBe('e\n');
      expect(res.exitCode).toBe(9);
    } finally {
      client.close();
    }
  });

  it('the same through DOCKER_TLS_VERIFY/DOCKER_CERT_PATH in the CLI', async () => {
    const certs = mkdtempSync(join(tmpdir(), 'sdt-certs-'));
    writeFileSync(join(certs, 'ca.pem'), readFileSync(pem('ca.pem')));
    writeFileSync(join(certs, 'cert.pem'), readFileSync(pem('client.pem')));
    writeFileSync(join(certs, 'key.pem'), readFileSync(pem('client-key.pem')));
    const r = await runCli(['run', '--rm', ...TEST_LABEL_ARGS, IMAGES.root, 'echo', 'over-tls'], {
      env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
    });
    rmSync(certs, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('over-tls\n');
    expect(r.code).toBe(0);
  });

  it('fails with 125 when the server does not accept us (no client certificate)', async () => {
    const client = new EngineClient(resolveEndpoint({ host: `tcp://127.0.0.1:${port}`, tlsVerify: true, tlsCaCert: pem('ca.pem') }, {}));
    const err = await client.json('GET', '/version').catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(SdockerError);
    expect((err as SdockerError).exitCode).toBe(125);
  });

  it('fails when the server certificate is not trusted', async () => {
    const client = new EngineClient(
      resolveEndpoint({ host: `tcp://127.0.0.1:${port}`, tlsVerify: true, tlsCert: pem('client.pem'), tlsKey: pem('client-key.pem'), configDir: dir + '/none' }, {}),
    );
    const err = await client.json('GET', '/version').catch((e: unknown) => e);
    client.close();
    expect((err as Error).message).toMatch(/certificate/i);
  });
});

describe('ssh', () => {
  it('speaks HTTP over `ssh ... docker system dial-stdio`, with the args docker uses', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'sdt-ssh-'));
    const argsFile = join(bin, 'args');
    writeFileSync(
      join(bin, 'ssh'),
      `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argsFile}'\nexec docker -H unix:///var/run/docker.sock system dial-stdio\n`,
    );
    chmodSync(join(bin, 'ssh'), 0o755);
    try {
      const r = await runCli(['-H', 'ssh://me@fakehost:2222', 'run', '--rm', '-i', ...TEST_LABEL_ARGS, IMAGES.root, 'wc', '-c'], {
        input: Buffer.alloc(70_001, 2),
        env: { PATH: `${bin}:${process.env.PATH ?? ''}`, DOCKER_HOST: undefined },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('70001');
      expect(r.code).toBe(0);
      const calls = readFileSync(argsFile, 'utf8');
      expect(calls).toContain(['-l', 'me', '-p', '2222', '-o', 'ConnectTimeout=30', '-T', '--', 'fakehost', 'docker system dial-stdio'].join('\n'));
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
