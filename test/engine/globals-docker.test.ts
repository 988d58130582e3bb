/**
 * sdocker's reading of docker's global options against docker's own (issue 7, point 1): generated
 * command lines (global options in every spelling, `--`, run/create/other commands) are given to
 * the real docker CLI, pointed at a fake engine socket that records the requests and refuses them
 * all. Whenever docker asks the engine to create a container, sdocker's dispatcher must have
 * refused the line or routed it to its policy: it is never one sdocker would hand to docker.
 * No engine object is made (the fake socket answers every request with an error).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/cli/dispatch.js';
import { globalPiece, RUN_SPELLINGS } from '../helpers/global-spellings.js';

const dir = mkdtempSync(join(tmpdir(), 'sdocker-globals-'));
const sock = join(dir, 'fake.sock');
let server: Server;
/** Requests per line id (the User-Agent cannot carry it; a header can: docker sends none of ours, so by arrival). */
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url?.endsWith('/_ping')) {
      res.writeHead(200, { 'API-Version': '1.41', 'Content-Type': 'text/plain' });
      res.end('OK');
      return;
    }
    req.resume();
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end('{"message":"fake engine: refused"}');
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function docker(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'cfg') },
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

const OTHER_COMMANDS: string[][] = [['ps'], ['container', 'ls'], ['version'], ['images'], ['help', 'run'], ['RUN', 'img'], ['-D', 'run', 'img'], ['container', '--', 'run', 'img'], ['-', 'run', 'img']];
const command = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RUN_SPELLINGS).map((s) => [...s.tokens, '--rm', '-u', '0', 'img']) },
  { weight: 2, arbitrary: fc.constantFrom(...OTHER_COMMANDS) },
);
const lines = fc.tuple(fc.array(globalPiece, { maxLength: 4 }), fc.boolean(), command).map(([globals, dash, cmd]) =>
  [...globals.flatMap((g) => g.tokens), ...(dash ? ['--'] : []), ...cmd].map((t) => t.replaceAll('unix:///tmp/x.sock', `unix://${sock}`)),
);

describe('docker CLI 28 and sdocker agree on which lines create a container', () => {
  it('every line docker turns into POST /containers/create is refused or judged by sdocker', async () => {
    const sample = fc.sample(lines, { numRuns: 240, seed: 20261201 });
    let created = 0;
    let passed = 0;
    for (const argv of sample) {
      let route: string;
      let dockerArgv = argv;
      try {
        const d = dispatch(argv);
        route = d.route.kind;
        dockerArgv = d.passArgv;
      } catch {
        route = 'refused';
        dockerArgv = argv.filter((t) => t !== '--allow-insecure-tcp');
      }
      requests = [];
      await docker(dockerArgv);
      const create = requests.some((r) => /^POST \/v[\d.]+\/containers\/create/.test(r));
      if (create) {
        created++;
        expect(['run', 'refused'], `docker created a container for ${JSON.stringify(argv)}`).toContain(route);
      }
      if (route === 'pass') passed++;
    }
    // The sample must exercise both sides: lines docker creates from, and lines handed on.
    expect(created).toBeGreaterThan(40);
    expect(passed).toBeGreaterThan(20);
  }, 300_000);
});
