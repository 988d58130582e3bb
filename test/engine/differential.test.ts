/**
 * The contract of `--policy privileged`: sdocker creates exactly the container docker creates.
 * Each command line goes to `docker create` and to `sdocker create --policy privileged` on the
 * same engine; `docker inspect` Config and HostConfig must be equal (ids, names, times aside).
 * Command lines docker refuses, sdocker must refuse too, with exit 125.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TEST_LABEL_ARGS, cleanupTestObjects } from '../helpers/engine.js';
import { IMAGES, ensureTestImages } from '../helpers/images.js';
import { INVALID, VALID } from './differential-cases.js';

const run = promisify(execFile);
const IMG = IMAGES.root;
const NET = 'sdt-diff-net';
const PEER = 'sdt-diff-peer';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

let fix: string;
let seq = 0;

async function exec(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  try {
    const r = await run(cmd, args, { cwd: fix, env: { ...process.env, FROM_CALLER: 'from the caller', ...env }, maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function substitute(args: string[], tool: string): string[] {
  seq++;
  return args.map((a) =>
    a
      .replaceAll('IMG', IMG)
      .replaceAll('FIX', fix)
      .replaceAll('NAME', `sdt-diff-${tool}-${process.pid}-${seq}`)
      .replaceAll('CIDFILE', join(fix, `cid-${tool}-${seq}`))
      .replaceAll('PEER', PEER)
      .replaceAll('NET', NET),
  );
}

async function inspect(id: string): Promise<{ Config: Record<string, unknown>; HostConfig: Record<string, unknown> }> {
  const r = await exec('docker', ['inspect', id]);
  const [obj] = JSON.parse(r.stdout) as Array<{ Id: string; Name: string; Config: Record<string, unknown>; HostConfig: Record<string, unknown> }>;
  const config = { ...obj!.Config };
  const host = { ...obj!.HostConfig };
  if (config.Hostname === obj!.Id.slice(0, 12)) config.Hostname = '<id>';
  if (host.ContainerIDFile) host.ContainerIDFile = '<cidfile>';
  // Legacy links name the linking container itself (`/peer:/<own name>/alias`).
  if (Array.isArray(host.Links)) host.Links = (host.Links as string[]).map((l) => l.replace(`${obj!.Name}/`, '/<self>/'));
  // docker's CLI ranges over a Go map to build Binds: their order is random, their set is not.
  if (Array.isArray(host.Binds)) host.Binds = [...(host.Binds as string[])].sort();
  // Likewise the -e values: docker's CLI passes them through a Go map (ParseProxyConfig).
  if (Array.isArray(config.Env)) config.Env = [...(config.Env as string[])].sort();
  return { Config: config, HostConfig: host };
}

function lastId(stdout: string): string {
  return stdout.trim().split('\n').pop() ?? '';
}

/** docker's daemon-error text, without the client's prefix. */
function daemonMessage(stderr: string): string {
  const m = /Error response from daemon: (.*)/.exec(stderr);
  return (m?.[1] ?? stderr).trim();
}

beforeAll(async () => {
  await ensureTestImages();
  fix = mkdtempSync(join(tmpdir(), 'sdt-diff-'));
  mkdirSync(join(fix, 'rel'));
  writeFileSync(join(fix, 'env.list'), '# comment\nA=from-file\n  B=spaced\nFROM_CALLER\nMISSING_IN_CALLER\n\nC=\n');
  writeFileSync(join(fix, 'labels'), 'team=core\nflag\n');
  writeFileSync(
    join(fix, 'seccomp.json'),
    JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] }, null, 2),
  );
  await exec('docker', ['network', 'create', ...TEST_LABEL_ARGS, '--subnet', '172.29.0.0/16', NET]);
  await exec('docker', ['create', ...TEST_LABEL_ARGS, '--name', PEER, '-v', '/peer-vol', IMG, 'true']);
});

afterAll(async () => {
  await cleanupTestObjects();
  await exec('docker', ['network', 'rm', NET]);
  await exec('docker', ['volume', 'rm', '-f', 'sdt-diff-vol', 'sdt-diff-vol2']);
  rmSync(fix, { recursive: true, force: true });
});

describe('sdocker create --policy privileged is docker create', () => {
  it(`has at least 100 valid and 20 invalid command lines`, () => {
    expect(VALID.length).toBeGreaterThanOrEqual(100);
    expect(INVALID.length).toBeGreaterThanOrEqual(20);
  });

  it.each(VALID.map((args) => [args.join(' '), args]))('same container: %s', async (_label, args) => {
    const label = TEST_LABEL_ARGS;
    const d = await exec('docker', ['create', ...label, ...substitute(args as string[], 'd')]);
    const s = await exec(CLI, ['create', '--policy', 'privileged', ...label, ...substitute(args as string[], 's')]);
    if (d.code !== 0) {
      // docker refused (its daemon or its client): sdocker must refuse for the same reason.
      expect(s.code, `sdocker accepted what docker refused: ${d.stderr}`).not.toBe(0);
      expect(s.stderr).toContain(daemonMessage(d.stderr).split('\n')[0]);
      return;
    }
    expect(s.code, s.stderr).toBe(0);
    const [di, si] = await Promise.all([inspect(lastId(d.stdout)), inspect(lastId(s.stdout))]);
    expect(si.Config).toEqual(di.Config);
    expect(si.HostConfig).toEqual(di.HostConfig);
  });

  it.each(INVALID.map((args) => [args.join(' ') || '(no arguments)', args]))('both refuse with 125: %s', async (_label, args) => {
    const d = await exec('docker', ['create', ...substitute(args as string[], 'd')]);
    const s = await exec(CLI, ['create', '--policy', 'privileged', ...substitute(args as string[], 's')]);
    expect(d.code, `docker: ${d.stderr}`).toBe(125);
    expect(s.code, `sdocker: ${s.stderr}`).toBe(125);
    expect(s.stdout).toBe('');
  });
});
