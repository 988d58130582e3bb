/**
 * For the benchmark only: the door's server with a judge that passes every request untouched
 * (`node dist-bench/bench/pass-door.js SOCKET`), so that the proxy's own cost is measured apart
 * from the judge's. Never a way to run the door: it judges nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEndpoint } from '../src/engine/endpoint.js';
import { listenUnix } from '../src/door/listen.js';
import { createUnixDoorServer, Door } from '../src/door/server.js';
import type { Route } from '../src/door/types.js';
import { upstreamFor } from '../src/door/upstream.js';

async function main() {
  const socket = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'sdocker-pass-door-')), 'door.sock');
  const pass: Route = { method: '*', pattern: /^/, name: 'bench.pass', body: 'stream', judge: async () => ({ action: 'pass' }) };
  const up = await upstreamFor(resolveEndpoint({}, process.env));
  const door = new Door({
    routes: { routeFor: (_m, path) => ({ route: pass, match: /^/.exec(path)! }) },
    upstream: up,
    log: () => undefined,
    warn: (w) => process.stderr.write(`${w}\n`),
    peerCredentials: true,
  });
  const server = createUnixDoorServer(door, { headersTimeoutMs: 10_000, checkIntervalMs: 1000 });
  const listener = await listenUnix(server, socket, undefined, process.geteuid?.() ?? 0);
  process.on('SIGTERM', () => {
    listener.remove();
    server.closeAllConnections();
    server.close();
    up.close();
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
