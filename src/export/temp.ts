/**
 * The export's working directory: `.sdocker-export-<pid>-XXXXXX` beside the output (same
 * filesystem, so the finished archive is renamed into place), 0700, removed on success, error or
 * SIGINT/SIGTERM. A SIGKILL leaves it: the next export into the same directory removes those
 * whose process is gone.
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = '.sdocker-export-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove what an export killed before it could clean up left in `dir`; returns the names removed. */
export function removeStale(dir: string): string[] {
  const gone: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return gone;
  }
  for (const n of names) {
    const m = /^\.sdocker-export-(\d+)-[A-Za-z0-9]{6}$/.exec(n);
    if (!m || alive(Number(m[1]))) continue;
    const p = join(dir, n);
    // Only a real directory of that name (never through a symlink someone put there).
    if (!lstatSync(p).isDirectory()) continue;
    rmSync(p, { recursive: true, force: true });
    gone.push(n);
  }
  return gone;
}

export function makeWorkDir(dir: string): string {
  return mkdtempSync(join(dir, `${PREFIX}${process.pid}-`));
}
