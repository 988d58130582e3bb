/**
 * A throw-away Debian docker-registry on 127.0.0.1 (the pull and image trust tests), with its
 * request log (to show a refused image was never asked for) and, when asked, htpasswd
 * authentication (bcrypt lines from apache2-utils' htpasswd).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './engine.js';

export interface TestRegistry {
  address: string;
  /** Everything the registry logged so far (one line per request at level info). */
  log(): string;
  /** Wait until the log has been quiet for 400 ms (it is written after the responses); its length then. */
  settled(): Promise<number>;
  stop(): Promise<void>;
}

export async function startTestRegistry(opts: { user?: string; password?: string } = {}): Promise<TestRegistry> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sdocker-imgtrust-registry-'));
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (opts.user && opts.password) {
    const line = execFileSync('htpasswd', ['-Bbn', opts.user, opts.password], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'htpasswd'), `${line}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: sdocker-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c: Buffer) => (log += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (log += c.toString('utf8')));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log}`);
    try {
      const res = await fetch(`http://${address}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not answer on ${address}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    log: () => log,
    async settled() {
      let n = -1;
      while (n !== log.length) {
        n = log.length;
        await new Promise((r) => setTimeout(r, 400));
      }
      return n;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
