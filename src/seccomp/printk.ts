/**
 * printk_ratelimit for recordings, shared by every recorder on the host.
 *
 * The kernel drops most seccomp records unless /proc/sys/kernel/printk_ratelimit is 0. A recorder
 * that saved "the old value" for itself would save 0 when another recording was running, and
 * restore 0 for good. So the recorders keep a registry in a root-only directory (/run/sdocker/printk):
 *
 * - `saved`: the host's own value, written (tmp + rename) by a recorder that finds the value
 *   nonzero and either nothing saved or no other live recorder (a crash leftover is then outdated);
 * - `<pid>`: one entry per running recorder, holding the start time of the process (a reused pid
 *   is not taken for the recorder);
 * - `lock`: made with link(2), which fails if it exists, so each step below runs alone; a lock whose
 *   holder died is broken.
 *
 * Each recorder registers and sets 0; when one finishes it drops its entry and those of dead
 * pids, and if no live recorder is left it writes the saved value back and removes `saved`. A
 * recorder that crashed leaves 0 and `saved` behind: the next recorder to finish restores it.
 * /run is a tmpfs, so nothing outlives a reboot (nor does the value 0).
 */
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SdockerError } from '../errors.js';

export const PRINTK_RATELIMIT = '/proc/sys/kernel/printk_ratelimit';
export const PRINTK_REGISTRY = '/run/sdocker/printk';

export interface RateLimitOptions {
  /** The sysctl file (tests pass a plain file). */
  sysctl?: string;
  /** The registry directory, created 0700. */
  dir?: string;
  /** The recorder's pid (tests pass other live pids to act as a second recorder). */
  pid?: number;
  /** How long to wait for another recorder's step (milliseconds). */
  lockTimeoutMs?: number;
}

const SAVED = 'saved';
const LOCK = 'lock';

/** The start time of a process in clock ticks since boot, '' when unreadable. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** True when the process lives and, if a start time was recorded, is the same process. */
export function isLive(pid: number, stamp = ''): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(pid);
  return !stamp || !now || now === stamp;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The host-wide registry of recordings; each method runs under the registry's lock. */
export class RateLimitRegistry {
  readonly sysctl: string;
  readonly dir: string;
  private readonly lockTimeoutMs: number;

  constructor(options: RateLimitOptions = {}) {
    this.sysctl = options.sysctl ?? PRINTK_RATELIMIT;
    this.dir = options.dir ?? PRINTK_REGISTRY;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  }

  /** Registers `pid` as a recorder and sets the value to 0, saving the host's value if needed. */
  enter(pid: number): void {
    this.locked(pid, () => {
      const others = this.liveEntries(pid);
      const current = readFileSync(this.sysctl, 'utf8').trim();
      const saved = join(this.dir, SAVED);
      if (current !== '0' && (others.length === 0 || readOrUndefined(saved) === undefined)) {
        const tmp = join(this.dir, `${SAVED}.${pid}.tmp`);
        writeFileSync(tmp, `${current}\n`, { mode: 0o600 });
        renameSync(tmp, saved);
      }
      writeFileSync(join(this.dir, String(pid)), `${startTime(pid)}\n`, { mode: 0o600 });
      try {
        if (current !== '0') writeFileSync(this.sysctl, '0\n');
      } catch (err) {
        this.leaveLocked(pid);
        throw err;
      }
    });
  }

  /** Removes `pid`; the last live recorder writes the saved value back. */
  leave(pid: number): void {
    this.locked(pid, () => this.leaveLocked(pid));
  }

  private leaveLocked(pid: number): void {
    rmSync(join(this.dir, String(pid)), { force: true });
    if (this.liveEntries(pid).length > 0) return;
    const saved = join(this.dir, SAVED);
    const value = readOrUndefined(saved);
    if (value !== undefined && /^\d+$/.test(value)) writeFileSync(this.sysctl, `${value}\n`);
    rmSync(saved, { force: true });
  }

  /** The pids of live recorders other than `self`; entries of dead ones are removed. */
  private liveEntries(self: number): number[] {
    const live: number[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^\d+$/.test(name)) {
        // saved.<pid>.tmp, lock.<pid>, lock.broken.<pid> of a recorder that died in a step.
        const m = /^(?:saved|lock|lock\.broken)\.(\d+)(?:\.tmp)?$/.exec(name);
        if (m && !isLive(Number(m[1]))) rmSync(join(this.dir, name), { force: true });
        continue;
      }
      const pid = Number(name);
      if (pid === self) continue;
      if (isLive(pid, readOrUndefined(join(this.dir, name)) ?? '')) live.push(pid);
      else rmSync(join(this.dir, name), { force: true });
    }
    return live;
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(this.dir);
    const uid = process.getuid?.() ?? st.uid;
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
      throw new Error(`${this.dir} must be a directory of uid ${uid} with mode 0700`);
    }
  }

  private locked<T>(pid: number, step: () => T): T {
    this.ensureDir();
    const lock = join(this.dir, LOCK);
    const mine = join(this.dir, `${LOCK}.${pid}`);
    writeFileSync(mine, `${pid} ${startTime(pid)}\n`, { mode: 0o600 });
    const deadline = Date.now() + this.lockTimeoutMs;
    try {
      for (;;) {
        try {
          linkSync(mine, lock);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const [holder, stamp] = (readOrUndefined(lock) ?? '').split(' ');
        if (holder !== undefined && holder !== '' && !isLive(Number(holder), stamp)) this.breakLock(lock, holder, pid);
        else if (Date.now() > deadline) throw new Error(`${lock} is held by pid ${holder}`);
        else sleepSync(2);
      }
    } finally {
      rmSync(mine, { force: true });
    }
    try {
      return step();
    } finally {
      rmSync(lock, { force: true });
    }
  }

  /**
   * Removes a lock whose holder died: renamed aside first, so that if another recorder broke it
   * and took the lock in between, that live lock is put back rather than removed. (Only if a third
   * recorder took the lock in that same instant could two steps overlap: it needs a recorder killed
   * inside a step, which lasts microseconds, and three recorders starting at once.)
   */
  private breakLock(lock: string, deadHolder: string, pid: number): void {
    const aside = join(this.dir, `${LOCK}.broken.${pid}`);
    try {
      renameSync(lock, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if ((readOrUndefined(aside) ?? '').split(' ')[0] !== deadHolder) {
      try {
        linkSync(aside, lock);
      } catch {
        /* a third recorder holds it now: see above */
      }
    }
    unlinkSync(aside);
  }
}

/** Sets printk_ratelimit to 0 for one recording (the kernel drops most seccomp records otherwise); restore() ends it. */
export class RateLimitGuard {
  private done = false;
  private constructor(
    private readonly registry: RateLimitRegistry,
    private readonly pid: number,
  ) {}

  static disable(options: RateLimitOptions = {}): RateLimitGuard {
    const registry = new RateLimitRegistry(options);
    const pid = options.pid ?? process.pid;
    try {
      registry.enter(pid);
    } catch (err) {
      throw new SdockerError(`seccomp record: cannot set ${registry.sysctl} to 0: ${(err as Error).message}`);
    }
    return new RateLimitGuard(registry, pid);
  }

  /** Leaves the registry; the last recording to finish puts the host's value back. */
  restore(): void {
    if (this.done) return;
    this.done = true;
    this.registry.leave(this.pid);
  }
}
