/**
 * Issue 12 "what it must show", compose part: Debian's docker-compose 1.29 (docker-py inside)
 * through `bin/sdocker serve` (the door's server and judge, as shipped). A two-service
 * project comes up hardened (inspect: capabilities dropped, read-only root, user, seccomp,
 * limits; and from inside: /proc/self/status, uid); services with `privileged: true`,
 * `cap_add: [SYS_ADMIN]`, `pid: host` or the engine socket as a volume are refused and compose
 * prints the rule and the fix; `compose logs`, `exec`, `down` work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingStatus } from '../helpers/door.js';
import { CLI, cleanupTestObjects, spawnCollect, TEST_LABELS } from '../helpers/engine.js';
import { ensureTestImages, IMAGES } from '../helpers/images.js';
import { docker, listContainers, tempDir } from '../policy/engine-checks.js';

const tmp = tempDir('door-compose');
const socket = join(tmp.path, 'door.sock');
const host = `unix://${socket}`;
let serve: ChildProcess;
let decisions = '';
let diagnostics = '';
const hasCompose = existsSync('/usr/bin/docker-compose');

function labelsYaml(indent: string): string {
  return Object.entries(TEST_LABELS).map(([k, v]) => `${indent}${k}: "${v}"`).join('\n');
}

function project(name: string, services: Record<string, string>): { dir: string; name: string } {
  const dir = join(tmp.path, name);
  mkdirSync(dir, { recursive: true });
  const body = Object.entries(services)
    .map(([svc, extra]) => `  ${svc}:\n    image: ${IMAGES.root}\n    command: ["sh", "-c", "echo ${svc} up; exec sleep 300"]\n    labels:\n${labelsYaml('      ')}\n${extra}`)
    .join('\n');
  writeFileSync(join(dir, 'docker-compose.yml'), `version: "3.8"\nservices:\n${body}\n`);
  return { dir, name: `${name}${process.pid}` };
}

function compose(p: { dir: string; name: string }, args: string[], timeoutMs = 120_000) {
  return spawnCollect('docker-compose', ['-p', p.name, ...args], { cwd: p.dir, env: { DOCKER_HOST: host, COMPOSE_INTERACTIVE_NO_CLI: '1' }, timeoutMs });
}

beforeAll(async () => {
  await ensureTestImages();
  // The door as shipped: bin/sdocker serve, the socket's profile the default (restricted), JSON decision lines.
  serve = spawn(CLI, ['serve', '--socket', socket, '--log-format', 'json'], {
    env: { ...process.env, SDOCKER_STATE_DIR: join(tmp.path, 'state'), DOCKER_CONTEXT: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve.stdout?.on('data', (c: Buffer) => (decisions += c.toString()));
  serve.stderr?.on('data', (c: Buffer) => (diagnostics += c.toString()));
  for (let i = 0; i < 100 && !(existsSync(socket) && (await pingStatus(socket)) === 200); i++) await new Promise((r) => setTimeout(r, 200));
  expect(await pingStatus(socket), diagnostics).toBe(200);
});

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  await cleanupTestObjects();
  tmp.remove();
});

describe.skipIf(!hasCompose)('docker-compose 1.29 through the door', () => {
  it('a two-service project comes up hardened; logs, exec and down work', async () => {
    const p = project('sdtok', { web: '', worker: '    environment:\n      ROLE: worker\n' });
    try {
      const up = await compose(p, ['up', '-d']);
      expect(up.code, up.stderr).toBe(0);
      const ids = await listContainers(`com.docker.compose.project=${p.name}`);
      expect(ids).toHaveLength(2);
      for (const id of ids) {
        const hc = JSON.parse((await docker(['inspect', '--format', '{{json .HostConfig}}', id])).stdout) as {
          CapDrop: string[] | null; ReadonlyRootfs: boolean; SecurityOpt: string[] | null; PidsLimit: number; Memory: number; NanoCpus: number;
        };
        expect(hc.CapDrop).toContain('ALL');
        expect(hc.ReadonlyRootfs).toBe(true);
        expect(hc.SecurityOpt?.join(' ')).toMatch(/no-new-privileges/);
        expect(hc.PidsLimit).toBeGreaterThan(0);
        expect(hc.Memory).toBeGreaterThan(0);
        expect((await docker(['inspect', '--format', '{{.Config.User}}', id])).stdout.trim()).not.toBe('');
      }
      // From inside, through compose exec (hijacked exec through the door).
      const ex = await compose(p, ['exec', '-T', 'web', 'sh', '-c', "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; id -u; touch /x 2>&1 || true"]);
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stdout).toMatch(/CapEff:\s+0000000000000000/);
      expect(ex.stdout).toMatch(/NoNewPrivs:\s+1/);
      expect(ex.stdout).toMatch(/Seccomp:\s+2/);
      expect(ex.stdout).toMatch(/^65534$/m);
      expect(ex.stdout).toContain('Read-only file system');
      const logs = await compose(p, ['logs', '--no-color']);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout).toContain('web up');
      expect(logs.stdout).toContain('worker up');
      // A root exec is refused by the door, and compose says why.
      const root = await compose(p, ['exec', '-T', '-u', '0', 'web', 'id']);
      expect(root.code).not.toBe(0);
      expect(`${root.stdout}${root.stderr}`).toContain('SD-EXEC-002');
      // One decision line per request, with the client (docker-compose's uid and pid, SO_PEERCRED).
      const lines = decisions.trim().split('\n').map((l) => JSON.parse(l) as { route: string; action: string; peer?: { uid: number; pid: number }; rules?: string[] });
      const creates = lines.filter((l) => l.route === 'container.create' && l.action === 'respond');
      expect(creates.length).toBeGreaterThanOrEqual(2);
      expect(creates[0]!.peer?.uid).toBe(process.getuid!());
      expect(creates[0]!.peer?.pid).toBeGreaterThan(0);
      expect(lines.some((l) => l.route === 'container.exec' && l.action === 'refuse' && l.rules?.includes('SD-EXEC-002'))).toBe(true);
    } finally {
      const down = await compose(p, ['down', '-v', '-t', '1', '--remove-orphans']);
      expect(down.code, down.stderr).toBe(0);
      expect(await listContainers(`com.docker.compose.project=${p.name}`)).toEqual([]);
    }
  });

  it.each([
    ['privileged', '    privileged: true\n', 'SD-PRIV-001', 'privileged:'],
    ['capadd', '    cap_add: [SYS_ADMIN]\n', 'SD-CAP-001', 'capabilities:'],
    ['pidhost', '    pid: host\n', 'SD-NS-001', 'hostNamespaces:'],
    ['socket', '    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n', 'SD-MNT-001', 'SD-MNT-001'],
  ])('a service with %s is refused: compose prints the rule and the fix, nothing runs', async (tag, extra, rule, fix) => {
    const p = project(`sdt${tag}`, { bad: extra });
    try {
      const up = await compose(p, ['up', '-d']);
      expect(up.code).not.toBe(0);
      const out = `${up.stdout}${up.stderr}`;
      expect(out).toContain(rule);
      expect(out).toContain(fix);
      expect(await listContainers(`com.docker.compose.project=${p.name}`)).toEqual([]);
    } finally {
      await compose(p, ['down', '-v', '-t', '1', '--remove-orphans']);
    }
  });
});
