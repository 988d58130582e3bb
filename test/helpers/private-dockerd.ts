/**
 * A second, private dockerd for tests that judge a daemon's configuration (sdocker audit): its
 * own socket, data root, exec root, pidfile and containerd namespaces in a temp dir; either in a
 * network namespace of its own (iptables and docker0 there) or in the host's without iptables (so
 * it never touches the main engine's chains) and with its own bridge interface and subnet. Root only. stop() kills it, removes the bridge and the
 * dir; the caller calls it in afterAll.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateDockerd {
  socket: string;
  configFile: string;
  /** unix://SOCKET */
  host: string;
  dir: string;
  pid: number;
  /** The host's address on the daemon's own bridge (host network namespace only): swarm's --advertise-addr. */
  address?: string;
  stop(): Promise<void>;
}

let seq = 0;
const running = new Set<ChildProcess>();
// A test process that dies without its afterAll must not leave a daemon behind.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Start dockerd with `args` on top of the isolating ones; resolves once its socket answers. */
export interface PrivateDockerdOptions {
  /**
   * Ignored (kept for callers): in the host's network namespace the daemon always gets a bridge
   * interface of its own, never `--bridge=none`: dockerd started with `--bridge=none` deletes the
   * host's docker0 (moby's removeDefaultBridgeInterface), which breaks every container of the
   * main engine started afterwards ("could not find bridge docker0"). Never iptables.
   */
  bridge?: boolean;
  /**
   * In a network namespace of its own (unshare --net): docker0, iptables and icc there touch
   * nothing of the host's; its TCP listeners are unreachable from the host.
   */
  netns?: boolean;
  /** Its daemon.json (default {}). */
  config?: Record<string, unknown>;
}

export async function startPrivateDockerd(args: string[], opts: PrivateDockerdOptions = {}): Promise<PrivateDockerd> {
  const n = ++seq;
  const dir = mkdtempSync(join(tmpdir(), 'sda-dockerd-'));
  // userns-remap: the remapped root must be able to traverse to its data root.
  chmodSync(dir, 0o711);
  const socket = join(dir, 'docker.sock');
  // IFNAMSIZ: at most 15 characters; the subnet is unique per process and daemon.
  const bridge = !opts.netns ? `sdab${process.pid % 100000}x${n}` : undefined;
  const subnet = `10.${200 + n}.${process.pid % 250}`;
  if (bridge) {
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
  }
  const ns = `sda-${process.pid}-${n}`;
  // Its own daemon.json, always: the host's /etc/docker/daemon.json must not leak in.
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, JSON.stringify(opts.config ?? {}));
  const network = bridge ? ['--iptables=false', '--ip-masq=false', '--bridge', bridge] : [];
  const [cmd, pre] = opts.netns ? ['unshare', ['--net', 'dockerd']] : ['dockerd', []];
  const child: ChildProcess = spawn(cmd, [
    ...pre,
    '--host', `unix://${socket}`,
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'),
    '--config-file', configFile,
    '--containerd-namespace', ns,
    '--containerd-plugins-namespace', `${ns}-p`,
    ...network,
    ...args,
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log = (log + c.toString('utf8')).slice(-8000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (bridge) {
      try {
        sh('ip', ['link', 'del', bridge]);
      } catch {
        // already gone
      }
    }
    // dockerd bind-mounts its data root onto itself (private propagation) and, killed, may leave it.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m === dir || m.startsWith(`${dir}/`));
    for (const m of mounts.sort().reverse()) {
      try {
        sh('umount', ['-l', m]);
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      const why = log;
      await stop();
      throw new Error(`private dockerd exited (${child.exitCode}): ${why}`);
    }
    if (existsSync(socket)) {
      try {
        sh('curl', ['-fsS', '--max-time', '2', '--unix-socket', socket, 'http://engine/_ping']);
        break;
      } catch {
        // not ready yet
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`private dockerd did not answer on ${socket}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const pidFile = join(dir, 'docker.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : child.pid!;
  return { socket, configFile, host: `unix://${socket}`, dir, pid, stop, ...(bridge ? { address: `${subnet}.1` } : {}) };
}
