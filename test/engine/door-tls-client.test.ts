/**
 * Who a TLS client of the door is (issue 12, "who did it"): its certificate's subject and sha256
 * in the log line and the run record; what it makes is labelled with the certificate, and another
 * certificate signed by the same CA may not act in it (start, exec...: SD-DOOR-004); it may not
 * name a project profile (no uid to judge the files by: SD-DOOR-007).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanupTestObjects, freePort, spawnCollect, TEST_LABEL_ARGS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('door-tls-client');
const pki = join(tmp.path, 'pki');
let child: ChildProcess;
let out = '';
let err = '';
let port = 0;

const ossl = (...a: string[]) => execFileSync('openssl', a, { cwd: pki, stdio: 'pipe' });

function certSha256(name: string): string {
  return createHash('sha256').update(ossl('x509', '-in', `${name}.pem`, '-outform', 'der')).digest('hex');
}

function as(name: string, args: string[]) {
  return spawnCollect('docker', ['--tlsverify', '--tlscacert', join(pki, 'ca.pem'), '--tlscert', join(pki, `${name}.pem`), '--tlskey', join(pki, `${name}.key`), ...args], {
    env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '', DOCKER_CONTEXT: undefined },
  });
}

beforeAll(async () => {
  await ensureTestImages();
  chmodSync(tmp.path, 0o755);
  mkdirSync(pki);
  const key = (name: string) => ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  key('ca');
  ossl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=door-tls-ca', '-days', '1');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['alice', 'extendedKeyUsage=clientAuth\n'],
    ['bob', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    key(name);
    writeFileSync(join(pki, `${name}.ext`), ext);
    ossl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=team/CN=${name}`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  port = await freePort();
  child = spawn(CLI, ['serve', '--tcp', `127.0.0.1:${port}`, '--tls-cert', join(pki, 'server.pem'), '--tls-key', join(pki, 'server.key'), '--tls-ca', join(pki, 'ca.pem'), '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SDOCKER_STATE_DIR: join(tmp.path, 'state'), DOCKER_CONTEXT: '' },
  });
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  for (let i = 0; i < 100 && (await as('alice', ['version', '--format', '{{.Server.Version}}'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  await cleanupTestObjects();
  tmp.remove();
});

describe('a TLS client of the door is its certificate', () => {
  it('in the log line, the run record and the container; another certificate may not act in it', async () => {
    const alice = certSha256('alice');
    const made = await as('alice', ['create', ...TEST_LABEL_ARGS, IMAGES.root, 'sleep', '30']);
    expect(made.code, `${made.stderr}\n${err}`).toBe(0);
    const id = made.stdout.trim();
    try {
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { route: string; action: string; client?: string; clientSha256?: string; id?: string });
      const line = lines.find((l) => l.route === 'container.create' && l.id === id);
      expect(line?.client).toBe('O=team,CN=alice');
      expect(line?.clientSha256).toBe(alice);
      const rec = readFileSync(join(tmp.path, 'state', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { containerId?: string; client?: unknown })
        .find((r) => r.containerId === id);
      expect(rec?.client).toEqual({ subject: 'O=team,CN=alice', sha256: alice });
      expect((await docker(['inspect', '--format', '{{index .Config.Labels "io.sdocker.client.sha256"}}', id])).stdout.trim()).toBe(alice);
      // bob's certificate comes from the same CA, but the container is alice's.
      const bob = await as('bob', ['start', id]);
      expect(bob.code).not.toBe(0);
      expect(bob.stderr).toContain('SD-DOOR-004');
      expect(bob.stderr).toContain('not made through the door for this client certificate (O=team,CN=bob)');
      expect((await docker(['inspect', '--format', '{{.State.Running}}', id])).stdout.trim()).toBe('false');
      const mine = await as('alice', ['start', id]);
      expect(mine.code, mine.stderr).toBe(0);
      const ex = await as('bob', ['exec', id, 'true']);
      expect(ex.stderr).toContain('SD-DOOR-004');
      // No uid over TLS: a project profile cannot be judged for this client.
      const proj = await as('alice', ['create', ...TEST_LABEL_ARGS, '--label', `io.sdocker.project=${tmp.path}`, IMAGES.root, 'true']);
      expect(proj.code).not.toBe(0);
      expect(proj.stderr).toContain('SD-DOOR-007');
    } finally {
      await docker(['rm', '-f', id]);
    }
  });
});
