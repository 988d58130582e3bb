/**
 * Helpers for the policy engine tests (test/engine/policy-*.test.ts): run the built CLI in a given
 * working directory, call the docker CLI, and look at what the engine really did (events, volumes,
 * inspect) rather than at what sdocker meant to send.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, engineClient, spawnCollect, TEST_LABEL_ARGS, type CliResult } from '../helpers/engine.js';

export interface Run extends CliResult {
  code: number | null;
}

/**
 * `bin/sdocker ARGS` in `cwd`, with extra environment. The launcher is executed as itself (its
 * shebang), not as `node bin/sdocker`, so it works whether it is a node script or a shell script.
 */
export function sdocker(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<Run> {
  return spawnCollect(CLI, args, opts);
}

/** The real docker CLI (the reference the policy is compared against). */
export function docker(args: string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return spawnCollect('docker', args, opts);
}

/** `bash -c LINE`: for the equivalent command lines sdocker prints (shell-quoted). */
export function bash(line: string, opts: { timeoutMs?: number } = {}): Promise<Run> {
  return spawnCollect('bash', ['-c', line], opts);
}


export function execText(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

/** A temp dir removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `sdocker-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Labels unique to one test case, on top of the owner labels cleanupTestObjects() uses. */
export function caseLabel(tag: string): { key: string; value: string; args: string[] } {
  const key = 'sdocker.test.case';
  const value = `${tag}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return { key, value, args: [...TEST_LABEL_ARGS, '--label', `${key}=${value}`] };
}

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
}

/** Events the engine recorded between `since` and now (ms timestamps), with API filters. */
export async function eventsSince(sinceMs: number, filters: Record<string, string[]>): Promise<EngineEvent[]> {
  const c = engineClient();
  try {
    const res = await c.request('GET', '/events', {
      query: { since: (sinceMs / 1000 - 1).toFixed(3), until: (Date.now() / 1000).toFixed(3), filters: JSON.stringify(filters) },
    });
    const chunks: Buffer[] = [];
    for await (const ch of res) chunks.push(ch as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as EngineEvent);
  } finally {
    c.close();
  }
}

export interface VolumeInfo {
  Name: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

export async function listVolumes(): Promise<VolumeInfo[]> {
  const c = engineClient();
  try {
    return (await c.json<{ Volumes: VolumeInfo[] | null }>('GET', '/volumes')).Volumes ?? [];
  } finally {
    c.close();
  }
}

export async function listContainers(label?: string): Promise<string[]> {
  const c = engineClient();
  try {
    const query: Record<string, string | number> = { all: 1 };
    if (label) query.filters = JSON.stringify({ label: [label] });
    return (await c.json<Array<{ Id: string }>>('GET', '/containers/json', { query })).map((x) => x.Id);
  } finally {
    c.close();
  }
}

export async function inspect<T = Record<string, unknown>>(id: string): Promise<T> {
  const c = engineClient();
  try {
    return await c.json<T>('GET', `/containers/${encodeURIComponent(id)}/json`);
  } finally {
    c.close();
  }
}

export async function removeVolume(name: string): Promise<void> {
  const c = engineClient();
  try {
    await c.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: 1 } }).catch(() => undefined);
  } finally {
    c.close();
  }
}

/** The host path of a volume sdocker made for a bind (labelled io.sdocker.bind, named or anonymous). */
export function bindDevice(v: VolumeInfo): string | undefined {
  return v.Labels?.['io.sdocker.bind'] ?? undefined;
}

/** Remove the bind volumes sdocker made for host paths under `dir` (left by -d runs without --rm). */
export async function removeOwnedVolumesUnder(dir: string): Promise<void> {
  for (const v of await listVolumes()) {
    const dev = bindDevice(v);
    if (dev && (dev === dir || dev.startsWith(`${dir}/`))) await removeVolume(v.Name);
  }
}

/** `key=value` lines of a probe script's output, later keys win. */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][\w.-]*)[=:]\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** A probe run inside the container: prints what the kernel says about the process and its mounts. */
export const PROBE = [
  "grep -E '^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status",
  'echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "groups=$(id -G)"',
  'echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
  'echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"',
  'echo "cfs_quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"',
  'echo "rootwrite=$(touch /probe 2>&1 && echo ok)"',
  'echo "tmpwrite=$(echo x > /tmp/probe 2>&1 && cat /tmp/probe)"',
  "echo \"tmpmount=$(grep ' /tmp ' /proc/mounts)\"",
].join('\n');

/** Mount options of `target` from /proc/mounts text. */
export function mountOptions(procMounts: string, target: string): string[] | undefined {
  for (const line of procMounts.split('\n')) {
    const f = line.split(' ');
    if (f[1] === target) return (f[3] ?? '').split(',');
  }
  return undefined;
}

/** Connect over TCP, send `GET / HTTP/1.0`, resolve with the first line of the reply. */
export function httpStatusLine(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: 3000 });
    let buf = '';
    s.on('connect', () => s.write('GET / HTTP/1.0\r\n\r\n'));
    s.on('data', (d: Buffer) => (buf += d.toString('utf8')));
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', reject);
    s.on('close', () => (buf ? resolve(buf.split('\r\n')[0]!) : reject(new Error('no reply'))));
  });
}
