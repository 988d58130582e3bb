/**
 * Engine tests of the shipped default and of the recorder: every claim is checked by what happens
 * inside a real container on the engine (exit status, output, the errno a blocked call gets).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seccompCommand } from '../../src/cli/seccomp.js';
import { parseProfile } from '../../src/seccomp/profile.js';
import { isLive, PRINTK_RATELIMIT, PRINTK_REGISTRY } from '../../src/seccomp/printk.js';
import { LOG_PROFILE, recordWorkload } from '../../src/seccomp/record.js';
import { checkProfile } from '../../src/seccomp/validate.js';
import { TEST_LABEL_ARGS, cleanupTestObjects, memoryIO, REPO_ROOT } from '../helpers/engine.js';
import { ensureBusybox, ensureRedis } from './images.js';
import { waitFor } from '../helpers/wait.js';

const exec = promisify(execFile);
const DEFAULT = join(REPO_ROOT, 'profiles/seccomp/default.json');
const root = process.getuid?.() === 0;
let dir = '';
let busybox = '';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker run --rm` with a seccomp profile file: the engine's own path for --security-opt seccomp=FILE. */
async function dockerRun(profile: string, image: string, cmd: string[], extra: string[] = []): Promise<Run> {
  try {
    const r = await exec('docker', ['run', '--rm', ...TEST_LABEL_ARGS, '--network', 'none', '--security-opt', `seccomp=${profile}`, ...extra, image, ...cmd], { timeout: 50_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** File, process and network operations of a busybox shell. */
const WORKLOAD =
  'mkdir -p /tmp/d && echo data > /tmp/d/f && cp /tmp/d/f /tmp/d/g && cat /tmp/d/g && ls -l /tmp/d >/dev/null && rm -r /tmp/d && ' +
  'sleep 0.1 & wait; ps >/dev/null; (echo pong | nc -l -p 7000 >/dev/null &); sleep 0.3; echo ping | nc 127.0.0.1 7000; echo done';

// Waits up to 15 s for the server (under a logging profile and a loaded machine it starts slowly)
// and always stops it, so a failure shows as wrong output instead of a container that never exits.
const REDIS =
  'redis-server --port 6379 --save "" --appendonly no --daemonize no >/tmp/redis.log 2>&1 & ' +
  'i=0; while [ $i -lt 75 ] && ! redis-cli ping 2>/dev/null | grep -q PONG; do sleep 0.2; i=$((i+1)); done; ' +
  'redis-cli set k sdocker >/dev/null && redis-cli get k && redis-cli incr n; ' +
  'redis-cli shutdown nosave >/dev/null 2>&1 || kill $!; wait; echo exit=$?';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdocker-seccomp-'));
  busybox = await ensureBusybox();
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cleanupTestObjects();
});

describe('shipped default profile', () => {
  it('runs busybox shells and keeps namespaces, mounts and ptrace out (EPERM)', async () => {
    const ok = await dockerRun(DEFAULT, busybox, ['sh', '-c', WORKLOAD]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('data\npong\ndone\n');
    expect(ok.code).toBe(0);
    const blocked = await dockerRun(DEFAULT, busybox, ['sh', '-c', 'unshare -U true; mount -t tmpfs t /mnt; echo end'], ['--cap-add', 'SYS_ADMIN']);
    expect(blocked.stderr).toContain('unshare(0x10000000): Operation not permitted');
    expect(blocked.stderr).toMatch(/mount: permission denied/);
    expect(blocked.stdout).toBe('end\n');
  });

  it('runs redis-server (Debian) that answers redis-cli', async () => {
    const image = await ensureRedis();
    const r = await dockerRun(DEFAULT, image, ['sh', '-c', REDIS]);
    expect(r.stdout).toBe('sdocker\n1\nexit=0\n');
    expect(r.code).toBe(0);
  });
});

describe.skipIf(!root)('seccomp record', () => {
  it('records a busybox workload; the recorded profile runs it, and other calls fail with its errno', async () => {
    const out = join(dir, 'busybox.json');
    const io = memoryIO();
    // --no-margin: this checks what the recording itself holds (the margin has its own test below).
    const code = await seccompCommand(['record', '-o', out, '--no-margin', '--rm', ...TEST_LABEL_ARGS, '--network', 'none', busybox, 'sh', '-c', WORKLOAD], io);
    expect(io.stderrText()).toMatch(/syscall names from \d+ records/);
    expect(code).toBe(0);
    expect(io.stdoutText()).toBe('data\npong\ndone\n');
    const profile = parseProfile(readFileSync(out, 'utf8'), out).profile;
    expect(checkProfile(profile).filter((f) => f.severity === 'error')).toEqual([]);
    const names = new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
    for (const n of ['execve', 'openat', 'write', 'clone', 'wait4', 'socket', 'bind', 'listen', 'connect']) {
      expect(names.has(n), n).toBe(true);
    }
    expect(names.size).toBeLessThan(100);

    const again = await dockerRun(out, busybox, ['sh', '-c', WORKLOAD]);
    expect(again.stdout).toBe('data\npong\ndone\n');
    expect(again.code).toBe(0);

    // Outside the recording: unshare gets the EPERM rule; mkfifo (mknodat) the default errno, which the
    // engine takes from defaultErrnoRet (ENOSYS) from Docker 23.0 on and answers EPERM for before.
    const outside = await dockerRun(out, busybox, ['sh', '-c', 'unshare -U true; mkfifo /tmp/p; echo end']);
    expect(outside.stderr).toContain('unshare(0x10000000): Operation not permitted');
    const major = Number((await exec('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.split('.')[0]);
    expect(outside.stderr).toMatch(major >= 23 ? /mkfifo: .*Function not implemented/ : /mkfifo: .*Operation not permitted/);
    expect(outside.stdout).toBe('end\n');
  });

  it('records only the target while a noisy container logs at the same time', async () => {
    const logProfile = join(dir, 'log.json');
    writeFileSync(logProfile, JSON.stringify(LOG_PROFILE));
    // The noise: calls the target never makes (sync, mknodat, ioprio_set, getpriority), under a logging profile too.
    const noisy = (
      await exec('docker', ['run', '-d', '--rm', ...TEST_LABEL_ARGS, '--network', 'none', '--security-opt', `seccomp=${logProfile}`, busybox,
        'sh', '-c', 'while :; do sync; mkfifo /tmp/p; rm -f /tmp/p; ionice -c 3 true 2>/dev/null; nice -n 1 true; sleep 0.02; done'])
    ).stdout.trim();
    try {
      await waitFor(async () => (await exec('docker', ['inspect', '-f', '{{.State.Running}}', noisy])).stdout.trim() === 'true', { timeoutMs: 10_000, intervalMs: 50, what: 'the noisy container to run' });
      const rec = await recordWorkload(async (opt) => {
        const file = join(dir, 'rec-log.json');
        writeFileSync(file, opt.slice('seccomp='.length));
        const id = (await exec('docker', ['run', '-d', ...TEST_LABEL_ARGS, '--network', 'none', '--security-opt', `seccomp=${file}`, busybox, 'sh', '-c', WORKLOAD])).stdout.trim();
        const status = Number((await exec('docker', ['wait', id])).stdout.trim());
        await exec('docker', ['rm', '-f', id]);
        return { containerId: id, exitCode: status };
      });
      expect(rec.exitCode).toBe(0);
      expect(rec.warnings).toEqual([]);
      // The noisy container's records were there to be (mis)taken...
      expect(rec.seen).toBeGreaterThan(rec.kept + 100);
      // ...and none made it into the target's recording.
      const names = rec.syscalls.get('SCMP_ARCH_X86_64')!;
      expect(names.has('execve')).toBe(true);
      expect(names.has('connect')).toBe(true);
      for (const n of ['sync', 'mknodat', 'ioprio_set', 'setpriority']) expect(names.has(n), n).toBe(false);
    } finally {
      await exec('docker', ['rm', '-f', noisy]).catch(() => undefined);
    }
  });

  it('records redis-server; the recorded profile runs it', async () => {
    const image = await ensureRedis();
    const out = join(dir, 'redis.json');
    const io = memoryIO();
    const code = await seccompCommand(['record', '-o', out, '--rm', ...TEST_LABEL_ARGS, '--network', 'none', image, 'sh', '-c', REDIS], io);
    expect(io.stdoutText()).toBe('sdocker\n1\nexit=0\n');
    expect(code).toBe(0);
    const again = await dockerRun(out, image, ['sh', '-c', REDIS]);
    expect(again.stdout).toBe('sdocker\n1\nexit=0\n');
    expect(again.code).toBe(0);
  });

  /**
   * The case the margin exists for: redis-server recorded alone (no shell around it, no background
   * save during the trial) never calls wait4; a BGSAVE later forks a child the server must reap.
   * Without the margin the save fails ("waitpid() returned an error: Operation not permitted");
   * with it the save completes, and `docker exec redis-cli` (inside the same filter) works.
   * The recording's container and volumes are gone afterwards.
   */
  it('the margin keeps BGSAVE and docker exec working under a recording of redis-server alone', async () => {
    const image = await ensureRedis();
    // The host's redis-cli against a published port; bounded, so a blocked server fails the test instead of hanging it.
    const hostCli = (port: string, ...args: string[]) =>
      exec('redis-cli', ['-p', port, ...args], { timeout: 3000 }).then((r) => r.stdout, (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`);
    const portOf = async (container: string) =>
      /:(\d+)\s*$/.exec((await exec('docker', ['port', container, '6379'])).stdout.trim().split('\n')[0] ?? '')?.[1] ?? '';
    // Bounded waits whose outcome the caller checks itself (a timeout is a result here, not an error).
    const until = (ok: () => Promise<boolean>, ms: number) => waitFor(ok, { timeoutMs: ms, intervalMs: 150 }).catch(() => undefined);
    // A trial as a user would run it: the server serves a client (PING, SET, GET) but never saves.
    const record = async (file: string, extra: string[]): Promise<string> => {
      const name = `sdocker-rec-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      const io = memoryIO();
      const running = seccompCommand(['record', '-o', file, ...extra, '--name', name, ...TEST_LABEL_ARGS, '-p', '127.0.0.1::6379',
        '--entrypoint', 'redis-server', image, '--port', '6379', '--save', '', '--dir', '/tmp', '--protected-mode', 'no'], io);
      await until(async () => (await exec('docker', ['inspect', '-f', '{{.State.Running}}', name]).catch(() => ({ stdout: '' }))).stdout.trim() === 'true', 30_000);
      const port = await portOf(name);
      await until(async () => (await hostCli(port, 'ping')).includes('PONG'), 15_000);
      expect(await hostCli(port, 'set', 'k', 'v')).toContain('OK');
      expect(await hostCli(port, 'get', 'k')).toContain('v');
      await exec('docker', ['stop', '-t', '10', name]).catch(() => undefined);
      expect(await running).toBe(0);
      // Nothing left: the container (removed although --rm was not given) and its volumes.
      expect((await exec('docker', ['ps', '-aq', '--filter', `name=${name}`])).stdout.trim()).toBe('');
      return io.stderrText();
    };
    // The server published on 127.0.0.1 and driven by the host's redis-cli, so only the server's
    // own calls are under test; then `docker exec redis-cli`, which runs inside the same filter.
    const bgsave = async (file: string): Promise<{ status: string; logs: string; exec: string }> => {
      const id = (await exec('docker', ['run', '-d', ...TEST_LABEL_ARGS, '-p', '127.0.0.1::6379', '--read-only', '--tmpfs', '/tmp', '-u', '65534:65534',
        '--security-opt', `seccomp=${file}`, '--entrypoint', 'redis-server', image, '--port', '6379', '--save', '', '--dir', '/tmp', '--protected-mode', 'no'])).stdout.trim();
      try {
        const port = await portOf(id);
        await until(async () => (await hostCli(port, 'ping')).includes('PONG'), 15_000);
        await hostCli(port, 'set', 'k', 'v');
        await hostCli(port, 'bgsave');
        // Done when no save is running and the change is saved, or the save is reported failed, or the
        // server logged that it could not reap the child (then "in progress" may never clear).
        const logs = async () => exec('docker', ['logs', id]).then((r) => r.stdout + r.stderr);
        await until(async () => {
          const info = await hostCli(port, 'info', 'persistence');
          return (/rdb_bgsave_in_progress:0/.test(info) && /rdb_changes_since_last_save:0|rdb_last_bgsave_status:err/.test(info)) || /waitpid\(\) returned an error/.test(await logs());
        }, 10_000);
        const status = /rdb_last_bgsave_status:(\w+)/.exec(await hostCli(port, 'info', 'persistence'))?.[1] ?? '';
        const inside = await exec('docker', ['exec', id, 'redis-cli', 'ping'], { timeout: 5000 }).then((r) => r.stdout, (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`);
        return { status, logs: await logs(), exec: inside };
      } finally {
        await exec('docker', ['rm', '-f', '-v', id]).catch(() => undefined);
      }
    };
    const bare = join(dir, 'redis-bare.json');
    const withMargin = join(dir, 'redis-margin.json');
    await record(bare, ['--no-margin']);
    const said = await record(withMargin, []);
    expect(said).toMatch(/margin \(process\): .*wait4/);
    expect(said).toMatch(/background work/);
    const failing = await bgsave(bare);
    expect(failing.logs).toMatch(/waitpid\(\) returned an error: Operation not permitted/);
    expect(failing.exec).toMatch(/Operation not permitted/);
    const working = await bgsave(withMargin);
    expect(working.status).toBe('ok');
    expect(working.logs).toMatch(/Background saving terminated with success/);
    expect(working.logs).not.toMatch(/waitpid\(\) returned an error/);
    expect(working.exec.trim()).toBe('PONG');
  });

  it('restores printk_ratelimit', async () => {
    // A recording of its own first (the value is lowered while recording), not the earlier tests'.
    const io = memoryIO();
    const code = await seccompCommand(['record', '-o', join(dir, 'printk.json'), '--rm', ...TEST_LABEL_ARGS, '--network', 'none', busybox, 'true'], io);
    expect(code, io.stderrText()).toBe(0);
    // Another test file may be recording at this moment (the value is host-wide, and the last
    // recorder to finish restores it): wait, bounded, until no live recorder is registered.
    const live = () => {
      try {
        return readdirSync(PRINTK_REGISTRY).filter((n) => /^\d+$/.test(n) && isLive(Number(n), readFileSync(join(PRINTK_REGISTRY, n), 'utf8').trim()));
      } catch {
        return [];
      }
    };
    await waitFor(() => live().length === 0, { timeoutMs: 60_000, intervalMs: 200, what: 'no live seccomp recorder' });
    expect(readFileSync(PRINTK_RATELIMIT, 'utf8').trim()).not.toBe('0');
  });
});
