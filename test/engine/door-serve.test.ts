/**
 * `sdocker serve` as a command: where it agrees to listen (the socket's mode, group, directory,
 * what is already at the path), TLS-only TCP with client certificates, systemd socket activation,
 * forwarding to itself, the decision log, and a clean stop on SIGTERM.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingStatus } from '../helpers/door.js';
import { CLI, freePort, runCli, spawnCollect } from '../helpers/engine.js';
import { ensureTestImages } from '../helpers/images.js';

let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await ensureTestImages();
  dir = mkdtempSync(join(tmpdir(), 'sdocker-serve-'));
  chmodSync(dir, 0o755);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Serving {
  child: ChildProcess;
  out(): string;
  err(): string;
  stop(): Promise<number | null>;
}

async function serve(args: string[], ready: () => Promise<boolean>, cmd: string[] = [CLI, 'serve']): Promise<Serving> {
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const deadline = Date.now() + 20_000;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not come up: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    out: () => out,
    err: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

describe('sdocker serve: the unix socket', () => {
  it('creates it 0660 with the given group, logs each decision, removes it on SIGTERM', async () => {
    const sock = join(dir, 'a.sock');
    const s = await serve(['--socket', sock, '--group', 'daemon'], async () => existsSync(sock) && (await pingStatus(sock)) === 200);
    const st = statSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(1);
    const r = await spawnCollect('docker', ['version', '--format', '{{.Server.Version}}'], { env: { DOCKER_HOST: `unix://${sock}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(s.out()).toMatch(/ pass system\.version GET \/version peer=uid:0,gid:0,pid:\d+\n/);
    expect(await s.stop()).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  it('replaces a stale socket (nothing answers), refuses a live one and anything else at the path', async () => {
    const stale = join(dir, 'stale.sock');
    // A process that binds and exits without unlinking leaves a dead socket behind.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`]);
    expect(statSync(stale).isSocket()).toBe(true);
    const s = await serve(['--socket', stale], async () => (await pingStatus(stale)) === 200);

    const live = await runCli(['serve', '--socket', stale]);
    expect(live.code).toBe(125);
    expect(live.stderr).toContain('a server already answers on this socket');
    expect(await s.stop()).toBe(0);

    const file = join(dir, 'file.sock');
    writeFileSync(file, 'not a socket');
    const f = await runCli(['serve', '--socket', file]);
    expect(f.code).toBe(125);
    expect(f.stderr).toContain('the path exists and is not a socket');
    expect(existsSync(file)).toBe(true);
  });

  it('refuses a directory others, or a group other than root, could write to', async () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const a = await runCli(['serve', '--socket', join(open, 'd.sock')]);
    expect(a.code).toBe(125);
    expect(a.stderr).toMatch(/refused: .*open is writable by every user \(mode 777\)/);
    const grp = join(dir, 'grp');
    mkdirSync(grp);
    chmodSync(grp, 0o775);
    execFileSync('chgrp', ['daemon', grp]);
    const b = await runCli(['serve', '--socket', join(grp, 'd.sock'), '--group', 'daemon']);
    expect(b.code).toBe(125);
    expect(b.stderr).toMatch(/writable by group 1 .*could replace the socket/);
    expect(existsSync(join(grp, 'd.sock')) || existsSync(join(open, 'd.sock'))).toBe(false);
  });

  it('refuses to forward to itself', async () => {
    const sock = join(dir, 'self.sock');
    const r = await runCli(['serve', '--socket', sock], { env: { DOCKER_HOST: `unix://${sock}` } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("is the door's own socket");
    expect(existsSync(sock)).toBe(false);
  });

  it('takes the socket systemd passes (socket activation)', async () => {
    const sock = join(dir, 'activated.sock');
    const s = await serve([], async () => existsSync(sock) && (await pingStatus(sock)) === 200, ['systemd-socket-activate', '-l', sock, CLI, 'serve']);
    const r = await spawnCollect('docker', ['info', '--format', '{{.ServerVersion}}'], { env: { DOCKER_HOST: `unix://${sock}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(s.err()).toContain('the socket systemd passed');
    await s.stop();
  });

  it('refuses flags it cannot use', async () => {
    const r = await runCli(['serve', '--socket', join(dir, 'x.sock'), '--log-format', 'xml']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('--log-format "xml": expected text or json');
    const n = await runCli(['serve']);
    expect(n.code).toBe(125);
    expect(n.stderr).toContain('serve needs --socket PATH');
  });
});

describe('sdocker serve: TCP', () => {
  it('refuses plain TCP', async () => {
    const r = await runCli(['serve', '--tcp', '127.0.0.1:2999']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('--tcp without --tls-cert, --tls-key and --tls-ca is refused');
  });

  it('serves TLS to a client with a certificate from the CA, and nobody else', async () => {
    const pki = join(dir, 'pki');
    mkdirSync(pki);
    const ossl = (...a: string[]) => execFileSync('openssl', a, { cwd: pki, stdio: 'pipe' });
    const key = (name: string) => ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    key('ca');
    ossl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=door-test-ca', '-days', '1');
    for (const [name, ext] of [
      ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
      ['client', 'extendedKeyUsage=clientAuth\n'],
    ] as const) {
      key(name);
      writeFileSync(join(pki, `${name}.ext`), ext);
      ossl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=door-${name}`);
      ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
    }
    const port = await freePort();
    const s = await serve(
      ['--tcp', `127.0.0.1:${port}`, '--tls-cert', join(pki, 'server.pem'), '--tls-key', join(pki, 'server.key'), '--tls-ca', join(pki, 'ca.pem')],
      // up once the port accepts connections (curl's 7: refused)
      async () => (await spawnCollect('curl', ['-s', '-o', '/dev/null', '--max-time', '2', `https://127.0.0.1:${port}/`])).code !== 7,
    );
    const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '' };
    const ok = await spawnCollect('docker', ['--tlsverify', '--tlscacert', join(pki, 'ca.pem'), '--tlscert', join(pki, 'client.pem'), '--tlskey', join(pki, 'client.key'), 'version', '--format', '{{.Server.Version}}'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(s.out()).toMatch(/pass system\.version GET \/version peer=unknown client="?CN=door-client/);
    const noCert = await spawnCollect('curl', ['-sS', '--max-time', '5', '--cacert', join(pki, 'ca.pem'), `https://127.0.0.1:${port}/_ping`]);
    expect(noCert.code).not.toBe(0);
    const withCert = await spawnCollect('curl', ['-sS', '--max-time', '5', '--cacert', join(pki, 'ca.pem'), '--cert', join(pki, 'client.pem'), '--key', join(pki, 'client.key'), `https://127.0.0.1:${port}/_ping`]);
    expect(withCert.stdout).toBe('OK');
    expect(await s.stop()).toBe(0);
  });
});
